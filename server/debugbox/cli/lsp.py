"""`debugbox lsp`: run the language server on stdio (or TCP, for debugging the server itself)."""

from __future__ import annotations

import argparse
from typing import Any

from debugbox.cli import UsageError


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("lsp", help="run the language server (stdio by default)")
    p.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (the default)")
    p.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead, for debugging the server")
    p.add_argument("--log-file", metavar="PATH", help="also write the server log to this file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here so that other subcommands never pay for pygls.
    from debugbox.lsp.server import create_server, setup_logging

    setup_logging(args.log_file)
    server = create_server()
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not host or not port.isdigit():
            raise UsageError(f"--tcp wants HOST:PORT, got {args.tcp!r}")
        server.start_tcp(host, int(port))
    else:
        server.start_io()
    return 0
