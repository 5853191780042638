"""Reaching a port that listens only inside a container's network namespace: the argv of the helper and of
each connection, decided without running anything.

Docker cannot publish a port of a running container, and an application bound to `127.0.0.1` is unreachable
from outside its namespace even when published. debugbox starts one labelled helper from the toolbox image in
the target's network namespace (`--network container:ID`, so `127.0.0.1` is the target's) that only sleeps;
each local connection runs `nc 127.0.0.1 PORT` in it through `exec -i` and pipes the bytes. Nothing runs inside
the target itself, so distroless targets work.
"""

from __future__ import annotations

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


def connect_argv(cli: tuple[str, ...], helper: str, port: int) -> tuple[str, ...]:
    """One connection: the helper's `nc` to the target's loopback, its stdio being the connection's bytes."""
    return (*cli, "exec", "-i", helper, "nc", "127.0.0.1", str(validate_port(port)))


def remove_argv(cli: tuple[str, ...], helper: str) -> tuple[str, ...]:
    return (*cli, "rm", "-f", helper)
