"""An incremental Server-Sent Events decoder: bytes as they arrive in, events out.

Written here rather than taken from httpx-sse, for two reasons measured on this client:
httpx-sse decodes to text and parses line by line in Python objects, which costs about as
much per chunk as the JSON itself; and it hides comment lines, so a stream of `: ping`
keep-alives could not be told from one that is sending data. This one works on bytes, hands
the raw `data` to `json.loads` (which takes bytes), and says whether data arrived at all.

It follows the WHATWG event-stream format: lines end in LF, CRLF or CR (which may be split
across pieces); a line starting with `:` is a comment; `field: value` loses one leading space;
`data` lines are joined with LF; an empty line dispatches the event, if it has data; an event
not finished by an empty line when the stream ends is dropped. `id` and `retry` only matter
for reconnecting, which a chat completion never does, so they are ignored.
"""

from __future__ import annotations

from typing import Final

__all__ = ["SSEDecoder", "ServerSentEvent"]

ServerSentEvent = tuple[str | None, bytes]
"""(event type, or None for the default "message"; data, its lines joined with LF)."""

_DATA: Final = b"data"
_EVENT: Final = b"event"
_BOM: Final = b"\xef\xbb\xbf"


class SSEDecoder:
    """Feed it the body in pieces cut anywhere; it returns the events each piece completes."""

    __slots__ = ("_data", "_event", "_partial", "_skip_lf", "_started", "saw_field")

    def __init__(self) -> None:
        self._started = False  # a byte-order mark may open the stream, and is dropped
        self._partial = b""  # the start of a line whose end has not arrived
        self._skip_lf = False  # the last piece ended in CR: a LF next belongs to it
        self._data: list[bytes] = []
        self._event: str | None = None
        # Set when a line other than a comment arrives; the reader clears it. Comments
        # (keep-alives) must not count as the server making progress.
        self.saw_field = False

    def feed(self, piece: bytes) -> list[ServerSentEvent]:
        """The events that `piece` completes, in order."""
        if self._skip_lf:
            self._skip_lf = False
            if piece[:1] == b"\n":
                piece = piece[1:]
        if not self._started:
            head = self._partial + piece
            if len(head) < len(_BOM) and _BOM.startswith(head):
                self._partial = head  # wait for the rest of a possible byte-order mark
                return []
            self._started = True
            self._partial = b""
            piece = head.removeprefix(_BOM)
        if not piece:
            return []
        if self._partial:
            piece = self._partial + piece
        lines = piece.splitlines()  # on bytes: LF, CRLF and CR only, as SSE wants
        last = piece[-1]
        if last == 13:  # CR
            self._skip_lf = True
            self._partial = b""
        elif last == 10:  # LF
            self._partial = b""
        else:
            self._partial = lines.pop()
        events: list[ServerSentEvent] = []
        for line in lines:
            if not line:
                if self._data:
                    events.append((self._event, b"\n".join(self._data)))
                    self._data = []
                self._event = None
            elif line.startswith(b"data: "):  # the common case, first
                self._data.append(line[6:])
                self.saw_field = True
            elif line[0] != 58:  # not a ":" comment
                self._field(line)
        return events

    def _field(self, line: bytes) -> None:
        self.saw_field = True
        name, _, value = line.partition(b":")
        if value[:1] == b" ":
            value = value[1:]
        if name == _DATA:
            self._data.append(value)
        elif name == _EVENT:
            self._event = value.decode("utf-8", errors="replace")
