"""Run a packet capture against a container (see `core/targets/capture.py`) or a pod (`pod_data.py`) and store
the pcap binary-safe.

Owns the side effects: the output file (created new, never through a link; an existing one only with `force`),
the capture helper of a container (always removed: at the duration's end, on Ctrl-C, SIGTERM or SIGHUP — the
editor closing its terminal), the `kubectl exec` of a pod's capture (stopped by closing its stdin; the debug
container it runs in stays, as ephemeral containers do; ended when the API goes silent, `KubeCapture`), and
reading tcpdump's own count from its stderr.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from debugbox.core.errors import RuntimeProblem, RuntimeUnavailable
from debugbox.core.targets.capture import PcapSummary, capture_argv, capture_failure, summarize_pcap
from debugbox.core.targets.port_forward import remove_argv
from debugbox.edge.cli_tools import resolve_program
from debugbox.edge.engine_watch import watch_target

if TYPE_CHECKING:
    from debugbox.core.targets.pod_data import DebugContainerRef
    from debugbox.edge.engine_api import EngineClient

_SUMMARY_LIMIT = 512 * 1024 * 1024
"""Larger pcaps are not read back to count packets (tcpdump's own count is shown instead)."""


@dataclass
class CaptureResult:
    path: Path
    summary: PcapSummary | None
    tcpdump_said: str
    """tcpdump's last lines on stderr (its own packet counts), for the user."""


def output_refusal(output: Path, *, force: bool) -> str | None:
    """Why the pcap cannot be written to `output` (None when it can). The CLI asks before it starts a helper or
    adds a pod's debug container (which cannot be removed), and the open asks again."""
    if os.path.islink(output):
        return f"{output} is a symbolic link: debugbox does not write through links"
    if output.is_dir():
        return f"{output} is a folder: name a file for the capture (-o {output / 'capture.pcap'})"
    if output.exists() and not force:
        return f"{output} exists: pass --force to replace it"
    folder = output.parent
    if not folder.is_dir():
        return f"{folder} is not an existing folder: create it first, or name another file with -o"
    if not os.access(folder, os.W_OK):
        with contextlib.suppress(OSError):
            if os.statvfs(folder).f_flag & os.ST_RDONLY:
                return f"cannot write {output}: {folder} is on a read-only file system; name another file with -o"
        return f"cannot write {output}: {folder} is not writable by you; name another file with -o"
    return None


class PcapRun:
    """One tcpdump writing its pcap on stdout into `output`; how it is stopped and cleaned up is the subclass's."""

    argv: tuple[str, ...]
    stdin_pipe = False
    """Whether tcpdump's side keeps a stdin (closing it stops the capture)."""
    toolbox = ""
    """The image tcpdump runs from, for messages ("" when not known: a pod's debug container that runs)."""

    def __init__(self, output: Path, *, force: bool = False) -> None:
        self.output = output
        self.force = force
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopped = threading.Event()
        self._created = False
        """Whether `output` was made by this capture (not an existing file replaced with `force`)."""
        self.target_stopped = False
        """The target stopped (or was removed) during the capture, which ended it."""
        self.failure = ""
        """Why debugbox ended the capture (a pod's API that stopped answering): `wait` then fails with it."""

    def _open_output(self) -> int:
        refusal = output_refusal(self.output, force=self.force)
        if refusal:
            raise RuntimeUnavailable(refusal)
        existed = self.output.exists()
        flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | (os.O_TRUNC if self.force else os.O_EXCL)
        try:
            fd = os.open(self.output, flags, 0o644)
        except OSError as exc:  # what changed since the check, or what it cannot see (a full disk, a quota)
            raise RuntimeUnavailable(
                f"cannot write {self.output}: {exc.strerror}; name another file with -o"
            ) from exc
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
                # Out of the terminal's process group: a closing terminal's hang-up (or Ctrl-C) reaches debugbox
                # alone, which stops the capture its way (`stop`), instead of killing the engine CLI while the
                # engine may still be creating the helper (which then ran on, unseen).
                start_new_session=True,
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
        if self.failure:
            if summary is None:
                self._discard_empty()
            kept = f" (its {summary.packets} packet(s) until then are in {self.output})" if summary else ""
            raise RuntimeUnavailable(f"the capture was stopped{kept}: {self.failure}")
        if self._proc.returncode not in (0, 143, -15) and summary is None:
            self._discard_empty()
            raise RuntimeUnavailable(
                capture_failure(err.decode("utf-8", "replace"), self._proc.returncode, self.toolbox)
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
        self.toolbox = toolbox
        self.argv = capture_argv(self.cli, container_id, toolbox, self.name, expr, count=count)

    def start(self) -> None:
        super().start()
        if self._engine is not None:
            # The helper keeps the target's network namespace alive: tcpdump would capture on, silently.
            watch_target(self._engine, self.container_id, self._target_ended, self._stopped)

    def _target_ended(self) -> None:
        self.target_stopped = True
        self.stop()

    #: How long a stop keeps trying while the helper is not there yet (its image may still be pulled).
    STOP_RETRY_SECONDS = 120.0

    def _stop(self) -> None:
        """`stop` gives tcpdump SIGTERM: it writes its counts and exits; `--rm` removes the helper. A stop that
        comes before the engine created the helper (the terminal closed, or Stop Capture clicked, right after
        the start or during a pull) found no container: the helper then started and ran on, the CLI waiting for
        it, with every later stop ignored. So it is asked again until the helper's `run` has ended; past the
        retry budget the `run` itself is terminated (the cleanup then removes whatever it created)."""
        proc = self._proc
        deadline = time.monotonic() + self.STOP_RETRY_SECONDS
        while True:
            stopped = subprocess.run(
                [*self.cli, "stop", "-t", "3", self.name], capture_output=True, timeout=60, check=False
            )
            if stopped.returncode == 0 or proc is None or proc.poll() is not None:
                return
            if time.monotonic() >= deadline:
                proc.terminate()
                return
            try:
                proc.wait(timeout=0.5)
                return
            except subprocess.TimeoutExpired:
                continue

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
    end within `STOP_GRACE_SECONDS` after that (a server without the v5 stdin close) is terminated.

    With `ref` (the debug container), the API is watched for as long as kubectl runs (`kube_watch.
    watch_debug_stream`; the pcap's growth counts as its answers): kubectl's exec dial and stream have no
    deadline, and a capture through a silent API ended, after its duration or a Ctrl-C, as an empty pcap
    "captured". kubectl is then ended after two API timeouts, and the capture fails in one sentence."""

    stdin_pipe = True
    STOP_GRACE_SECONDS = 10.0

    def __init__(
        self,
        argv: tuple[str, ...],
        output: Path,
        *,
        force: bool = False,
        ref: DebugContainerRef | None = None,
    ) -> None:
        super().__init__(output, force=force)
        self.argv = argv
        self.ref = ref
        self._ended = threading.Event()

    def start(self) -> None:
        super().start()
        if self.ref is not None and self.ref.cluster.request_timeout > 0:
            threading.Thread(target=self._watch_api, daemon=True, name="debugbox-capture-api").start()

    def _watch_api(self) -> None:
        from debugbox.edge.kube_watch import watch_debug_stream

        assert self.ref is not None
        verdict = watch_debug_stream(self.ref, self._written, self._ended, "capturing in")
        proc = self._proc
        if verdict.state == "failed" and proc is not None and proc.poll() is None:
            self.failure = verdict.message
            proc.terminate()

    def _written(self) -> int:
        try:
            return os.stat(self.output).st_size
        except OSError:
            return 0

    def _cleanup(self) -> None:
        self._ended.set()

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
