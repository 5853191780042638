"""`debugbox lsp`: run the language server on stdio (or TCP, for debugging the server itself).

Over TCP anyone who can connect drives the server (open files, run commands), and the LSP has no
authentication, so `--tcp` listens on loopback only: a host other than a loopback address is refused unless
`--allow-remote` says the exposure is intended. Where it listens is always said on stderr.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from typing import Any

from debugbox.cli import UsageError

LOOPBACK = "127.0.0.1"


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("lsp", help="run the language server (stdio by default)")
    p.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (the default)")
    p.add_argument(
        "--tcp",
        metavar="[HOST:]PORT",
        help=f"listen on TCP instead, for debugging the server (HOST defaults to {LOOPBACK}; loopback only)",
    )
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --tcp HOST that is not a loopback address (anyone reaching it controls the server)",
    )
    p.add_argument("--log-file", metavar="PATH", help="also write the server log to this file")
    p.set_defaults(func=run)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def tcp_address(spec: str, allow_remote: bool) -> tuple[str, int]:
    """(host, port) from `--tcp [HOST:]PORT`; UsageError for a bad spec or a remote host not allowed."""
    host, _, port = spec.rpartition(":")
    host = host or LOOPBACK
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--tcp wants [HOST:]PORT, got {spec!r}")
    if not is_loopback(host) and not allow_remote:
        raise UsageError(
            f"--tcp {spec}: {host} is not a loopback address; the LSP has no authentication, so anyone "
            "reaching it could drive the server. Use 127.0.0.1, or add --allow-remote if that is intended"
        )
    # "localhost" may also resolve to ::1 or, through /etc/hosts, elsewhere: bind the address it means.
    return (LOOPBACK if host == "localhost" else host.strip("[]")), int(port)


def _bind_refusal(host: str, port: int) -> str | None:
    """Why `host:port` cannot be listened on (in use, not an address of this machine...), or None. Bound as
    asyncio's server binds (SO_REUSEADDR), then released for it."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:  # socket.gaierror included
        import errno

        said = exc.strerror or str(exc)
        return (
            f"{said}; pick another port"
            if exc.errno == errno.EADDRINUSE
            else f"{said}; use an address of this machine"
        )
    return None


def run(args: argparse.Namespace) -> int:
    if args.tcp:
        host, port = tcp_address(args.tcp, args.allow_remote)
    # Imported here so that other subcommands never pay for pygls.
    from debugbox.lsp.server import create_server, setup_logging

    setup_logging(args.log_file)
    server = create_server()
    if args.tcp:
        refused = _bind_refusal(host, port)
        if refused:
            # Before the "listening on" line, which would otherwise be printed and then contradicted.
            print(f"debugbox: cannot listen on {host}:{port}: {refused}", file=sys.stderr)
            return 1
        scope = "loopback only" if is_loopback(host) else "REACHABLE FROM OTHER MACHINES (--allow-remote)"
        print(f"debugbox: language server listening on {host}:{port} ({scope})", file=sys.stderr, flush=True)
        server.start_tcp(host, port)
    else:
        server.start_io()
    return 0
