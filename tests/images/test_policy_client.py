"""The image policy through the client: what the fake gateway received, decoded.

Images are made here with Pillow; every refusal is checked to come before anything is sent.
"""

from __future__ import annotations

import asyncio
import base64
import io

import pytest
from image_host import ImageHost
from pictures import encode, has_red_corner, metadata_of, opened, sent_images, srgb_profile, upright

from chat_image import (
    AsyncChatImage,
    ChatImage,
    ImageFetchError,
    ImageLimitError,
    ImageLimits,
    ImagePart,
    ImagePolicy,
    TextPart,
    UserMessage,
)
from chat_image.testing import Reply
from conftest import API_KEY

pytestmark = pytest.mark.pillow

MB = 1024 * 1024


def _ask(*parts: ImagePart | str) -> list[UserMessage]:
    typed = [ImagePart.from_url(p) if isinstance(p, str) else p for p in parts]
    return [UserMessage([TextPart("What is this?"), *typed])]


def _create(server, messages, client_images=None, **create):
    kwargs = {} if client_images is None else {"images": client_images}
    with ChatImage(api_key=API_KEY, base_url=server.url, **kwargs) as client:
        return client.chat.completions.create(model="m", messages=messages, max_tokens=5, **create)


def _png(size=(40, 30), **kwargs) -> bytes:
    out = io.BytesIO()
    upright(size, **kwargs).save(out, format="PNG")
    return out.getvalue()


def test_an_image_needing_nothing_arrives_byte_for_byte(server, tmp_path):
    data = _png()
    path = tmp_path / "plain.png"
    path.write_bytes(data)
    _create(server, _ask(ImagePart.from_path(path), ImagePart.from_bytes(data)))
    assert sent_images(server.last.json) == [("image/png", data), ("image/png", data)]


def test_a_phone_photo_arrives_without_gps_with_its_icc_and_pixels(server, tmp_path):
    photo = encode(upright((600, 400), noise=True), "JPEG")
    path = tmp_path / "phone.jpg"
    path.write_bytes(photo)
    _create(server, _ask(ImagePart.from_path(path)))
    [(media_type, sent)] = sent_images(server.last.json)
    assert media_type == "image/jpeg"
    found = metadata_of(sent)
    assert found["exif_tags"] == []
    assert not found["gps"]
    assert not found["device"]
    assert not found["xmp"]
    assert not found["comment"]
    assert found["icc"] == srgb_profile()
    assert opened(sent).tobytes() == opened(photo).tobytes()


def test_keep_and_false_send_the_photo_as_it_is(server):
    photo = encode(upright((600, 400)), "JPEG")
    _create(server, _ask(ImagePart.from_bytes(photo)), images=ImagePolicy(metadata="keep"))
    assert sent_images(server.last.json) == [("image/jpeg", photo)]
    _create(server, _ask(ImagePart.from_bytes(photo)), client_images=False)
    assert sent_images(server.last.json) == [("image/jpeg", photo)]


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_a_sideways_photo_arrives_upright(server, orientation):
    photo = encode(upright((90, 60)), "JPEG", orientation=orientation)
    _create(server, _ask(ImagePart.from_bytes(photo)))
    [(_, sent)] = sent_images(server.last.json)
    image = opened(sent)
    assert image.size == (90, 60)
    assert has_red_corner(image)
    assert 0x0112 not in image.getexif()


def test_anthropic_gets_at_most_5_mb_of_base64(server):
    big = encode(upright((2600, 2000), noise=True), "JPEG", quality=95)
    _create(server, _ask(ImagePart.from_bytes(big)), images="anthropic")
    url = server.last.json["messages"][0]["content"][1]["image_url"]["url"]
    payload = url.split(",", 1)[1]
    assert len(payload) <= 5 * MB
    image = opened(base64.b64decode(payload))
    assert abs(image.width / image.height - 1.3) < 0.01


def test_openai_scales_to_what_the_model_sees(server):
    _create(server, _ask(ImagePart.from_bytes(_png((3000, 1500)))))
    [(_, sent)] = sent_images(server.last.json)
    assert opened(sent).size == (1536, 768)


def test_too_many_images_is_refused_before_sending(server):
    with pytest.raises(ImageLimitError) as caught:
        _create(
            server, _ask(ImagePart.from_bytes(_png()), "https://example.com/a.png"), images="vllm"
        )
    assert (caught.value.limit, caught.value.allowed, caught.value.measured) == ("max_images", 1, 2)
    assert server.count == 0


def test_an_image_that_cannot_fit_is_refused_before_sending(server):
    limits = ImageLimits(max_bytes=2000)
    noise = _png((300, 300), noise=True, alpha=True)
    with pytest.raises(ImageLimitError) as caught:
        _create(server, _ask(ImagePart.from_bytes(noise)), images=ImagePolicy(limits=limits))
    assert caught.value.field == "messages[0].content[1]"
    assert caught.value.measured > 2000
    assert server.count == 0


def test_the_call_policy_wins_over_the_clients(server):
    two = _ask(ImagePart.from_bytes(_png()), ImagePart.from_bytes(_png()))
    with pytest.raises(ImageLimitError):
        _create(server, two, client_images="vllm")
    _create(server, two, client_images="vllm", images="openai")
    assert len(sent_images(server.last.json)) == 2


def test_async_client_alike(server):
    photo = encode(upright((90, 60)), "JPEG", orientation=6)

    async def main():
        async with AsyncChatImage(
            api_key=API_KEY, base_url=server.url, images=ImagePolicy(limits="anthropic")
        ) as client:
            await client.chat.completions.create(
                model="m", messages=_ask(ImagePart.from_bytes(photo)), max_tokens=5
            )
            with pytest.raises(ImageLimitError):
                await client.chat.completions.create(
                    model="m",
                    messages=_ask(*[ImagePart.from_bytes(photo)] * 2),
                    max_tokens=5,
                    images="vllm",
                )

    asyncio.run(main())
    assert server.count == 1
    [(_, sent)] = sent_images(server.last.json)
    assert has_red_corner(opened(sent))
    assert not metadata_of(sent)["gps"]


@pytest.mark.parametrize(
    ("fmt", "alpha", "expected"),
    [("TIFF", False, "image/jpeg"), ("BMP", False, "image/jpeg"), ("TIFF", True, "image/png")],
)
def test_a_file_in_another_format_is_converted(server, tmp_path, fmt, alpha, expected):
    path = tmp_path / "scan.bin"  # the name says nothing: the bytes decide
    upright((80, 60), alpha=alpha).save(path, format=fmt)
    _create(server, _ask(ImagePart.from_path(path)))
    [(media_type, sent)] = sent_images(server.last.json)
    assert media_type == expected
    image = opened(sent)
    assert image.format == expected.split("/")[1].upper()
    assert has_red_corner(image)


def test_an_animated_gif_arrives_as_its_first_frame(server):
    from PIL import Image

    frames = [upright((30, 20)), Image.new("RGB", (30, 20), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    _create(server, _ask(ImagePart.from_bytes(out.getvalue())))
    [(media_type, sent)] = sent_images(server.last.json)
    image = opened(sent)
    assert getattr(image, "n_frames", 1) == 1
    assert media_type == f"image/{image.format.lower()}"
    assert has_red_corner(image)


@pytest.fixture
def host():
    with ImageHost().running() as running:
        yield running


def test_inline_downloads_strips_and_sends_the_url_image(server, host):
    photo = encode(upright((120, 80)), "JPEG", orientation=6)
    url = host.add("/photo.jpg", photo, "image/jpeg") + "?X-Amz-Signature=s3cr3t"
    host.files["/photo.jpg"] = (photo, "image/jpeg")
    _create(server, _ask(url), images=ImagePolicy(urls="inline"))
    [(media_type, sent)] = sent_images(server.last.json)
    assert media_type == "image/jpeg"
    assert has_red_corner(opened(sent))
    assert not metadata_of(sent)["gps"]
    headers = {key.lower(): value for key, value in host.seen[0][1].items()}
    assert "authorization" not in headers
    assert API_KEY not in repr(headers)


def test_a_failed_download_is_refused_before_sending_without_the_signature(server, host):
    url = host.url + "/private.png?X-Amz-Signature=s3cr3t"
    with pytest.raises(ImageFetchError) as caught:
        _create(server, _ask(url), images=ImagePolicy(urls="inline"))
    assert caught.value.status == 403
    assert "s3cr3t" not in str(caught.value)
    assert server.count == 0


def test_auto_sends_once_more_inline_when_the_gateway_could_not_fetch(server, host):
    url = host.add("/photo.png", _png())
    server.queue(
        Reply(
            status=400, message=f"Timeout while downloading {url}.", error_code="invalid_image_url"
        )
    )
    _create(server, _ask(url), images=ImagePolicy(urls="auto"))
    assert server.count == 2
    first, second = server.requests
    assert sent_images(first.json) == [("url", url.encode())]
    assert sent_images(second.json) == [("image/png", _png())]


def test_auto_leaves_other_errors_alone(server, host):
    from chat_image import BadRequestError

    url = host.add("/photo.png", _png())
    server.queue(Reply(status=400, message="max_tokens is too large"))
    with pytest.raises(BadRequestError):
        _create(server, _ask(url), images=ImagePolicy(urls="auto"))
    assert server.count == 1
    assert host.seen == []
