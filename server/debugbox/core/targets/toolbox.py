"""A local toolbox image from what the machine has (`debugbox toolbox build`): pure decisions over file facts.

The root filesystem holds a static busybox (its `sh` and small tools, one link per applet) and, optionally,
named host tools with the shared libraries the host's loader resolves for them (`ldd`), at their host paths.
Whether a binary is static is read from its ELF program headers (no `PT_INTERP`), without running it.
"""

from __future__ import annotations

import re
import struct

PT_INTERP = 3
_LDD_PATH = re.compile(r"(?:=>\s*)?(/\S+)\s+\(0x[0-9a-f]+\)")


def elf_interpreter_present(head: bytes, program_headers: bytes | None = None) -> bool | None:
    """Whether an ELF file asks for a dynamic loader. `head` is its first 64 bytes; `program_headers` the bytes
    at `program_header_span(head)`. None when `head` is not ELF."""
    if len(head) < 52 or head[:4] != b"\x7fELF":
        return None
    if program_headers is None:
        raise ValueError("program_headers are needed for an ELF file")
    _, size, count = program_header_span(head)
    endian = "<" if head[5] == 1 else ">"
    for i in range(count):
        entry = program_headers[i * size : i * size + 4]
        if len(entry) == 4 and struct.unpack(f"{endian}I", entry)[0] == PT_INTERP:
            return True
    return False


def program_header_span(head: bytes) -> tuple[int, int, int]:
    """(offset, entry size, count) of an ELF file's program headers, from its first 64 bytes."""
    endian = "<" if head[5] == 1 else ">"
    if head[4] == 2:  # 64-bit
        offset = struct.unpack_from(f"{endian}Q", head, 0x20)[0]
        size, count = struct.unpack_from(f"{endian}HH", head, 0x36)
    else:
        offset = struct.unpack_from(f"{endian}I", head, 0x1C)[0]
        size, count = struct.unpack_from(f"{endian}HH", head, 0x2A)
    return int(offset), int(size), int(count)


def libraries_from_ldd(output: str) -> list[str]:
    """The absolute paths `ldd` resolved (libraries and the loader), in order; vdso and missing ones left out."""
    paths: list[str] = []
    for line in output.splitlines():
        if "not found" in line:
            continue
        match = _LDD_PATH.search(line)
        if match and match.group(1) not in paths:
            paths.append(match.group(1))
    return paths


def missing_libraries(output: str) -> list[str]:
    return [line.split("=>", 1)[0].strip() for line in output.splitlines() if "not found" in line]


#: `/etc/passwd` of a built toolbox: root, the user tcpdump drops to after opening a capture, and distroless's
#: `nonroot` (so `ps` names a 65532 target's user).
USERS_FILE = (
    "root:x:0:0:root:/root:/bin/sh\n"
    "tcpdump:x:104:104::/nonexistent:/bin/false\n"
    "nonroot:x:65532:65532::/home/nonroot:/bin/sh\n"
    "nobody:x:65534:65534::/:/bin/false\n"
)
GROUPS_FILE = "root:x:0:\ntcpdump:x:104:\nnonroot:x:65532:\nnogroup:x:65534:\n"
