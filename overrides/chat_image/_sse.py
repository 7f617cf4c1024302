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

Linear in the size of what arrives, however a line is cut: a line's pieces are kept in a list
and joined once, when its end arrives, and each piece is searched for a line end once.
"""

from __future__ import annotations

from typing import Final

__all__ = ["SSEDecoder", "ServerSentEvent"]

ServerSentEvent = tuple[str | None, bytes]
"""(event type, or None for the default "message"; data, its lines joined with LF)."""

_DATA: Final = b"data"
_EVENT: Final = b"event"
_BOM: Final = b"\xef\xbb\xbf"
_LF: Final = 10
_CR: Final = 13
_COLON: Final = 58


class SSEDecoder:
    """Feed it the body in pieces cut anywhere; it returns the events each piece completes."""

    __slots__ = ("_data", "_event", "_partial", "_partial_data", "_skip_lf", "_started", "saw_data")

    def __init__(self) -> None:
        self._started = False  # a byte-order mark may open the stream, and is dropped
        self._partial: list[bytes] = []  # the pieces of a line whose end has not arrived
        # Whether that line is a data line; None until its first five bytes have come.
        self._partial_data: bool | None = None
        self._skip_lf = False  # the last piece ended in CR: a LF next belongs to it
        self._data: list[bytes] = []
        self._event: str | None = None
        # Set when data arrives (a data line, or a piece of one); the reader clears it.
        # Comments and other fields (`event:`, `id:`, `retry:`, unknown ones) are what
        # keep-alives are made of: they must not count as the server making progress.
        self.saw_data = False

    def feed(self, piece: bytes) -> list[ServerSentEvent]:
        """The events that `piece` completes, in order."""
        if self._skip_lf:
            self._skip_lf = False
            if piece[:1] == b"\n":
                piece = piece[1:]
        if not self._started:
            head = b"".join(self._partial) + piece
            if len(head) < len(_BOM) and _BOM.startswith(head):
                self._partial = [head]  # wait for the rest of a possible byte-order mark
                return []
            self._started = True
            self._partial = []
            piece = head.removeprefix(_BOM)
        if not piece:
            return []
        events: list[ServerSentEvent] = []
        if self._partial:
            piece = self._finish_line(piece, events)
            if not piece:
                return events
        lines = piece.splitlines()  # on bytes: LF, CRLF and CR only, as SSE wants
        last = piece[-1]
        if last == _CR:
            self._skip_lf = True
        elif last != _LF:
            self._start_line(lines.pop())
        for line in lines:  # `_line`, written out: this loop runs for every event
            if not line:
                if self._data:
                    events.append((self._event, b"\n".join(self._data)))
                    self._data = []
                self._event = None
            elif line.startswith(b"data: "):
                self._data.append(line[6:])
                self.saw_data = True
            elif line[0] != _COLON:
                self._field(line)
        return events

    def _start_line(self, start: bytes) -> None:
        self._partial = [start]
        self._partial_data = None
        self._progress()

    def _progress(self) -> None:
        """Count the unfinished line as progress if it is a data line (a long one arriving)."""
        if self._partial_data is None:
            head = self._partial[0] if len(self._partial[0]) >= 5 else b"".join(self._partial)
            if len(head) < 5:
                return
            self._partial_data = head.startswith(b"data:")
        if self._partial_data:
            self.saw_data = True

    def _finish_line(self, piece: bytes, events: list[ServerSentEvent]) -> bytes:
        """Add `piece` to the unfinished line; what follows that line's end, if it came."""
        lf = piece.find(b"\n")
        cr = piece.find(b"\r", 0, None if lf < 0 else lf)
        end = cr if cr >= 0 else lf
        if end < 0:
            self._partial.append(piece)
            self._progress()
            return b""
        partial = self._partial
        self._partial = []
        partial.append(piece[:end])
        if partial[0].startswith(b"data: "):
            # The value alone, joined once: a long line is not copied a second time.
            partial[0] = partial[0][6:]
            self._data.append(b"".join(partial))
            self.saw_data = True
            line = None
        else:
            line = b"".join(partial)
        rest = end + 1
        if cr >= 0:
            if rest == len(piece):
                self._skip_lf = True
            elif piece[rest] == _LF:
                rest += 1
        if line is not None:
            self._line(line, events)
        return piece[rest:]

    def _line(self, line: bytes, events: list[ServerSentEvent]) -> None:
        if not line:
            if self._data:
                events.append((self._event, b"\n".join(self._data)))
                self._data = []
            self._event = None
        elif line.startswith(b"data: "):  # the common case, first
            self._data.append(line[6:])
            self.saw_data = True
        elif line[0] != _COLON:  # not a ":" comment
            self._field(line)

    def _field(self, line: bytes) -> None:
        name, _, value = line.partition(b":")
        if value[:1] == b" ":
            value = value[1:]
        if name == _DATA:
            self._data.append(value)
            self.saw_data = True
        elif name == _EVENT:
            self._event = value.decode("utf-8", errors="replace")
