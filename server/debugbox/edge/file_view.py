"""Read a container's filesystem through the engine's archive API, for the editor's read-only file view (the
decisions are `core/targets/file_view.py`'s).

- stat: `HEAD /containers/{id}/archive?path=P` (the engine's stat header); a symbolic link also gets the kind of
  what it points to (the engine resolves the link inside the container's root).
- readDirectory: `GET …/archive?path=DIR` streamed; only tar headers are looked at (file data is skipped through
  by the tar reader) and reading stops at the entry and byte caps.
- readFile: `GET …/archive?path=FILE`, the first member's data, refused above the size cap before anything is read.

Nothing runs inside the target, so it works on distroless and stopped containers.
"""

from __future__ import annotations

import io
import tarfile
from typing import IO, Any

from debugbox.core.errors import RuntimeProblem, TargetNotFound
from debugbox.core.targets.file_view import (
    MAX_ARCHIVE_BYTES,
    MAX_ENTRIES,
    MAX_FILE_BYTES,
    Children,
    Entry,
    Listing,
    stat_entry,
)
from debugbox.core.targets.transfer import human_size
from debugbox.edge.engine_api import EngineClient, StatUnsupported
from debugbox.edge.transfer import read_archive

#: tarfile's stream buffer: its default (10 KiB) makes a 100 MB copy spend most of its time in small reads.
_STREAM_BUFFER = 1 << 20


class TooLarge(Exception):
    """A file larger than the view's cap: it is downloaded instead (one sentence says so)."""


class _ByteCap(io.RawIOBase):
    """Reads through to the archive until `limit` bytes, then reports end of stream and remembers it was cut."""

    def __init__(self, raw: IO[bytes], limit: int) -> None:
        super().__init__()
        self._raw = raw
        self._left = limit
        self.cut = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            self.cut = True
            return 0
        view = memoryview(buffer).cast("B")
        data = self._raw.read(min(len(view), self._left))
        view[: len(data)] = data
        self._left -= len(data)
        return len(data)


def _stat_path(client: EngineClient, container_id: str, path: str) -> dict[str, Any] | None:
    """The engine's stat of `path`. An answer other than found or missing is a sentence, never a traceback: a
    symbolic link that loops (`a -> b -> a`, found in real images) makes both engines answer 500, as their
    path resolution gives up."""
    try:
        return client.stat_path(container_id, path)
    except StatUnsupported as exc:
        raise RuntimeProblem(
            f"the engine cannot resolve {path} in the target ({exc}); a symbolic link that loops is the usual "
            "cause"
        ) from exc


def stat(client: EngineClient, container_id: str, path: str) -> tuple[Entry, Entry | None]:
    """`path`'s entry and, for a symbolic link, the entry it resolves to (None when dangling)."""
    found = _stat_path(client, container_id, path)
    if found is None:
        raise TargetNotFound(f"{path} does not exist in the target")
    entry = stat_entry(path, found)
    if entry.kind != "symlink" or not entry.link_target.startswith("/"):
        return entry, None
    resolved = _stat_path(client, container_id, entry.link_target)
    return entry, stat_entry(entry.link_target, resolved) if resolved is not None else None


def read_directory(
    client: EngineClient,
    container_id: str,
    path: str,
    *,
    max_entries: int = MAX_ENTRIES,
    max_bytes: int = MAX_ARCHIVE_BYTES,
) -> Listing:
    """The direct children of the directory `path`, from the headers of its archive."""
    entry, resolved = stat(client, container_id, path)
    if (resolved or entry).kind != "directory":
        raise NotADirectoryError(f"{path} is not a directory in the target")
    where = (resolved and entry.link_target) or path
    children = Children(max_entries)
    with read_archive(client, container_id, where) as resp:
        capped = _ByteCap(resp, max_bytes)
        try:
            with tarfile.open(fileobj=capped, mode="r|", bufsize=_STREAM_BUFFER) as archive:
                for member in archive:
                    if not children.add(member):
                        break
        except tarfile.ReadError:
            if not capped.cut:  # the archive ended where the byte cap cut it: what was read stands
                raise
    return children.listing(cut_short=capped.cut)


def read_file(
    client: EngineClient, container_id: str, path: str, *, max_bytes: int = MAX_FILE_BYTES
) -> bytes:
    """The content of the file `path` (a link is followed), refused above `max_bytes`."""
    entry, resolved = stat(client, container_id, path)
    target = resolved or entry
    if target.kind == "directory":
        raise IsADirectoryError(f"{path} is a directory in the target")
    if target.kind != "file":
        raise TargetNotFound(f"{path} is not a regular file in the target")
    if target.size > max_bytes:
        raise TooLarge(
            f"{path} is {human_size(target.size)}, more than the file view opens "
            f"({human_size(max_bytes)}): download it instead"
        )
    where = (resolved and entry.link_target) or path
    with (
        read_archive(client, container_id, where) as resp,
        tarfile.open(fileobj=resp, mode="r|", bufsize=_STREAM_BUFFER) as archive,
    ):
        for member in archive:
            if not member.isreg():
                break
            if member.size > max_bytes:  # it grew since the stat
                raise TooLarge(f"{path} is larger than {human_size(max_bytes)}: download it instead")
            data = archive.extractfile(member)
            assert data is not None  # a regular member always has data
            return data.read()
    raise TargetNotFound(f"{path} is not a regular file in the target")
