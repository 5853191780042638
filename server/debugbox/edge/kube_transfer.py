"""Copy a file out of or into a pod's container through debugbox's debug container (`kubectl exec`, no TTY).

The target needs nothing (`kubectl cp` needs `tar` in it): the debug container reads or writes
`/proc/<pid>/root/PATH` of the target's main process (`core/targets/pod_data.py` has the scripts and argv).
Both directions stream in 1 MiB pieces through kubectl's stdin/stdout, so a large file never sits in memory.

Local writes follow the one write rule (`edge/writes.py`): nothing replaced without `force`, no write through a
link leaving the folder, a failed copy leaves nothing behind. An upload lands in a temporary file in the target
that is renamed over the destination only when every byte arrived (the script counts them).

A kubectl that stops sending or receiving for the idle deadline (`kube_watch.start_deadline` of the API
timeout) is ended, with one sentence: never a silent hang.
"""

from __future__ import annotations

import io
import os
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO

from debugbox.core.targets import pod_data
from debugbox.edge.transfer import (
    CHUNK,
    ExistsInTarget,
    Progress,
    Summary,
    TransferRefused,
    local_destination,
)
from debugbox.edge.writes import write_stream

_STDERR_KEEP = 16 * 1024


class _Run:
    """One `kubectl exec`: stderr collected (its tail), killed when idle for `idle` seconds."""

    def __init__(self, argv: tuple[str, ...], idle: float, *, stdin: bool) -> None:
        self.proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.idle = idle
        self.stalled = False
        self._last = time.monotonic()
        self._err = bytearray()
        self._done = threading.Event()
        threading.Thread(target=self._read_stderr, daemon=True, name="debugbox-kube-stderr").start()
        threading.Thread(target=self._watchdog, daemon=True, name="debugbox-kube-idle").start()

    def touch(self) -> None:
        self._last = time.monotonic()

    def _read_stderr(self) -> None:
        stream = self.proc.stderr
        assert isinstance(stream, io.BufferedReader)
        for chunk in iter(lambda: stream.read1(4096), b""):
            self._err += chunk
            del self._err[:-_STDERR_KEEP]

    def _watchdog(self) -> None:
        while not self._done.wait(1.0):
            if time.monotonic() - self._last > self.idle and self.proc.poll() is None:
                self.stalled = True
                self.proc.kill()
                return

    def finish(self) -> tuple[int, str]:
        """Wait for kubectl (it has sent everything); its exit code and stderr."""
        try:
            code = self.proc.wait(timeout=self.idle)
        except subprocess.TimeoutExpired:
            self.stalled = True
            self.proc.kill()
            code = self.proc.wait()
        self._done.set()
        return code, self._err.decode("utf-8", "replace")

    def abort(self) -> None:
        self._done.set()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def failure(self, code: int, stderr: str, path: str) -> TransferRefused:
        if self.stalled:
            return TransferRefused(
                f"kubectl sent nothing for {self.idle:g} s; the copy of {path} was stopped and is incomplete"
            )
        if code == pod_data.EXISTS_IN_TARGET:
            return ExistsInTarget(pod_data.explain(code, path, stderr))
        return TransferRefused(pod_data.explain(code, path, stderr))


def copy_out(
    ref: pod_data.DebugContainerRef,
    path: str,
    dest: Path,
    *,
    idle: float,
    force: bool = False,
    progress: Progress | None = None,
) -> Summary:
    """The target's file `path` to `dest` (into it, when `dest` is a folder), byte for byte."""
    name = PurePosixPath(path).name
    if not name:
        raise TransferRefused("/ is a folder; copying folders out of a pod is not supported yet")
    root, rename = local_destination(dest, path, {}, force)  # a file: pods' folders are refused above
    final = root / (rename or name)
    summary = Summary()
    run = _Run(pod_data.read_argv(ref, path), idle, stdin=False)

    def chunks() -> Iterator[bytes]:
        stream = run.proc.stdout
        assert isinstance(stream, io.BufferedReader)
        while chunk := stream.read1(CHUNK):
            run.touch()
            summary.bytes += len(chunk)
            if progress is not None:
                progress(summary.bytes)
            yield chunk
        code, stderr = run.finish()
        if code != 0:  # raised inside the write: the partial file is removed
            raise run.failure(code, stderr, path)

    try:
        write_stream(final, chunks(), final.parent, replace=force)
    finally:
        run.abort()
    summary.files = 1
    return summary


def copy_in(
    ref: pod_data.DebugContainerRef,
    src: Path,
    path: str,
    *,
    idle: float,
    force: bool = False,
    progress: Progress | None = None,
) -> tuple[Summary, str]:
    """The local file `src` to `path` in the target; the summary and the path it landed at."""
    try:
        st = os.stat(src)
    except OSError as exc:
        raise TransferRefused(f"{src}: {exc.strerror or exc}") from exc
    if stat.S_ISDIR(st.st_mode):
        raise TransferRefused(f"{src} is a folder; copying folders into a pod is not supported yet")
    if not stat.S_ISREG(st.st_mode):
        raise TransferRefused(f"{src} is not a regular file")
    argv = pod_data.write_argv(ref, path, size=st.st_size, mode=st.st_mode, name=src.name, force=force)
    summary = Summary()
    run = _Run(argv, idle, stdin=True)
    out: list[bytes] = []
    reader = threading.Thread(target=_drain, args=(run.proc.stdout, out, run), daemon=True)
    reader.start()
    try:
        assert run.proc.stdin is not None
        try:
            with open(src, "rb") as f:
                while chunk := f.read(CHUNK):
                    run.proc.stdin.write(chunk)
                    run.touch()
                    summary.bytes += len(chunk)
                    if progress is not None:
                        progress(summary.bytes)
            run.proc.stdin.close()
        except BrokenPipeError:
            pass  # kubectl ended early (a refusal before any byte was read): its exit code says why
        code, stderr = run.finish()
        reader.join(timeout=idle)
    finally:
        run.abort()
    if code != 0:
        raise run.failure(code, stderr, path)
    summary.files = 1
    landed = b"".join(out).decode("utf-8", "replace").strip() or path
    return summary, landed


def _drain(stream: IO[bytes] | None, into: list[bytes], run: _Run) -> None:
    assert stream is not None
    for chunk in iter(lambda: stream.read(4096), b""):
        run.touch()
        into.append(chunk)


def read_bounded(ref: pod_data.DebugContainerRef, path: str, idle: float, max_bytes: int) -> bytes | None:
    """The target's file `path` in memory (the file view), None when it holds more than `max_bytes`."""
    run = _Run(pod_data.read_argv(ref, path), idle, stdin=False)
    data = bytearray()
    try:
        stream = run.proc.stdout
        assert isinstance(stream, io.BufferedReader)
        while chunk := stream.read1(CHUNK):
            run.touch()
            data += chunk
            if len(data) > max_bytes:
                return None
        code, stderr = run.finish()
    finally:
        run.abort()
    if code != 0:
        raise run.failure(code, stderr, path)
    return bytes(data)
