"""Partial JSON while streaming: monotone, never unfinished keys or numbers (item 11)."""

from __future__ import annotations

import itertools
import json

from hypothesis import given
from hypothesis import strategies as st

from chat_image._structured.partial import PartialJSON

RECEIPT = {
    "merchant": 'Ac"me {x}',
    "total": 150.25,
    "count": 12,
    "ok": True,
    "none": None,
    "items": [{"name": "bread", "qty": 2}, {"name": "é\n", "qty": 30}],
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


def prefixes_of(text, cuts):
    reader = PartialJSON()
    values = []
    last = 0
    for cut in sorted({*cuts, len(text)}):
        reader.feed(text[last:cut])
        last = cut
        values.append(json.loads(json.dumps(reader.value)))
    return reader, values


def leaves_are_final(partial, final):
    """Every number, boolean and null shown is the final one; keys shown exist in the final."""
    if isinstance(partial, dict):
        return isinstance(final, dict) and all(
            key in final and leaves_are_final(value, final[key]) for key, value in partial.items()
        )
    if isinstance(partial, list):
        return isinstance(final, list) and all(
            leaves_are_final(value, final[index]) for index, value in enumerate(partial)
        )
    if isinstance(partial, str):
        return isinstance(final, str) and final.startswith(partial)
    return partial == final and type(partial) is type(final)


def keys_kept(values):
    for before, after in itertools.pairwise(values):
        if isinstance(before, dict) and not set(before) <= set(after or {}):
            return False
    return True


@given(
    data=st.dictionaries(st.text(max_size=6), json_values, max_size=5),
    cuts=st.lists(st.integers(0, 400)),
)
def test_every_prefix_shows_only_final_values_and_keeps_its_keys(data, cuts):
    text = json.dumps(data, ensure_ascii=False)
    reader, values = prefixes_of(text, [c for c in cuts if c <= len(text)])
    assert reader.done
    assert values[-1] == json.loads(text)
    for value in values:
        assert value is None or leaves_are_final(value, data)
    assert keys_kept(values)


def test_character_by_character_a_number_shows_only_when_whole():
    text = json.dumps(RECEIPT)
    _, values = prefixes_of(text, range(len(text)))
    totals = {value.get("total") for value in values if isinstance(value, dict)}
    assert totals == {None, 150.25}
    counts = {value.get("count") for value in values if isinstance(value, dict)}
    assert counts == {None, 12}
    assert values[-1] == RECEIPT


def test_a_number_at_the_end_of_the_buffer_waits_for_its_delimiter():
    reader = PartialJSON()
    reader.feed('{"total": 15')
    assert reader.value == {}
    reader.feed("0")
    assert reader.value == {}
    reader.feed("}")
    assert reader.value == {"total": 150}


def test_an_unfinished_key_is_never_shown_and_strings_show_as_far_as_they_came():
    reader = PartialJSON()
    reader.feed('{"a": "hel')
    assert reader.value == {"a": "hel"}
    reader.feed('lo", "lon')
    assert reader.value == {"a": "hello"}
    reader.feed('g": tr')
    assert reader.value == {"a": "hello"}
    reader.feed("ue")
    assert reader.value == {"a": "hello"}
    reader.feed("}")
    assert reader.value == {"a": "hello", "long": True}


def test_escapes_cut_in_the_middle_wait():
    reader = PartialJSON()
    reader.feed('{"a": "x\\')
    assert reader.value == {"a": "x"}
    reader.feed("u00")
    assert reader.value == {"a": "x"}
    reader.feed('e9"}')
    assert reader.value == {"a": "xé"}


def test_think_blocks_fences_and_prose_before_the_json_are_skipped():
    reader = PartialJSON()
    for piece in [
        "<thi",
        "nk>I think {not this}",
        "</think>",
        "Sure:\n```json\n{",
        '"a": 1, "b"',
        ": [true]",
        "}\n```",
    ]:
        reader.feed(piece)
    assert reader.value == {"a": 1, "b": [True]}
    assert reader.done


def test_items_of_a_list_close_one_by_one():
    reader = PartialJSON()
    reader.feed('{"items": [{"a": 1}, {"a"')
    assert reader.items_done == [{"a": 1}]
    reader.feed(': 2}, {"a": [3]}')
    assert reader.items_done == [{"a": 1}, {"a": 2}, {"a": [3]}]
    bare = PartialJSON()
    bare.feed("[1, 2, ")
    assert bare.items_done == [1, 2]


def test_without_trailing_strings_only_complete_fields_show():
    reader = PartialJSON(trailing_strings=False)
    reader.feed('{"a": 1, "b": "cut off her')
    assert reader.value == {"a": 1}
