"""Copying files out of and into a target, decided without touching anything: which side is the target, where
each archive entry lands, and which entries are refused.

The engine's archive API (`GET`/`PUT /containers/{id}/archive`) reads and writes a container's filesystem from
the engine's side, so nothing has to run inside the target: it works on distroless images and on stopped
containers, where `kubectl cp` (which needs `tar` in the target) and `docker exec` cannot. The edge
(`edge/transfer.py`) streams the archive; every decision about what an entry may do to the local disk is here.

Archive entries come from the target, which is as hostile as a workspace: an entry never lands outside the
destination the user named (no absolute names, no `..`, no writing through a link), and only regular files and
directories are written — links, devices and FIFOs are counted and reported, never created.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import PurePosixPath

from debugbox.core.errors import InvalidTarget
from debugbox.core.targets.file_view import target_path


@dataclass(frozen=True)
class TargetPath:
    """`TARGET:PATH` from the command line: a target reference and an absolute path inside it."""

    target: str
    path: str


def split_target_path(word: str, *, listed: bool = False) -> TargetPath | None:
    """`web:/etc/hosts` → TargetPath; a local path → None.

    Like `docker cp`: the first `:` separates the target, so a local file whose name holds a colon is written
    with a leading `./` or `/`. A path in the target must be absolute (the archive API resolves relative paths
    against `/`, which would hide a typo), and holds no control character unless it is `listed` (see
    `file_view.target_path`: one rule for both).
    """
    if word.startswith(("/", "./", "../", "~")) or ":" not in word:
        return None
    # `docker://web:/p` and `pod/web/app:/p`: the separator is the last `:` before the path's leading `/`.
    cut = word.find(":/", word.find("://") + 3 if "://" in word else 0)
    if cut <= 0:
        target, _, path = word.partition(":")
        raise InvalidTarget(f"the path in {word!r} must be absolute (write {target}:/{path})")
    target, path = word[:cut], word[cut + 1 :]
    return TargetPath(target, target_path(path, listed=listed))


def archive_parent_and_name(path: str) -> tuple[str, str]:
    """Where an upload's archive is extracted and the entry name it carries: `/a/b c` → (`/a`, `b c`)."""
    normal = posixpath.normpath(path)
    if normal == "/":
        raise InvalidTarget("cannot replace the target's root directory; name a path inside it")
    parent, name = posixpath.split(normal)
    return parent or "/", name


#: Filesystems a running container has mounted over its own (the kernel's views, `/dev`'s tmpfs): the engine's
#: archive API reads and writes the container's filesystem beneath them, so it sees none of what is there.
_MOUNTED_OVER = ("/proc", "/sys", "/dev")


def beneath_a_mount(path: str) -> str | None:
    """Why the engine's archive API cannot reach `path` (normalised, absolute), or None: under `/proc`, `/sys`
    or `/dev` a copy out finds nothing (or an empty folder) and a copy in lands where the container never sees
    it, while `docker cp` says "copied". A pod's copy reads the live filesystem and is not concerned."""
    for top in _MOUNTED_OVER:
        if path == top or path.startswith(top + "/"):
            return (
                f"{top} in a running container is mounted over its filesystem, which is all the engine's "
                f"archive API reads and writes: it cannot copy {path}; use a session there (`debugbox shell "
                "TARGET`)"
            )
    return None


def followed_link(path: str, link_target: str) -> str | None:
    """The path a link at `path` in the target points to, from the engine's stat (`linkTarget`: Docker and
    Podman resolve it inside the container, absolute; a relative one is read from the link's folder); None
    when the engine did not say."""
    if not link_target or link_target == path:
        return None
    normal = posixpath.normpath(posixpath.join(posixpath.dirname(path), link_target))
    return "/" if normal == "//" else normal


@dataclass(frozen=True)
class Landing:
    """Where one archive entry goes, relative to the local destination root; None: skipped (with why)."""

    relative: PurePosixPath | None
    skipped: str | None = None


def land(entry_name: str, top: str, rename_top_to: str | None) -> Landing:
    """Map an archive entry to a path relative to the destination directory, refusing escapes.

    `top` is the archive's first component (the basename of the copied path, as the engine writes it); with
    `rename_top_to` (the destination did not exist: `cp web:/etc ./conf` makes `./conf`, as cp does) the top
    component is renamed.
    """
    name = entry_name.rstrip("/")
    if not name or name.startswith("/") or "\\" in name:
        return Landing(None, f"{entry_name!r}: not a relative name")
    parts = PurePosixPath(name).parts
    if any(p in ("..", "") for p in parts):
        return Landing(None, f"{entry_name!r}: leaves the destination")
    if parts[0] == ".":
        parts = parts[1:]
        if not parts:
            return Landing(PurePosixPath("."))
    if parts[0] != top:
        return Landing(None, f"{entry_name!r}: outside the copied path {top!r}")
    if rename_top_to is not None:
        parts = (rename_top_to, *parts[1:])
    return Landing(PurePosixPath(*parts))


def human_size(n: int) -> str:
    """`1536` → `1.5 KiB`: sizes in one-line summaries."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"
