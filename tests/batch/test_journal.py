"""The batch output as a journal: whole lines, the last line of an id wins, a torn line cut
off, and one writer at a time (checked with a second process holding the file)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from chat_image.batch import JournalBusyError
from chat_image.batch._journal import Done, Journal, read_state


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_each_append_is_one_whole_line_and_the_last_line_of_an_id_is_its_state(tmp_path):
    out = tmp_path / "out.jsonl"
    journal = Journal(out)
    journal.append({"id": "a", "status": "error", "input_hash": "h1"})
    journal.append({"id": "b", "status": "ok", "input_hash": "h2", "content": "Ünïcode ✓"})
    journal.append({"id": "a", "status": "ok", "input_hash": "h1"})
    journal.close()
    assert [line["id"] for line in lines(out)] == ["a", "b", "a"]
    assert out.read_bytes().endswith(b"\n")
    assert read_state(out) == {"a": Done("ok", "h1"), "b": Done("ok", "h2")}
    assert Journal(out).state == read_state(out)


def test_a_torn_last_line_is_cut_off_before_appending(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_bytes(b'{"id": "a", "status": "ok", "input_hash": null}\n{"id": "b", "sta')
    journal = Journal(out)
    assert journal.repaired
    assert journal.state == {"a": Done("ok", None)}
    journal.append({"id": "b", "status": "ok", "input_hash": None})
    journal.close()
    assert [line["id"] for line in lines(out)] == ["a", "b"]


def test_a_whole_last_line_without_its_newline_is_kept_and_ended(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_bytes(b'{"id": "a", "status": "ok", "input_hash": "h"}')
    journal = Journal(out)
    assert journal.repaired
    assert journal.state == {"a": Done("ok", "h")}
    journal.append({"id": "b", "status": "error", "input_hash": "h"})
    journal.close()
    assert [line["id"] for line in lines(out)] == ["a", "b"]


def test_unreadable_lines_in_the_middle_are_counted_not_fatal(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_bytes(b'{"id": "a", "status": "ok"}\nnot json\n[1, 2]\n{"id": "b", "status": "ok"}\n')
    journal = Journal(out)
    journal.close()
    assert journal.unreadable_lines == 2
    assert set(journal.state) == {"a", "b"}
    assert not journal.repaired


def test_read_state_does_not_touch_the_file(tmp_path):
    out = tmp_path / "out.jsonl"
    torn = b'{"id": "a", "status": "ok"}\n{"id": "b"'
    out.write_bytes(torn)
    assert read_state(out) == {"a": Done("ok", None)}
    assert out.read_bytes() == torn
    assert read_state(tmp_path / "absent.jsonl") == {}


@pytest.mark.skipif(sys.platform == "win32", reason="flock: one writer per file is POSIX-only")
def test_a_second_run_on_the_same_output_is_refused_while_the_first_holds_it(tmp_path):
    out = tmp_path / "out.jsonl"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys
                from chat_image.batch._journal import Journal
                journal = Journal({str(out)!r})
                print("holding", flush=True)
                sys.stdin.read()
                journal.close()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(JournalBusyError, match="being written by another run"):
            Journal(out)
    finally:
        holder.communicate("", timeout=30)
    Journal(out).close()  # free again once the other process let go
