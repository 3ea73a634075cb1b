"""Framing of a Cursor-on-Target TCP stream: bytes in, one `<event>…</event>` document out each.

TAK clients write events back to back on one connection, each optionally preceded by an XML
declaration, with no length prefix; reads cut them anywhere. The splitter finds each event's
start tag (`<event` followed by white space, `>` or `/`), reads the start tag honouring quoted
attribute values, and ends the event at its `</event>` (or at `/>` for an empty one).

Recovery rules, so one bad peer message never costs the next good one:
- bytes outside events that are neither white space nor an XML declaration / processing
  instruction are garbage: skipped and counted (`garbage_bytes`, `garbage_runs`), the start of
  each run given to `on_garbage` (the door keeps it as a dead letter);
- an event that grows past `max_event_bytes` is oversize: its first `keep_bytes` go to
  `on_oversize`, and everything up to the next `<event` start is skipped (`skipped_bytes`);
- a new `<event` start or XML declaration inside an unfinished event, or any `<` inside its
  start tag (never legal there, even quoted), means the event was truncated: it is emitted as
  it is (the parser will reject it as malformed) and what follows is read afresh;
- `flush()` at the end of the connection emits an unfinished event the same way.
Events are UTF-8 (the declaration is not passed on). A literal `</event>` inside a comment or
CDATA section would end an event early; CoT producers do not write those.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_START = re.compile(rb"<event[\s/>]")
_TAG_TOKEN = re.compile(rb"[\"'<>]")
_END_OR_RESTART = re.compile(rb"</event\s*>|<event[\s/>]|<\?xml")
_NOT_GARBAGE = re.compile(rb"<\?.*?\?>|\s+", re.DOTALL)
_PARTIAL_START = b"<event"


class CotStreamSplitter:
    """Cut a CoT byte stream into event documents; feed it every read of one connection."""

    def __init__(
        self,
        max_event_bytes: int = 64 << 10,
        *,
        on_oversize: Callable[[bytes], None] | None = None,
        on_garbage: Callable[[bytes], None] | None = None,
        keep_bytes: int = 4096,
    ) -> None:
        if max_event_bytes < len(_PARTIAL_START) + 2:
            raise ValueError("max_event_bytes is too small to hold an event")
        self.max_event_bytes = max_event_bytes
        self.keep_bytes = keep_bytes
        self._on_oversize = on_oversize
        self._on_garbage = on_garbage
        self._buf = bytearray()
        self._in_event = False  # the buffer starts with an event's '<event'
        self._skipping = False  # after an oversize event: discard up to the next '<event'
        self._tag_end: int | None = None  # index of the start tag's '>' once found
        self._tag_pos = 0  # where the start-tag scan resumes
        self._quote: int | None = None  # the open quote character in the start tag, if any
        self._end_pos = 0  # where the end search resumes
        self._in_garbage = False  # garbage was counted since the last event start
        self.events = 0
        self.oversize = 0
        self.garbage_bytes = 0
        self.garbage_runs = 0
        self.skipped_bytes = 0

    def feed(self, data: bytes) -> list[bytes]:
        """Take the next read; return the events it completed, in order."""
        self._buf += data
        out: list[bytes] = []
        while True:
            if not self._in_event and not self._seek_start():
                break
            end = self._find_end()
            if end is None:
                if len(self._buf) > self.max_event_bytes:
                    self._drop_oversize(len(self._buf), skip_rest=True)
                    continue
                break
            if end > self.max_event_bytes:
                self._drop_oversize(end, skip_rest=False)
                continue
            out.append(self._take(end))
        return out

    def flush(self) -> list[bytes]:
        """The connection closed: an unfinished event is emitted (truncated), the rest dropped."""
        out: list[bytes] = []
        if self._in_event and self._buf:
            out.append(self._take(len(self._buf)))
        elif self._buf:
            self._discard(len(self._buf))
        return out

    @property
    def buffered(self) -> int:
        """Bytes held waiting for the rest of an event (bounded by about max_event_bytes)."""
        return len(self._buf)

    def _take(self, end: int) -> bytes:
        event = bytes(self._buf[:end])
        del self._buf[:end]
        self._reset_event()
        self.events += 1
        return event

    def _reset_event(self) -> None:
        self._in_event = False
        self._tag_end = None
        self._tag_pos = 0
        self._quote = None
        self._end_pos = 0

    def _discard(self, n: int) -> None:
        """Drop the first n bytes outside any event, counting what is not white space or a PI."""
        if n <= 0:
            return
        chunk = bytes(self._buf[:n])
        del self._buf[:n]
        if self._skipping:
            self.skipped_bytes += n
            return
        junk = len(_NOT_GARBAGE.sub(b"", chunk))
        if junk:
            self.garbage_bytes += junk
            if not self._in_garbage:  # a run is all the garbage between two events
                self.garbage_runs += 1
                self._in_garbage = True
                if self._on_garbage is not None:  # its first chunk, as read, is kept
                    self._on_garbage(chunk[: self.keep_bytes])

    def _seek_start(self) -> bool:
        match = _START.search(self._buf)
        if match is not None:
            self._discard(match.start())
            self._skipping = False
            self._in_garbage = False
            self._in_event = True
            return True
        # Keep a tail that may be the beginning of a start tag or a declaration cut by the read.
        last_open = self._buf.rfind(b"<")
        keep_from = len(self._buf)
        unclosed = last_open >= 0 and self._buf.find(b">", last_open) < 0
        if unclosed and len(self._buf) - last_open <= self.max_event_bytes:
            keep_from = last_open
        self._discard(keep_from)
        return False

    def _find_end(self) -> int | None:
        """Index just past the event's end, or None while it is incomplete."""
        buf = self._buf
        if self._tag_end is None:
            pos = max(self._tag_pos, len(_PARTIAL_START))
            while True:
                token = _TAG_TOKEN.search(buf, pos)
                if token is None:
                    self._tag_pos = len(buf)
                    return None
                char = buf[token.start()]
                pos = token.start() + 1
                if char == ord("<"):
                    # '<' is never legal in a start tag, quoted or not: this event was cut off
                    # and something new begins here.
                    return token.start()
                if self._quote is not None:
                    if char == self._quote:
                        self._quote = None
                    continue
                if char == ord(">"):
                    self._tag_end = token.start()
                    break
                self._quote = char
            if buf[self._tag_end - 1] == ord("/"):
                return self._tag_end + 1
            self._end_pos = self._tag_end + 1
        match = _END_OR_RESTART.search(buf, self._end_pos)
        if match is None:
            # A closing tag may be cut by the read: resume a little before the end.
            self._end_pos = max(self._tag_end + 1, len(buf) - 64)
            return None
        if match.group().startswith(b"</"):
            return match.end()
        return match.start()  # a new event began: this one was truncated

    def _drop_oversize(self, end: int, *, skip_rest: bool) -> None:
        self.oversize += 1
        head = bytes(self._buf[: min(end, self.keep_bytes)])
        del self._buf[:end]
        self._reset_event()
        if skip_rest:
            self.skipped_bytes += end
            self._skipping = True
        if self._on_oversize is not None:
            self._on_oversize(head)
