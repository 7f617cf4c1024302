"""Content parts dispatch on `type`; unknown parts survive untouched."""

from __future__ import annotations

import pytest

from chat_image import (
    AssistantMessage,
    ImagePart,
    ImageURL,
    InvalidInputError,
    SystemMessage,
    TextPart,
    UnknownPart,
    UserMessage,
    parse_content_part,
    parse_message,
)


def test_image_url_type_parses_to_image_part():
    part = parse_content_part(
        {"type": "image_url", "image_url": {"url": "https://x.test/a.png", "detail": "high"}}
    )
    assert isinstance(part, ImagePart)
    assert part.image_url == ImageURL("https://x.test/a.png", "high")


def test_text_type_parses_to_text_part():
    part = parse_content_part({"type": "text", "text": "hello"})
    assert part == TextPart("hello")


@pytest.mark.parametrize(
    "data",
    [
        {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
        {"type": "file", "file": {"file_id": "f-1"}, "image_url": "not-an-object"},
        {"type": "refusal", "refusal": "no", "text": 3},
    ],
)
def test_unknown_type_is_kept_and_serializes_back_to_the_same_json(data):
    part = parse_content_part(data)
    assert isinstance(part, UnknownPart)
    assert part.type == data["type"]
    assert part.to_dict() == data


def test_known_parts_keep_fields_they_do_not_model():
    data = {
        "type": "image_url",
        "image_url": {"url": "https://x.test/a.png", "vendor_hint": 1},
        "cache_control": {"type": "ephemeral"},
    }
    assert parse_content_part(data).to_dict() == data


@pytest.mark.parametrize("detail", ["auto", "low", "high"])
def test_detail_levels_accepted(detail):
    assert ImageURL("https://x.test/a.png", detail).to_dict()["detail"] == detail


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"type": "text"}, "text"),
        ({"type": "text", "text": 5}, "text"),
        ({"type": "image_url"}, "image_url"),
        ({"type": "image_url", "image_url": "https://x.test/a.png"}, "image_url"),
        ({"type": "image_url", "image_url": {}}, "image_url.url"),
        ({"type": "image_url", "image_url": {"url": "ftp://x.test/a"}}, "image_url.url"),
        (
            {"type": "image_url", "image_url": {"url": "https://x/a", "detail": "max"}},
            "image_url.detail",
        ),
        ({"text": "no type"}, "type"),
    ],
)
def test_malformed_part_dicts_name_the_field(data, field):
    with pytest.raises(InvalidInputError) as caught:
        parse_content_part(data)
    assert caught.value.field == field


def test_unknown_part_cannot_impersonate_a_known_type():
    with pytest.raises(InvalidInputError, match="TextPart"):
        UnknownPart({"type": "text", "text": "hi"})


def test_messages_parse_by_role_and_accept_mixed_parts():
    message = parse_message(
        {"role": "user", "content": [TextPart("a"), {"type": "text", "text": "b"}]}
    )
    assert message == UserMessage((TextPart("a"), TextPart("b")))
    assert parse_message({"role": "system", "content": "s"}) == SystemMessage("s")
    assert parse_message({"role": "assistant", "content": None, "refusal": "no"}) == (
        AssistantMessage(None, extra={"refusal": "no"})
    )


def test_message_errors_point_inside_the_message():
    with pytest.raises(InvalidInputError) as caught:
        parse_message({"role": "user", "content": ["text"]})
    assert caught.value.field == "content[0]"
    with pytest.raises(InvalidInputError) as caught:
        parse_message({"role": "function", "content": "x"})
    assert caught.value.field == "role"
