"""HTTP/1.1 on a connected socket, for the Engine API, without `http.client`: requests written as bytes, answers
read through one buffer (`Answer`), bodies framed by `Content-Length`, `Transfer-Encoding: chunked` or the end
of the connection.

Why not `http.client`: importing it loads the `email` package (its header parser) and `ssl`, about 12 ms of a
100 ms CLI start that a terminal waits for before `docker run` even begins (`debugbox shell`'s overhead target
is 10 % of that `docker run`). And for archives it reads a chunked body one chunk at a time (Go's engine sends
32 KiB chunks: two system calls and several Python calls each), where `Answer` takes whatever the socket holds,
up to `_RECV` bytes, in one call. `http.client` is still what connects to TCP, TLS and ssh engines
(`engine_api.py`); once connected, their sockets are read here too.

Everything the engine sends is bounded: a line at `MAX_LINE` bytes, `MAX_HEADERS` headers, a whole body read
by `read()` at the caller's limit; anything else is `BadAnswer`. Time is the caller's: the socket's timeout
bounds each read and write, the caller's deadline shuts the socket down.
"""

from __future__ import annotations

import io
import socket
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

MAX_LINE = 65536
MAX_HEADERS = 200
_RECV = 256 * 1024
_NO_LENGTH = -1
_DIRECT = 16 * 1024
"""A body read of at least this many bytes, with nothing buffered, is received straight into the caller's
buffer: no copy (an archive's 32 KiB chunks go this way)."""


class BadAnswer(Exception):
    """What the engine sent is not an HTTP/1.x answer (or ended in the middle of one)."""


def send_request(
    sock: socket.socket,
    method: str,
    target: str,
    headers: Mapping[str, str],
    *,
    body: IO[bytes] | None = None,
) -> None:
    """Write the request line and `headers`; with `body`, send it chunked as it is read (any length)."""
    lines = [f"{method} {target} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
    if body is not None:
        lines.append("Transfer-Encoding: chunked")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    if body is not None:
        while block := body.read(1 << 20):
            sock.sendall(b"%x\r\n" % len(block) + block + b"\r\n")
        sock.sendall(b"0\r\n\r\n")


def _status(line: bytes) -> int:
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit() or len(parts[1]) != 3:
        raise BadAnswer(f"not an HTTP answer: {line[:60]!r}")
    return int(parts[1])


class Answer(io.BufferedIOBase, BinaryIO):  # type: ignore[misc]  # as http.client's HTTPResponse is
    """An answer read from `sock`: `status` and `headers` (names lower-cased) at once, the body as it arrives
    (a readable binary stream: tarfile reads archives from it)."""

    def __init__(self, sock: socket.socket, method: str) -> None:
        super().__init__()
        self._sock = sock
        # One buffer for the whole answer, received into in place (a fresh 256 KiB `recv` per read would be
        # a new mapping each time, its pages faulted in: most of a 100 MB copy's time). Unread bytes are
        # `_buf[_pos:_end]`.
        self._buf = bytearray(_RECV)
        self._view = memoryview(self._buf)
        self._pos = self._end = 0
        self._seen = False  # any byte received at all
        self.status = _status(self._line())
        self.headers = self._headers()
        self._chunked = False
        self._left = 0  # body bytes left: of the current chunk, of Content-Length, or _NO_LENGTH (to the end)
        self._done = method == "HEAD" or self.status in (204, 304) or 100 <= self.status < 200
        if self._done:
            return
        length = self.headers.get("content-length")
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            self._chunked = True
            self._next_chunk()
        elif length is not None:
            if not length.isdigit():
                raise BadAnswer(f"a Content-Length of {length[:40]!r}")
            self._left = int(length)
            self._done = self._left == 0
        else:
            self._left = _NO_LENGTH

    def getheader(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    # -- the raw buffer --------------------------------------------------------------------------------------

    def _more(self) -> bool:
        """Receive what the socket holds into the buffer's free end; False at the end of the answer."""
        if self._pos:  # what was read makes room: the unread rest moves to the front
            rest = self._end - self._pos
            self._buf[:rest] = self._buf[self._pos : self._end]
            self._pos, self._end = 0, rest
        if self._end == len(self._buf):
            raise BadAnswer("a header line longer than 64 KiB")  # only a line can fill the buffer unread
        got = self._sock.recv_into(self._view[self._end :])
        self._end += got
        self._seen = self._seen or bool(got)
        return bool(got)

    def _line(self) -> bytes:
        while True:
            end = self._buf.find(b"\n", self._pos, self._end)
            if end >= 0:
                line = bytes(self._buf[self._pos : end + 1])
                self._pos = end + 1
                if len(line) > MAX_LINE:
                    raise BadAnswer("a header line longer than 64 KiB")
                return line
            if self._end - self._pos > MAX_LINE:
                raise BadAnswer("a header line longer than 64 KiB")
            if not self._more():
                raise BadAnswer(
                    "the answer ended in its headers"
                    if self._seen
                    else "no answer (the connection was closed)"
                )

    def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADERS):
            line = self._line()
            if line in (b"\r\n", b"\n"):
                return headers
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon:
                raise BadAnswer(f"a header line without a colon: {line[:60]!r}")
            headers[name.strip().lower()] = value.strip()
        raise BadAnswer(f"more than {MAX_HEADERS} headers")

    def _next_chunk(self) -> None:
        size_text = self._line().split(b";", 1)[0].strip()
        try:
            self._left = int(size_text, 16)
        except ValueError:
            raise BadAnswer(f"a chunk size of {size_text[:20]!r}") from None
        if self._left == 0:
            while self._line() not in (b"\r\n", b"\n"):  # trailers, ignored
                pass
            self._done = True

    # -- the body ----------------------------------------------------------------------------------------------

    def readable(self) -> bool:
        return True

    def readinto(self, target: WriteableBuffer) -> int:
        """Fill `target` with body bytes; fewer only at the body's end (0: the end)."""
        view = memoryview(target).cast("B")
        filled = 0
        while filled < len(view) and not self._done:
            want = len(view) - filled
            if self._left != _NO_LENGTH:
                want = min(want, self._left)
            if self._pos == self._end:
                if want >= _DIRECT:  # a large piece of body and nothing buffered: straight into `target`
                    got = self._sock.recv_into(view[filled : filled + want])
                    self._seen = self._seen or bool(got)
                elif self._more():
                    continue
                else:
                    got = 0
                if not got:
                    if self._left == _NO_LENGTH:
                        self._done = True
                        break
                    raise BadAnswer("the answer ended in its body")
            else:
                got = min(want, self._end - self._pos)
                view[filled : filled + got] = self._view[self._pos : self._pos + got]
                self._pos += got
            filled += got
            if self._left != _NO_LENGTH:
                self._left -= got
            if self._left == 0:
                if self._chunked:
                    self._line()  # the CRLF after the chunk's data
                    self._next_chunk()
                else:
                    self._done = True
        return filled

    def read(self, amount: int | None = -1) -> bytes:
        """Up to `amount` body bytes (fewer only at the end); the whole body when `amount` is None or -1."""
        if amount is not None and amount >= 0:
            if self._done:
                return b""
            if not self._chunked and self._left != _NO_LENGTH:
                amount = min(amount, self._left)  # a buffer no larger than what is left
            buffer = bytearray(amount)
            return bytes(buffer[: self.readinto(buffer)])
        whole = bytearray()
        while part := self.read(_RECV):
            whole += part
        return bytes(whole)

    def body(self, limit: int) -> bytes:
        """The whole body; `BadAnswer` when it is longer than `limit` bytes (said before reading it when the
        engine announced its length)."""
        if not self._chunked and self._left > limit:
            raise BadAnswer(f"an answer larger than {limit} bytes")
        whole = bytearray()
        while part := self.read(min(_RECV, limit + 1 - len(whole))):  # never a buffer of `limit` bytes
            whole += part
            if len(whole) > limit:
                raise BadAnswer(f"an answer larger than {limit} bytes")
        return bytes(whole)


def exchange(
    sock: socket.socket, method: str, target: str, host: str, *, max_body: int
) -> tuple[int, dict[str, str], bytes]:
    """One short call: send `method target`, read the whole answer (a body over `max_body` is `BadAnswer`)."""
    send_request(sock, method, target, {"Host": host, "Connection": "close"})
    answer = Answer(sock, method)
    return answer.status, answer.headers, answer.body(max_body)
