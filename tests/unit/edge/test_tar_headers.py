"""The single-file fast path of `debugbox cp` (edge/transfer.py), on real tar streams written by Python's
tarfile in every format Go's archive/tar may send (USTAR with a prefix, GNU long names, PAX): the header reader
finds the one regular file and its size, says None for anything else, and refuses what does not parse; a stream
that ends early leaves no file behind.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from debugbox.core.errors import RuntimeUnavailable
from debugbox.edge import transfer
from debugbox.edge.transfer import Summary, TransferRefused, read_file_header

LONG = "deep/" * 30 + "file.bin"  # 158 characters: past USTAR's 100-byte name field
ODD = "dir with space/naïve ünïcode — файл.txt"


def archive(*entries: tarfile.TarInfo, data: bytes = b"", fmt: int = tarfile.PAX_FORMAT) -> io.BytesIO:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=fmt) as tar:
        for info in entries:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    raw.seek(0)
    return raw


def regular(name: str, size: int, mode: int = 0o644) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode = size, mode
    return info


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
@pytest.mark.parametrize("name", ["big.bin", "usr/share/some/file.txt", LONG, ODD])
def test_the_header_gives_name_size_and_mode_and_leaves_the_stream_at_the_data(fmt: int, name: str) -> None:
    if fmt == tarfile.USTAR_FORMAT and name == ODD:
        return  # USTAR cannot carry it portably; Go writes PAX for such a name
    data = bytes(range(256)) * 5
    stream = archive(regular(name, len(data), 0o4755), data=data, fmt=fmt)
    assert read_file_header(stream) == (name, len(data), 0o4755)
    assert stream.read(len(data)) == data


def test_a_pax_size_overrides_the_header_field() -> None:
    info = regular("f", 3)
    info.pax_headers = {"size": "3", "comment": "x" * 600}  # a record longer than one block
    stream = archive(info, data=b"abc")
    assert read_file_header(stream) == ("f", 3, 0o644)
    assert stream.read(3) == b"abc"


@pytest.mark.parametrize("kind", [tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.FIFOTYPE])
def test_anything_but_a_regular_file_first_is_none(kind: bytes) -> None:
    info = tarfile.TarInfo("x")
    info.type = kind
    info.linkname = "/etc/passwd" if kind == tarfile.SYMTYPE else ""
    assert read_file_header(archive(info)) is None


def test_an_empty_archive_is_none() -> None:
    assert read_file_header(archive()) is None


def test_garbage_is_refused_not_guessed() -> None:
    block = bytearray(archive(regular("f", 3), data=b"abc").read(512))
    block[124:136] = b"not octal!!\0"
    with pytest.raises(TransferRefused, match="cannot read"):
        read_file_header(io.BytesIO(bytes(block) + bytes(1024)))


def test_a_stream_that_ends_early_leaves_no_file(tmp_path: Path) -> None:
    whole = archive(regular("f.bin", 4096), data=b"x" * 4096).getvalue()
    cut = io.BytesIO(whole[: 512 + 1000])  # the header and 1,000 of 4,096 bytes
    summary = Summary()
    with pytest.raises(RuntimeUnavailable, match="ended early"):
        transfer._single_file(
            cut,  # type: ignore[arg-type]  # a byte stream with readinto, as the engine's response is
            "/f.bin",
            "f.bin",
            tmp_path,
            None,
            force=False,
            summary=summary,
            progress=lambda _: None,
        )
    assert list(tmp_path.iterdir()) == []
    assert summary.files == 0


def test_sizes_past_8_gib_in_gnu_base_256_are_read() -> None:
    size = 9 * 1024**3
    block = bytearray(archive(regular("f", 0)).read(512))
    block[124:136] = tarfile.itn(size, 12, tarfile.GNU_FORMAT)
    block[148:156] = b"        "
    block[148:156] = b"%06o\0 " % (sum(block) & 0o777777)  # the checksum, as tarfile writes it
    assert read_file_header(io.BytesIO(bytes(block))) == ("f", size, 0o644)
