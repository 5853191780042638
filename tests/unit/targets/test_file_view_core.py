"""The pure decisions of the read-only file view: which headers of a directory's archive are its direct children
(in both shapes the engine writes: `/`, `/etc/` for the root; `www/`, `www/x` below it), the entry cap, the
engine's stat header, and the paths accepted."""

from __future__ import annotations

import io
import tarfile

import pytest
from debugbox.core.errors import InvalidTarget
from debugbox.core.targets.file_view import (
    Entry,
    kind_of_mode,
    list_children,
    stat_entry,
    target_path,
)


def archive(*members: tuple[str, str]) -> list[tarfile.TarInfo]:
    """Headers as the tar reader gives them back from a real archive: (name, kind) with kind d, f, l."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, kind in members:
            info = tarfile.TarInfo(name)
            info.mtime = 1_700_000_000
            if kind == "d":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == "l":
                info.type = tarfile.SYMTYPE
                info.linkname = "/etc/passwd"
                tar.addfile(info)
            else:
                data = b"x" * 7
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    with tarfile.open(fileobj=buf, mode="r|") as tar:
        return list(tar)


def test_the_roots_direct_children_only() -> None:
    listing = list_children(
        archive(("/", "d"), ("/.dockerenv", "f"), ("/etc/", "d"), ("/etc/hosts", "f"), ("/www/", "d"))
    )
    assert [(e.name, e.kind) for e in listing.entries] == [
        (".dockerenv", "file"),
        ("etc", "directory"),
        ("www", "directory"),
    ]
    assert not listing.truncated


def test_a_folders_children_with_spaces_non_ascii_links_and_sizes() -> None:
    listing = list_children(
        archive(
            ("dir with space/", "d"),
            ("dir with space/naïve ü.bin", "f"),
            ("dir with space/sub/", "d"),
            ("dir with space/sub/deep.txt", "f"),
            ("dir with space/passwd", "l"),
        )
    )
    assert listing.entries == (
        Entry("naïve ü.bin", "file", 7, 1_700_000_000.0),
        Entry("sub", "directory", 0, 1_700_000_000.0),
        Entry("passwd", "symlink", 0, 1_700_000_000.0, "/etc/passwd"),
    )


def test_names_that_leave_the_folder_are_not_children() -> None:
    listing = list_children(archive(("www/", "d"), ("other/x", "f"), ("www/../y", "f"), ("www/ok", "f")))
    assert [e.name for e in listing.entries] == ["ok"]


def test_the_entry_cap_stops_reading_and_says_so() -> None:
    members = archive(("big/", "d"), *((f"big/f{i}", "f") for i in range(10)))
    listing = list_children(members, max_entries=3)
    assert [e.name for e in listing.entries] == ["f0", "f1", "f2"]
    assert listing.truncated
    assert not list_children(members, max_entries=10).truncated


def test_the_engines_stat_header() -> None:
    go_dir = 1 << 31
    entry = stat_entry(
        "/www",
        {"name": "www", "size": 4096, "mode": go_dir | 0o755, "mtime": "2026-12-05T17:09:01.123456789Z"},
    )
    assert entry.kind == "directory" and entry.name == "www"
    assert entry.mtime == pytest.approx(1796490541.123456)
    link = stat_entry("/l", {"name": "l", "size": 11, "mode": (1 << 27) | 0o777, "linkTarget": "/etc/passwd"})
    assert link.kind == "symlink" and link.link_target == "/etc/passwd"
    assert stat_entry("/f", {"mode": 0o644, "size": "junk", "mtime": "not a time"}) == Entry(
        "f", "file", 0, 0.0
    )
    assert kind_of_mode((1 << 26) | 0o600) == "other"  # a device


@pytest.mark.parametrize(("path", "expected"), [("/", "/"), ("//", "/"), ("/a/../b c/ü/", "/b c/ü")])
def test_target_paths(path: str, expected: str) -> None:
    assert target_path(path) == expected


@pytest.mark.parametrize("path", ["etc", "", "/a\nb", "/a\x7f"])
def test_bad_target_paths(path: str) -> None:
    with pytest.raises(InvalidTarget):
        target_path(path)


def test_a_listed_path_may_hold_control_characters_but_not_nul() -> None:
    """A file view's path comes from a listing of the target: a hostile image's `a<newline>b` must open."""
    assert target_path("/odd/a\nb", listed=True) == "/odd/a\nb"
    assert target_path("/odd/e\x1b[2Jx/../t\x7f", listed=True) == "/odd/t\x7f"
    with pytest.raises(InvalidTarget):
        target_path("/a\x00b", listed=True)
    with pytest.raises(InvalidTarget):
        target_path("a\nb", listed=True)
