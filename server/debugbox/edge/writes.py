"""Every file debugbox writes goes through here: the rules of "writes go only where the user chose".

`write_target(path, boundary)` decides where a write to `path` would land, or refuses; `write_file` writes there.
The server (Dockerfile.debug, as a WorkspaceEdit or written itself) and the CLI (`debug-image -o/--force`,
`share-pid --write`) share both. The boundary is the folder the user chose: the workspace folder for the server,
the folder of the file the user named for the CLI.

- A symbolic link is written *through* (it stays a link, its target gets the text) only when its final target
  lies inside the boundary; a link that leaves it, or a dangling one, is refused with a message naming the link.
  Never is anything created at a dangling link's target.
- A folder on the way that leaves the boundary (`ws/sub -> /etc`) is refused the same way.
- Only regular files are replaced; a file with several hard links is refused (replacing it would split it).
- Replacing is atomic (a temporary file beside the target, then `rename`) and keeps the file's permission bits
  (setuid/setgid/sticky included), so `--force` never leaves a 0600 file where a 0644 one was, and its owner and
  group where the writer may set them (root; a user may give it back a group they belong to): otherwise the
  replacement belongs to the writer, as any editor's save-by-rename does. A new file is created exclusively (`O_EXCL`:
  neither an existing file nor a link planted meanwhile is followed) with the usual mode (0666 minus umask).
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from debugbox.core.errors import RuntimeProblem


class WriteRefused(RuntimeProblem):
    """The write would leave the chosen folder, follow a dangling link or change the file's identity."""


@dataclass(frozen=True)
class WriteTarget:
    """Where a write to `requested` lands: `real` (the link's target for an allowed link), and whether it exists."""

    requested: Path
    real: Path
    exists: bool
    via_link: bool


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def link_refusal(path: Path, boundary: Path) -> str | None:
    """Why a write to `path` would leave `boundary` through a link (or follow a dangling one); None when not.

    The one link rule, for the files debugbox writes and for the edits it asks an editor to make (an editor
    saving a buffer writes through the link too)."""
    path = Path(os.path.abspath(path))
    root = _real(boundary)
    real = _real(path)
    if path.is_symlink():
        if not os.path.exists(real):
            return (
                f"{path} is a symbolic link to {os.readlink(path)}, which does not exist; "
                "debugbox does not create files through links"
            )
        if not real.is_relative_to(root):
            return (
                f"{path} is a symbolic link to {real}, outside {root}; debugbox does not write through it "
                "(replace the link with a file, or write the file there yourself)"
            )
    elif not real.is_relative_to(root):
        return f"{path} resolves to {real}, outside {root} (a linked folder); not writing there"
    return None


def write_target(path: Path, boundary: Path) -> WriteTarget:
    """Check a write to `path` against the rules above; WriteRefused (naming the link) when it breaks one."""
    path = Path(os.path.abspath(path))
    refusal = link_refusal(path, boundary)
    if refusal is not None:
        raise WriteRefused(refusal)
    real = _real(path)
    try:
        st = os.stat(real)
    except FileNotFoundError:
        return WriteTarget(path, real, exists=False, via_link=real != path)
    if not stat.S_ISREG(st.st_mode):
        raise WriteRefused(f"{path} is not a regular file; not replacing it")
    if st.st_nlink > 1:
        raise WriteRefused(
            f"{path} has {st.st_nlink} hard links; replacing it would split them, so debugbox does not"
        )
    return WriteTarget(path, real, exists=True, via_link=real != path)


def _keep_owner(fd: int, before: os.stat_result) -> None:
    """Give the open replacement `fd` the owner and group of the file it replaces, as far as permitted."""
    now = os.fstat(fd)
    if (now.st_uid, now.st_gid) == (before.st_uid, before.st_gid):
        return
    for uid in (before.st_uid, -1):  # owner and group (root); else the group alone (a group the user is in)
        try:
            os.fchown(fd, uid, before.st_gid)
            return
        except PermissionError:
            continue


def write_file(path: Path, data: bytes, boundary: Path, *, replace: bool) -> WriteTarget:
    """Write `data` to `path` under the rules above. Without `replace`, an existing file is FileExistsError."""
    return write_stream(path, (data,), boundary, replace=replace)


def write_stream(path: Path, chunks: Iterable[bytes], boundary: Path, *, replace: bool) -> WriteTarget:
    """`write_file` for data that arrives in pieces (a copy out of a pod): the same rules, and a failure while
    `chunks` is read (it may raise) leaves nothing behind — neither a partial new file nor a changed old one."""
    target = write_target(path, boundary)
    if not target.exists:
        # Exclusive create at the checked path: fails on anything that appeared there since (file or link).
        fd = os.open(target.real, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
        except BaseException:
            target.real.unlink(missing_ok=True)
            raise
        return target
    if not replace:
        raise FileExistsError(f"{path} exists")
    before = os.stat(target.real)
    # Atomic: a crash never leaves a half-written file where the user's was. mkstemp makes it 0600 and the
    # writer's: set the owner and mode the file had before the rename, so that the replacement is the same kind
    # of file. The owner first: chown clears setuid/setgid bits, which the chmod then restores.
    fd, tmp = tempfile.mkstemp(dir=target.real.parent, prefix=f".{target.real.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            _keep_owner(handle.fileno(), before)
            os.fchmod(handle.fileno(), stat.S_IMODE(before.st_mode))
        os.replace(tmp, target.real)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
