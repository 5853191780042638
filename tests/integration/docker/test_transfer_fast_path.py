"""The single-file fast path of `debugbox cp` on a real Docker engine (edge/transfer.py: a file's tar header
parsed by debugbox and its bytes moved with `readinto` out, `sendfile` with an exact Content-Length in), next to
what must still take tarfile's path (a folder, a link): setuid bits are dropped both ways, a file copied to a
folder lands inside it, a sparse file with data at its end round-trips, a link is never followed or recreated,
and a file that would replace another needs --force.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.integration.docker.engine import DISTROLESS, Containers, docker

pytestmark = pytest.mark.docker


def debugbox(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "debugbox", "cp", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def target_mode(name: str, path: str) -> int:
    """The mode of `path` in the container, read by the engine's own CLI (`docker cp … -` gives a tar)."""
    import io
    import tarfile

    raw = subprocess.run(["docker", "cp", f"{name}:{path}", "-"], capture_output=True, timeout=60, check=True)
    with tarfile.open(fileobj=io.BytesIO(raw.stdout)) as tar:
        member = tar.getmembers()[0]
        return member.mode | (0o120000 if member.issym() else 0)


def test_setuid_bits_are_dropped_both_ways(containers: Containers, tmp_path: Path) -> None:
    name = containers.run(DISTROLESS)
    tool = tmp_path / "tool"
    tool.write_bytes(b"\x7fELF pretend\n")
    tool.chmod(0o4755)
    docker("cp", str(tool), f"{name}:/tool")  # the engine's own copy keeps the setuid bit
    assert target_mode(name, "/tool") & 0o7777 == 0o4755
    got = debugbox(f"{name}:/tool", str(tmp_path / "out"))
    assert got.returncode == 0, got.stderr
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o755
    sent = debugbox(str(tool), f"{name}:/tool-up")
    assert sent.returncode == 0, sent.stderr
    assert target_mode(name, "/tool-up") & 0o7777 == 0o755


def test_a_file_copied_to_a_folder_lands_inside_it_and_needs_force_to_replace(
    containers: Containers, tmp_path: Path
) -> None:
    name = containers.run(DISTROLESS)
    folder = tmp_path / "here"
    folder.mkdir()
    first = debugbox(f"{name}:/www/index.html", str(folder))
    assert first.returncode == 0, first.stderr
    page = (folder / "index.html").read_bytes()
    assert page == b"hello from distroless-app\n"
    (folder / "index.html").write_bytes(b"mine")
    again = debugbox(f"{name}:/www/index.html", str(folder))
    assert again.returncode == 1 and "--force" in again.stderr
    assert (folder / "index.html").read_bytes() == b"mine"
    # Into a folder of the target, under its own name.
    up = tmp_path / "notes.txt"
    up.write_text("notes\n")
    assert debugbox(str(up), f"{name}:/www").returncode == 0
    back = tmp_path / "back.txt"
    assert debugbox(f"{name}:/www/notes.txt", str(back)).returncode == 0
    assert back.read_text() == "notes\n"


def test_a_sparse_file_with_data_at_its_end_round_trips(containers: Containers, tmp_path: Path) -> None:
    name = containers.run(DISTROLESS)
    sparse = tmp_path / "sparse.img"
    with sparse.open("wb") as f:
        f.truncate(48 * 1024 * 1024 + 7)  # a hole, and a size that is no multiple of the tar block
        f.seek(-7, os.SEEK_END)
        f.write(b"the end")
    sent = debugbox(str(sparse), f"{name}:/sparse.img")
    assert sent.returncode == 0, sent.stderr
    back = tmp_path / "back.img"
    got = debugbox(f"{name}:/sparse.img", str(back))
    assert got.returncode == 0, got.stderr
    assert back.stat().st_size == sparse.stat().st_size
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (sparse, back)]
    assert digest[0] == digest[1]


def test_links_are_never_followed_by_either_path(containers: Containers, tmp_path: Path) -> None:
    name = containers.run(DISTROLESS)
    secret = tmp_path / "secret"
    secret.write_text("not for the target\n")
    link = tmp_path / "link"
    link.symlink_to(secret)
    # Up: a link is sent as a link (tarfile's path), not as the file it points to.
    assert debugbox(str(link), f"{name}:/link").returncode == 0
    assert stat.S_ISLNK(target_mode(name, "/link"))
    # Down: a link in the target, named directly, is resolved by the engine inside the target, never on this
    # machine: this one points to a path the target does not have, so nothing is copied and nothing created.
    out = tmp_path / "down"
    got = debugbox(f"{name}:/link", str(out))
    assert got.returncode == 1, got.stderr
    assert f"/link is a link to {secret}, which does not exist in the target" in got.stderr
    assert not out.exists() and not out.is_symlink()


def put_archive(name: str, entries: list[tuple[tarfile.TarInfo, bytes]]) -> None:
    """Write `entries` into the container with the engine's own CLI (`docker cp - NAME:/` extracts a tar from
    stdin): how links, hard links and FIFOs are planted in a target that has no shell."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data else None)
    subprocess.run(["docker", "cp", "-", f"{name}:/"], input=raw.getvalue(), capture_output=True, check=True)


def entry(
    name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", link: str = ""
) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname, info.mode = kind, len(data), link, 0o644
    return info, data


#: Planted in a target: links (relative, to a folder, dangling), a FIFO, and a file with a second (hard) name.
PLANTED = [
    entry("data", tarfile.DIRTYPE),
    entry("data/real.conf", data=b"the real file\n"),
    entry("data/current.conf", tarfile.SYMTYPE, link="real.conf"),
    entry("data/site", tarfile.SYMTYPE, link="/www"),
    entry("data/gone", tarfile.SYMTYPE, link="/no/such/file"),
    entry("data/pipe", tarfile.FIFOTYPE),
    entry("data/kernel", tarfile.SYMTYPE, link="/proc/1/status"),
    entry("tools", tarfile.DIRTYPE),
    entry("tools/first", data=b"one file, two names\n"),
    entry("tools/second", tarfile.LNKTYPE, link="tools/first"),
]


def test_a_link_named_as_the_source_is_followed_inside_the_target_and_special_files_are_refused(
    containers: Containers, tmp_path: Path
) -> None:
    name = containers.run(DISTROLESS)
    put_archive(name, PLANTED)
    # A link to a file: the file's bytes, under the link's name (as `cp` names its source).
    here = tmp_path / "here"
    here.mkdir()
    got = debugbox(f"{name}:/data/current.conf", str(here))
    assert got.returncode == 0 and "1 file(s)" in got.stderr, got.stderr
    assert (here / "current.conf").read_bytes() == b"the real file\n"
    assert not (here / "current.conf").is_symlink() and not (here / "real.conf").exists()
    # A link to a folder, resolved inside the target (the absolute `/www` is the target's, not this machine's).
    got = debugbox(f"{name}:/data/site", str(tmp_path / "site"))
    assert got.returncode == 0, got.stderr
    assert (tmp_path / "site" / "index.html").read_bytes() == b"hello from distroless-app\n"
    # A dangling link and a FIFO: one sentence each, exit 1, nothing written (before: "copied", exit 0, and a
    # FIFO reported as a file that "changed while it was read").
    gone = debugbox(f"{name}:/data/gone", str(tmp_path / "gone"))
    assert (
        gone.returncode == 1 and "/data/gone is a link to /no/such/file, which does not exist" in gone.stderr
    )
    pipe = debugbox(f"{name}:/data/pipe", str(tmp_path / "pipe"))
    assert pipe.returncode == 1 and "/data/pipe is not a file or folder in the target" in pipe.stderr
    assert not (tmp_path / "gone").exists() and not (tmp_path / "pipe").exists()
    # A link into /proc leads beneath a mount, out of the archive API's reach: said, not "does not exist".
    kernel = debugbox(f"{name}:/data/kernel", str(tmp_path / "kernel"))
    assert kernel.returncode == 1 and "/proc in a running container is mounted over" in kernel.stderr


def test_hard_links_in_a_folder_arrive_as_the_files_they_are(containers: Containers, tmp_path: Path) -> None:
    # A hard link is a second name of a regular file (git's helpers, busybox applets): tar stores its bytes
    # once, and both names must arrive with them.
    name = containers.run(DISTROLESS)
    put_archive(name, PLANTED)
    got = debugbox(f"{name}:/tools", str(tmp_path / "tools"))
    assert got.returncode == 0, got.stderr
    assert "2 file(s)" in got.stderr and "skipped" not in got.stderr, got.stderr
    for each in ("first", "second"):
        assert (tmp_path / "tools" / each).read_bytes() == b"one file, two names\n"
    assert (tmp_path / "tools" / "second").stat().st_nlink == 1  # a copy, not a link made on this machine


def test_force_replaces_only_regular_files(containers: Containers, tmp_path: Path) -> None:
    # `--force` onto a FIFO (or, as root, onto /dev/null) used to put a regular file in its place.
    name = containers.run(DISTROLESS)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = debugbox(f"{name}:/www/index.html", str(fifo), "--force")
    assert got.returncode == 1, got.stderr
    assert (
        "is not a regular file (a FIFO, socket or device): --force replaces only regular files" in got.stderr
    )
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    # The same inside a folder copy: the FIFO is listed as kept, the other file is replaced.
    (tmp_path / "www").mkdir()
    os.mkfifo(tmp_path / "www" / "index.html")
    folder = debugbox(f"{name}:/www", str(tmp_path), "--force")
    assert folder.returncode == 0, folder.stderr
    assert "is not a regular file (a FIFO, socket or device), not replaced" in folder.stderr
    assert stat.S_ISFIFO(os.lstat(tmp_path / "www" / "index.html").st_mode)
