"""Reaching a port that listens only inside a container's network namespace: the argv of the helper and of
each connection, decided without running anything.

Docker cannot publish a port of a running container, and an application bound to `127.0.0.1` is unreachable
from outside its namespace even when published. debugbox starts one labelled helper from the toolbox image in
the target's network namespace (`--network container:ID`, so `127.0.0.1` is the target's) that only sleeps;
each local connection runs `nc 127.0.0.1 PORT` in it through `exec -i` and pipes the bytes. Nothing runs inside
the target itself, so distroless targets work.
"""

from __future__ import annotations

import ipaddress

from debugbox.core.errors import InvalidTarget
from debugbox.core.targets.names import validate_image

#: Label on forwarding helpers (value: the target's container ID), so they can be listed and removed.
FORWARD_LABEL = "io.debugbox.forward-for"
#: The helper's only job is to hold the namespace open: sleep about 68 years (busybox and coreutils accept it).
_HOLD = ("sleep", "2147483647")


def validate_port(value: int | str, what: str = "port") -> int:
    """A TCP port number 1-65535 (0 is allowed only where the caller asks the system to pick)."""
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise InvalidTarget(f"{what} {value!r} is not a number") from None
    if not 1 <= port <= 65535:
        raise InvalidTarget(f"{what} {port} is outside 1-65535")
    return port


def helper_argv(cli: tuple[str, ...], container_id: str, toolbox: str, name: str) -> tuple[str, ...]:
    """Start the helper (detached, removed when stopped) in the target's network namespace."""
    image = validate_image(toolbox)
    return (
        *cli,
        "run",
        "-d",
        "--rm",
        "--name",
        name,
        "--label",
        f"{FORWARD_LABEL}={container_id}",
        "--network",
        f"container:{container_id}",
        "--entrypoint",
        _HOLD[0],
        image,
        *_HOLD[1:],
    )


def connect_argv(cli: tuple[str, ...], helper: str, port: int, address: str = "127.0.0.1") -> tuple[str, ...]:
    """One connection: the helper's `nc` to `address` in the target's namespace (its loopback unless the app
    listens elsewhere: `listening_address`), its stdio being the connection's bytes."""
    where = str(ipaddress.ip_address(address))  # an address, never an option or a name to resolve
    return (*cli, "exec", "-i", helper, "nc", where, str(validate_port(port)))


def listeners_argv(cli: tuple[str, ...], helper: str) -> tuple[str, ...]:
    """The target's listening sockets as the kernel lists them, read by the helper in its namespace."""
    return (*cli, "exec", helper, "cat", "/proc/net/tcp", "/proc/net/tcp6")


_LISTEN = "0A"


def listening_address(port: int, proc_net_tcp: str) -> str | None:
    """Where `nc` in the target's namespace reaches what listens on `port`, from `/proc/net/tcp` and `tcp6`
    (one text, in either order); None when nothing listens on it.

    The loopback first: `127.0.0.1` for an IPv4 wildcard or loopback listener and for the IPv6 wildcard `::`
    (dual-stack, and reachable even where the namespace has no IPv6 address, as Docker's default); `::1` for an
    app bound to the IPv6 loopback only (Podman's namespaces have one; Node's `localhost` binds it); else the
    one address the app bound (the namespace's own eth0 address, say)."""
    found: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for line in proc_net_tcp.splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[3] != _LISTEN or ":" not in fields[1]:
            continue
        raw, _, hex_port = fields[1].partition(":")
        try:
            if int(hex_port, 16) != port:
                continue
            found.append(_kernel_address(raw))
        except ValueError:
            continue
    if not found:
        return None
    for address in found:
        if address.is_unspecified or (address.version == 4 and address.is_loopback):
            return "127.0.0.1"
    for address in found:
        if address.is_loopback:
            return str(address)
    first = found[0]
    mapped = first.ipv4_mapped if isinstance(first, ipaddress.IPv6Address) else None
    return str(mapped or first)


def _kernel_address(raw: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An address as `/proc/net/tcp{,6}` prints it: 32-bit words in hex, each in the host's (little-endian) order."""
    data = bytes.fromhex(raw)
    if len(data) not in (4, 16):
        raise ValueError(raw)
    ordered = b"".join(data[i : i + 4][::-1] for i in range(0, len(data), 4))
    return ipaddress.ip_address(ordered)


def remove_argv(cli: tuple[str, ...], helper: str) -> tuple[str, ...]:
    return (*cli, "rm", "-f", helper)
