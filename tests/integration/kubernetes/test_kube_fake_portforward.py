"""The fake's `pods/portforward` is honest: SPDY/3.1 framing and header compression as spdystream reads them,
the kubelet's stream checks (a port that is not a number in 1-65535, a stream type other than error/data: the
stream is reset), the API server's and kubelet's refusals before the upgrade, and bytes to a port inside the
pod's network namespace. Real kubectl through the websocket tunnel is in `test_kube_data.py`; here a SPDY
client written against the draft speaks the SPDY/3.1 upgrade kubectl falls back to, so each frame is visible.
"""

from __future__ import annotations

import socket
import ssl
import struct
import subprocess
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.fakes.kube import spdy
from tests.fakes.kube.portforward import check_stream_headers
from tests.integration.kubernetes.conftest import KubeEnv

pytestmark = pytest.mark.kubernetes

DISTROLESS = "example.com/distroless-app:1"
FIXTURE_INDEX = (
    Path(__file__).resolve().parents[2] / "fixtures" / "images" / "distroless-app" / "www" / "index.html"
).read_bytes()
UPGRADE = {
    "Connection": "Upgrade",
    "Upgrade": "SPDY/3.1",
    "X-Stream-Protocol-Version": "portforward.k8s.io",
}


# --- framing (no server) ---


def test_the_header_dictionary_is_the_drafts() -> None:
    # Draft 3.1 §2.6.10.1: 1423 bytes from "options" to "enq=0."; zlib names a preset dictionary by its Adler-32,
    # which a Go peer checks against its own copy before it inflates anything.
    assert len(spdy.DICTIONARY) == 1423
    assert spdy.DICTIONARY.startswith(b"\x00\x00\x00\x07options\x00\x00\x00\x04head")
    assert spdy.DICTIONARY.endswith(b"utf-,*,enq=0.")
    first = spdy.HeaderCodec().encode({"port": "8080"})
    assert first[0] & 0x0F == 8 and first[1] & 0x20  # deflate, FDICT set
    assert struct.unpack(">I", first[2:6])[0] == zlib.adler32(spdy.DICTIONARY)


def test_header_blocks_share_one_zlib_stream_per_direction() -> None:
    client, server = spdy.HeaderCodec(), spdy.HeaderCodec()
    blocks = [
        {"streamtype": "error", "port": "8080", "requestid": "0"},
        {"streamtype": "data", "port": "8080", "requestid": "0"},
        {"StreamType": "data", "port": "80", "requestid": "7"},
    ]
    encoded = [client.encode(b) for b in blocks]
    # The second block refers back into the first (a shared window): it cannot be read on its own.
    with pytest.raises(spdy.ProtocolError):
        spdy.HeaderCodec().decode(encoded[1])
    decoded = [server.decode(e) for e in encoded]
    assert decoded[:2] == blocks[:2]
    assert decoded[2] == {"streamtype": "data", "port": "80", "requestid": "7"}  # names go lower case


def test_frames_round_trip_and_bad_ones_are_refused() -> None:
    out, back = spdy.HeaderCodec(), spdy.HeaderCodec()
    wire = b"".join(
        [
            spdy.syn_stream(1, {"port": "9"}, out),
            spdy.syn_reply(1, {}, out, flags=spdy.FLAG_FIN),
            spdy.data(1, b"hello"),
            spdy.data(1, b"", fin=True),
            spdy.rst_stream(3, spdy.CANCEL),
            spdy.ping(7),
            spdy.goaway(3),
        ]
    )
    at = 0

    def read_exact(n: int) -> bytes:
        nonlocal at
        if at + n > len(wire):
            raise EOFError
        at += n
        return wire[at - n : at]

    frames = [spdy.read_frame(read_exact, back) for _ in range(7)]
    assert [(f.kind, f.stream, f.fin) for f in frames] == [
        (spdy.SYN_STREAM, 1, False),
        (spdy.SYN_REPLY, 1, True),
        (0, 1, False),
        (0, 1, True),
        (spdy.RST_STREAM, 3, False),
        (spdy.PING, 0, False),
        (spdy.GOAWAY, 3, False),
    ]
    assert frames[0].headers == {"port": "9"} and frames[1].headers == {} and frames[2].data == b"hello"
    assert frames[4].value == spdy.CANCEL and frames[5].value == 7
    with pytest.raises(EOFError):
        spdy.read_frame(read_exact, back)
    # SPDY/2 and broken header blocks end the connection.
    v2 = struct.pack(">HHI", 0x8002, spdy.PING, 4) + b"\x00\x00\x00\x01"
    with pytest.raises(spdy.ProtocolError, match="version 2"):
        spdy.read_frame(lambda n, buf=[v2]: _take(buf, n), spdy.HeaderCodec())
    with pytest.raises(spdy.ProtocolError):
        spdy.parse_header_block(struct.pack(">I", 1) + struct.pack(">I", 4) + b"Port" + struct.pack(">I", 0))
    with pytest.raises(spdy.ProtocolError):
        spdy.parse_header_block(
            struct.pack(">I", 2) + struct.pack(">I", 4) + b"port" + struct.pack(">I", 1) + b"1"
        )


def _take(buf: list[bytes], n: int) -> bytes:
    out, buf[0] = buf[0][:n], buf[0][n:]
    if len(out) < n:
        raise EOFError
    return out


def test_stream_headers_are_checked_like_the_kubelet() -> None:
    ok = {"streamtype": "data", "port": "8080"}
    assert check_stream_headers(ok) == ""
    assert check_stream_headers({**ok, "port": "65535"}) == ""
    assert check_stream_headers({"streamtype": "data"}) == '"port" header is required'
    for bad in ("x", "-1", "80a", "\uff18\uff10"):  # full-width digits: Go parses ASCII only
        assert check_stream_headers({**ok, "port": bad}) == (
            f'unable to parse "{bad}" as a port: strconv.ParseUint: parsing "{bad}": invalid syntax'
        )
    assert check_stream_headers({**ok, "port": "65536"}) == (
        'unable to parse "65536" as a port: strconv.ParseUint: parsing "65536": value out of range'
    )
    assert check_stream_headers({**ok, "port": "0"}) == 'port "0" must be > 0'
    assert check_stream_headers({"port": "80"}) == '"streamType" header is required'
    assert check_stream_headers({**ok, "streamtype": "stdin"}) == 'invalid stream type "stdin"'


# --- the fake, over the SPDY/3.1 upgrade ---


class _Client:
    """A SPDY client on a fresh TLS connection to the fake (as the administrator unless `token`)."""

    def __init__(self, kube: KubeEnv, path: str, headers: dict[str, str], token: str = "") -> None:
        url = urlsplit(kube.fake.url)
        ctx = ssl.create_default_context(cadata=kube.fake.ca.cert_pem.decode())
        raw = socket.create_connection((url.hostname, url.port), timeout=30)
        self.sock = ctx.wrap_socket(raw, server_hostname=url.hostname)
        self.file = self.sock.makefile("rb")
        lines = [
            f"POST {path} HTTP/1.1",
            f"Host: {url.netloc}",
            f"Authorization: Bearer {token or kube.fake.admin_token}",
            "Content-Length: 0",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.status = int(self.file.readline().split()[1])
        self.headers: dict[str, str] = {}
        while (line := self.file.readline().decode().strip()) != "":
            name, _, value = line.partition(":")
            self.headers[name.lower()] = value.strip()
        length = int(self.headers.get("content-length", "0") or 0)
        self.body = self.file.read(length) if self.status != 101 and length else b""
        self.codec = spdy.HeaderCodec()
        self.next_id = 1

    def read_exact(self, n: int) -> bytes:
        data = self.file.read(n)
        if len(data) < n:
            raise EOFError
        return data

    def frame(self) -> spdy.Frame:
        return spdy.read_frame(self.read_exact, self.codec)

    def open(self, headers: dict[str, str]) -> int:
        stream, self.next_id = self.next_id, self.next_id + 2
        self.sock.sendall(spdy.syn_stream(stream, headers, self.codec))
        return stream

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def _pod_path(name: str, ns: str = "default") -> str:
    return f"/api/v1/namespaces/{ns}/pods/{name}/portforward"


def test_streams_with_bad_headers_are_reset_and_a_pair_reaches_the_pods_loopback(
    kube_docker: KubeEnv,
) -> None:
    kube = kube_docker
    kube.fake.store.add_pod("web", containers=[{"name": "app", "image": DISTROLESS}], docker=True)
    c = _Client(kube, _pod_path("web"), UPGRADE)
    try:
        assert c.status == 101, c.body
        assert (
            c.headers["upgrade"] == "SPDY/3.1"
            and c.headers["x-stream-protocol-version"] == "portforward.k8s.io"
        )
        bad = [
            {"streamtype": "data", "port": "0", "requestid": "9"},
            {"streamtype": "data", "port": "70000", "requestid": "9"},
            {"streamtype": "data", "port": "http", "requestid": "9"},
            {"streamtype": "stdin", "port": "8080", "requestid": "9"},
            {"streamtype": "error", "requestid": "9"},
        ]
        ids = [c.open(h) for h in bad]
        resets = [c.frame() for _ in ids]
        assert [(f.kind, f.stream, f.value) for f in resets] == [
            (spdy.RST_STREAM, i, spdy.CANCEL) for i in ids
        ]

        c.sock.sendall(spdy.ping(2))
        assert (f := c.frame()).kind == spdy.PING and f.value == 2

        # A pair to the app's 8080: an HTTP request in, the response out, then both streams closed.
        error = c.open({"streamtype": "error", "port": "8080", "requestid": "0"})
        data = c.open({"streamtype": "data", "port": "8080", "requestid": "0"})
        c.sock.sendall(spdy.data(error, b"", fin=True))
        c.sock.sendall(spdy.data(data, b"GET / HTTP/1.0\r\n\r\n", fin=True))
        received, errors, closed = b"", b"", set()
        replies = []
        while closed != {error, data}:
            f = c.frame()
            if f.kind == spdy.SYN_REPLY:
                replies.append(f.stream)
            elif f.kind == 0:
                assert f.stream in replies  # data only after the stream's SYN_REPLY
                received += f.data if f.stream == data else b""
                errors += f.data if f.stream == error else b""
                if f.fin:
                    closed.add(f.stream)
        assert replies == [error, data] and errors == b""
        assert received.startswith(b"HTTP/1.") and received.endswith(FIXTURE_INDEX)

        # Nothing listens on 9999 in the pod: the runtime's refusal on the error stream, then both close.
        error = c.open({"streamtype": "error", "port": "9999", "requestid": "1"})
        data = c.open({"streamtype": "data", "port": "9999", "requestid": "1"})
        errors, closed = b"", set()
        while closed != {error, data}:
            f = c.frame()
            if f.kind == 0:
                assert f.stream == error or not f.data
                errors += f.data
                if f.fin:
                    closed.add(f.stream)
        text = errors.decode()
        assert text.startswith("error forwarding port 9999 to pod "), text
        assert "failed to connect to localhost:9999 inside namespace" in text
        assert "IPv4: dial tcp4 127.0.0.1:9999: connect: connection refused" in text

        # A second data stream for a request: refused on that request's error stream.
        error = c.open({"streamtype": "error", "port": "8080", "requestid": "2"})
        c.open({"streamtype": "error", "port": "8080", "requestid": "2"})
        while (f := c.frame()).kind != 0:
            pass
        assert f.stream == error
        assert f.data == b"error processing stream for request 2: error stream already assigned"
        c.sock.sendall(spdy.goaway(0))
    finally:
        c.close()
    (session,) = kube.fake.portforward_sessions
    assert [reason for _, reason in session.refused] == [
        'port "0" must be > 0',
        'unable to parse "70000" as a port: strconv.ParseUint: parsing "70000": value out of range',
        'unable to parse "http" as a port: strconv.ParseUint: parsing "http": invalid syntax',
        'invalid stream type "stdin"',
        '"port" header is required',
    ]


def test_refusals_before_the_upgrade(kube_docker: KubeEnv) -> None:
    kube = kube_docker
    kube.fake.store.add_pod("web", containers=[{"name": "app", "image": DISTROLESS}], docker=True)
    kube.fake.store.add_pod("sim")  # a simulated pod: no process, nothing to connect to
    kube.fake.store.add_pod("unscheduled", spec={"nodeName": ""}, status={"phase": "Pending"})
    cases = [
        (_pod_path("missing"), UPGRADE, 404, b'pods \\"missing\\" not found'),
        (_pod_path("unscheduled"), UPGRADE, 400, b"pod unscheduled does not have a host assigned"),
        (_pod_path("sim"), UPGRADE, 400, b"is not docker-backed"),
        (
            _pod_path("web"),
            {**UPGRADE, "X-Stream-Protocol-Version": "v9.example"},
            403,
            b"unable to negotiate",
        ),
        (_pod_path("web"), {k: v for k, v in UPGRADE.items() if k != "Upgrade"}, 400, b"missing upgrade"),
    ]
    for path, headers, code, text in cases:
        c = _Client(kube, path, headers)
        c.close()
        assert (c.status, text in c.body) == (code, True), (path, c.status, c.body)
    # RBAC: `create` on pods/portforward (the SPDY POST, as the websocket GET).
    token = kube.fake.add_user("bob")
    kube.fake.rbac.allow("bob", ["get"], ["pods/portforward"])
    c = _Client(kube, _pod_path("web"), UPGRADE, token=token)
    c.close()
    assert c.status == 403 and b'cannot create resource \\"pods/portforward\\"' in c.body
    # The kubelet without the pod's sandbox (it stopped): a plain-text 500 passed through by the API server.
    sandbox, _ = kube.fake.docker.sandbox("default", "web")  # type: ignore[union-attr]
    subprocess.run(["docker", "stop", "-t", "0", sandbox], check=True, capture_output=True, timeout=60)
    c = _Client(kube, _pod_path("web"), UPGRADE)
    c.close()
    assert c.status == 500 and c.body.startswith(b"failed to find sandboxID for pod web_default(")
    assert not kube.fake.portforward_sessions
