"""Reading the answer tolerantly: where the JSON is and what it means (item 6)."""

from __future__ import annotations

import json

import pytest
from shapes import RECEIPT_JSON, AttrsPoint, Receipt

from chat_image._structured.extract import candidates
from chat_image._structured.parse import read_message
from chat_image._structured.target import prepare

TEXT = json.dumps(RECEIPT_JSON)


@pytest.mark.parametrize(
    "content",
    [
        TEXT,
        f"```json\n{TEXT}\n```",
        f"```JSON5\n{TEXT}\n```",
        f"```\n{TEXT}\n```",
        f"~~~json\n{TEXT}\n~~~",
        f"Here is the receipt {{as asked}}:\n\n{TEXT}\n\nAnything else? [yes]",
        f"<think>They want {{json}}. ```maybe```</think>\n{TEXT}",
        f"<think>\nfirst {TEXT[:20]}\n</think>```json\n{TEXT}\n```",
        json.dumps(TEXT),
        json.dumps({"Receipt": RECEIPT_JSON}),
        json.dumps({"receipt": RECEIPT_JSON}),
    ],
    ids=[
        "plain",
        "fenced",
        "odd-tag",
        "untagged",
        "tilde",
        "prose",
        "think",
        "think-then-fence",
        "double-encoded",
        "wrapped",
        "wrapped-lowercase",
    ],
)
def test_the_receipt_is_found_however_it_is_presented(content):
    reading = read_message(prepare(Receipt), content, {})
    assert reading.ok, reading.problems
    assert reading.value.merchant == "Acme"


def test_braces_and_fences_inside_string_values_never_cut_the_json():
    data = {"x": 1, "y": 2, "label": 'a } b ``` c { d ~~~ e " f'}
    content = f"```json\n{json.dumps(data)}\n```"
    reading = read_message(prepare(AttrsPoint), content, {})
    assert reading.ok
    assert reading.value.label == data["label"]


def test_json_only_in_reasoning_content_with_no_content():
    extra = {"reasoning_content": f"draft {{'no': 1}} then {TEXT}"}
    reading = read_message(prepare(Receipt), None, extra)
    assert reading.ok
    assert reading.value.merchant == "Acme"
    reading = read_message(prepare(Receipt), None, {"reasoning": TEXT})
    assert reading.ok


def test_prose_only_is_no_json():
    reading = read_message(prepare(Receipt), "I cannot read this receipt, sorry.", {})
    assert not reading.ok
    assert reading.kind == "no_json"


def test_an_unclosed_think_block_is_no_json():
    reading = read_message(prepare(AttrsPoint), '<think>maybe {"x": 1, "y": 2}', {})
    assert not reading.ok
    assert reading.kind == "no_json"


def test_an_answer_that_is_the_schema_is_not_taken_for_the_instance():
    schema = dict(prepare(AttrsPoint).schema)
    reading = read_message(prepare(AttrsPoint), json.dumps(schema), {})
    assert not reading.ok
    assert reading.kind == "schema_echo"


def test_a_later_candidate_that_validates_wins_over_an_earlier_one_that_does_not():
    content = 'Example: {"x": "?", "y": "?"}. Answer: {"x": 1, "y": 2}'
    reading = read_message(prepare(AttrsPoint), content, {})
    assert reading.ok
    assert reading.value == AttrsPoint(1, 2)


def test_lists_answer_bare_or_wrapped():
    target = prepare(list[AttrsPoint])
    for content in ('[{"x": 1, "y": 2}]', '{"items": [{"x": 1, "y": 2}]}'):
        reading = read_message(target, content, {})
        assert reading.ok
        assert reading.value == [AttrsPoint(1, 2)]


def test_invalid_answers_say_what_is_wrong():
    reading = read_message(prepare(AttrsPoint), '```json\n{"x": 2.7, "y": "2"}\n```', {})
    assert not reading.ok
    assert reading.kind == "invalid"
    assert [str(p) for p in reading.problems] == [
        "x: expected an integer, got a number (2.7)",
        "y: expected an integer, got a string ('2')",
    ]


def test_candidates_prefer_objects():
    assert candidates('[1] and {"a": 1}') == [{"a": 1}, [1]]
