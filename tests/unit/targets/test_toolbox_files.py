"""The pure parts of `debugbox toolbox build`: which libraries `ldd` named, and whether an ELF file is static."""

from __future__ import annotations

from pathlib import Path

from debugbox.core.targets.toolbox import libraries_from_ldd, missing_libraries
from debugbox.edge.toolbox_build import is_static

from tests.conftest import require

LDD = """\
\tlinux-vdso.so.1 (0x00007ffd5a3f2000)
\tlibunwind-ptrace.so.0 => /lib/x86_64-linux-gnu/libunwind-ptrace.so.0 (0x00007f84af446000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f84af01e000)
\tlibgone.so.2 => not found
\t/lib64/ld-linux-x86-64.so.2 (0x00007f84af461000)
"""


def test_ldd_output_gives_the_libraries_and_the_loader_and_what_is_missing() -> None:
    assert libraries_from_ldd(LDD) == [
        "/lib/x86_64-linux-gnu/libunwind-ptrace.so.0",
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/lib64/ld-linux-x86-64.so.2",
    ]
    assert missing_libraries(LDD) == ["libgone.so.2"]
    assert libraries_from_ldd("\tnot a dynamic executable\n") == []


def test_static_and_dynamic_binaries_are_told_apart_from_their_headers(tmp_path: Path) -> None:
    busybox = Path("/bin/busybox")
    require(busybox.is_file(), "/bin/busybox (Debian's busybox-static) is needed")
    assert is_static(busybox) is True
    assert is_static(Path("/bin/ls")) is False  # asks for /lib64/ld-linux-x86-64.so.2
    text = tmp_path / "script"
    text.write_text("#!/bin/sh\n")
    assert is_static(text) is False
