"""A read-only view of a container's filesystem, decided without touching anything: what a path is (from the
engine's stat), which entries of a directory archive are its direct children, and when to stop reading.

The engine's archive API reads the container's filesystem from the engine's side (`HEAD …/archive` for a stat,
`GET …/archive` for a tar of a path), so nothing runs inside the target: it works on distroless images and on
stopped containers, where an explorer that runs `ls` inside the container cannot. The archive of a directory is
recursive and there is no shallow listing: the edge (`edge/file_view.py`) reads only its tar headers and stops at
`MAX_ENTRIES` children or `MAX_ARCHIVE_BYTES` read, and the listing then says it is incomplete. File contents go
over the protocol only up to `MAX_FILE_BYTES` (larger files are downloaded, streamed, with `copyFromTarget`).

Names in the archive come from the target, which is as hostile as a workspace: they are data, shown and used only
as names below the listed directory.
"""

from __future__ import annotations

import posixpath
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from debugbox.core.errors import InvalidTarget

#: Direct children listed at most (the rest is reported as truncated).
MAX_ENTRIES = 5000
#: Bytes of a directory's archive read at most to list it (headers are read; file data is skipped through).
MAX_ARCHIVE_BYTES = 256 * 1024 * 1024
#: Largest file whose content is sent over the protocol (base64 in a JSON answer).
MAX_FILE_BYTES = 16 * 1024 * 1024

Kind = Literal["file", "directory", "symlink", "other"]

# Go's fs.FileMode type bits, as the engine's stat header reports them.
_DIR = 1 << 31
_SYMLINK = 1 << 27
_TYPE_BITS = (1 << 31) | (1 << 30) | (1 << 27) | (1 << 26) | (1 << 25) | (1 << 24) | (1 << 21) | (1 << 19)


@dataclass(frozen=True)
class Entry:
    name: str
    kind: Kind
    size: int
    mtime: float
    """Seconds since the epoch (0 when the engine did not say)."""
    link_target: str = ""

    def wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.kind, "size": self.size, "mtime": self.mtime}
        if self.link_target:
            out["linkTarget"] = self.link_target
        return out


@dataclass(frozen=True)
class Listing:
    entries: tuple[Entry, ...]
    truncated: bool
    """Reading stopped at a cap: there may be more children than listed."""


def target_path(path: str, *, listed: bool = False) -> str:
    """An absolute, normalised path in the target; InvalidTarget for relative paths and control characters.

    `listed`: the path names an entry of a listing of the target (the editor's file view and its downloads),
    where a hostile image may have put a newline or an escape sequence in a file's name: such a file must still
    open, so only NUL (which no name holds) is refused. The path travels as data (a query parameter of the
    archive API, an argument of the pod's script), never through a shell or to a terminal."""
    if not path.startswith("/"):
        raise InvalidTarget(f"the path in the target must be absolute, got {path[:80]!r}")
    if "\x00" in path or (not listed and any(ord(c) < 0x20 or c == "\x7f" for c in path)):
        raise InvalidTarget("the path in the target holds control characters")
    normal = posixpath.normpath(path)
    return "/" if normal == "//" else normal


def kind_of_mode(mode: int) -> Kind:
    """The kind of a Go `fs.FileMode` (the engine's stat)."""
    if mode & _DIR:
        return "directory"
    if mode & _SYMLINK:
        return "symlink"
    return "other" if mode & _TYPE_BITS else "file"


def _epoch(stamp: object) -> float:
    if not isinstance(stamp, str) or not stamp:
        return 0.0
    # Go's RFC 3339 with nanoseconds (`2026-12-06T01:02:03.123456789Z`): Python parses up to microseconds.
    text = stamp.replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6]}{zone}"
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return 0.0


def stat_entry(path: str, stat: dict[str, Any]) -> Entry:
    """The engine's stat header (`{"name", "size", "mode", "mtime", "linkTarget"}`) as an Entry."""
    mode = stat.get("mode")
    size = stat.get("size")
    link = stat.get("linkTarget")
    kind = kind_of_mode(mode if isinstance(mode, int) else 0)
    return Entry(
        posixpath.basename(path) or "/",
        kind,
        size if isinstance(size, int) and size >= 0 else 0,
        _epoch(stat.get("mtime")),
        link if kind == "symlink" and isinstance(link, str) else "",
    )


def _member_kind(member: tarfile.TarInfo) -> Kind:
    if member.isdir():
        return "directory"
    if member.issym():
        return "symlink"
    return "file" if member.isreg() or member.islnk() else "other"


class Children:
    """Collects the direct children of the archived directory from its tar headers, in archive order.

    The archive's first member is the directory itself (named after its basename, or `.`/`./` for `/`); its
    children are the members exactly one component below it. `add` says whether to keep reading.
    """

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self.entries: list[Entry] = []
        self.truncated = False
        self._top: tuple[str, ...] | None = None
        self._seen: set[str] = set()

    def add(self, member: tarfile.TarInfo) -> bool:
        parts = tuple(p for p in member.name.split("/") if p not in ("", "."))
        if self._top is None:
            self._top = parts
            return True
        if len(parts) != len(self._top) + 1 or parts[: len(self._top)] != self._top:
            return True
        name = parts[-1]
        if name == ".." or name in self._seen:
            return True
        if len(self.entries) >= self.max_entries:
            self.truncated = True
            return False
        self._seen.add(name)
        kind = _member_kind(member)
        self.entries.append(
            Entry(
                name,
                kind,
                member.size if kind == "file" else 0,
                float(member.mtime),
                member.linkname if kind == "symlink" else "",
            )
        )
        return True

    def listing(self, cut_short: bool = False) -> Listing:
        return Listing(tuple(self.entries), self.truncated or cut_short)


def list_children(members: Iterable[tarfile.TarInfo], max_entries: int = MAX_ENTRIES) -> Listing:
    """The direct children among `members` (a directory's archive headers), up to `max_entries`."""
    children = Children(max_entries)
    for member in members:
        if not children.add(member):
            break
    return children.listing()
