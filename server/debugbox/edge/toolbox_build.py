"""`debugbox toolbox build`: a local toolbox image from what this machine has, for engines that cannot pull one.

A static busybox (Debian's `busybox-static`, `/bin/busybox`) gives `sh` and the small tools; each named host tool
(`--tool strace`) is copied with the libraries the host's loader resolves for it (`ldd`). The root filesystem is
imported with `<engine> import` as `debugbox/toolbox:local` (labelled `io.debugbox.toolbox=local`). Nothing from a
workspace decides what is copied: the tools are named by the user on the command line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from debugbox.core.errors import RuntimeUnavailable
from debugbox.core.targets.toolbox import (
    GROUPS_FILE,
    USERS_FILE,
    elf_interpreter_present,
    libraries_from_ldd,
    missing_libraries,
    program_header_span,
)
from debugbox.edge.cli_tools import find_program, resolve_program

BUSYBOX_PATHS = ("/bin/busybox", "/usr/bin/busybox")
TIMEOUT = 300.0


@dataclass(frozen=True)
class Built:
    tag: str
    tools: tuple[str, ...]
    seconds: float


def is_static(path: Path) -> bool:
    """Whether the ELF file at `path` needs no dynamic loader (read from its headers; nothing is run)."""
    with path.open("rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF":
            return False
        offset, size, count = program_header_span(head)
        f.seek(offset)
        headers = f.read(size * count)
    return elf_interpreter_present(head, headers) is False


def find_busybox(explicit: str | None = None) -> Path:
    candidates = [explicit] if explicit else [*BUSYBOX_PATHS, find_program("busybox")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            path = Path(candidate).resolve()
            if not is_static(path):
                raise RuntimeUnavailable(
                    f"{candidate} is not a static binary: it could not run in a container without its libraries "
                    "(install Debian's busybox-static)"
                )
            return path
    if explicit:  # the user named it: say what is wrong with that path, not that none was found
        what = (
            "a folder"
            if Path(explicit).is_dir()
            else "not a file"
            if os.path.lexists(explicit)
            else "missing"
        )
        raise RuntimeUnavailable(f"--busybox {explicit} is {what}: name a static busybox binary")
    raise RuntimeUnavailable("no busybox here: install a static one (Debian: apt-get install busybox-static)")


def finish_rootfs(rootfs: Path, busybox: Path) -> None:
    """Busybox at /bin/busybox with a link per applet the root filesystem does not have yet, users, /tmp."""
    bin_dir = rootfs / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(busybox, bin_dir / "busybox")
    applets = subprocess.run([str(busybox), "--list"], check=True, capture_output=True, text=True, timeout=30)
    folders = [rootfs / d for d in ("bin", "sbin", "usr/bin", "usr/sbin")]
    taken = {p.name for d in folders if d.is_dir() for p in d.iterdir()}
    for applet in applets.stdout.split():
        if applet not in taken and "/" not in applet:
            (bin_dir / applet).symlink_to("busybox")
    etc = rootfs / "etc"
    etc.mkdir(exist_ok=True)
    (etc / "passwd").write_text(USERS_FILE)
    (etc / "group").write_text(GROUPS_FILE)
    tmp = rootfs / "tmp"
    tmp.mkdir(exist_ok=True)
    tmp.chmod(0o1777)


def _copy_resolved(source: str, rootfs: Path) -> None:
    """`source` (following links) into the root filesystem under the same path."""
    dest = rootfs / source.lstrip("/")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(Path(source).resolve(), dest)


def add_host_tool(rootfs: Path, name: str) -> str:
    """Copy the host tool `name` (from PATH) and its libraries; returns its path."""
    found = find_program(name)
    if found is None:
        raise RuntimeUnavailable(f"no tool named {name!r} on this machine's PATH")
    ldd = subprocess.run(
        list(resolve_program(["ldd", found])), capture_output=True, text=True, timeout=60, check=False
    )
    missing = missing_libraries(ldd.stdout)
    if missing:
        raise RuntimeUnavailable(f"{name} needs libraries this machine lacks: {', '.join(missing)}")
    _copy_resolved(found, rootfs)
    for library in libraries_from_ldd(ldd.stdout):  # empty for a static tool ("not a dynamic executable")
        _copy_resolved(library, rootfs)
    return found


def import_rootfs(cli: Sequence[str], rootfs: Path, tag: str, *, env: dict[str, str] | None = None) -> None:
    """`<cli> import` the folder as image `tag`, with `/bin/sh` as its entrypoint."""
    program = resolve_program(cli)
    with tempfile.TemporaryDirectory(prefix="dbx-toolbox-tar-") as work:
        archive = Path(work) / "rootfs.tar"
        with tarfile.open(archive, "w") as tar:
            tar.add(rootfs, arcname=".")
        proc = subprocess.run(
            [*program, "import", "--change", 'ENTRYPOINT ["/bin/sh"]', "--change", "LABEL io.debugbox.toolbox=local",
             str(archive), tag],
            capture_output=True, text=True, timeout=TIMEOUT, env=env, check=False,
        )  # fmt: skip
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip()] or [f"exit {proc.returncode}"]
        raise RuntimeUnavailable(f"{' '.join(cli)} import failed: {lines[0]}")


def build_toolbox(
    cli: Sequence[str], tag: str, tools: Sequence[str] = (), busybox: str | None = None
) -> Built:
    started = time.monotonic()
    box = find_busybox(busybox)
    with tempfile.TemporaryDirectory(prefix="dbx-toolbox-") as work:
        rootfs = Path(work) / "rootfs"
        rootfs.mkdir()
        for tool in tools:
            add_host_tool(rootfs, tool)
        finish_rootfs(rootfs, box)
        import_rootfs(cli, rootfs, tag)
    return Built(tag, tuple(tools), time.monotonic() - started)
