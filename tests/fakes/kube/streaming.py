"""The remote-command streaming protocol over WebSocket, as kubectl >= 1.30 speaks it for exec and attach.

Models:
- the handshake of RFC 6455 §4.2.2 (`Sec-WebSocket-Accept` = base64(SHA-1(key + GUID))) with subprotocol
  negotiation: kubectl offers only `v5.channel.k8s.io`
  (`staging/src/k8s.io/client-go/tools/remotecommand/websocket.go` `NewWebSocketExecutor`); `v4` is served too;
- the channel framing of `staging/src/k8s.io/apimachinery/pkg/util/remotecommand/constants.go`: every binary
  message starts with its stream id, 0 stdin, 1 stdout, 2 stderr, 3 error (a `metav1.Status` JSON), 4 resize;
  in v5 a message `[255, id]` closes stream `id` (the client sends `[255, 0]` when its stdin ends);
- the end of a session (kubelet `pkg/kubelet/cri/streaming/remotecommand/exec.go` `ServeExec` and
  `httpstream.go` v4 `writeStatus`): `{"metadata":{},"status":"Success"}` on the error channel, or for a
  non-zero exit a Failure with reason `NonZeroExitCode`, message "command terminated with non-zero exit code:
  ..." and a cause of type `ExitCode` whose message is the code (client-go `v4.go` `errorDecoderV4` turns
  that into kubectl's exit code); then a normal close (1000);
- control frames: ping is answered with pong (client-go pings every 5 s and closes the connection when no pong
  arrives), close is echoed.

The process behind a session is a local subprocess (`docker exec` / `docker attach`); its stdout and stderr are
copied to channels 1 and 2 as they come.

With a TTY (`bridge_tty`) the process runs on a pseudo-terminal of the fake's own, so the docker CLI gives the
container a terminal (`docker exec -t`, or `docker attach` to a container created with `-t`): what the
container writes, stdout and stderr alike, comes back as one stream on channel 1, as a CRI runtime's terminal
gives it (the kubelet opens no stderr stream with a TTY: `NewOptions` in
`pkg/kubelet/cri/streaming/remotecommand/httpstream.go`). Channel 4 carries the client's terminal size, one
client-go `TerminalSize` JSON object per message (`{"Width":W,"Height":H}`, written by the websocket executor's
resize stream in `staging/src/k8s.io/client-go/tools/remotecommand/websocket.go`, decoded as a stream of
objects by the API server's `handleResizeEvents` in `staging/src/k8s.io/apiserver/pkg/util/proxy/websocket.go`);
each becomes the pseudo-terminal's size, and the docker CLI, told by SIGWINCH, resizes the container's terminal
(its `MonitorTtySize`), so `stty size` inside reports it.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import itertools
import json
import os
import pty
import queue
import signal
import socket
import struct
import subprocess
import termios
import threading
import time
import tty
from collections.abc import Callable
from typing import Any, BinaryIO

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def choose_protocol(offered: str, supported: tuple[str, ...] = PROTOCOLS) -> str | None:
    wanted = [p.strip() for p in offered.split(",") if p.strip()]
    return next((p for p in supported if p in wanted), None)


def success_status() -> dict[str, Any]:
    return {"metadata": {}, "status": "Success"}


def exit_status(code: int, what: str) -> dict[str, Any]:
    """The kubelet's status for a process that exited non-zero (`utilexec.ExitError`'s text in the message)."""
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"command terminated with non-zero exit code: {what}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


def internal_error_status(message: str) -> dict[str, Any]:
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"Internal error occurred: {message}",
        "reason": "InternalError",
        "details": {"causes": [{"message": message}]},
        "code": 500,
    }


def unmask(payload: bytes, mask: bytes) -> bytes:
    """RFC 6455 §5.3: byte i XOR mask[i % 4]; as one integer XOR, since a per-byte loop made large stdin (a file
    uploaded through `kubectl exec -i`) cost seconds per megabyte."""
    n = len(payload)
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(n, "little")


class WebSocket:
    """Server side of one upgraded connection: thread-safe sends, one reader."""

    def __init__(self, rfile: BinaryIO, wfile: BinaryIO, conn: socket.socket, protocol: str) -> None:
        self.rfile, self.wfile, self.conn, self.protocol = rfile, wfile, conn, protocol
        self._send_lock = threading.Lock()
        self.closed = False
        self._sent_at = time.monotonic()

    def _frame(self, opcode: int, payload: bytes) -> None:
        header = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([n])
        elif n < 1 << 16:
            header += bytes([126]) + struct.pack(">H", n)
        else:
            header += bytes([127]) + struct.pack(">Q", n)
        with self._send_lock:
            if self.closed:
                return
            try:
                self.wfile.write(header + payload)
                self.wfile.flush()
                self._sent_at = time.monotonic()
            except OSError:
                self.closed = True

    def progressed(self, seconds: float) -> bool:
        """Whether a frame went out in the last `seconds` (the client is still reading)."""
        return time.monotonic() - self._sent_at < seconds

    def send(self, channel: int, data: bytes) -> None:
        self._frame(0x2, bytes([channel]) + data)

    def send_binary(self, data: bytes) -> None:
        """One binary message as it is (the port-forward tunnel carries SPDY bytes with no channel byte)."""
        self._frame(0x2, data)

    def send_status(self, status: dict[str, Any]) -> None:
        self.send(ERROR, json.dumps(status).encode())

    def close(self, code: int = 1000) -> None:
        self._frame(0x8, struct.pack(">H", code))
        with self._send_lock:
            self.closed = True

    def _read_exact(self, n: int) -> bytes:
        data = self.rfile.read(n)
        if len(data) < n:
            raise EOFError
        return data

    def messages(self) -> Any:
        """Yield each data message (reassembled); answer pings; stop at close or EOF."""
        buffer = b""
        while True:
            try:
                b0, b1 = self._read_exact(2)
                fin, opcode = b0 & 0x80, b0 & 0x0F
                n = b1 & 0x7F
                if n == 126:
                    n = struct.unpack(">H", self._read_exact(2))[0]
                elif n == 127:
                    n = struct.unpack(">Q", self._read_exact(8))[0]
                mask = self._read_exact(4) if b1 & 0x80 else b""
                payload = self._read_exact(n)
            except (EOFError, OSError, ValueError):
                # The connection ended, also mid-frame, or the session closed it under this reader: the process
                # ended while the client was still sending (a refusal before its stdin was read).
                return
            if mask:
                payload = unmask(payload, mask)
            if opcode == 0x8:
                self.close()
                return
            if opcode == 0x9:
                self._frame(0xA, payload)
                continue
            if opcode == 0xA:
                continue
            buffer += payload
            if fin:
                yield buffer
                buffer = b""


def bridge(
    ws: WebSocket,
    argv: list[str],
    *,
    stdin: bool,
    describe: str,
    stdin_close_ends_input: bool = True,
    on_exit: Callable[[int], dict[str, Any] | None] | None = None,
) -> None:
    """Run `argv` and connect it to the session until it exits; then send its status and close.

    `stdin_close_ends_input`: whether the client's `[255, 0]` closes the process's stdin (exec) or not
    (attach to a container whose stdin stays open)."""
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )

    def pump(stream: Any, channel: int) -> None:
        for chunk in iter(lambda: stream.read1(65536), b""):
            ws.send(channel, chunk)

    pumps = [
        threading.Thread(target=pump, args=(proc.stdout, STDOUT), daemon=True),
        threading.Thread(target=pump, args=(proc.stderr, STDERR), daemon=True),
    ]
    for t in pumps:
        t.start()

    def read_client() -> None:
        for message in ws.messages():
            if not message:
                continue
            channel, data = message[0], message[1:]
            if channel == STDIN and stdin and proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.write(data)
                    proc.stdin.flush()
            elif (
                channel == CLOSE
                and data[:1] == bytes([STDIN])
                and proc.stdin is not None
                and stdin_close_ends_input
            ):
                # exec: the process sees EOF. attach: a container's stdin outlives one attached client (it only
                # closes with `stdinOnce`), so the session goes on until the container ends or the client leaves.
                with contextlib.suppress(OSError):
                    proc.stdin.close()
        # The client went away: its stdin ends too.
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()

    reader = threading.Thread(target=read_client, daemon=True)
    reader.start()
    code = proc.wait()
    for t in pumps:
        # Everything the process wrote goes out before its status (the kubelet copies the streams to the end
        # before `writeStatus`); a pump that still makes progress is waited for, one stalled for 10 s is not.
        while t.is_alive() and not ws.closed:
            t.join(timeout=10)
            if t.is_alive() and not ws.progressed(10):
                break
    _finish(ws, code, describe, on_exit)


def _finish(
    ws: WebSocket, code: int, describe: str, on_exit: Callable[[int], dict[str, Any] | None] | None
) -> None:
    status = on_exit(code) if on_exit is not None else None
    if status is None:
        status = success_status() if code == 0 else exit_status(code, f"{describe}, exit code {code}")
    ws.send_status(status)
    ws.close()


def terminal_sizes(data: bytes) -> list[tuple[int, int]]:
    """(width, height) of each `TerminalSize` object in a resize message; what does not decode is skipped, as
    the API server's decoder stops at the first malformed object."""
    sizes: list[tuple[int, int]] = []
    decoder, text, at = json.JSONDecoder(), data.decode("utf-8", "replace"), 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            return sizes
        try:
            obj, at = decoder.raw_decode(text, at)
        except ValueError:
            return sizes
        if not isinstance(obj, dict):
            return sizes
        width, height = obj.get("Width", 0), obj.get("Height", 0)
        if (
            isinstance(width, int)
            and isinstance(height, int)
            and 0 <= width < 1 << 16
            and 0 <= height < 1 << 16
        ):
            sizes.append((width, height))


#: How long a TTY session waits for the client's first size before the process starts without one: kubectl
#: sends it as soon as the stream is open (its size queue yields the terminal's current size first).
FIRST_SIZE_SECONDS = 2.0


def _set_size(master: int, width: int, height: int) -> None:
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))


def bridge_tty(
    ws: WebSocket,
    argv: list[str],
    *,
    stdin: bool,
    describe: str,
    on_exit: Callable[[int], dict[str, Any] | None] | None = None,
) -> None:
    """`bridge` for a session with a TTY: `argv` runs on a pseudo-terminal; its output is channel 1 only;
    channel 4 resizes it. When the client leaves, the docker CLI is stopped (the container's process stays, as
    a terminal's process outlives a dropped attach)."""
    master, slave = pty.openpty()
    # Raw: the container's own terminal echoes and edits lines; this one only carries bytes and the size.
    tty.setraw(slave)
    incoming: queue.Queue[bytes | None] = queue.Queue()

    def read_client() -> None:
        for message in ws.messages():
            if message:
                incoming.put(message)
        incoming.put(None)

    threading.Thread(target=read_client, daemon=True).start()
    # The docker CLI reads the terminal's size once when it starts and then only on SIGWINCH, which it listens
    # for a moment later: the first size is set before it starts, so no signal falls in between.
    early: list[bytes | None] = []
    deadline = time.monotonic() + FIRST_SIZE_SECONDS
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = incoming.get(timeout=left)
        except queue.Empty:
            break
        early.append(message)
        if message is None:
            break
        if message[0] == RESIZE:
            for width, height in terminal_sizes(message[1:]):
                _set_size(master, width, height)
            break
    try:
        proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    finally:
        os.close(slave)

    def pump() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every holder of the terminal's other end has gone
                return
            if not chunk:
                return
            ws.send(STDOUT, chunk)

    output = threading.Thread(target=pump, daemon=True)
    output.start()

    def feed() -> None:
        for message in itertools.chain(early, iter(incoming.get, None)):
            if message is None:
                break
            channel, data = message[0], message[1:]
            with contextlib.suppress(OSError):
                if channel == STDIN and stdin:
                    os.write(master, data)
                elif channel == RESIZE:
                    for width, height in terminal_sizes(data):
                        _set_size(master, width, height)
                        if proc.poll() is None:
                            proc.send_signal(signal.SIGWINCH)
        # The client went away: a terminal has no end of input to pass on, so the CLI is stopped instead.
        if proc.poll() is None:
            proc.terminate()

    threading.Thread(target=feed, daemon=True).start()
    code = proc.wait()
    output.join(timeout=10)
    os.close(master)
    _finish(ws, code, describe, on_exit)
