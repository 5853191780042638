"""The single-file fast path of `debugbox cp` on a real Docker engine (edge/transfer.py: a file's tar header
parsed by debugbox and its bytes moved with `readinto` out, `sendfile` with an exact Content-Length in), next to
what must still take tarfile's path (a folder, a link): setuid bits are dropped both ways, a file copied to a
folder lands inside it, a sparse file with data at its end round-trips, a link is never followed or recreated,
and a file that would replace another needs --force.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
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
    # Down: a link in the target, named directly, is reported and not recreated.
    out = tmp_path / "down"
    got = debugbox(f"{name}:/link", str(out))
    assert got.returncode == 0, got.stderr
    assert "a link, not copied" in got.stderr
    assert not out.exists() and not out.is_symlink()
