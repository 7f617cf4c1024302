"""Images: the cost of the image policy (issue 18), chat_image alone.

- Stripping a 3 MB phone JPEG's metadata (EXIF with GPS, XMP, a comment, an ICC profile),
  as it is sent from a file, against reading the same file as the send path does without a
  policy: the time ratio, and Python's peak allocation while doing it (tracemalloc).
- Fitting a 12 MP phone photo to the anthropic profile (5 MB of base64): the time, and the
  peak resident memory above the process's baseline (Pillow's buffers are not Python's, so
  a fresh process measures it: VmHWM, reset just before).
"""

from __future__ import annotations

import base64
import gc
import io
import resource
import statistics
import subprocess
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Final

from ._common import SELF, rss_kib

STRIP_RATIO: Final = "images: strip 3 MB JPEG / read, as sent"
STRIP_RAW_RATIO: Final = "images: strip 3 MB JPEG / bare read"
STRIP_MEMORY: Final = "images: strip 3 MB phone JPEG, peak alloc"
FIT_TIME: Final = "images: fit 12 MP photo to anthropic"
FIT_MEMORY: Final = "images: fit 12 MP photo, peak RSS"
# The send path's file slice (`_inline._FILE_SLICE`): what each read hands the encoder.
_SLICE: Final = 3 * 16 * 1024


def phone_photo(size: tuple[int, int], sigma: float, quality: int) -> bytes:
    """A photo-like JPEG (a gradient with sensor-like noise) with a phone's metadata."""
    from PIL import Image, ImageCms

    noise = Image.merge("RGB", [Image.effect_noise(size, sigma) for _ in range(3)])
    gradient = Image.linear_gradient("L").resize(size).convert("RGB")
    image = Image.blend(noise, gradient, 0.5)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Phone 15 Pro"
    exif[0x0132] = "2026:12:06 10:00:00"
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    image.save(
        out,
        format="JPEG",
        quality=quality,
        exif=exif.tobytes(),
        icc_profile=icc,
        comment=b"taken at home",
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">home</x:xmpmeta>',
    )
    return out.getvalue()


def _consume(content: object, encode: bool) -> int:
    """Bytes (or base64 characters) of `content`'s slices, read as the send path reads them."""
    from chat_image._images.file import ImageFile

    assert isinstance(content, ImageFile)
    if encode:
        return sum(len(base64.b64encode(piece)) for piece in content.slices(_SLICE))
    return sum(len(piece) for piece in content.slices(_SLICE))


def _read_plain(path: str, encode: bool = False) -> int:
    """The file read as the send path reads it (and base64-encoded, with `encode`)."""
    from chat_image import ImageData, ImagePart

    image = ImagePart.from_path(path).image_url
    assert isinstance(image, ImageData)
    return _consume(image._content, encode)


def _read_stripped(path: str, encode: bool = False) -> int:
    from chat_image import ImageData, ImagePart, ImagePolicy, UserMessage
    from chat_image._images.policy import apply_policy

    message = UserMessage([ImagePart.from_path(path)])
    # anthropic: the photo is within its pixel and byte limits, so only the metadata goes.
    prepared = apply_policy([message], ImagePolicy(limits="anthropic"))
    assert "stripped" in prepared.reports[0].actions
    content = prepared.messages[0].content
    assert isinstance(content, tuple)
    part = content[0]
    assert isinstance(part, ImagePart)
    assert isinstance(part.image_url, ImageData)
    return _consume(part.image_url._content, encode)


def _ratio(path: str, encode: bool) -> float:
    """The median of 20 stripped reads over the median of 20 plain ones, interleaved."""
    plain, stripped = [], []
    for _ in range(20):
        started = time.perf_counter()
        _read_plain(path, encode)
        plain.append(time.perf_counter() - started)
        started = time.perf_counter()
        _read_stripped(path, encode)
        stripped.append(time.perf_counter() - started)
    return statistics.median(stripped) / statistics.median(plain)


def run_strip(rounds: int) -> dict[str, dict[str, list[float]]]:
    """Stripping against reading: as the send path reads (each slice base64-encoded), and
    bare (the file's bytes only, where the fixed cost of the scan shows most)."""
    ratios: list[float] = []
    raw_ratios: list[float] = []
    peaks: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "phone.jpg")
        Path(path).write_bytes(phone_photo((4032, 3024), 24, 85))
        for _ in range(rounds):
            ratios.append(_ratio(path, encode=True))
            raw_ratios.append(_ratio(path, encode=False))
            gc.collect()
            tracemalloc.start()
            _read_stripped(path)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            peaks.append(peak / 1e6)
    return {
        STRIP_RATIO: {"chat_image": ratios},
        STRIP_RAW_RATIO: {"chat_image": raw_ratios},
        STRIP_MEMORY: {"chat_image": peaks},
    }


def fit_worker(path: str) -> None:
    """Fit the photo at `path` to the anthropic profile once; print seconds and peak bytes."""
    import PIL.Image  # noqa: F401  (imported before the baseline: its code is not the cost)

    from chat_image import ImagePart, UserMessage
    from chat_image._images.limits import ImagePolicy
    from chat_image._images.policy import apply_policy

    message = UserMessage([ImagePart.from_path(path)])
    gc.collect()
    before = rss_kib("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    prepared = apply_policy([message], ImagePolicy(limits="anthropic"))
    elapsed = time.perf_counter() - started
    peak = (rss_kib("VmHWM") - before) * 1024
    assert prepared.reports[0].bytes_after * 4 / 3 <= 5 * 1024 * 1024
    print(elapsed, peak)


def run_fit(rounds: int) -> dict[str, dict[str, list[float]]]:
    times: list[float] = []
    peaks: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "photo-12mp.jpg"
        path.write_bytes(phone_photo((4000, 3000), 22, 95))
        for _ in range(rounds):
            out = subprocess.run(
                [*SELF, "--images-fit-worker", str(path)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
            times.append(float(out[0]) * 1000)
            peaks.append(float(out[1]) / 1e6)
    return {FIT_TIME: {"chat_image": times}, FIT_MEMORY: {"chat_image": peaks}}
