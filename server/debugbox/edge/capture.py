"""Run a packet capture against a container (see `core/targets/capture.py`) or a pod (`pod_data.py`) and store
the pcap binary-safe.

Owns the side effects: the output file (created new, never through a link; an existing one only with `force`),
the capture helper of a container (always removed: at the duration's end, on Ctrl-C, SIGTERM or SIGHUP — the
editor closing its terminal), the `kubectl exec` of a pod's capture (stopped by closing its stdin; the debug
container it runs in stays, as ephemeral containers do), and reading tcpdump's own count from its stderr.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from debugbox.core.errors import RuntimeProblem, RuntimeUnavailable, engine_cli_reason
from debugbox.core.targets.capture import PcapSummary, capture_argv, summarize_pcap
from debugbox.core.targets.port_forward import remove_argv
from debugbox.edge.cli_tools import resolve_program
from debugbox.edge.engine_watch import watch_target

if TYPE_CHECKING:
    from debugbox.edge.engine_api import EngineClient

_SUMMARY_LIMIT = 512 * 1024 * 1024
"""Larger pcaps are not read back to count packets (tcpdump's own count is shown instead)."""
_TCPDUMP_NOISE = ("tcpdump: data link type", "tcpdump: listening on")
"""tcpdump's start-up lines on stderr: not the reason when it fails."""


@dataclass
class CaptureResult:
    path: Path
    summary: PcapSummary | None
    tcpdump_said: str
    """tcpdump's last lines on stderr (its own packet counts), for the user."""


class PcapRun:
    """One tcpdump writing its pcap on stdout into `output`; how it is stopped and cleaned up is the subclass's."""

    argv: tuple[str, ...]
    stdin_pipe = False
    """Whether tcpdump's side keeps a stdin (closing it stops the capture)."""

    def __init__(self, output: Path, *, force: bool = False) -> None:
        self.output = output
        self.force = force
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopped = threading.Event()
        self._created = False
        """Whether `output` was made by this capture (not an existing file replaced with `force`)."""
        self.target_stopped = False
        """The target stopped (or was removed) during the capture, which ended it."""

    def _open_output(self) -> int:
        if os.path.islink(self.output):
            raise RuntimeUnavailable(
                f"{self.output} is a symbolic link: debugbox does not write through links"
            )
        if self.output.is_dir():
            raise RuntimeUnavailable(f"{self.output} is a folder: name the pcap file to write (-o FILE)")
        if not self.output.parent.is_dir():
            raise RuntimeUnavailable(f"{self.output.parent} is not an existing folder")
        existed = self.output.exists()
        if existed and not self.force:
            raise RuntimeUnavailable(f"{self.output} exists: pass --force to replace it")
        flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | (os.O_TRUNC if self.force else os.O_EXCL)
        try:
            fd = os.open(self.output, flags, 0o644)
        except OSError as exc:
            raise RuntimeUnavailable(f"cannot write {self.output}: {exc.strerror or exc}") from exc
        self._created = not existed
        return fd

    def start(self) -> None:
        fd = self._open_output()
        try:
            self._proc = subprocess.Popen(  # an argv from validated parts, never a shell string
                self.argv,
                stdin=subprocess.PIPE if self.stdin_pipe else subprocess.DEVNULL,
                stdout=fd,
                stderr=subprocess.PIPE,
            )
        except OSError:
            self._discard_empty()
            raise
        finally:
            os.close(fd)

    def _discard_empty(self) -> None:
        """A capture that failed before tcpdump wrote a byte leaves no empty file of ours (it would only be
        refused as "exists" by the next try)."""
        with contextlib.suppress(OSError):
            if self._created and os.lstat(self.output).st_size == 0:
                self.output.unlink()

    def stop(self) -> None:
        """End the capture (idempotent, callable from a signal handler's thread)."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._stop()

    def _stop(self) -> None:
        raise NotImplementedError

    def _cleanup(self) -> None:
        """After tcpdump ended, whatever happened."""

    def wait(self, duration: float | None = None) -> CaptureResult:
        assert self._proc is not None, "start() first"
        try:
            try:
                self._proc.wait(timeout=duration)
            except (subprocess.TimeoutExpired, KeyboardInterrupt):
                # The duration's end, or Ctrl-C / `kill -INT` reaching debugbox alone (not the engine CLI in
                # its process group): tcpdump is still running until it is stopped.
                self.stop()
            err = self._proc.communicate(timeout=60)[1]
        finally:
            self._cleanup()
        said = err.decode("utf-8", "replace").strip().splitlines()
        summary = None
        size = self.output.stat().st_size
        if 0 < size <= _SUMMARY_LIMIT:
            try:
                summary = summarize_pcap(self.output.read_bytes())
            except ValueError:
                summary = None
        if self._proc.returncode not in (0, 143, -15) and summary is None:
            self._discard_empty()
            reason = engine_cli_reason(
                "\n".join(line for line in said if not line.startswith(_TCPDUMP_NOISE))
            )
            if reason is not None and "executable file not found" in reason:
                reason += (
                    "; the toolbox image needs tcpdump (netshoot has it, busybox does not): pass --image"
                )
            raise RuntimeUnavailable(
                f"the capture failed: {reason or f'exit status {self._proc.returncode}'}"
            )
        return CaptureResult(self.output, summary, " ".join(line for line in said if "packets" in line))


class Capture(PcapRun):
    """tcpdump in a labelled helper container sharing the target's network namespace (Docker, Podman)."""

    def __init__(
        self,
        cli: tuple[str, ...],
        container_id: str,
        toolbox: str,
        output: Path,
        *,
        expr: str = "",
        count: int | None = None,
        force: bool = False,
        engine: EngineClient | None = None,
    ) -> None:
        """`engine`: the target's Engine API, which removes the helper in one call (else the CLI does)."""
        super().__init__(output, force=force)
        self._engine = engine
        # An absolute program from PATH's absolute folders, never the workspace's `docker`.
        try:
            self.cli = resolve_program(cli)
        except RuntimeUnavailable as exc:
            raise RuntimeUnavailable(f"{exc}: it is needed to start the capture helper") from exc
        self.name = f"debugbox-capture-{uuid.uuid4().hex[:10]}"
        self.container_id = container_id
        self.argv = capture_argv(self.cli, container_id, toolbox, self.name, expr, count=count)

    def start(self) -> None:
        super().start()
        if self._engine is not None:
            # The helper keeps the target's network namespace alive: tcpdump would capture on, silently.
            watch_target(self._engine, self.container_id, self._target_ended, self._stopped)

    def _target_ended(self) -> None:
        self.target_stopped = True
        self.stop()

    def _stop(self) -> None:
        # `stop` gives tcpdump SIGTERM: it writes its counts and exits; `--rm` removes the helper.
        subprocess.run(
            [*self.cli, "stop", "-t", "3", self.name], capture_output=True, timeout=60, check=False
        )

    def _cleanup(self) -> None:
        """Whatever happened, nothing of ours stays on the engine: removed through the API when there is one,
        else (or when that fails) with the CLI's `rm -f`."""
        if self._engine is not None:
            try:
                self._engine.remove_container(self.name)
                return
            except RuntimeProblem:
                pass
        subprocess.run(remove_argv(self.cli, self.name), capture_output=True, timeout=60, check=False)


class KubeCapture(PcapRun):
    """tcpdump in debugbox's debug container of a pod (`pod_data.capture_argv`), through `kubectl exec -i`:
    closing kubectl's stdin stops it (the script in the container watches its stdin); a kubectl that does not
    end within `STOP_GRACE_SECONDS` after that (a server without the v5 stdin close) is terminated."""

    stdin_pipe = True
    STOP_GRACE_SECONDS = 10.0

    def __init__(self, argv: tuple[str, ...], output: Path, *, force: bool = False) -> None:
        super().__init__(output, force=force)
        self.argv = argv

    def _stop(self) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
            proc.stdin = None  # closed: `communicate` in `wait` must not flush it
        try:
            proc.wait(timeout=self.STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            proc.terminate()
