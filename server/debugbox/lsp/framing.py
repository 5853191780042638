"""The LSP base protocol's framing, checked before pygls sees it: a bad header can neither kill nor wedge the
server.

pygls reads `Content-Length: N` and then `read(N)`. A huge N (`99999999999`) makes that read allocate or wait
for bytes that never come; a negative or non-numeric one is ignored, so the body that follows is read as
header lines and every later message is lost with it. `FramedReader` sits between stdin and pygls: it reads
one header block at a time, and passes on only frames with a sane length (1 byte to `MAX_MESSAGE_BYTES`),
re-framed exactly as pygls expects. A bad frame is logged and dropped; the reader then skips ahead to the next
`Content-Length:` header, which is where the client's next message starts (a client that sends a bad
length has nothing sensible in the body either). pygls is given this object as its stdin: it only calls
`readline()` and `read(n)`.
"""

from __future__ import annotations

import logging
import re
from typing import BinaryIO

log = logging.getLogger(__name__)

#: Larger than any document debugbox analyses (16 MB files, JSON-escaped) with room to spare; anything bigger
#: is not an editor talking.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
#: A header line longer than this is garbage (real ones are ~30 bytes).
MAX_HEADER_LINE = 4096

_HEADER = b"content-length:"
_LENGTH = re.compile(rb"[ \t]*([0-9]{1,12})[ \t]*\r?\n?\Z")


class FramedReader:
    """A `readline()`/`read(n)` stream over `raw` that yields only well-framed LSP messages."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._ready = b""
        self._pending = b""  # a header line found glued to the end of a skipped body

    # -- what pygls calls --------------------------------------------------------------------------------

    def readline(self) -> bytes:
        if not self._ready:
            self._ready = self._next_frame()
        line, sep, rest = self._ready.partition(b"\n")
        self._ready = rest
        return line + sep

    def read(self, n: int) -> bytes:
        data, self._ready = self._ready[:n], self._ready[n:]
        return data

    # -- framing -----------------------------------------------------------------------------------------

    def _line(self) -> bytes:
        if self._pending:
            line, self._pending = self._pending, b""
            return line
        return self._raw.readline(MAX_HEADER_LINE)

    def _next_frame(self) -> bytes:
        """The next good frame as `Content-Length: N\\r\\n\\r\\n` + body; b"" at end of input."""
        while True:
            length: int | None = None
            bad: bytes | None = None
            while True:
                line = self._line()
                if not line:
                    return b""
                if line in (b"\r\n", b"\n"):
                    if length is None and bad is None:
                        continue  # stray blank line between messages
                    break
                if line.lower().startswith(_HEADER):
                    match = _LENGTH.match(line[len(_HEADER) :])
                    value = int(match.group(1)) if match else None
                    if value is not None and 0 < value <= MAX_MESSAGE_BYTES:
                        length = value
                    else:
                        bad = line[:100]
                elif not line.endswith(b"\n") or b":" not in line:
                    bad = line[:100]  # not a header at all: body bytes of a lost frame, or garbage
                    break
            if bad is None and length is not None:
                body = self._read_exactly(length)
                if len(body) < length:
                    return b""  # the client went away mid-message
                return b"Content-Length: %d\r\n\r\n" % length + body
            log.warning(
                "dropped a message with a bad header (%r): Content-Length must be 1 to %d bytes; "
                "skipping to the next message",
                bad,
                MAX_MESSAGE_BYTES,
            )
            if not self._skip_to_header():
                return b""

    def _read_exactly(self, n: int) -> bytes:
        chunks: list[bytes] = []
        got = 0
        while got < n:
            chunk = self._raw.read(n - got)
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _skip_to_header(self) -> bool:
        """Discard input up to the next `Content-Length:` (kept in `_pending`); False at end of input."""
        carry = b""  # the end of the previous piece: a header may straddle two pieces of a long line
        while True:
            piece = self._raw.readline(MAX_HEADER_LINE)
            if not piece:
                return False
            window = carry + piece
            at = window.lower().find(_HEADER)
            if at >= 0:
                found = window[at:]
                if not found.endswith(b"\n"):
                    found += self._raw.readline(MAX_HEADER_LINE)
                self._pending = found
                return True
            carry = piece[-(len(_HEADER) - 1) :] if not piece.endswith(b"\n") else b""
