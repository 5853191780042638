"""The `debugbox` command line: one subcommand module each, all over the same core as the language server.

Every subcommand module exposes `register(subparsers)`, which adds its parser and sets `func` to a callable taking
the parsed namespace and returning an exit code. Exit codes: 0 ok, 1 findings/refusal (documented per command),
2 bad input or usage. Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from debugbox import __version__

#: The one list of subcommand modules (in `debugbox.cli`), in help order.
SUBCOMMANDS = (
    "inspect",
    "check",
    "debug_image",
    "share_pid",
    "targets",
    "shell",
    "cp",
    "forward",
    "capture",
    "lsp",
)


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole CLI; with `only` (a module name from SUBCOMMANDS), just that subcommand."""
    parser = argparse.ArgumentParser(
        prog="debugbox",
        description="Get a shell and real tools into a running container, even a distroless one.",
    )
    parser.add_argument("--version", action="version", version=f"debugbox {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        if only is not None and name != only:
            continue
        try:
            module = importlib.import_module(f"debugbox.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"debugbox.cli.{name}":
                continue  # not built yet
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    # Editors start `debugbox lsp` on every launch: import only its module, not the other subcommands, which
    # pull in the analysers and PyYAML (about 0.1 s of CPU before `initialize` could be answered).
    parser = build_parser(only="lsp" if words[:1] == ["lsp"] else None)
    args = parser.parse_args(words)
    try:
        code: int = args.func(args)
    except UsageError as exc:
        print(f"debugbox: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`debugbox inspect … | head`): stop quietly, as other CLI tools do.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return code
