"""The `pods/portforward` subresource: kubectl port-forward's SPDY session, served as the kubelet serves it.

Transports (how the SPDY bytes travel; `server.py` does the HTTP upgrade):
- websocket (KEP-4006, feature `PortForwardWebsockets`, what kubectl >= 1.31 tries first): a GET offering the
  subprotocol `SPDY/3.1+portforward.k8s.io` (`staging/src/k8s.io/client-go/tools/portforward/tunneling_dialer.go`);
  the SPDY connection is a plain byte stream cut into binary websocket messages at any point
  (`tunneling_connection.go`: `Read` concatenates messages, each `Write` is one message), relayed by the API
  server's `staging/src/k8s.io/apiserver/pkg/util/proxy/streamtunnel.go`;
- the SPDY upgrade kubectl falls back to: a POST with `Upgrade: SPDY/3.1` and `X-Stream-Protocol-Version:
  portforward.k8s.io`, answered 101 (`staging/src/k8s.io/apimachinery/pkg/util/httpstream/httpstream.go`
  `Handshake`, `.../httpstream/spdy/upgrade.go`), then SPDY on the connection itself.

The session (`pkg/kubelet/cri/streaming/portforward/httpstream.go`), over the framing of `spdy.py`:
- every SYN_STREAM is checked by `httpStreamReceived`: a `port` header that parses as a 16-bit number above 0
  and a `streamtype` of `error` or `data`; a stream that fails is reset (RST_STREAM CANCEL: `connection.go`
  `newSpdyStream` calls spdystream's `Stream.Reset`), one that passes gets its SYN_REPLY;
- streams are paired by their `requestid` header (kubectl opens `error`, then `data`, per local connection;
  `staging/src/k8s.io/client-go/tools/portforward/portforward.go` `handleConnection`); a second stream of one
  type for a request gets "error processing stream for request N: data stream already assigned" on the error
  stream;
- a complete pair is forwarded (`portForward`): the runtime connects to the port *inside the pod's network
  namespace* — containerd tries `localhost` over IPv4, then IPv6 (`internal/cri/server/sandbox_portforward_linux.go`),
  so a server bound to 127.0.0.1 only is reached — and copies both ways until one direction ends, giving the
  other one second more; a failure is written to the error stream as "error forwarding port P to pod ID, uid :
  ..." (kubectl then drops the whole connection: "lost connection to pod"); then the error stream and the data
  stream are closed (an empty DATA frame with FIN);
- PING frames are echoed (client-go pings every 10 s, `tunneling_dialer.go` `PingPeriod`); GOAWAY or the end of
  the transport ends the session and every forward in it; SETTINGS, HEADERS and WINDOW_UPDATE are read and
  ignored (spdystream has no flow control).

Not modelled: the kubelet's stream creation timeout for a pair that never completes and its idle timeout, UDP
(Kubernetes forwards TCP only).
"""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from tests.fakes.kube import spdy

#: The websocket subprotocol of the tunnel and the SPDY stream protocol (`PortForwardProtocolV1Name`).
WEBSOCKET_PROTOCOL = "SPDY/3.1+portforward.k8s.io"
STREAM_PROTOCOL = "portforward.k8s.io"
#: How long the runtime lets the other direction finish once one has (containerd's `timeout`).
DRAIN_SECONDS = 1.0


class Transport(Protocol):
    """The byte stream a SPDY connection runs on."""

    def read_exact(self, n: int) -> bytes: ...  # raises EOFError at the end

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class MessageTransport:
    """SPDY bytes in websocket binary messages (the KEP-4006 tunnel). `messages` yields each data message;
    `send` writes one binary message; `close` ends the websocket."""

    def __init__(
        self, messages: Iterator[bytes], send: Callable[[bytes], None], close: Callable[[], None]
    ) -> None:
        self._messages, self._send, self._close = messages, send, close
        self._buffer = bytearray()

    def read_exact(self, n: int) -> bytes:
        while len(self._buffer) < n:
            message = next(self._messages, None)
            if message is None:
                raise EOFError
            self._buffer += message
        out = bytes(self._buffer[:n])
        del self._buffer[:n]
        return out

    def write(self, data: bytes) -> None:
        self._send(data)

    def close(self) -> None:
        self._close()


class StreamTransport:
    """SPDY bytes on the upgraded HTTP connection itself (the SPDY/3.1 upgrade)."""

    def __init__(self, rfile: object, wfile: object) -> None:
        self._rfile, self._wfile = rfile, wfile

    def read_exact(self, n: int) -> bytes:
        try:
            data: bytes = self._rfile.read(n)  # type: ignore[attr-defined]
        except (OSError, ValueError) as exc:
            raise EOFError from exc
        if len(data) < n:
            raise EOFError
        return data

    def write(self, data: bytes) -> None:
        self._wfile.write(data)  # type: ignore[attr-defined]
        self._wfile.flush()  # type: ignore[attr-defined]

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._wfile.flush()  # type: ignore[attr-defined]


def check_stream_headers(headers: dict[str, str]) -> str:
    """`httpStreamReceived`'s refusal for a new stream's headers, or "" when it is accepted."""
    port = headers.get("port", "")
    if not port:
        return '"port" header is required'
    if not (port.isascii() and port.isdigit()):
        return f'unable to parse "{port}" as a port: strconv.ParseUint: parsing "{port}": invalid syntax'
    if int(port) > 65535:
        return f'unable to parse "{port}" as a port: strconv.ParseUint: parsing "{port}": value out of range'
    if int(port) < 1:
        return f'port "{port}" must be > 0'
    kind = headers.get("streamtype", "")
    if not kind:
        return '"streamType" header is required'
    if kind not in ("error", "data"):
        return f'invalid stream type "{kind}"'
    return ""


@dataclass
class _Pair:
    request: str
    error: int = 0
    data: int = 0
    port: int = 0
    incoming: queue.Queue[bytes | None] = field(default_factory=queue.Queue)


@dataclass
class SessionLog:
    """What a session saw, for tests: each accepted stream's headers, each refused one's reason."""

    accepted: list[dict[str, str]] = field(default_factory=list)
    refused: list[tuple[dict[str, str], str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Session:
    """One SPDY connection of port-forward requests to one pod. `dial(port)` connects inside the pod (raises
    OSError with the runtime's text); `pod_id` names the sandbox in error messages."""

    def __init__(
        self, transport: Transport, dial: Callable[[int], socket.socket], pod_id: str, log: SessionLog
    ) -> None:
        self.transport, self.dial, self.pod_id, self.log = transport, dial, pod_id, log
        self.codec = spdy.HeaderCodec()
        self._lock = threading.Lock()
        self._pairs: dict[str, _Pair] = {}
        self._by_stream: dict[int, _Pair] = {}
        self._finished: set[int] = set()  # streams this side has closed or the client has reset
        self._sockets: set[socket.socket] = set()
        self._ended = threading.Event()

    # --- writing ---

    def _send(self, frame: bytes) -> None:
        with self._lock:
            if self._ended.is_set():
                return
            try:
                self.transport.write(frame)
            except OSError:
                self._ended.set()

    def _send_data(self, stream: int, payload: bytes) -> None:
        for at in range(0, len(payload), spdy.MAX_DATA):
            if stream in self._finished:
                return
            self._send(spdy.data(stream, payload[at : at + spdy.MAX_DATA]))

    def _close_stream(self, stream: int) -> None:
        if stream and stream not in self._finished:
            self._finished.add(stream)
            self._send(spdy.data(stream, b"", fin=True))

    # --- reading ---

    def serve(self) -> None:
        try:
            while not self._ended.is_set():
                try:
                    frame = spdy.read_frame(self.transport.read_exact, self.codec)
                except (EOFError, OSError):
                    break
                except spdy.ProtocolError as exc:
                    self.log.errors.append(str(exc))
                    break
                if frame.kind == spdy.GOAWAY:
                    break
                self._dispatch(frame)
        finally:
            self._ended.set()
            for pair in list(self._pairs.values()):
                pair.incoming.put(None)
            for sock in list(self._sockets):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            with self._lock:
                with contextlib.suppress(OSError):
                    self.transport.close()

    def _dispatch(self, frame: spdy.Frame) -> None:
        if frame.kind == spdy.SYN_STREAM:
            self._new_stream(frame)
        elif frame.kind == 0:
            pair = self._by_stream.get(frame.stream)
            if pair is not None and frame.stream == pair.data:
                if frame.data:
                    pair.incoming.put(frame.data)
                if frame.fin:
                    pair.incoming.put(None)
        elif frame.kind == spdy.RST_STREAM:
            self._finished.add(frame.stream)
            pair = self._by_stream.get(frame.stream)
            if pair is not None and frame.stream == pair.data:
                pair.incoming.put(None)
        elif frame.kind == spdy.PING:
            self._send(spdy.ping(frame.value))

    def _new_stream(self, frame: spdy.Frame) -> None:
        refusal = check_stream_headers(frame.headers)
        if refusal:
            self.log.refused.append((frame.headers, refusal))
            self._send(spdy.rst_stream(frame.stream, spdy.CANCEL))
            return
        self.log.accepted.append(frame.headers)
        self._send(spdy.syn_reply(frame.stream, {}, self.codec))
        # Old clients send no request id: the kubelet derives one from the stream id (`requestID`).
        kind = frame.headers["streamtype"]
        request = frame.headers.get("requestid") or str(frame.stream - (2 if kind == "data" else 0))
        pair = self._pairs.setdefault(request, _Pair(request))
        if getattr(pair, kind):
            message = f"error processing stream for request {request}: {kind} stream already assigned"
            if pair.error:
                self._send_data(pair.error, message.encode())
            return
        setattr(pair, kind, frame.stream)
        self._by_stream[frame.stream] = pair
        if kind == "data":
            pair.port = int(frame.headers["port"])
        if pair.error and pair.data:
            threading.Thread(target=self._forward, args=(pair,), daemon=True, name="fake-portforward").start()

    # --- forwarding (the runtime's PortForward) ---

    def _forward(self, pair: _Pair) -> None:
        try:
            try:
                sock = self.dial(pair.port)
            except OSError as exc:
                message = f"error forwarding port {pair.port} to pod {self.pod_id}, uid : {exc}"
                self._send_data(pair.error, message.encode())
                return
            self._sockets.add(sock)
            done = threading.Event()

            def up() -> None:  # client → pod
                for chunk in iter(pair.incoming.get, None):
                    try:
                        sock.sendall(chunk)
                    except OSError:
                        break
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_WR)
                done.set()

            def down() -> None:  # pod → client
                while True:
                    try:
                        chunk = sock.recv(spdy.MAX_DATA)
                    except OSError:
                        break
                    if not chunk:
                        break
                    self._send_data(pair.data, chunk)
                done.set()

            threads = [threading.Thread(target=f, daemon=True) for f in (up, down)]
            for t in threads:
                t.start()
            done.wait()
            for t in threads:
                t.join(timeout=DRAIN_SECONDS)
            pair.incoming.put(None)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
            self._sockets.discard(sock)
        finally:
            # `portForward`'s deferred closes: the error stream, then the data stream.
            self._close_stream(pair.error)
            self._close_stream(pair.data)
