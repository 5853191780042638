"""`edge/writes.write_stream`: data arriving in pieces (a copy out of a pod) under the one write rule; a source
that fails midway leaves nothing behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from debugbox.edge.writes import WriteRefused, write_stream


def _failing() -> Iterator[bytes]:
    yield b"half of it"
    raise OSError("the stream broke")


def test_pieces_land_in_a_new_file_and_replace_only_when_asked(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    write_stream(target, iter([b"a", b"\x00\r\n", b"z"]), tmp_path, replace=False)
    assert target.read_bytes() == b"a\x00\r\nz"
    with pytest.raises(FileExistsError):
        write_stream(target, iter([b"new"]), tmp_path, replace=False)
    target.chmod(0o640)
    write_stream(target, iter([b"new"]), tmp_path, replace=True)
    assert target.read_bytes() == b"new" and target.stat().st_mode & 0o777 == 0o640


def test_a_failing_source_leaves_no_partial_file_and_the_old_one_intact(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.bin"
    with pytest.raises(OSError, match="broke"):
        write_stream(fresh, _failing(), tmp_path, replace=False)
    assert not fresh.exists()
    old = tmp_path / "old.bin"
    old.write_bytes(b"keep me")
    with pytest.raises(OSError, match="broke"):
        write_stream(old, _failing(), tmp_path, replace=True)
    assert old.read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.bin"]  # no temporary file left


def test_a_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    inside = tmp_path / "ws"
    inside.mkdir()
    (inside / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(WriteRefused):
        write_stream(inside / "link", iter([b"x"]), inside, replace=False)
    assert not (tmp_path / "elsewhere").exists()
