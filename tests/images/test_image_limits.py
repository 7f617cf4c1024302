"""ImageLimits, the profiles and ImagePolicy: values checked at the edge, each error naming
its field. Needs no Pillow."""

from __future__ import annotations

import pickle

import pytest

from chat_image import InvalidImageError, InvalidInputError
from chat_image._images.errors import ImageFetchError, ImageLimitError, UnsupportedImageError
from chat_image._images.limits import PROFILES, ImageLimits, ImagePolicy, check_policy

MB = 1024 * 1024


def test_the_profiles_carry_the_providers_numbers():
    anthropic = ImageLimits.profile("anthropic")
    assert anthropic.max_base64_bytes == 5 * MB == 5242880
    assert anthropic.max_long_edge == 8000
    assert (anthropic.many_images, anthropic.many_images_long_edge) == (20, 2000)
    assert anthropic.max_request_bytes == 32 * MB
    openai = ImageLimits.profile("openai")
    assert (openai.max_bytes, openai.max_long_edge, openai.max_short_edge) == (20 * MB, 2048, 768)
    assert "image/heic" not in openai.formats
    gemini = ImageLimits.profile("gemini")
    assert {"image/heic", "image/heif"} <= gemini.formats
    assert gemini.max_request_bytes == 20 * MB
    assert ImageLimits.profile("vllm").max_images == 1
    assert set(PROFILES) == {"openai", "anthropic", "gemini", "vllm"}


def test_the_default_policy_is_openai_strip_pass():
    policy = ImagePolicy()
    assert policy.limits == PROFILES["openai"]
    assert (policy.metadata, policy.urls) == ("strip", "pass")
    assert ImagePolicy(limits="anthropic").limits is PROFILES["anthropic"]


def test_many_images_lowers_the_long_edge_past_the_count():
    anthropic = PROFILES["anthropic"]
    assert anthropic.long_edge_for(20) == 8000
    assert anthropic.long_edge_for(21) == 2000
    assert ImageLimits().long_edge_for(1000) is None


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: ImageLimits(max_bytes=0), "max_bytes"),
        (lambda: ImageLimits(max_long_edge=-5), "max_long_edge"),
        (lambda: ImageLimits(max_images=True), "max_images"),
        (lambda: ImageLimits(max_base64_bytes=1.5), "max_base64_bytes"),
        (lambda: ImageLimits(formats="image/png"), "formats"),
        (lambda: ImageLimits(formats={"image/tiff", "image/png"}), "formats"),
        (lambda: ImageLimits(formats={"image/gif"}), "formats"),
        (lambda: ImageLimits(many_images=3), "many_images"),
        (lambda: ImageLimits.profile("claude"), "limits"),
        (lambda: ImagePolicy(limits="claude"), "limits"),
        (lambda: ImagePolicy(metadata="drop"), "metadata"),
        (lambda: ImagePolicy(urls="fetch"), "urls"),
        (lambda: ImagePolicy(url_timeout=0), "url_timeout"),
        (lambda: check_policy(42), "images"),
        (lambda: check_policy("nope"), "images.limits"),
    ],
)
def test_bad_values_name_their_field(make, field):
    with pytest.raises(InvalidInputError) as caught:
        make()
    assert caught.value.field == field


def test_a_profile_can_be_adjusted():
    four = ImageLimits.profile("vllm").replace(max_images=4)
    assert four.max_images == 4
    assert PROFILES["vllm"].max_images == 1
    with pytest.raises(InvalidInputError, match="max_images"):
        four.replace(max_images=0)


def test_check_policy_takes_names_limits_and_policies():
    assert check_policy(None) is None
    policy = ImagePolicy(urls="inline")
    assert check_policy(policy) is policy
    assert check_policy("gemini") == ImagePolicy(limits="gemini")
    assert check_policy(PROFILES["vllm"]) == ImagePolicy(limits="vllm")


def test_the_errors_are_invalid_image_errors_and_survive_pickle():
    errors = [
        ImageLimitError("messages", "too many", limit="max_images", allowed=1, measured=2),
        UnsupportedImageError("path", "needs heif", extra="heif"),
        ImageFetchError("image_url.url", "HTTP 403", url="https://h/x?[redacted]", status=403),
    ]
    for error in errors:
        assert isinstance(error, InvalidImageError)
        copy = pickle.loads(pickle.dumps(error))
        assert str(copy) == str(error)
        assert copy.__dict__ == error.__dict__
