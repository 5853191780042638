"""Forward a local TCP port to a port inside a container's network namespace (see `core/targets/port_forward`).

Owns the side effects: the helper container (started, labelled, always removed: on Ctrl-C, SIGTERM, an error
or the end of `serve`), the local listener (loopback unless the user names another address), and one
`exec -i … nc` process per connection whose stdio is pumped to and from the accepted socket.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import subprocess
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from debugbox.core.errors import RuntimeUnavailable, engine_cli_reason
from debugbox.core.targets.port_forward import (
    connect_argv,
    helper_argv,
    listeners_argv,
    listening_address,
    remove_argv,
)
from debugbox.edge.cli_tools import resolve_program
from debugbox.edge.engine_watch import watch_target

if TYPE_CHECKING:
    from debugbox.edge.engine_api import EngineClient

log = logging.getLogger(__name__)
_CHUNK = 64 * 1024


def listen_failure(address: str, port: int, exc: OSError) -> str:
    """One sentence for a local listener that could not be made."""
    # create_server's strerror carries "(while attempting to bind on address …)": the sentence names it already.
    why = (exc.strerror or str(exc)).split(" (while attempting", 1)[0]
    return f"cannot listen on {address}:{port}: {why}"


def local_port_refusal(address: str, port: int) -> str | None:
    """Why a forward could not listen on `address:port` here (None when it could), found by binding it for a
    moment as the forward does. Asked before an editor opens the forward's terminal: a port already in use
    failed only in that terminal, while the editor offered to open the URL — the other program's page."""
    try:
        with socket.create_server((address, port), reuse_port=False):
            pass
    except OSError as exc:
        return listen_failure(address, port, exc)
    return None


@dataclass
class Forward:
    cli: tuple[str, ...]
    container_id: str
    port: int
    toolbox: str
    address: str = "127.0.0.1"
    local: int = 0
    timeout: float = 60.0
    """For starting the helper (an image may need to be pulled)."""
    engine: EngineClient | None = None
    """The target's Engine API: watched, so that the target stopping ends the forward (`target_stopped`)."""
    report: Callable[[str], None] | None = None
    """Told, in one sentence, about a connection nothing in the target accepted."""

    def __post_init__(self) -> None:
        # An absolute program from PATH's absolute folders: never whatever `docker` the workspace holds.
        try:
            self.cli = resolve_program(self.cli)
        except RuntimeUnavailable as exc:
            raise RuntimeUnavailable(f"{exc}: it is needed to start the forwarding helper") from exc
        self.helper = f"debugbox-forward-{uuid.uuid4().hex[:10]}"
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self.connections = 0
        self._removed = False
        self.target_stopped = False
        """The target stopped (or was removed) while forwarding, which ended it."""
        self.listening: str | None = None
        """Where the app listens in the target's namespace, as `nc` reaches it (None: not known)."""
        self.nothing_listens = False
        """The target's sockets were read and nothing listens on the port."""
        self._closing = threading.Lock()
        """Held while the helper is removed: a second `close()` (the signal's thread and the main thread's
        `finally`) waits for the first, so the process never exits with the removal half-done."""

    def start(self) -> tuple[str, int]:
        """Start the helper and listen; returns the local address and port actually bound."""
        self._listener = socket.create_server((self.address, self.local), reuse_port=False)
        try:
            proc = subprocess.run(
                helper_argv(self.cli, self.container_id, self.toolbox, self.helper),
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
                # Out of the terminal's process group: the hang-up of a closing terminal killed the engine CLI
                # while the engine was still creating the helper, which then appeared after `close` had
                # removed nothing. debugbox itself acts on the hang-up once the start returned.
                start_new_session=True,
            )
        except subprocess.TimeoutExpired:
            self.close()
            raise RuntimeUnavailable(
                f"the forwarding helper ({self.toolbox}) did not start within {self.timeout:g} s"
            ) from None
        if proc.returncode != 0:
            self.close()
            raise RuntimeUnavailable(
                f"the forwarding helper ({self.toolbox}) did not start: "
                f"{engine_cli_reason(proc.stderr) or f'exit status {proc.returncode}'}"
            )
        self.listening = self._find_listener()
        if self.engine is not None:
            # The helper keeps the target's network namespace alive: a stopped target's port would only refuse.
            watch_target(self.engine, self.container_id, self._target_ended, self._stop)
        host, port = self._listener.getsockname()[:2]
        return str(host), int(port)

    def _find_listener(self) -> str | None:
        """Where the port listens in the target (`listening_address`), read through the helper; None when nothing
        does, or when the helper cannot read it (`nothing_listens` tells which; `nc` then tries the loopback)."""
        try:
            proc = subprocess.run(
                listeners_argv(self.cli, self.helper),
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            self.nothing_listens = False
            return None
        found = listening_address(self.port, proc.stdout)
        # A toolbox without `cat`, or an engine that refused the exec, says nothing about the port.
        self.nothing_listens = found is None and "local_address" in proc.stdout
        return found

    def _target_ended(self) -> None:
        self.target_stopped = True
        self.close()

    def serve(self, on_connection: Callable[[str], None] | None = None) -> None:
        """Accept connections until `close()`; each gets its own `nc` in the helper."""
        assert self._listener is not None, "start() first"
        self._listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            self.connections += 1
            if on_connection is not None:
                on_connection(f"{peer[0]}:{peer[1]}")
            threading.Thread(target=self._pipe, args=(conn,), daemon=True, name="debugbox-forward").start()

    def _pipe(self, conn: socket.socket) -> None:
        proc = subprocess.Popen(  # an argv built from validated parts, never a shell string
            connect_argv(self.cli, self.helper, self.port, self.listening or "127.0.0.1"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdin is not None and proc.stdout is not None
        out = proc.stdout
        assert isinstance(out, io.BufferedReader)

        def upstream(dst: IO[bytes]) -> None:
            try:
                while data := conn.recv(_CHUNK):
                    dst.write(data)
                    dst.flush()
            except OSError:
                pass
            finally:
                try:
                    dst.close()
                except OSError:
                    pass

        up = threading.Thread(target=upstream, args=(proc.stdin,), daemon=True)
        up.start()
        answered = False
        try:
            while data := out.read1(_CHUNK):
                answered = True
                conn.sendall(data)
        except OSError:
            pass
        finally:
            code = None
            if not answered:  # a refused nc ends by itself, at once
                with contextlib.suppress(subprocess.TimeoutExpired):
                    code = proc.wait(timeout=1)
            if code not in (None, 0) and not self._stop.is_set():
                self._refused(proc)  # said before the client sees its connection close
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
            proc.kill()
            proc.wait()
            up.join(timeout=1)

    def _refused(self, proc: subprocess.Popen[bytes]) -> None:
        """A connection nothing accepted: said (nc's own words), and where the port listens looked up again
        (the app may have started, or moved, since)."""
        said = engine_cli_reason(proc.stderr.read().decode("utf-8", "replace")) if proc.stderr else None
        where = self.listening or "127.0.0.1"
        self.listening = self._find_listener()
        if self.report is not None:
            why = f" ({said})" if said else ""
            self.report(
                f"a connection got no answer: nothing accepted it on {where}:{self.port} in the target{why}"
            )

    def close(self) -> None:
        """Stop listening and remove the helper (idempotent; returns once the helper is removed)."""
        self._stop.set()
        with self._closing:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
            if self._removed:
                return
            subprocess.run(remove_argv(self.cli, self.helper), capture_output=True, timeout=60, check=False)
            self._removed = True
