"""Each card's pictures: where an item's image is now, and a small upright copy of it.

A thumbnail is re-encoded by Pillow (the `images` extra): EXIF orientation applied to the
pixels, and no metadata kept (no EXIF, GPS, XMP or ICC), so the page shows what the model
saw, the right way up, and gives away nothing the image carried. Without Pillow the card
says so instead of showing the file as it is.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import attrs

__all__ = ["NO_PILLOW", "Picture", "Thumbnailer", "recorded_images"]

NO_PILLOW: Final = "no thumbnail: Pillow is not installed (pip install 'chat-image[images]')"
# Past this many images in one item, the card says how many more there are.
MAX_PER_ITEM: Final = 4
_JPEG_QUALITY: Final = 80


@attrs.frozen
class Picture:
    """A thumbnail (`src`, a data URL, and its size) or why there is none: `why` is one of
    missing, no-pillow, url, unreadable, unrecorded, more; `text` says it to a person."""

    src: str | None = None
    width: int = 0
    height: int = 0
    why: str | None = None
    text: str | None = None

    def as_json(self) -> dict[str, Any]:
        if self.src is not None:
            return {"src": self.src, "w": self.width, "h": self.height}
        return {"why": self.why, "text": self.text}


def recorded_images(record: Mapping[str, Any] | None) -> list[str]:
    """The image paths or URLs an output line records (`images`, or a manifest's `image`)."""
    if record is None:
        return []
    images = record.get("images", record.get("image"))
    if isinstance(images, str):
        images = [images]
    if not isinstance(images, list):
        return []
    return [image for image in images if isinstance(image, str) and image]


def _load_pillow() -> Any:
    try:
        from PIL import Image, ImageOps
    except ImportError:
        return None
    return Image, ImageOps


class Thumbnailer:
    """Finds and shrinks items' images; `images_dir` is where to look first (--images).

    `pictures` may be called from several threads at once (Pillow lets go of the GIL while
    it decodes, scales and encodes): it changes nothing on the instance.
    """

    def __init__(self, px: int, images_dir: str | os.PathLike[str] | None, base: Path) -> None:
        self.px = px
        self.images_dir = Path(images_dir) if images_dir is not None else None
        # The output file's folder: a relative recorded path is tried against it too.
        self.base = base
        self.pillow = _load_pillow()

    def pictures(self, item_id: str, images: Sequence[str]) -> list[Picture]:
        """One picture (or note) per image of the item, at most MAX_PER_ITEM and a note."""
        if not images:
            found = self._find(item_id, None)
            if found is None:
                text = "no image path in the output line; give --images DIR"
                return [Picture(why="unrecorded", text=text)]
            return [self._picture(found)]
        pictures = [self._one(item_id, image) for image in images[:MAX_PER_ITEM]]
        if len(images) > MAX_PER_ITEM:
            more = len(images) - MAX_PER_ITEM
            pictures.append(Picture(why="more", text=f"and {more} more image(s)"))
        return pictures

    def _one(self, item_id: str, image: str) -> Picture:
        if image.startswith("data:"):
            return self._from_data_url(image)
        if image.startswith(("http://", "https://")):
            # The page loads nothing, and the report fetches nothing: the URL is shown as text.
            return Picture(why="url", text=f"image at a URL, not fetched: {image}")
        found = self._find(item_id, image)
        if found is None:
            return Picture(why="missing", text=f"missing: {image}")
        return self._picture(found)

    def _find(self, item_id: str, image: str | None) -> Path | None:
        candidates: list[Path] = []
        if self.images_dir is not None:
            if image is not None:
                candidates.append(self.images_dir / Path(image).name)
                if not os.path.isabs(image):
                    candidates.append(self.images_dir / image)
            # A folder run's id is the image's path inside the folder.
            candidates.append(self.images_dir / item_id)
        if image is not None:
            candidates.append(Path(image))
            if not os.path.isabs(image):
                candidates.append(self.base / image)
        return next((path for path in candidates if path.is_file()), None)

    def _picture(self, path: Path) -> Picture:
        if self.pillow is None:
            return Picture(why="no-pillow", text=NO_PILLOW)
        try:
            return self._encode(path)
        except (OSError, ValueError, SyntaxError) as exc:  # what Pillow raises for a bad file
            return Picture(why="unreadable", text=f"cannot be read as an image: {exc}")

    def _from_data_url(self, url: str) -> Picture:
        if self.pillow is None:
            return Picture(why="no-pillow", text=NO_PILLOW)
        try:
            data = base64.b64decode(url.split(",", 1)[1], validate=True)
            return self._encode(io.BytesIO(data))
        except (IndexError, binascii.Error, OSError, ValueError, SyntaxError) as exc:
            return Picture(why="unreadable", text=f"cannot be read as an image: {exc}")

    def _encode(self, source: Path | io.BytesIO) -> Picture:
        image_module, image_ops = self.pillow
        px = self.px
        with image_module.open(source) as opened:
            # JPEG: decode at a fraction of the size straight away (much faster for photos).
            opened.draft("RGB", (px, px))
            image = image_ops.exif_transpose(opened)
            # Bicubic after a box reduction (thumbnail's reducing_gap): twice as fast as
            # Lanczos, and the same to the eye at this size.
            image.thumbnail((px, px), image_module.Resampling.BICUBIC)
            if image.mode in ("RGBA", "LA", "PA") or (
                image.mode == "P" and "transparency" in image.info
            ):
                rgba = image.convert("RGBA")
                image = image_module.new("RGB", rgba.size, (255, 255, 255))
                image.paste(rgba, mask=rgba.getchannel("A"))
            elif image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
            buffer = io.BytesIO()
            # Nothing but pixels: no EXIF, ICC profile or comment is carried over.
            image.info = {}
            image.save(buffer, "JPEG", quality=_JPEG_QUALITY)
            width, height = image.size
        encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
        return Picture(src="data:image/jpeg;base64," + encoded, width=width, height=height)
