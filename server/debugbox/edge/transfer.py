"""Copy files out of and into a container through the engine's archive API (Docker and Podman), streaming.

`GET /containers/{id}/archive?path=P` answers a tar stream of P; `PUT …/archive?path=DIR` extracts a tar stream
into DIR. The engine does both from its side, so the target needs no shell and no `tar`, and stopped containers
work too. Both directions stream in fixed-size chunks (a 100 MB file never sits in memory), and every decision
about where an entry may land is `core/targets/transfer.py`'s.

Local writes follow the project's rule: never replace a file without `force`, never write through a link, and
a replaced file keeps its mode.
"""

from __future__ import annotations

import io
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote

from debugbox.core.errors import RuntimeUnavailable, TargetNotFound
from debugbox.core.targets.file_view import kind_of_mode
from debugbox.core.targets.transfer import archive_parent_and_name, beneath_a_mount, followed_link, land
from debugbox.edge.engine_api import EngineClient, ShortSource, decode_path_stat, error_message

if TYPE_CHECKING:
    import tarfile

    from debugbox.edge.engine_http import Answer

#: tarfile's stream buffer: its default (10 KiB) makes a 100 MB copy spend most of its time in small reads.
_STREAM_BUFFER = 1 << 20

CHUNK = 1024 * 1024

Progress = Callable[[int], None]


class Cancelled(Exception):
    """The user stopped the copy (the editor's Cancel): raised from the progress callback between two chunks, so
    the partial file is removed as for any failure (`_write_file`, `removed_on_failure`, `write_stream`) and a
    pod's kubectl is ended."""


def stopping_when(stop: threading.Event, progress: Progress | None = None) -> Progress:
    """A progress callback that raises `Cancelled` once `stop` is set (else passes the count on): the one way a
    running copy out learns that it was cancelled."""

    def check(done: int) -> None:
        if stop.is_set():
            raise Cancelled("the copy was cancelled")
        if progress is not None:
            progress(done)

    return check


class TransferRefused(Exception):
    """A copy debugbox will not make (a file would be replaced without --force, a link, a missing folder)."""


class ExistsInTarget(TransferRefused):
    """The refusal an editor can turn into a question: the path exists in the target and `force` was not given
    (it asks "Replace?" and copies again with force; nothing else is shown for it)."""


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
    return kind_of_mode(int(stat_json.get("mode", 0))) == "directory"


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


class _Truncated(Exception):
    """The engine's archive ended before the entry it announced (a cut connection, a file that shrank)."""


def _write_file(
    dest: Path, mode: int, *, replace: bool, summary: Summary, fill: Callable[[int], None]
) -> None:
    """Create `dest` (O_EXCL: never through a link) and let `fill` write its bytes to the descriptor; with
    `replace`, via a temporary file renamed over it, keeping the replaced file's mode."""
    target = dest
    if replace:
        keep = stat.S_IMODE(os.lstat(dest).st_mode)
        target = dest.with_name(f".{dest.name}.debugbox-{os.getpid()}")
        mode = keep
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        try:
            fill(fd)
            # Never the setuid/setgid/sticky bits of an archive entry: the file is data on the developer's disk.
            os.fchmod(fd, mode & 0o777)
        finally:
            os.close(fd)
        if replace:
            os.replace(target, dest)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    summary.files += 1


def _write_all(fd: int, data: memoryview) -> None:
    while data:
        data = data[os.write(fd, data) :]


def _copy_read(src: IO[bytes], summary: Summary, progress: Progress) -> Callable[[int], None]:
    """A `fill` that copies `src` to its end (an archive member, read through tarfile)."""

    def fill(fd: int) -> None:
        while chunk := src.read(CHUNK):
            _write_all(fd, memoryview(chunk))
            summary.bytes += len(chunk)
            progress(summary.bytes)

    return fill


def _copy_exact(src: Answer, size: int, summary: Summary, progress: Progress) -> Callable[[int], None]:
    """A `fill` that moves exactly `size` bytes of `src` (a response: `readinto`) through one reused buffer."""

    def fill(fd: int) -> None:
        buffer = memoryview(bytearray(min(CHUNK, max(size, 1))))
        left = size
        while left:
            got = src.readinto(buffer[: min(left, len(buffer))])
            if not got:
                raise _Truncated
            _write_all(fd, buffer[:got])
            left -= got
            summary.bytes += got
            progress(summary.bytes)

    return fill


@contextmanager
def read_archive(client: EngineClient, container_id: str, path: str) -> Iterator[Answer]:
    """The engine's tar stream of `path` in the container (`GET …/archive`), its refusals as one sentence."""
    with client.stream("GET", f"/containers/{quote(container_id, safe='')}/archive", {"path": path}) as resp:
        if resp.status == 404:
            raise TargetNotFound(f"{path} does not exist in the target")
        if resp.status != 200:
            raise RuntimeUnavailable(f"the engine refused to read {path}: {error_message(resp.read(1000))}")
        yield resp


def local_destination(dest: Path, path: str, is_dir: bool, force: bool) -> tuple[Path, str | None]:
    """Where a copy of the target's `path` (a folder when `is_dir`) lands for `dest`, as `cp -r` names it: the
    local folder entries are written under, and the new name of the top entry (None: its own name). The one
    rule for containers and pods."""
    top = PurePosixPath(path).name or "/"
    check_destination(dest)
    if dest.is_dir():
        if not is_dir:
            _check_replace(dest / top, force)
        return dest, None
    if dest.exists():
        if is_dir:
            raise TransferRefused(f"{dest} is a file; {path} is a directory")
        _check_replace(dest, force)
        return dest.parent, dest.name
    return dest.parent, dest.name


def _check_replace(local: Path, force: bool) -> None:
    """Refuse to replace an existing `local` without `force`, and what is no regular file even with it."""
    if not os.path.lexists(local):
        return
    if not force:
        raise TransferRefused(f"{local} exists: pass --force to replace it")
    why = _replaceable(local)
    if why is not None:
        raise TransferRefused(f"{why}: --force replaces only regular files")


def check_destination(dest: Path) -> None:
    """The refusals of `local_destination` that hold whatever the target's path turns out to be: `dest` is a
    link, or it does not exist and neither does its folder. A pod's copy checks them before it asks for a debug
    container (which can never be removed), so a typo in the local path costs nothing in the cluster."""
    if os.path.islink(dest):
        raise TransferRefused(f"{dest} is a symbolic link: debugbox does not write through links")
    if not dest.exists() and not dest.parent.is_dir():
        raise TransferRefused(f"{dest.parent} is not an existing folder")
    if dest.exists() and not dest.is_dir():
        # `--force` replaces by renaming over it: a device such as /dev/null would become a regular file.
        why = _replaceable(dest)
        if why is not None:
            raise TransferRefused(f"{why}: --force replaces only regular files")


def copy_out(
    client: EngineClient,
    container_id: str,
    path: str,
    dest: Path,
    *,
    force: bool = False,
    progress: Progress = _no_progress,
) -> Summary:
    """Copy `path` (file or directory) from the container to `dest`, as `cp -r` would name it.

    One engine call: the archive's answer carries the stat of `path` (`X-Docker-Container-Path-Stat`), which
    decides the destination before a byte of the body is read (a refusal closes the connection). A regular
    file takes the fast path (`_single_file`: its tar header parsed here, the bytes moved with `readinto`);
    a folder goes through tarfile, entry by entry. A link named as the source is followed, as `cp` follows
    its source: the engine resolves it inside the container (`linkTarget`), and what it points to is copied
    under the link's name (Docker sends the link itself, Podman what it points to: both land the same).
    """
    _reachable(path)
    summary = Summary()
    with read_archive(client, container_id, path) as resp:
        found = _path_stat(client, container_id, path, resp)
        if kind_of_mode(int(found.get("mode", 0))) != "symlink":
            _land_copy(resp, path, path, found, dest, force=force, summary=summary, progress=progress)
            return summary
    real = followed_link(path, str(found.get("linkTarget") or ""))
    unresolved = TransferRefused(f"{path} is a link the engine did not resolve: name the path it points to")
    if real is None:
        raise unresolved
    _reachable(real)
    try:
        with read_archive(client, container_id, real) as resp:
            found = _path_stat(client, container_id, real, resp)
            if kind_of_mode(int(found.get("mode", 0))) == "symlink":  # the engine resolves a whole chain
                raise unresolved
            _land_copy(resp, path, real, found, dest, force=force, summary=summary, progress=progress)
    except TargetNotFound:
        raise TargetNotFound(f"{path} is a link to {real}, which does not exist in the target") from None
    return summary


def _reachable(path: str) -> None:
    why = beneath_a_mount(path)
    if why is not None:
        raise TransferRefused(why)


def _path_stat(client: EngineClient, container_id: str, path: str, resp: Answer) -> dict[str, Any]:
    """The stat of `path` the archive's answer carries (or, from an engine that does not send it, asked for)."""
    found = decode_path_stat(resp.getheader("X-Docker-Container-Path-Stat") or "")
    if not found:
        found = client.stat_path(container_id, path)
        if found is None:
            raise TargetNotFound(f"{path} does not exist in the target")
    return found


def _land_copy(
    resp: Answer,
    named: str,
    path: str,
    found: dict[str, Any],
    dest: Path,
    *,
    force: bool,
    summary: Summary,
    progress: Progress,
) -> None:
    """Land the archive of `path` (the file or folder the user `named`, or the one a named link points to) at
    `dest`, under the name the user named."""
    kind = kind_of_mode(int(found.get("mode", 0)))
    if kind == "other":
        raise TransferRefused(f"{named} is not a file or folder in the target (a FIFO, socket or device)")
    root, rename = local_destination(dest, named, kind == "directory", force)
    top, own = PurePosixPath(path).name or "/", PurePosixPath(named).name or "/"
    if rename is None and own != top:
        rename = own  # a followed link lands under the link's name, as `cp` names it
    if kind == "file":
        _single_file(resp, path, top, root, rename, force=force, summary=summary, progress=progress)
        return
    with removed_on_failure(root, rename or top):
        land_archive(resp, top, root, rename, force=force, summary=summary, progress=progress)


@contextmanager
def removed_on_failure(root: Path, name: str) -> Iterator[None]:
    """A folder copy that fails (a cut stream, a refusal at its end) removes the folder `root/name` it created,
    so a failed copy leaves nothing behind; a folder that existed before (a merge into it) is left as it is,
    with the files already written (each one whole: `_write_file`)."""
    if name in ("", ".", "..", "/") or "/" in name:
        yield  # the root of a target ("/"): its entries land in `root` itself, which is the user's
        return
    top = root / name
    created = not os.path.lexists(top)
    try:
        yield
    except BaseException:
        if created and os.path.isdir(top) and not os.path.islink(top):
            import shutil

            shutil.rmtree(top, ignore_errors=True)  # never follows links: entries are never links
        raise


def _land_locally(name: str, top: str, root: Path, rename: str | None, summary: Summary) -> Path | None:
    """Where the archive entry `name` is written, or None (skipped, with the reason in `summary`)."""
    where = land(name, top, rename)
    if where.relative is None:
        summary.skip(where.skipped or name)
        return None
    if _under_links(root, where.relative):
        summary.skip(f"{name!r}: would be written through a link")
        return None
    return root / where.relative


def _replaceable(local: Path) -> str | None:
    """Why the existing local path `local` is not replaced by a copied file even with `--force` (None: it
    may be): only a regular file is, never a folder, a FIFO or a device (`--force` onto `/dev/null` must not
    leave a file in its place)."""
    found = os.lstat(local).st_mode
    if stat.S_ISREG(found):
        return None
    if stat.S_ISDIR(found):
        return f"{local} is a folder"
    if stat.S_ISLNK(found):
        return f"{local} is a symbolic link"
    return f"{local} is not a regular file (a FIFO, socket or device)"


def _write_entry(
    local: Path, name: str, mode: int, fill: Callable[[int], None], *, force: bool, summary: Summary
) -> bool:
    """Write one archive entry's file at `local` (replacing a file there only with `force`); False when it was
    skipped (the reason in `summary`)."""
    replace = os.path.lexists(local)
    if replace and not force:
        summary.skip(f"{name!r}: {local} exists (--force replaces it)")
        return False
    why = _replaceable(local) if replace else None
    if why is not None:
        summary.skip(f"{name!r}: {why}, not replaced")
        return False
    _write_file(local, mode, replace=replace, summary=summary, fill=fill)
    return True


def land_archive(
    resp: IO[bytes] | io.RawIOBase,
    top: str,
    root: Path,
    rename: str | None,
    *,
    force: bool,
    summary: Summary,
    progress: Progress,
) -> None:
    """Write the tar stream's entries one by one (a folder, a link): tarfile parses, `land` decides. The one
    landing code of a folder copied out, from a container's engine or a pod's debug container.

    A hard link is a second name of a regular file: it is written as a copy of the file this copy already
    wrote under its first name (tar stores the data once), never as a link, and never from a file that was
    there before."""
    import tarfile

    written: dict[str, Path] = {}
    with tarfile.open(fileobj=resp, mode="r|", bufsize=_STREAM_BUFFER) as archive:
        for member in archive:
            local = _land_locally(member.name, top, root, rename, summary)
            if local is None:
                continue
            if member.isdir():
                if not local.is_dir():
                    local.mkdir(mode=0o700)
                    os.chmod(local, member.mode & 0o777 | 0o700)
                    summary.directories += 1
            elif member.isreg():
                data = archive.extractfile(member)
                assert data is not None  # a regular member always has data
                fill = _copy_read(data, summary, progress)
                if _write_entry(local, member.name, member.mode, fill, force=force, summary=summary):
                    written[member.name.rstrip("/")] = local
            elif member.islnk() and member.linkname.rstrip("/") in written:
                with _open_written(written[member.linkname.rstrip("/")]) as first:
                    fill = _copy_read(first, summary, progress)
                    if _write_entry(local, member.name, member.mode, fill, force=force, summary=summary):
                        written[member.name.rstrip("/")] = local
            else:
                kind = "link" if member.issym() or member.islnk() else "special file"
                summary.skip(f"{member.name!r}: a {kind}, not copied")


def _open_written(local: Path) -> IO[bytes]:
    """A file this copy wrote, opened to read again (never through a link swapped in since)."""
    return open(os.open(local, os.O_RDONLY | os.O_NOFOLLOW), "rb")


def _single_file(
    resp: Answer,
    path: str,
    top: str,
    root: Path,
    rename: str | None,
    *,
    force: bool,
    summary: Summary,
    progress: Progress,
) -> None:
    """Write the one regular file of the archive of a file: header parsed here, bytes moved with `readinto`."""
    try:
        entry = read_file_header(resp)
        if entry is None:
            # Docker sends an empty archive for a file whose name is not UTF-8 (its folder's archive has it).
            raise TransferRefused(
                f"the engine's archive of {path} holds no file: it changed while it was read, or the engine "
                "cannot archive it by that name (copy its folder instead)"
            )
        name, size, mode = entry
        local = _land_locally(name, top, root, rename, summary)
        if local is not None:
            fill = _copy_exact(resp, size, summary, progress)
            _write_entry(local, name, mode, fill, force=force, summary=summary)
    except _Truncated:
        raise RuntimeUnavailable(f"the engine's archive of {path} ended early: nothing was written") from None


# -- tar headers ----------------------------------------------------------------------------------------------

_BLOCK = 512


def _read_block(src: IO[bytes], size: int) -> bytes:
    """`size` bytes rounded up to whole 512-byte blocks (the padding dropped); _Truncated at an early end."""
    want = -(-size // _BLOCK) * _BLOCK
    data = src.read(want)
    if len(data) != want:
        raise _Truncated
    return data[:size]


def _tar_number(field: bytes) -> int:
    """A numeric header field: octal text, or GNU's base-256 (first byte 0x80) for sizes past 8 GiB."""
    if field[:1] == b"\x80":
        return int.from_bytes(field[1:], "big")
    digits = field.split(b"\0", 1)[0].strip()
    return int(digits, 8) if digits else 0


def _pax_records(data: bytes) -> dict[str, str]:
    """A PAX extended header's `LEN key=value\\n` records."""
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.index(b" ", pos)
        length = int(data[pos:space])
        if length <= space - pos:
            raise ValueError("a PAX record shorter than its length field")
        key, _, value = data[space + 1 : pos + length - 1].partition(b"=")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


def read_file_header(src: IO[bytes]) -> tuple[str, int, int] | None:
    """(name, size, mode) of the first entry of a tar stream when it is a regular file, the stream left at its
    data; None when the first entry is anything else (or there is none).

    Reads what Go's archive/tar (Docker, Podman) writes for one file: USTAR, GNU long names (`L`) and PAX
    extended headers (`x`: `path`, `size`; global `g` headers are skipped). Bad numbers or records are
    `TransferRefused`: an archive that does not parse is never guessed at.
    """
    long_name: str | None = None
    pax: dict[str, str] = {}
    try:
        while True:
            block = _read_block(src, _BLOCK)
            if not block.strip(b"\0"):
                return None  # the end-of-archive marker: no entry
            size = _tar_number(block[124:136])
            kind = block[156:157]
            if kind in (b"x", b"g"):
                records = _pax_records(_read_block(src, size))
                if kind == b"x":
                    pax.update(records)
                continue
            if kind == b"L":
                long_name = _read_block(src, size).split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
                continue
            if kind not in (b"0", b"\0", b"7"):
                return None
            name = block[:100].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            prefix = block[345:500].split(b"\0", 1)[0] if block[257:263] == b"ustar\0" else b""
            if prefix:
                name = prefix.decode("utf-8", "surrogateescape") + "/" + name
            name = pax.get("path", long_name or name)
            size = int(pax["size"]) if "size" in pax else size
            return name, size, _tar_number(block[100:108])
    except ValueError as exc:
        raise TransferRefused(f"the engine sent an archive debugbox cannot read ({exc})") from exc


# -- in -------------------------------------------------------------------------------------------------------


def _tar_stream(
    src: Path, arcname: str, summary: Summary, progress: Progress
) -> tuple[IO[bytes], threading.Thread, list[BaseException]]:
    """A pipe whose read end yields a tar of `src` named `arcname`, written by a thread as it is read: a folder
    through `archive_folder` (links travel as links), a link named as the source as itself."""
    read_fd, write_fd = os.pipe()
    errors: list[BaseException] = []

    def write() -> None:
        import tarfile

        try:
            with (
                os.fdopen(write_fd, "wb") as pipe,
                tarfile.open(
                    fileobj=pipe, mode="w|", format=tarfile.PAX_FORMAT, bufsize=_STREAM_BUFFER
                ) as tar,
            ):
                if src.is_dir() and not src.is_symlink():
                    archive_folder(tar, src, arcname, summary, progress, links=True)
                else:  # the source is a link (a regular file takes `_upload_file`)
                    info = tar.gettarinfo(str(src), arcname=arcname)
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    if info.issym():
                        tar.addfile(info)
                    else:
                        summary.skip(f"{src}: a special file, not copied")
        except BaseException as exc:  # handed to the caller, which owns the one message
            errors.append(exc)

    thread = threading.Thread(target=write, name="debugbox-tar", daemon=True)
    thread.start()
    return os.fdopen(read_fd, "rb"), thread, errors


class LocalReadFailed(TransferRefused):
    """A local file or folder of an upload could not be read (or changed while it was): its archive stops there."""


def archive_folder(
    tar: tarfile.TarFile, src: Path, arcname: str, summary: Summary, progress: Progress, *, links: bool
) -> None:
    """Add the local folder `src` and everything under it to `tar` as `arcname/…`, sorted by name: folders and
    regular files, links as links when `links` (a container's engine lands them by its own rules; a pod's debug
    container would resolve them in its own root, so its uploads skip them), special files skipped and listed.

    The one local archive of an upload, for containers (`copy_in`) and pods (`kube_transfer.send_folder`). Each
    folder and file is opened relative to its folder's descriptor with `O_NOFOLLOW`, so a link swapped in after
    the listing is refused rather than read through. Owned by root in the target, as `docker cp` does; the mode
    travels without setuid/setgid/sticky bits. A folder or file that cannot be read raises `LocalReadFailed`."""
    top = _open_folder(str(src), None, src)
    try:
        _add_folder(tar, top, os.fstat(top), arcname, src, summary, progress, links)
    finally:
        os.close(top)


def _open_folder(name: str, parent: int | None, shown: Path) -> int:
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    try:
        # The folder named by the user is followed if it is a link, as `cp` follows its source; none below it.
        return (
            os.open(name, flags, dir_fd=parent)
            if parent is not None
            else os.open(name, flags & ~os.O_NOFOLLOW)
        )
    except OSError as exc:
        raise LocalReadFailed(f"cannot read {shown}: {exc.strerror or exc}") from exc


def _add_folder(
    tar: tarfile.TarFile,
    fd: int,
    st: os.stat_result,
    arcname: str,
    shown: Path,
    summary: Summary,
    progress: Progress,
    links: bool,
) -> None:
    import tarfile

    info = tarfile.TarInfo(arcname)
    info.type, info.mode, info.mtime = tarfile.DIRTYPE, st.st_mode & 0o777, int(st.st_mtime)
    tar.addfile(info)
    summary.directories += 1
    try:
        names = sorted(os.listdir(fd))
    except OSError as exc:
        raise LocalReadFailed(f"cannot read {shown}: {exc.strerror or exc}") from exc
    for child in names:
        where, entry = shown / child, f"{arcname}/{child}"
        try:
            found = os.stat(child, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            continue  # removed since the listing
        if stat.S_ISLNK(found.st_mode):
            if links:
                link = tarfile.TarInfo(entry)
                link.type, link.mode, link.mtime = tarfile.SYMTYPE, 0o777, int(found.st_mtime)
                link.linkname = os.readlink(child, dir_fd=fd)
                tar.addfile(link)
            else:
                summary.skip(f"{where}: a link, not copied")
        elif stat.S_ISDIR(found.st_mode):
            sub = _open_folder(child, fd, where)
            try:
                _add_folder(tar, sub, os.fstat(sub), entry, where, summary, progress, links)
            finally:
                os.close(sub)
        elif stat.S_ISREG(found.st_mode):
            _add_file(tar, fd, child, entry, where, summary, progress)
        else:
            summary.skip(f"{where}: a special file, not copied")


def _add_file(
    tar: tarfile.TarFile,
    parent: int,
    name: str,
    arcname: str,
    shown: Path,
    summary: Summary,
    progress: Progress,
) -> None:
    import tarfile

    try:
        # O_NONBLOCK: a FIFO swapped in since the listing opens without waiting, and is refused below.
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=parent)
    except OSError as exc:
        raise LocalReadFailed(f"cannot read {shown}: {exc.strerror or exc}") from exc
    with open(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            summary.skip(f"{shown}: not a regular file any more, not copied")
            return
        info = tarfile.TarInfo(arcname)
        info.size, info.mode, info.mtime = st.st_size, st.st_mode & 0o777, int(st.st_mtime)
        try:
            tar.addfile(info, CountingReader(f, summary, progress))
        except OSError as exc:
            if isinstance(exc, BrokenPipeError):
                raise  # the reader went away: its own end says why
            raise LocalReadFailed(
                f"{shown} changed or could not be read while it was copied ({exc.strerror or exc})"
            ) from exc
    summary.files += 1


class CountingReader:
    """A file wrapper counting bytes read into the summary and the progress (tarfile reads the data through it)."""

    def __init__(self, f: IO[bytes], summary: Summary, progress: Progress) -> None:
        self._f = f
        self._summary = summary
        self._progress = progress

    def read(self, n: int = -1) -> bytes:
        data = self._f.read(n)
        self._summary.bytes += len(data)
        self._progress(self._summary.bytes)
        return data


_TAR = {"Content-Type": "application/x-tar"}
#: An upload cut short: the engine extracts into place as the archive arrives (Docker and Podman alike keep
#: what came), and the archive API has no call to remove it.
_PARTIAL = "; what reached the target is incomplete: copy it again with --force"


def _upload_file(
    client: EngineClient,
    where: str,
    query: dict[str, str],
    src: Path,
    arcname: str,
    summary: Summary,
    progress: Progress,
) -> tuple[int, bytes]:
    """Upload one regular file as a one-entry tar of known length: the header built by tarfile (the same PAX
    header the streamed path writes), the bytes sent by the kernel (`EngineClient.upload`), then the padding
    and the end-of-archive blocks. Returns the engine's status and answer."""
    import tarfile

    try:
        # O_NOFOLLOW: a link swapped in since the check above is refused, not followed.
        f = open(os.open(src, os.O_RDONLY | os.O_NOFOLLOW), "rb")
    except OSError as exc:
        raise TransferRefused(f"cannot read {src}: {exc.strerror}") from exc
    with f:
        found = os.fstat(f.fileno())
        if not stat.S_ISREG(found.st_mode):
            raise TransferRefused(f"{src} is not a regular file or folder")
        info = tarfile.TarInfo(arcname)
        # Owned by root in the target, as `docker cp` does; the mode travels, setuid bits do not.
        info.size, info.mode, info.mtime = found.st_size, found.st_mode & 0o777, found.st_mtime
        head = info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
        tail = bytes(-found.st_size % _BLOCK + 2 * _BLOCK)

        def sent(done: int) -> None:
            summary.bytes = done
            progress(done)

        try:
            status, answer = client.upload(
                where, query, head=head, source=f, count=found.st_size, tail=tail, headers=_TAR, progress=sent
            )
        except ShortSource as exc:
            raise TransferRefused(f"{src} changed while it was copied ({exc}){_PARTIAL}") from exc
    summary.files += 1
    return status, answer


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
    _reachable(path)
    found = client.stat_path(container_id, path)
    folder = src.is_dir() and not src.is_symlink()  # a link named as the source travels as a link
    if found is not None and _is_dir(found):
        extract_to, arcname = path, src.name
        landed = str(PurePosixPath(path, arcname))
        existing = client.stat_path(container_id, landed)
    else:
        extract_to, arcname = archive_parent_and_name(path)
        landed, existing = path, found
        parent = client.stat_path(container_id, extract_to)
        if parent is None or not _is_dir(parent):
            raise TransferRefused(f"{extract_to} is not a folder in the target")
    if existing is not None and _is_dir(existing) != folder:
        # The engine refuses either way (`noOverwriteDirNonDir`), after "pass --force" had promised otherwise.
        there = {"directory": "a folder", "symlink": "a link", "other": "a special file"}.get(
            kind_of_mode(int(existing.get("mode", 0))), "a file"
        )
        raise TransferRefused(
            f"{landed} is {there} in the target and {src} {'a folder' if folder else 'is not'}: a folder merges "
            "only into a folder, and nothing else replaces one"
        )
    if existing is not None and not force:
        # A folder merges into the one there, and the engine replaces each file of the same name in it.
        then = "merge into it (its files of the same names are replaced)" if folder else "replace it"
        raise ExistsInTarget(f"{landed} exists in the target: pass --force to {then}")
    summary = Summary()
    where = f"/containers/{quote(container_id, safe='')}/archive"
    query = {"path": extract_to, "noOverwriteDirNonDir": "true"}
    if stat.S_ISREG(os.lstat(src).st_mode):
        status, answer = _upload_file(client, where, query, src, arcname, summary, progress)
    else:
        body, writer, errors = _tar_stream(src, arcname, summary, progress)
        try:
            with client.stream("PUT", where, query, body=body, headers=_TAR) as resp:
                answer = resp.read(1000)
                status = resp.status
        finally:
            body.close()
            writer.join(timeout=5)
        if errors:
            if isinstance(errors[0], LocalReadFailed):
                raise LocalReadFailed(f"{errors[0]}{_PARTIAL}")
            raise TransferRefused(f"reading {src} failed: {errors[0]}{_PARTIAL}")
        if writer.is_alive():
            raise RuntimeUnavailable(f"the engine answered before {src} was sent in full{_PARTIAL}")
    if status == 403:
        raise TransferRefused(
            f"the target's filesystem is read-only at {extract_to} (engine: {error_message(answer)})"
        )
    if status != 200:
        raise RuntimeUnavailable(f"the engine refused to write {path} ({status}): {error_message(answer)}")
    landed = str(PurePosixPath(extract_to, arcname))
    # Copied means visible in the target: Podman has answered an upload (loaded machine) before a stat saw it.
    deadline = time.monotonic() + client.timeout
    while client.stat_path(container_id, landed) is None:
        if time.monotonic() > deadline:
            raise RuntimeUnavailable(f"the engine accepted the upload, but {landed} is not in the target")
        time.sleep(0.1)
    return summary
