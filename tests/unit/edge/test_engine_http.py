"""The Engine API's short calls on a unix socket (`edge/engine_http.py`) against a scripted engine that sends
exactly the bytes a test chooses: every framing an engine may use (Content-Length, chunked with extensions and
trailers, the end of the connection), and every way an answer can be wrong, each ending as one sentence. And
proof that those calls leave `http.client` (with `email` and `ssl`) unimported.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from debugbox.core.errors import RuntimeUnavailable
from debugbox.edge.engine_api import Endpoint, EngineClient
from debugbox.edge.engine_http import Answer, send_request

from tests.raw_engine import RawEngine


class Scripted(RawEngine):
    """Answers every connection with `answer` (after reading the request), then closes; with `answers`, each
    connection gets the next one (the last one repeats)."""

    def __init__(self, path: Path) -> None:
        self.answer = b""
        self.answers: list[bytes] = []
        self.requests: list[bytes] = []
        super().__init__(path)

    def handle(self, conn: socket.socket) -> None:
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(65536)
            self.requests.append(request)
            if self.answers:
                self.answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
            conn.sendall(self.answer)


@pytest.fixture
def scripted() -> Iterator[tuple[Scripted, EngineClient]]:
    with tempfile.TemporaryDirectory(prefix="dbx-http-") as folder:
        path = Path(folder) / "engine.sock"
        server = Scripted(path)
        try:
            yield server, EngineClient(Endpoint(f"unix://{path}", "test"), 5.0)
        finally:
            server.sock.close()


BODY = json.dumps({"Id": "a1" * 32, "Name": "/web"}).encode()


def test_content_length_chunked_and_close_framed_answers_read_alike(
    scripted: tuple[Scripted, EngineClient],
) -> None:
    server, client = scripted
    server.answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        len(BODY),
        BODY,
    )
    assert client.request("GET", "/containers/web/json").json()["Name"] == "/web"
    half = len(BODY) // 2
    server.answer = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"%x;ext=1\r\n%s\r\n%x\r\n%s\r\n0\r\nX-Trailer: t\r\n\r\n"
        % (half, BODY[:half], len(BODY) - half, BODY[half:])
    )
    assert client.request("GET", "/containers/web/json").json()["Name"] == "/web"
    server.answer = b"HTTP/1.0 200 OK\r\n\r\n" + BODY  # no length: the end of the connection frames it
    answer = client.request("GET", "/containers/web/json")
    assert answer.status == 200 and answer.body == BODY
    request = server.requests[-1].decode()
    assert request.startswith("GET /containers/web/json HTTP/1.1\r\n") and "Host: docker\r\n" in request


def test_a_head_answer_has_headers_and_no_body(scripted: tuple[Scripted, EngineClient]) -> None:
    server, client = scripted
    server.answer = b"HTTP/1.1 200 OK\r\nX-Docker-Container-Path-Stat: e30=\r\nContent-Length: 999\r\n\r\n"
    answer = client.request("HEAD", "/containers/web/archive", {"path": "/bin/sh"})
    assert answer.body == b"" and answer.headers["x-docker-container-path-stat"] == "e30="


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (b"", "no answer"),
        (b"SSH-2.0-OpenSSH_9.2\r\n", "not an HTTP answer"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "ended in its body"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", "larger than"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc", "ended in its body"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "without a colon"),
        (b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 300 + b"\r\n", "more than 200 headers"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"y" * 70000 + b"\r\n\r\n", "longer than 64 KiB"),
        (b"HTTP/1.1 200 OK\r\nContent-Le", "ended in its headers"),
    ],
)
def test_every_wrong_answer_is_one_sentence(
    scripted: tuple[Scripted, EngineClient], answer: bytes, why: str
) -> None:
    server, client = scripted
    server.answer = answer
    with pytest.raises(RuntimeUnavailable, match=f"the Docker engine at unix://.* failed: .*{why}"):
        client.request("GET", "/containers/json")


def test_short_calls_on_a_unix_socket_never_import_http_client(
    scripted: tuple[Scripted, EngineClient],
) -> None:
    server, client = scripted
    server.answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY)
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys
                from debugbox.edge.engine_api import Endpoint, EngineClient
                client = EngineClient(Endpoint({client.endpoint.url!r}), 5.0)
                client.inspect("web")
                client.stat_path("a1" * 32, "/bin/sh")
                print(sorted(m for m in ("http.client", "email", "ssl") if m in sys.modules))
                """
            ),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.strip() == "[]", out.stderr


def test_removing_a_container_is_one_call_and_waits_out_a_removal_in_progress(
    scripted: tuple[Scripted, EngineClient],
) -> None:
    server, client = scripted
    server.answers = [b"HTTP/1.1 204 No Content\r\n\r\n"]
    assert client.remove_container("debugbox-capture-1") is True
    assert server.requests[-1].startswith(b"DELETE /containers/debugbox-capture-1?force=1 HTTP/1.1")
    server.answers = [b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}"]
    assert client.remove_container("gone") is False
    busy = b"HTTP/1.1 409 Conflict\r\nContent-Length: 2\r\n\r\n{}"
    still = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
    server.answers = [busy, still, still, b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}"]
    seen = len(server.requests)
    assert client.remove_container("going") is False
    assert len(server.requests) - seen == 4  # the DELETE, then inspects until the engine no longer has it
    server.answers = [b'HTTP/1.1 500 Oops\r\nContent-Length: 20\r\n\r\n{"message": "disk!"}']
    with pytest.raises(RuntimeUnavailable, match=r"refused to remove stuck .*disk!"):
        client.remove_container("stuck")


def chunked(data: bytes, sizes: list[int]) -> bytes:
    """`data` in chunks of the given sizes (cycled), as the engine frames an archive."""
    out, pos, i = bytearray(), 0, 0
    while pos < len(data):
        size = sizes[i % len(sizes)]
        out += b"%x\r\n" % len(data[pos : pos + size]) + data[pos : pos + size] + b"\r\n"
        pos, i = pos + size, i + 1
    return bytes(out + b"0\r\n\r\n")


@pytest.mark.parametrize("framing", ["chunked", "length", "close"])
def test_a_streamed_body_arrives_whole_however_it_is_cut(framing: str) -> None:
    data = bytes(range(256)) * 4099  # ~1 MiB, no multiple of anything
    body = {"chunked": chunked(data, [32768, 1, 7000, 65536]), "length": data, "close": data}[framing]
    head = {
        "chunked": b"Transfer-Encoding: chunked\r\n",
        "length": b"Content-Length: %d\r\n" % len(data),
        "close": b"",
    }[framing]
    wire = b"HTTP/1.1 200 OK\r\nX-Docker-Container-Path-Stat: e30=\r\n" + head + b"\r\n" + body
    ours, theirs = socket.socketpair()

    def send() -> None:  # in uneven pieces, as a socket delivers them
        with theirs:
            for start in range(0, len(wire), 99_991):
                theirs.sendall(wire[start : start + 99_991])

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    with ours:
        answer = Answer(ours, "GET")
        assert answer.status == 200 and answer.getheader("X-Docker-Container-Path-Stat") == "e30="
        got = bytearray()
        got += answer.read(5)
        buffer = bytearray(300_000)
        while n := answer.readinto(buffer):
            got += buffer[:n]
        assert bytes(got) == data
        assert answer.read(10) == b""
    sender.join(timeout=10)


def test_a_request_body_is_sent_chunked_as_it_is_read() -> None:
    ours, theirs = socket.socketpair()
    payload = os.urandom(3 * 1024 * 1024 + 5)
    received = bytearray()

    def receive() -> None:  # the engine's side, reading while the request is written
        while part := theirs.recv(1 << 20):
            received.extend(part)

    reader = threading.Thread(target=receive, daemon=True)
    reader.start()
    with ours, theirs:
        target = "/containers/x/archive?path=%2F"
        send_request(ours, "PUT", target, {"Host": "docker"}, body=io.BytesIO(payload))
        ours.shutdown(socket.SHUT_WR)
        reader.join(timeout=30)
    raw = bytes(received)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"PUT /containers/x/archive?path=%2F HTTP/1.1\r\nHost: docker\r\n")
    assert b"Transfer-Encoding: chunked" in head
    decoded, pos = bytearray(), 0
    while True:
        end = body.index(b"\r\n", pos)
        size = int(body[pos:end], 16)
        if size == 0:
            break
        decoded += body[end + 2 : end + 2 + size]
        pos = end + 2 + size + 2
    assert bytes(decoded) == payload
