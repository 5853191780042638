"""One small HTTP/1.1 exchange over a connected socket: the Engine API's short calls on a unix socket (inspect,
stat, image check, ping), without `http.client`.

Why not `http.client` for these: importing it loads the `email` package (its header parser) and `ssl`, about
12 ms of a 100 ms CLI start that a terminal waits for before `docker run` even begins (`debugbox shell`'s
overhead target is 10 % of that `docker run`). The engine's answers to these calls are plain: a status line,
headers, and a body framed by `Content-Length`, `Transfer-Encoding: chunked` or the end of the connection.
Streams (archives) and the other transports (TCP, TLS, ssh) keep `http.client`, imported when used.

Everything the engine sends is bounded: a line at `MAX_LINE` bytes, `MAX_HEADERS` headers, the body at the
caller's limit; anything else is `BadAnswer`. Time is the caller's: the socket's timeout bounds each read, the
caller's deadline shuts the socket down.
"""

from __future__ import annotations

import socket
from typing import BinaryIO

MAX_LINE = 65536
MAX_HEADERS = 200


class BadAnswer(Exception):
    """What the engine sent is not an HTTP/1.x answer (or ended in the middle of one)."""


def exchange(
    sock: socket.socket, method: str, target: str, host: str, *, max_body: int
) -> tuple[int, dict[str, str], bytes]:
    """Send `method target` and read the answer: status, headers (names lower-cased), body (a longer one than
    `max_body` bytes is `BadAnswer`)."""
    sock.sendall(f"{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode("latin-1"))
    with sock.makefile("rb") as reader:
        status = _status(_line(reader))
        headers = _headers(reader)
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return status, headers, b""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return status, headers, _chunked(reader, max_body)
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                raise BadAnswer(f"a Content-Length of {length[:40]!r}")
            want = int(length)
            if want > max_body:
                raise BadAnswer(f"an answer larger than {max_body} bytes")
            body = reader.read(want)
            if len(body) != want:
                raise BadAnswer(f"the answer ended after {len(body)} of {want} bytes")
            return status, headers, body
        body = reader.read(max_body + 1)  # framed by the end of the connection
        if len(body) > max_body:
            raise BadAnswer(f"an answer larger than {max_body} bytes")
        return status, headers, body


def _line(reader: BinaryIO) -> bytes:
    line = reader.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise BadAnswer("a header line longer than 64 KiB")
    if not line.endswith(b"\n"):
        raise BadAnswer(
            "the answer ended in its headers" if line else "no answer (the connection was closed)"
        )
    return line


def _status(line: bytes) -> int:
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit() or len(parts[1]) != 3:
        raise BadAnswer(f"not an HTTP answer: {line[:60]!r}")
    return int(parts[1])


def _headers(reader: BinaryIO) -> dict[str, str]:
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS):
        line = _line(reader)
        if line in (b"\r\n", b"\n"):
            return headers
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon:
            raise BadAnswer(f"a header line without a colon: {line[:60]!r}")
        headers[name.strip().lower()] = value.strip()
    raise BadAnswer(f"more than {MAX_HEADERS} headers")


def _chunked(reader: BinaryIO, max_body: int) -> bytes:
    body = bytearray()
    while True:
        size_text = _line(reader).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise BadAnswer(f"a chunk size of {size_text[:20]!r}") from None
        if size == 0:
            while _line(reader) not in (b"\r\n", b"\n"):  # trailers, ignored
                pass
            return bytes(body)
        if len(body) + size > max_body:
            raise BadAnswer(f"an answer larger than {max_body} bytes")
        chunk = reader.read(size)
        if len(chunk) != size:
            raise BadAnswer("the answer ended in a chunk")
        body += chunk
        _line(reader)  # the chunk's CRLF
