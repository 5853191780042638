"""The network between the clients and the fake API server: a TCP hop that can fail the way real paths fail.

Clients (real kubectl, the real Python client, debugbox) connect to this hop; it relays bytes both ways to the
fake's own listener, TLS included (it never looks inside). A test makes the path fail at a chosen moment:

- `refuse`: the API server's process is gone (kube-apiserver crashed, or restarting on a control-plane node).
  The kernel then answers a connection to its port with a reset (`ECONNREFUSED`), and the connections that were
  open end with a reset too (the process's sockets are closed with data unread: RFC 1122 §4.2.2.13).
- `blackhole`: a load balancer that still accepts connections while nothing behind it answers (an NLB or
  HAProxy in TCP mode whose backends died, or a network partition beyond it): the TCP handshake completes, no
  byte ever comes back (not even a TLS ServerHello), and the connections already open go silent in both
  directions without being closed — the client sees neither an error nor an answer.

`slow(bytes_per_second)` makes the path a slow link: each relay passes at most that many bytes a second in each
direction.

`fail(mode)` fails the path now; `fail_on(predicate, mode, after=s)` fails it when the fake records a request
`predicate` accepts (`after` seconds later, for a stream that should go silent in its middle; 0: that request
itself gets no answer). Once failed, the path stays failed until `stop()`.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

MODES = ("refuse", "blackhole")
#: How often relays look at the mode (and the listener at the stop flag).
TICK = 0.05


class Network:
    """A TCP relay on 127.0.0.1 in front of `backend` (the fake's own address); `address` is what clients use."""

    def __init__(self, backend: tuple[str, int]) -> None:
        self.backend = backend
        self.mode = "up"
        self.rate = 0.0
        """Bytes a second each relay passes in each direction; 0: as fast as it can."""
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.address: tuple[str, int] = self._listener.getsockname()[:2]
        self._open: list[socket.socket] = []
        self._triggers: list[tuple[Callable[[Any], bool], str, float]] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="fake-kube-network", daemon=True)

    def start(self) -> Network:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(5)
        with self._lock:
            sockets, self._open = self._open, []
        for s in sockets:
            _close(s)
        _close(self._listener)

    # --- failing ---

    def fail(self, mode: str) -> None:
        """Fail the path now (`refuse` or `blackhole`, see the module docstring); the relays act on it within
        `TICK` seconds."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        with self._lock:
            if self.mode == "up":
                self.mode = mode

    def slow(self, bytes_per_second: float) -> None:
        """Make the path a slow link (connections already open included); 0 makes it fast again."""
        self.rate = bytes_per_second

    def fail_on(self, predicate: Callable[[Any], bool], mode: str, after: float = 0.0) -> None:
        """Fail the path (`mode`) once the fake records a request `predicate` accepts, `after` seconds later."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        with self._lock:
            self._triggers.append((predicate, mode, after))

    def saw(self, request: Any) -> None:
        """Called by the fake for every request it records, before it answers."""
        with self._lock:
            fired = [t for t in self._triggers if t[0](request)]
            for t in fired:
                self._triggers.remove(t)
        for _, mode, after in fired:
            if after <= 0:
                self.fail(mode)
            else:
                timer = threading.Timer(after, self.fail, (mode,))
                timer.daemon = True
                timer.start()

    # --- relaying ---

    def _accept(self) -> None:
        while not self._stopping.is_set():
            if self.mode == "refuse":
                # Nothing listens on the port any more (the kernel answers a connect with RST), and what the
                # load balancer held is reset too.
                _close(self._listener)
                with self._lock:
                    held, self._open = self._open, []
                for s in held:
                    _reset(s)
                return
            ready, _, _ = select.select([self._listener], [], [], TICK)
            if not ready:
                continue
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.mode == "blackhole":  # accepted, then never a byte: the load balancer with no backend
                with self._lock:
                    self._open.append(client)
                continue
            try:
                server = socket.create_connection(self.backend, timeout=5)
            except OSError:
                _reset(client)
                continue
            threading.Thread(
                target=self._relay, args=(client, server), name="fake-kube-relay", daemon=True
            ).start()

    def _relay(self, client: socket.socket, server: socket.socket) -> None:
        """Copy bytes both ways until either side closes; swallow them once blackholed; reset on `refuse`."""
        peer = {client: server, server: client}
        open_ = [client, server]
        try:
            while open_ and not self._stopping.is_set():
                if self.mode == "refuse":
                    _reset(client)
                    _reset(server)
                    return
                ready, _, _ = select.select(open_, [], [], TICK)
                for s in ready:
                    try:
                        data = s.recv(65536)
                    except OSError:
                        data = b""
                    if self.mode == "blackhole":
                        if not data:
                            open_.remove(s)  # that side left; the silent path tells the other nothing
                        continue  # swallowed: nothing passes any more, and the connection stays open
                    if not data:
                        open_.remove(s)
                        try:
                            peer[s].shutdown(socket.SHUT_WR)
                        except OSError:
                            pass
                        continue
                    if self.rate:
                        time.sleep(len(data) / self.rate)
                    try:
                        peer[s].sendall(data)
                    except OSError:
                        # That side is gone (a server that closed after its answer): this direction ends, the
                        # other still carries what was sent before, as TCP's two directions do.
                        open_.remove(s)
            while not self._stopping.is_set() and self.mode == "blackhole":
                self._stopping.wait(TICK)  # hold the client's connection open, silent, like the balancer does
            if self.mode == "refuse":
                _reset(client)
        finally:
            _close(client)
            _close(server)


def _reset(s: socket.socket) -> None:
    """Close with a reset (SO_LINGER 0), as a process's socket with unread data is closed when it dies."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    _close(s)


def _close(s: socket.socket) -> None:
    try:
        s.close()
    except OSError:
        pass
