"""Copy files out of and into a container through the engine's archive API (Docker and Podman), streaming.

`GET /containers/{id}/archive?path=P` answers a tar stream of P; `PUT …/archive?path=DIR` extracts a tar stream
into DIR. The engine does both from its side, so the target needs no shell and no `tar`, and stopped containers
work too. Both directions stream in fixed-size chunks (a 100 MB file never sits in memory), and every decision
about where an entry may land is `core/targets/transfer.py`'s.

Local writes follow the project's rule: never replace a file without `force`, never write through a link, and
a replaced file keeps its mode.
"""

from __future__ import annotations

import os
import stat
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import quote

from debugbox.core.errors import RuntimeUnavailable, TargetNotFound
from debugbox.core.targets.transfer import archive_parent_and_name, land
from debugbox.edge.engine_api import EngineClient, error_message

#: tarfile's stream buffer: its default (10 KiB) makes a 100 MB copy spend most of its time in small reads.
_STREAM_BUFFER = 1 << 20

CHUNK = 1024 * 1024
_DIR = 1 << 31  # Go's fs.ModeDir, as the engine's stat header reports it
_SYMLINK = 1 << 27

Progress = Callable[[int], None]


class TransferRefused(Exception):
    """A copy debugbox will not make (a file would be replaced without --force, a link, a missing folder)."""


@dataclass
class Summary:
    files: int = 0
    directories: int = 0
    bytes: int = 0
    skipped: list[str] | None = None

    def skip(self, why: str) -> None:
        if self.skipped is None:
            self.skipped = []
        self.skipped.append(why)


def _no_progress(_: int) -> None:
    return None


def _is_dir(stat_json: dict[str, Any]) -> bool:
    return bool(int(stat_json.get("mode", 0)) & _DIR)


# -- out ------------------------------------------------------------------------------------------------------


def _under_links(root: Path, relative: PurePosixPath) -> bool:
    """Whether any existing component of root/relative (below root) is a symlink: writing there would follow it."""
    here = root
    for part in relative.parts:
        here = here / part
        try:
            if stat.S_ISLNK(os.lstat(here).st_mode):
                return True
        except FileNotFoundError:
            return False
    return False


def _write_file(
    src: IO[bytes], dest: Path, mode: int, *, replace: bool, summary: Summary, progress: Progress
) -> None:
    """Stream `src` into a new file `dest` (O_EXCL: never through a link); with `replace`, via a temporary
    file renamed over it, keeping the replaced file's mode."""
    target = dest
    if replace:
        keep = stat.S_IMODE(os.lstat(dest).st_mode)
        target = dest.with_name(f".{dest.name}.debugbox-{os.getpid()}")
        mode = keep
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := src.read(CHUNK):
                out.write(chunk)
                summary.bytes += len(chunk)
                progress(summary.bytes)
        # Never the setuid/setgid/sticky bits of an archive entry: the file is data on the developer's disk.
        os.chmod(target, mode & 0o777)
        if replace:
            os.replace(target, dest)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    summary.files += 1


@contextmanager
def read_archive(client: EngineClient, container_id: str, path: str) -> Iterator[IO[bytes]]:
    """The engine's tar stream of `path` in the container (`GET …/archive`), its refusals as one sentence."""
    with client.stream("GET", f"/containers/{quote(container_id, safe='')}/archive", {"path": path}) as resp:
        if resp.status == 404:
            raise TargetNotFound(f"{path} does not exist in the target")
        if resp.status != 200:
            raise RuntimeUnavailable(f"the engine refused to read {path}: {error_message(resp.read(1000))}")
        yield resp


def copy_out(
    client: EngineClient,
    container_id: str,
    path: str,
    dest: Path,
    *,
    force: bool = False,
    progress: Progress = _no_progress,
) -> Summary:
    """Copy `path` (file or directory) from the container to `dest`, as `cp -r` would name it."""
    found = client.stat_path(container_id, path)
    if found is None:
        raise TargetNotFound(f"{path} does not exist in the target")
    top = PurePosixPath(path).name or "/"
    rename: str | None
    if os.path.islink(dest):
        raise TransferRefused(f"{dest} is a symbolic link: debugbox does not write through links")
    if dest.is_dir():
        root, rename = dest, None
        if (dest / top).exists() and not _is_dir(found) and not force:
            raise TransferRefused(f"{dest / top} exists: pass --force to replace it")
    elif dest.exists():
        if _is_dir(found):
            raise TransferRefused(f"{dest} is a file; {path} is a directory")
        if not force:
            raise TransferRefused(f"{dest} exists: pass --force to replace it")
        root, rename = dest.parent, dest.name
    else:
        if not dest.parent.is_dir():
            raise TransferRefused(f"{dest.parent} is not an existing folder")
        root, rename = dest.parent, dest.name
    summary = Summary()
    with (
        read_archive(client, container_id, path) as resp,
        tarfile.open(fileobj=resp, mode="r|", bufsize=_STREAM_BUFFER) as archive,
    ):
        for member in archive:
            where = land(member.name, top, rename)
            if where.relative is None:
                summary.skip(where.skipped or member.name)
                continue
            local = root / where.relative
            if _under_links(root, where.relative):
                summary.skip(f"{member.name!r}: would be written through a link")
                continue
            if member.isdir():
                if not local.is_dir():
                    local.mkdir(mode=0o700)
                    os.chmod(local, member.mode & 0o777 | 0o700)
                    summary.directories += 1
            elif member.isreg():
                data = archive.extractfile(member)
                assert data is not None  # a regular member always has data
                replace = local.exists()
                if replace and not force:
                    summary.skip(f"{member.name!r}: {local} exists (--force replaces it)")
                    continue
                _write_file(data, local, member.mode, replace=replace, summary=summary, progress=progress)
            else:
                kind = "link" if member.issym() or member.islnk() else "special file"
                summary.skip(f"{member.name!r}: a {kind}, not copied")
    return summary


# -- in -------------------------------------------------------------------------------------------------------


def _tar_stream(
    src: Path, arcname: str, summary: Summary, progress: Progress
) -> tuple[IO[bytes], threading.Thread, list[BaseException]]:
    """A pipe whose read end yields a tar of `src` named `arcname`, written by a thread as it is read."""
    read_fd, write_fd = os.pipe()
    errors: list[BaseException] = []

    def members() -> Iterator[tuple[Path, str]]:
        yield src, arcname
        if src.is_dir() and not src.is_symlink():
            for dirpath, dirnames, filenames in os.walk(src):
                dirnames.sort()
                rel = Path(dirpath).relative_to(src)
                for name in sorted(dirnames) + sorted(filenames):
                    yield Path(dirpath) / name, str(PurePosixPath(arcname, *rel.parts, name))

    def write() -> None:
        try:
            with (
                os.fdopen(write_fd, "wb") as pipe,
                tarfile.open(
                    fileobj=pipe, mode="w|", format=tarfile.PAX_FORMAT, bufsize=_STREAM_BUFFER
                ) as tar,
            ):
                for path, name in members():
                    info = tar.gettarinfo(str(path), arcname=name)
                    # Owned by root in the target, as `docker cp` does; the mode travels, setuid bits do not.
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    info.mode &= 0o777
                    if info.isreg():
                        with open(path, "rb") as f:
                            tar.addfile(info, _Counting(f, summary, progress))
                        summary.files += 1
                    elif info.isdir():
                        tar.addfile(info)
                        summary.directories += 1
                    elif info.issym():
                        tar.addfile(info)
                    else:
                        summary.skip(f"{path}: a special file, not copied")
        except BaseException as exc:  # handed to the caller, which owns the one message
            errors.append(exc)

    thread = threading.Thread(target=write, name="debugbox-tar", daemon=True)
    thread.start()
    return os.fdopen(read_fd, "rb"), thread, errors


class _Counting:
    """A file wrapper counting bytes read into the summary (tarfile reads the data through it)."""

    def __init__(self, f: IO[bytes], summary: Summary, progress: Progress) -> None:
        self._f = f
        self._summary = summary
        self._progress = progress

    def read(self, n: int = -1) -> bytes:
        data = self._f.read(n)
        self._summary.bytes += len(data)
        self._progress(self._summary.bytes)
        return data


def copy_in(
    client: EngineClient,
    container_id: str,
    src: Path,
    path: str,
    *,
    force: bool = False,
    progress: Progress = _no_progress,
) -> Summary:
    """Copy the local file or folder `src` to `path` in the container (into it, when `path` is a folder)."""
    if not src.exists():
        raise TransferRefused(f"{src} does not exist")
    if not (src.is_file() or src.is_dir()):
        raise TransferRefused(f"{src} is not a regular file or folder")
    found = client.stat_path(container_id, path)
    if found is not None and _is_dir(found):
        extract_to, arcname = path, src.name
        existing = client.stat_path(container_id, str(PurePosixPath(path, arcname)))
        if existing is not None and not force and not _is_dir(existing):
            raise TransferRefused(
                f"{PurePosixPath(path, arcname)} exists in the target: pass --force to replace it"
            )
    else:
        extract_to, arcname = archive_parent_and_name(path)
        if found is not None and not force:
            raise TransferRefused(f"{path} exists in the target: pass --force to replace it")
        parent = client.stat_path(container_id, extract_to)
        if parent is None or not _is_dir(parent):
            raise TransferRefused(f"{extract_to} is not a folder in the target")
    summary = Summary()
    body, writer, errors = _tar_stream(src, arcname, summary, progress)
    try:
        with client.stream(
            "PUT",
            f"/containers/{quote(container_id, safe='')}/archive",
            {"path": extract_to, "noOverwriteDirNonDir": "true"},
            body=body,
            headers={"Content-Type": "application/x-tar"},
        ) as resp:
            answer = resp.read(1000)
            status = resp.status
    finally:
        body.close()
        writer.join(timeout=5)
    if errors:
        raise TransferRefused(f"reading {src} failed: {errors[0]}")
    if status == 403:
        raise TransferRefused(
            f"the target's filesystem is read-only at {extract_to} (engine: {error_message(answer)})"
        )
    if status != 200:
        raise RuntimeUnavailable(f"the engine refused to write {path} ({status}): {error_message(answer)}")
    if writer.is_alive():
        raise RuntimeUnavailable(
            f"the engine answered before {src} was sent in full: nothing is certain, try again"
        )
    landed = str(PurePosixPath(extract_to, arcname))
    # Copied means visible in the target: Podman has answered an upload (loaded machine) before a stat saw it.
    deadline = time.monotonic() + client.timeout
    while client.stat_path(container_id, landed) is None:
        if time.monotonic() > deadline:
            raise RuntimeUnavailable(f"the engine accepted the upload, but {landed} is not in the target")
        time.sleep(0.1)
    return summary
