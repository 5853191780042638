"""The one way debugbox reads a file from disk: bounded in size, regular files only, never blocking.

Every path it reads comes from a workspace or from the user's configuration, so it may name a FIFO (a read
would wait forever for a writer), `/dev/zero` (a read never ends), a socket or a directory, or a file far too
big to analyse. `read_bytes` opens with `O_NONBLOCK` (opening a FIFO without a writer returns at once instead
of waiting), checks with `fstat` on the opened descriptor (no window between check and use) that it is a
regular file, and reads at most `limit + 1` bytes, so anything bigger is refused without reading it all.
Failures are `FileRefused`, whose message is one sentence naming the file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

#: Files the CLI and the server analyse are at most this big: no Dockerfile or manifest is, and it bounds a
#: mistaken argument.
MAX_INPUT_BYTES = 16 * 1024 * 1024


class FileRefused(ValueError):
    """A file that cannot be read as asked; `str()` is one line for the user."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe), not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a regular file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a regular file"
    return "is not a regular file"


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit} bytes"


def read_bytes(path: Path, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of the regular file `path` (symlinks followed), or FileRefused saying why not."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise FileRefused(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FileRefused(f"{path}: is a directory, not a file") from None
    except OSError as exc:
        raise FileRefused(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(f"{path}: {_kind(info.st_mode)}")
        if info.st_size > limit:
            raise FileRefused(f"{path}: larger than {_size(limit)}")
        chunks: list[bytes] = []
        total = 0
        # Read to the cap, not to st_size: a file that grows while read is still bounded.
        while total <= limit:
            chunk = os.read(fd, min(1024 * 1024, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise FileRefused(f"{path}: larger than {_size(limit)}")
        return b"".join(chunks)
    except OSError as exc:
        raise FileRefused(f"{path}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def read_text(path: Path, limit: int = MAX_INPUT_BYTES, *, errors: str = "strict") -> str:
    """`read_bytes` decoded as UTF-8 (`errors` as for `bytes.decode`); FileRefused when it is not UTF-8."""
    data = read_bytes(path, limit)
    try:
        return data.decode("utf-8", errors)
    except UnicodeDecodeError as exc:
        raise FileRefused(f"{path}: not UTF-8 text (byte {exc.start})") from None
