"""Copy a file or a folder out of or into a pod's container through debugbox's debug container (`kubectl exec`,
no TTY).

The target needs nothing (`kubectl cp` needs `tar` in it): the debug container reads or writes
`/proc/<pid>/root/PATH` of the target's main process (`core/targets/pod_data.py` has the scripts and argv); a
folder copied out is archived by the debug container's own `tar`, links kept as links. Both directions stream in 1 MiB
pieces through kubectl's stdin/stdout, so a large file never sits in memory.

Local writes follow the one write rule (`edge/writes.py`): nothing replaced without `force`, no write through a
link leaving the folder, a failed copy leaves nothing behind. A folder lands through the containers' landing code
(`edge/transfer.py`: `local_destination`, `land_archive`, `removed_on_failure`), so both follow one set of rules.
An upload of a file lands in a temporary file in the target that is renamed over the destination only when every
byte arrived (the script counts them). A folder is archived here (`send_folder`: the containers' local archive,
`transfer.archive_folder`, streamed, with links skipped and listed) and extracted by the debug container's `tar`
into a new temporary folder beside the destination, renamed into place only when the archive's last entry
arrived; an existing destination is refused, never merged into (`pod_data.UPLOAD_FOLDER_SCRIPT`). The archive
holds no link, so the target-side `tar` never writes through one of its own making, and every component of the
destination is checked for links in the target.

A kubectl that stops sending or receiving for the idle deadline (`kube_watch.start_deadline` of the API
timeout) is ended, with one sentence: never a silent hang. When the API itself went silent (no byte, and no
answer to a read of the pod, for two API timeouts: `kube_watch.watch_stream`, the sessions' bound) it is ended
sooner, with the sentence the sessions say; a slow copy whose bytes still move is never cut.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING

from debugbox.core.errors import InvalidTarget
from debugbox.core.targets import pod_data
from debugbox.edge.transfer import (
    CHUNK,
    ExistsInTarget,
    LocalReadFailed,
    Progress,
    Summary,
    TransferRefused,
    archive_folder,
    check_destination,
    land_archive,
    local_destination,
    removed_on_failure,
)
from debugbox.edge.writes import write_stream

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer, WriteableBuffer

_STDERR_KEEP = 16 * 1024


class _Run:
    """One `kubectl exec` in `ref`'s debug container: stderr collected (its tail), killed when idle for `idle`
    seconds, or sooner when the API itself went silent (`kube_watch.watch_stream`, two API timeouts)."""

    def __init__(
        self, ref: pod_data.DebugContainerRef, argv: tuple[str, ...], idle: float, *, stdin: bool
    ) -> None:
        self.proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.idle = idle
        self.stalled = False
        self.lost = ""
        """Why the API was found silent (`API_LOST`'s sentence), when that ended kubectl."""
        self._last = time.monotonic()
        self._err = bytearray()
        self._done = threading.Event()
        threading.Thread(target=self._read_stderr, daemon=True, name="debugbox-kube-stderr").start()
        threading.Thread(target=self._watchdog, daemon=True, name="debugbox-kube-idle").start()
        if ref.cluster.request_timeout > 0:
            threading.Thread(
                target=self._watch_api, args=(ref,), daemon=True, name="debugbox-kube-api"
            ).start()

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

    def _watch_api(self, ref: pod_data.DebugContainerRef) -> None:
        """kubectl's stream has no deadline of its own: when neither a byte nor an answer to a read of the pod
        came for two API timeouts (the sessions' bound), kubectl is ended, well before the idle deadline."""
        from debugbox.edge.kube_watch import watch_debug_stream

        verdict = watch_debug_stream(ref, lambda: self._last, self._done, "copying through")
        if verdict.state == "failed" and self.proc.poll() is None:
            self.lost = verdict.message
            self.proc.kill()

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
        if self.lost:
            return TransferRefused(f"the copy of {path} was stopped and is incomplete: {self.lost}")
        if self.stalled:
            return TransferRefused(
                f"kubectl sent nothing for {self.idle:g} s; the copy of {path} was stopped and is incomplete"
            )
        if code < 0:  # kubectl itself was ended by a signal (not by us: the idle deadline is `stalled`)
            return TransferRefused(f"kubectl was stopped (signal {-code}); the copy of {path} is incomplete")
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
    """The target's file or folder `path` to `dest` (into it, when `dest` is a folder), as `cp -r` names it: a
    file byte for byte, a folder through the same landing code as a container's (`transfer.land_archive`)."""
    path = pod_data.copy_out_path(path)  # refuses the root before anything runs
    argv = pod_data.copy_out_argv(ref, path)
    name = PurePosixPath(path).name
    summary = Summary()
    run = _Run(ref, argv, idle, stdin=False)
    try:
        stream = run.proc.stdout
        assert isinstance(stream, io.BufferedReader)
        kind = pod_data.COPY_OUT_KINDS.get(stream.read(1))
        if kind is None:  # nothing sent: the script refused (or kubectl failed) before the first byte
            code, stderr = run.finish()
            raise run.failure(code or 1, stderr, path)
        run.touch()
        root, rename = local_destination(dest, path, kind == "folder", force)
        if kind == "folder":
            with removed_on_failure(root, rename or name):
                _land_folder(run, stream, path, root, rename, force=force, summary=summary, progress=progress)
            return summary
        final = root / (rename or name)

        def chunks() -> Iterator[bytes]:
            while chunk := stream.read1(CHUNK):
                run.touch()
                summary.bytes += len(chunk)
                if progress is not None:
                    progress(summary.bytes)
                yield chunk
            _finish(run, stream, path)  # raised inside the write: the partial file is removed

        write_stream(final, chunks(), final.parent, replace=force)
    finally:
        run.abort()
    summary.files = 1
    return summary


def _land_folder(
    run: _Run,
    stream: io.BufferedReader,
    path: str,
    root: Path,
    rename: str | None,
    *,
    force: bool,
    summary: Summary,
    progress: Progress | None,
) -> None:
    """The folder's tar stream landed by the containers' landing code, then kubectl's verdict: a stream cut
    short (kubectl ended, or stalled and was stopped) is reported as kubectl's failure, not tar's."""
    import tarfile

    try:
        land_archive(
            _Touching(stream, run), PurePosixPath(path).name, root, rename, force=force, summary=summary,
            progress=progress or (lambda _: None),
        )  # fmt: skip
    except tarfile.TarError as exc:
        code, stderr = run.finish()
        if code != 0:
            raise run.failure(code, stderr, path) from None
        raise TransferRefused(f"the debug container's archive of {path} could not be read ({exc})") from None
    _finish(run, stream, path)


def _finish(run: _Run, stream: io.BufferedReader, path: str) -> None:
    """The end of a copy out: what follows the archive read to its end (tar's padding), then kubectl's exit
    code, its failure as one sentence (an unreadable file in a folder ends `tar` with an error)."""
    while stream.read1(CHUNK):
        run.touch()
    code, stderr = run.finish()
    if code != 0:
        raise run.failure(code, stderr, path)


class _Touching(io.RawIOBase):
    """kubectl's stdout as tarfile reads it: each read is as much as has arrived (at most what was asked), and
    counts as activity for the idle deadline."""

    def __init__(self, stream: io.BufferedReader, run: _Run) -> None:
        super().__init__()
        self._stream = stream
        self._run = run

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self._stream.read1(len(view))
        view[: len(data)] = data
        self._run.touch()
        return len(data)


def check_local(local: Path, *, out: bool) -> None:
    """What can be refused about the local side before anything is asked of the cluster: a copy out's
    destination (`transfer.check_destination`), an upload's source (`_upload_source`). The front ends call it
    before `kube_data.debug_container`, which may add a container that can never be removed."""
    if out:
        check_destination(local)
    else:
        _upload_source(local)


def _upload_source(src: Path) -> os.stat_result:
    """`src`'s stat when it is a file or folder that can be uploaded (a link named here is followed, as `cp`
    follows the source it is given; links inside a folder never are); TransferRefused says why not."""
    try:
        st = os.stat(src)
    except OSError as exc:
        raise TransferRefused(f"{src}: {exc.strerror or exc}") from exc
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
        raise TransferRefused(f"{src} is not a regular file or folder")
    try:
        pod_data.upload_name(upload_name(src))
    except InvalidTarget as exc:
        raise TransferRefused(str(exc)) from exc
    return st


def upload_name(src: Path) -> str:
    """The name `src` arrives under in the target: its last name once `.` and `..` are resolved by name
    (`debugbox cp . pod/web:/srv/` sends the current folder under its own name)."""
    return os.path.basename(os.path.abspath(src))


def copy_in(
    ref: pod_data.DebugContainerRef,
    src: Path,
    path: str,
    *,
    idle: float,
    force: bool = False,
    progress: Progress | None = None,
) -> tuple[Summary, str]:
    """The local file or folder `src` to `path` in the target; the summary and the path it landed at. A file
    replaces an existing one only with `force`; a folder never lands on anything that exists."""
    st = _upload_source(src)
    if stat.S_ISDIR(st.st_mode):
        return _copy_folder_in(ref, src, path, idle=idle, progress=progress)
    argv = pod_data.write_argv(
        ref, path, size=st.st_size, mode=st.st_mode, name=upload_name(src), force=force
    )
    summary = Summary()

    def feed(stdin: IO[bytes], run: _Run) -> None:
        with open(src, "rb") as f:
            while chunk := f.read(CHUNK):
                stdin.write(chunk)
                run.touch()
                summary.bytes += len(chunk)
                if progress is not None:
                    progress(summary.bytes)

    run, code, stderr, landed = _upload(ref, argv, idle, feed)
    if code != 0:
        raise run.failure(code, stderr, path)
    summary.files = 1
    return summary, landed or path


def _upload(
    ref: pod_data.DebugContainerRef,
    argv: tuple[str, ...],
    idle: float,
    feed: Callable[[IO[bytes], _Run], None],
) -> tuple[_Run, int, str, str]:
    """One upload's `kubectl exec -i`: `feed` writes its stdin, which is then closed; kubectl's run, exit code,
    stderr, and what the script printed (the landed path). A kubectl that ended early (a refusal before the
    script read its stdin) stops the feed: its exit code says why."""
    run = _Run(ref, argv, idle, stdin=True)
    out: list[bytes] = []
    reader = threading.Thread(target=_drain, args=(run.proc.stdout, out, run), daemon=True)
    reader.start()
    try:
        stdin = run.proc.stdin
        assert stdin is not None
        with contextlib.suppress(BrokenPipeError):
            feed(stdin, run)
        with contextlib.suppress(BrokenPipeError):
            stdin.close()
        code, stderr = run.finish()
        reader.join(timeout=idle)
    finally:
        run.abort()
    return run, code, stderr, b"".join(out).decode("utf-8", "replace").strip()


def _copy_folder_in(
    ref: pod_data.DebugContainerRef, src: Path, path: str, *, idle: float, progress: Progress | None
) -> tuple[Summary, str]:
    """The local folder `src` as a tar on kubectl's stdin (`send_folder`), extracted by
    `pod_data.UPLOAD_FOLDER_SCRIPT`. A local file that cannot be read ends the archive there, without its last
    entry: the script then removes what it extracted, and the local reason is the one said."""
    name = upload_name(src)
    argv = pod_data.upload_folder_argv(ref, path, name)
    summary = Summary()
    unreadable: list[TransferRefused] = []

    def feed(stdin: IO[bytes], run: _Run) -> None:
        try:
            send_folder(src, name, Sink(stdin, run.touch), summary, progress)
        except LocalReadFailed as exc:
            unreadable.append(exc)

    run, code, stderr, landed = _upload(ref, argv, idle, feed)
    if unreadable:
        # The archive ended without its marker: the script refused it (98, or 97 for tar's own error) and its
        # EXIT trap removed the temporary folder before kubectl ended.
        left = "; nothing was left in the target" if code in (97, 98) else ""
        raise TransferRefused(f"{unreadable[0]}{left}")
    if code != 0:
        raise run.failure(code, stderr, path)
    return summary, landed or path


class Sink(io.RawIOBase):
    """kubectl's stdin as tarfile writes to it (mode "w": it asks where it is, `tell`); every write calls
    `touch`, activity for the idle deadline."""

    def __init__(self, stdin: IO[bytes], touch: Callable[[], None]) -> None:
        super().__init__()
        self._stdin = stdin
        self._touch = touch
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer) -> int:
        written = self._stdin.write(data)
        self._touch()
        self.position += written
        return written

    def tell(self) -> int:
        return self.position


def send_folder(src: Path, name: str, sink: Sink, summary: Summary, progress: Progress | None) -> None:
    """A tar of the local folder `src` written to `sink` as it is read: `transfer.archive_folder` without links
    (the debug container's `tar` would resolve them in its own root), then the marker entry
    (`pod_data.upload_marker`) that tells the target the archive is whole."""
    import tarfile

    # Mode "w" writes each header and data block straight to the sink (kubectl's stdin buffers them): nothing is
    # held back, so a failure below simply stops the archive, without its marker or its end blocks.
    tar = tarfile.open(fileobj=sink, mode="w", format=tarfile.PAX_FORMAT)
    archive_folder(tar, src, name, summary, progress or (lambda _: None), links=False)
    tar.addfile(tarfile.TarInfo(pod_data.upload_marker(name)))
    tar.close()


def _drain(stream: IO[bytes] | None, into: list[bytes], run: _Run) -> None:
    assert stream is not None
    for chunk in iter(lambda: stream.read(4096), b""):
        run.touch()
        into.append(chunk)


def read_bounded(ref: pod_data.DebugContainerRef, path: str, idle: float, max_bytes: int) -> bytes | None:
    """The target's file `path` in memory (the file view), None when it holds more than `max_bytes`."""
    run = _Run(ref, pod_data.read_argv(ref, path), idle, stdin=False)
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
