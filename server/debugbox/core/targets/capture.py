"""Packet captures of a target's traffic, decided without running anything: the capture helper's argv and the
summary of the pcap it wrote.

`tcpdump` runs in a labelled helper from the toolbox image that shares the target's network namespace, with no
TTY, writing the pcap to its stdout unbuffered (`-U -w -`); the edge stores those bytes untouched. (Through
`exec -it` a TTY rewrites line endings and the file is no longer a pcap — the failure users hit with `kubectl
exec … tcpdump`.) Nothing runs inside the target.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from debugbox.core.errors import InvalidTarget, engine_cli_reason
from debugbox.core.targets.names import validate_image

#: Label on capture helpers (value: the target's container ID).
CAPTURE_LABEL = "io.debugbox.capture-for"
#: A pcap filter is tcpdump's own language; refuse only what could never be part of one (and would reach the
#: helper's argv as something else): control characters, and a leading `-` (an option, not a filter).
_BAD_FILTER = re.compile(r"[\x00-\x1f\x7f]")
_MAX_FILTER = 1000


def validate_filter(expr: str) -> str:
    expr = expr.strip()
    if len(expr) > _MAX_FILTER:
        raise InvalidTarget(f"the capture filter is longer than {_MAX_FILTER} characters")
    if _BAD_FILTER.search(expr) or expr.startswith("-"):
        raise InvalidTarget("the capture filter holds control characters or starts with '-'")
    return expr


def capture_argv(
    cli: tuple[str, ...],
    container_id: str,
    toolbox: str,
    name: str,
    expr: str = "",
    interface: str = "any",
    count: int | None = None,
) -> tuple[str, ...]:
    """The helper: tcpdump on the target's interfaces, pcap to stdout, no TTY, removed when it stops."""
    image = validate_image(toolbox)
    if not re.fullmatch(r"[A-Za-z0-9_.:@-]{1,32}", interface) or interface.startswith("-"):
        raise InvalidTarget(f"invalid interface name {interface!r}")
    words = tuple(validate_filter(expr).split()) if expr else ()
    if count is not None and not 0 < count <= 10_000_000:
        raise InvalidTarget("the packet count must be between 1 and 10000000")
    return (
        *cli,
        "run",
        "--rm",
        "-i",
        "--name",
        name,
        "--label",
        f"{CAPTURE_LABEL}={container_id}",
        "--network",
        f"container:{container_id}",
        "--cap-add",
        "NET_RAW",
        "--cap-add",
        "NET_ADMIN",
        "--entrypoint",
        "tcpdump",
        image,
        "-i",
        interface,
        "-U",
        *(("-c", str(count)) if count is not None else ()),
        "-w",
        "-",
        *(("--", *words) if words else ()),
    )


#: How a missing tcpdump is said: docker/runc, crun (Podman), a shell in a pod's debug container.
_NO_TCPDUMP = re.compile(
    r'"tcpdump": executable file not found|`tcpdump` not found|tcpdump: (command )?not found'
)
#: tcpdump's start-up lines on stderr: not the reason when it fails.
_TCPDUMP_NOISE = ("tcpdump: data link type", "tcpdump: listening on")


def capture_failure(stderr: str, returncode: int, toolbox: str = "") -> str:
    """One sentence for a capture that ended without a pcap: a toolbox image without tcpdump is said as such,
    with what to do; otherwise the engine's or tcpdump's own sentence (`errors.engine_cli_reason`: never the
    CLI's usage hint, which would hide it)."""
    if _NO_TCPDUMP.search(stderr):
        image = f"the toolbox image {toolbox}" if toolbox else "the debug container's toolbox image"
        return (
            f"{image} has no tcpdump: capture with a toolbox that has it, e.g. --image nicolaka/netshoot "
            "(busybox images do not)"
        )
    said = "\n".join(line for line in stderr.splitlines() if not line.strip().startswith(_TCPDUMP_NOISE))
    return f"the capture failed: {engine_cli_reason(said) or f'exit status {returncode}'}"


@dataclass(frozen=True)
class PcapSummary:
    packets: int
    captured_bytes: int
    """Bytes of packet data in the file (what tcpdump kept; `snaplen` may have cut packets)."""
    link_type: int
    truncated: bool
    """The file ends inside a record (the capture was cut off mid-write)."""


_MAGICS = {
    b"\xd4\xc3\xb2\xa1": "<",  # microsecond pcap, little endian
    b"\xa1\xb2\xc3\xd4": ">",
    b"\x4d\x3c\xb2\xa1": "<",  # nanosecond pcap
    b"\xa1\xb2\x3c\x4d": ">",
}


def summarize_pcap(data: bytes) -> PcapSummary:
    """Count the records of a classic pcap file; ValueError when `data` is not one."""
    if len(data) < 24 or data[:4] not in _MAGICS:
        raise ValueError("not a pcap file (no pcap magic number)")
    order = _MAGICS[data[:4]]
    link_type = struct.unpack(order + "I", data[20:24])[0]
    offset, packets, captured = 24, 0, 0
    while offset + 16 <= len(data):
        incl = struct.unpack(order + "I", data[offset + 8 : offset + 12])[0]
        if offset + 16 + incl > len(data):
            return PcapSummary(packets, captured, link_type, True)
        packets += 1
        captured += incl
        offset += 16 + incl
    return PcapSummary(packets, captured, link_type, offset != len(data))
