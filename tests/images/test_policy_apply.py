"""apply_policy on messages: what each image becomes, and what the report says."""

from __future__ import annotations

import base64
import io

import pytest
from pictures import encode, has_red_corner, metadata_of, opened, srgb_profile, upright

from chat_image import ImageData, ImagePart, TextPart, UserMessage
from chat_image._images.errors import ImageLimitError
from chat_image._images.limits import ImageLimits, ImagePolicy
from chat_image._images.policy import apply_policy, b64_size
from chat_image._images.stripped import StrippedFile

pytestmark = pytest.mark.pillow

MB = 1024 * 1024


def _png(size=(40, 30), **kwargs) -> bytes:
    out = io.BytesIO()
    upright(size, **kwargs).save(out, format="PNG")
    return out.getvalue()


def _message(*images: bytes | ImagePart) -> UserMessage:
    parts = [TextPart("what is this?")]
    parts += [
        item if isinstance(item, ImagePart) else ImagePart.from_bytes(item) for item in images
    ]
    return UserMessage(parts)


def _sent(prepared, index=0) -> bytes:
    parts = [p for m in prepared.messages for p in m.content if isinstance(p, ImagePart)]
    return parts[index].image_url.data


def test_an_image_within_every_limit_is_sent_as_given():
    message = _message(_png())
    prepared = apply_policy([message], ImagePolicy())
    assert prepared.messages[0] is message
    assert prepared.reports[0].actions == ()


def test_a_phone_photo_loses_its_metadata_not_its_pixels():
    photo = encode(upright((300, 200), noise=True), "JPEG")
    prepared = apply_policy([_message(photo)], ImagePolicy())
    sent = _sent(prepared)
    assert prepared.reports[0].actions == ("stripped",)
    assert prepared.reports[0].bytes_after == len(sent) < len(photo)
    assert not metadata_of(sent)["gps"]
    assert metadata_of(sent)["icc"] == srgb_profile()
    assert opened(sent).tobytes() == opened(photo).tobytes()


def test_keep_sends_the_file_as_it_is():
    photo = encode(upright((300, 200)), "JPEG")
    message = _message(photo)
    prepared = apply_policy([message], ImagePolicy(metadata="keep"))
    assert prepared.messages[0] is message


@pytest.mark.parametrize("orientation", range(2, 9))
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_orientation_is_baked_into_the_pixels(orientation, fmt):
    photo = encode(upright((60, 40)), fmt, orientation=orientation)
    prepared = apply_policy([_message(photo)], ImagePolicy())
    image = opened(_sent(prepared))
    assert image.size == (60, 40)
    assert has_red_corner(image)
    assert 0x0112 not in image.getexif()
    assert "oriented" in prepared.reports[0].actions
    assert not metadata_of(_sent(prepared))["gps"]


def test_anthropic_fits_the_base64_budget():
    big = encode(upright((2600, 2000), noise=True), "JPEG", quality=95)
    assert b64_size(len(big)) > 5 * MB
    prepared = apply_policy([_message(big)], ImagePolicy(limits="anthropic"))
    sent = _sent(prepared)
    assert b64_size(len(sent)) <= 5 * MB
    image = opened(sent)
    assert abs(image.width / image.height - 2600 / 2000) < 0.01
    report = prepared.reports[0]
    assert report.media_type_after == "image/jpeg"
    assert report.bytes_before == len(big)
    assert report.bytes_after == len(sent)


def test_openai_fits_its_edges_and_never_enlarges():
    prepared = apply_policy([_message(_png((4000, 1000)))], ImagePolicy())
    assert opened(_sent(prepared)).size == (2048, 512)
    small = _message(_png((100, 50)))
    assert apply_policy([small], ImagePolicy()).messages[0] is small
    prepared = apply_policy([_message(_png((1600, 1200)))], ImagePolicy())
    assert opened(_sent(prepared)).size == (1024, 768)
    assert prepared.reports[0].actions == ("resized",)


def test_too_many_images_is_refused_naming_the_limit():
    with pytest.raises(ImageLimitError) as caught:
        apply_policy([_message(_png(), _png())], ImagePolicy(limits="vllm"))
    assert (caught.value.limit, caught.value.allowed, caught.value.measured) == ("max_images", 1, 2)
    assert "2 images" in str(caught.value)


def test_past_twenty_images_anthropic_holds_each_to_2000_px():
    image = _png((2100, 420))
    prepared = apply_policy([_message(*[image] * 21)], ImagePolicy(limits="anthropic"))
    assert {opened(_sent(prepared, i)).size for i in range(21)} == {(2000, 400)}
    twenty = apply_policy([_message(*[image] * 20)], ImagePolicy(limits="anthropic"))
    assert opened(_sent(twenty)).size == (2100, 420)


def test_an_image_that_cannot_fit_names_image_limit_and_value():
    limits = ImageLimits(max_bytes=1000, max_long_edge=None)
    noise = _png((200, 200), noise=True, alpha=True)
    with pytest.raises(ImageLimitError) as caught:
        apply_policy(
            [_message(ImagePart(ImageData(noise, source="noise.png")))], ImagePolicy(limits=limits)
        )
    error = caught.value
    assert error.field == "messages[0].content[1]"
    assert error.limit == "max_bytes"
    assert error.allowed == 1000
    assert error.measured > 1000
    assert "'noise.png'" in str(error)


def test_the_request_total_is_shared_out():
    limits = ImageLimits(max_request_bytes=400_000)
    noise = encode(upright((500, 500), noise=True), "JPEG", quality=95)
    assert b64_size(len(noise)) * 3 > 400_000
    prepared = apply_policy([_message(noise, noise, noise)], ImagePolicy(limits=limits))
    assert sum(b64_size(r.bytes_after) for r in prepared.reports) <= 400_000


@pytest.mark.parametrize(
    ("fmt", "mode", "expected"),
    [
        ("TIFF", "RGB", "image/jpeg"),
        ("BMP", "RGB", "image/jpeg"),
        ("TIFF", "RGBA", "image/png"),
        ("ICO", "RGBA", "image/png"),
    ],
)
def test_formats_the_profile_does_not_take_are_converted(fmt, mode, expected):
    out = io.BytesIO()
    upright((48, 32), alpha=mode == "RGBA").save(out, format=fmt)
    data = out.getvalue()
    from chat_image._images.policy import _find  # the sniffed type drives the conversion

    prepared = apply_policy([_message_raw(data)], ImagePolicy())
    report = prepared.reports[0]
    assert report.media_type_after == expected
    assert "converted" in report.actions
    image = opened(_sent(prepared))
    assert has_red_corner(image)
    assert _find is not None


def _message_raw(data: bytes) -> UserMessage:
    url = "data:image/octet-stream;base64," + base64.b64encode(data).decode()
    return UserMessage(
        [{"type": "image_url", "image_url": {"url": "data:image/png;base64," + url.split(",")[1]}}]
    )


def test_an_animated_gif_becomes_its_first_frame():
    from PIL import Image

    frames = [upright((30, 20)), Image.new("RGB", (30, 20), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    prepared = apply_policy([_message(out.getvalue())], ImagePolicy())
    image = opened(_sent(prepared))
    assert getattr(image, "n_frames", 1) == 1
    assert has_red_corner(image)
    assert "first_frame" in prepared.reports[0].actions


def test_a_file_is_stripped_as_it_is_read(tmp_path):
    photo = encode(upright((300, 200), noise=True), "JPEG")
    path = tmp_path / "phone.jpg"
    path.write_bytes(photo)
    prepared = apply_policy([_message(ImagePart.from_path(path))], ImagePolicy())
    part = prepared.messages[0].content[1]
    assert isinstance(part.image_url._content, StrippedFile)
    sent = part.image_url.data
    assert len(sent) == part.image_url._content.size
    assert opened(sent).tobytes() == opened(photo).tobytes()
    assert not metadata_of(sent)["gps"]
    assert prepared.reports[0].source == str(path)
    # Sliced as the body streams it: the same bytes, slice by slice.
    assert b"".join(part.image_url._content.slices(3 * 100)) == sent


@pytest.mark.parametrize("fmt", ["AVIF", "WEBP"])
def test_avif_and_animated_webp_become_what_openai_takes(fmt):
    from PIL import Image

    frames = [upright((40, 30)), Image.new("RGB", (40, 30), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, format=fmt, save_all=True, append_images=frames[1:], duration=100)
    prepared = apply_policy([_message_raw(out.getvalue())], ImagePolicy())
    report = prepared.reports[0]
    assert report.media_type_after in ("image/jpeg", "image/png")
    assert "first_frame" in report.actions or fmt == "AVIF"
    image = opened(_sent(prepared))
    assert getattr(image, "n_frames", 1) == 1
    assert has_red_corner(image)
