"""What a gateway takes in images: `ImageLimits`, the named profiles, and `ImagePolicy`.

Every number in a profile is its provider's published figure (docs/image-policy.md lists each
with its source). `None` means the provider states no such limit. Sizes are bytes as sent:
`max_bytes` counts the image itself, `max_base64_bytes` its base64 text (Anthropic checks
that), `max_request_bytes` the base64 text of all inline images of one request.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, Literal, TypeAlias

import attrs

from .._exceptions import InvalidInputError
from .._validation import (
    check_bool,
    check_both_or_neither,
    check_instance,
    check_int,
    check_media_types,
    check_number,
    check_one_of,
    validator,
)

__all__ = [
    "CONVERTIBLE_TYPES",
    "PROFILES",
    "ImageLimits",
    "ImagePolicy",
    "MetadataMode",
    "UrlMode",
    "check_policy",
]

MetadataMode: TypeAlias = Literal["strip", "keep"]
UrlMode: TypeAlias = Literal["pass", "inline", "auto"]

# What a policy may be asked to send: the formats gateways take, and those converted to them.
SENDABLE_TYPES: Final = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/heic", "image/heif"}
)
CONVERTIBLE_TYPES: Final = frozenset(
    {"image/tiff", "image/bmp", "image/x-icon", "image/avif", "image/heic", "image/heif"}
)
_MB: Final = 1024 * 1024


class MediaTypes(frozenset[str]):
    """A set of media types that shows itself sorted (a frozenset's order varies by run)."""

    def __repr__(self) -> str:
        return f"MediaTypes({sorted(self)!r})"


_GATEWAY_FORMATS: Final = MediaTypes({"image/png", "image/jpeg", "image/gif", "image/webp"})


def _to_formats(value: Iterable[str]) -> MediaTypes:
    if isinstance(value, MediaTypes):
        return value
    return MediaTypes(check_media_types("formats", value, SENDABLE_TYPES, _WRITTEN_TYPES))


# What conversions write: a policy's formats must include one of them.
_WRITTEN_TYPES: Final = frozenset({"image/png", "image/jpeg"})
# The limits, each a positive number of bytes, pixels or images, or None for no limit.
_LIMIT: Final = validator(check_int, minimum=1, optional=True)


@attrs.frozen(kw_only=True)
class ImageLimits:
    """A gateway's limits on images; `None` is no limit. See `ImageLimits.profile(name)`.

    `many_images` and `many_images_long_edge`: once a request has more than `many_images`
    images, each is held to `many_images_long_edge` pixels (Anthropic: 2000 px past 20).
    `server_scales`: the gateway scales an image over the edge limits itself rather than
    refusing it (OpenAI, Gemini); the client still scales it first where Pillow is installed
    (less to upload, the same for the model), and without Pillow sends it as it is.
    """

    max_bytes: int | None = attrs.field(default=None, validator=_LIMIT)
    max_base64_bytes: int | None = attrs.field(default=None, validator=_LIMIT)
    max_long_edge: int | None = attrs.field(default=None, validator=_LIMIT)
    max_short_edge: int | None = attrs.field(default=None, validator=_LIMIT)
    max_images: int | None = attrs.field(default=None, validator=_LIMIT)
    max_request_bytes: int | None = attrs.field(default=None, validator=_LIMIT)
    formats: frozenset[str] = attrs.field(
        default=_GATEWAY_FORMATS,
        converter=_to_formats,
    )
    many_images: int | None = attrs.field(default=None, validator=_LIMIT)
    many_images_long_edge: int | None = attrs.field(default=None, validator=_LIMIT)
    server_scales: bool = attrs.field(default=False, validator=validator(check_bool))

    def __attrs_post_init__(self) -> None:
        check_both_or_neither(
            "many_images",
            "many_images_long_edge",
            (self.many_images, self.many_images_long_edge),
        )

    @classmethod
    def profile(cls, name: str) -> ImageLimits:
        """The named profile: "openai", "anthropic", "gemini" or "vllm"."""
        return PROFILES[check_one_of("limits", name, PROFILES)]

    def replace(self, **changes: Any) -> ImageLimits:
        """A copy with `changes` (e.g. `ImageLimits.profile("vllm").replace(max_images=4)`)."""
        return attrs.evolve(self, **changes)

    def long_edge_for(self, image_count: int) -> int | None:
        """The long-edge cap for each image of a request with `image_count` images."""
        caps = [self.max_long_edge]
        if self.many_images is not None and image_count > self.many_images:
            caps.append(self.many_images_long_edge)
        present = [cap for cap in caps if cap is not None]
        return min(present) if present else None


PROFILES: Final[dict[str, ImageLimits]] = {
    # OpenAI images guide: PNG, JPEG, WEBP, non-animated GIF; up to 20 MB an image, 500
    # images and 50 MB of image bytes a request; at high detail an image is fitted within
    # 2048 x 2048, then its short side scaled to 768 px (what the model sees).
    "openai": ImageLimits(
        max_bytes=20 * _MB,
        max_long_edge=2048,
        max_short_edge=768,
        max_images=500,
        max_request_bytes=50 * _MB,
        formats=frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"}),
        server_scales=True,
    ),
    # Anthropic vision docs: jpeg, png, gif, webp; 5 MB an image counted on its base64 text
    # ("image exceeds 5 MB maximum: 5272940 bytes > 5242880 bytes"); 8000 x 8000 px, 2000 x
    # 2000 once a request has more than 20 images; up to 600 images, a 32 MB request.
    "anthropic": ImageLimits(
        max_base64_bytes=5 * _MB,
        max_long_edge=8000,
        max_images=600,
        max_request_bytes=32 * _MB,
        formats=frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"}),
        many_images=20,
        many_images_long_edge=2000,
    ),
    # Gemini (Vertex AI / Firebase input file requirements): png, jpeg, webp, heic, heif;
    # 20 MB of inline data a request; 3000 images; images are scaled to fit 3072 x 3072.
    "gemini": ImageLimits(
        max_long_edge=3072,
        max_images=3000,
        max_request_bytes=20 * _MB,
        formats=frozenset({"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"}),
        server_scales=True,
    ),
    # vLLM's OpenAI-compatible server: one image a request unless started with
    # --limit-mm-per-prompt; animated GIFs are read as their first frame.
    "vllm": ImageLimits(
        max_images=1,
        formats=frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"}),
    ),
}


def _to_limits(value: str | ImageLimits) -> ImageLimits:
    if isinstance(value, ImageLimits):
        return value
    return ImageLimits.profile(value)


@attrs.frozen(kw_only=True)
class ImagePolicy:
    """What the client does to images before sending them.

    `limits`: a profile name ("openai", the default, "anthropic", "gemini", "vllm") or an
    `ImageLimits`; images are converted, turned upright and fitted to them. `metadata`:
    "strip" (default: no GPS, device, dates, XMP, IPTC, comments or thumbnails; the colour
    profile kept) or "keep". `urls`: "pass" (default: the gateway fetches), "inline" (the
    client downloads and sends the bytes) or "auto" (pass, and inline once if the gateway
    could not fetch). `url_timeout` (seconds) and `url_max_bytes` cap each download.
    """

    limits: ImageLimits = attrs.field(default=PROFILES["openai"], converter=_to_limits)
    metadata: MetadataMode = attrs.field(
        default="strip", validator=validator(check_one_of, allowed=("strip", "keep"))
    )
    urls: UrlMode = attrs.field(
        default="pass", validator=validator(check_one_of, allowed=("pass", "inline", "auto"))
    )
    url_timeout: float = attrs.field(
        default=30.0, validator=validator(check_number, positive=True, unit="seconds")
    )
    url_max_bytes: int = attrs.field(default=50 * _MB, validator=_LIMIT)


DEFAULT_POLICY: Final = ImagePolicy()


def check_policy(value: object, *, field: str = "images") -> ImagePolicy | None:
    """`value` as a policy (a profile name is taken as `ImagePolicy(limits=name)`), or None."""
    if value is None or isinstance(value, ImagePolicy):
        return value
    limits: str | ImageLimits = check_instance(
        field, value, (str, ImageLimits), "an ImagePolicy, ImageLimits or profile name"
    )
    try:
        return ImagePolicy(limits=limits)
    except InvalidInputError as exc:
        raise exc.under(field) from None
