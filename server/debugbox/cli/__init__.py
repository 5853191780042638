"""The `debugbox` command line: one subcommand module each, all over the same core as the language server.

Every subcommand module exposes `register(subparsers)`, which adds its parser and sets `func` to a callable taking
the parsed namespace and returning an exit code. Exit codes: 0 ok, 1 findings/refusal (documented per command),
2 bad input or usage. Errors are one line on stderr, never a traceback.

Everything printed comes partly from files or clusters (names, images, paths, messages), so `main` routes
stdout and stderr through `printable` (`core/printable.py`) while a command runs: control characters (an OSC 52
clipboard write or a screen clear hidden in `metadata.name`), lone carriage returns, bidirectional overrides and
lone surrogates are shown as `\\xNN` / `\\uNNNN` escapes instead of reaching the terminal. Newlines, tabs and
CRLF stay.
Bytes written to `sys.stdout.buffer` (a manifest printed by `share-pid`, the user's own file) are not
touched.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TextIO

from debugbox import __version__
from debugbox.core.printable import printable

#: The one list of subcommand modules (in `debugbox.cli`), in help order.
SUBCOMMANDS = (
    "inspect",
    "check",
    "debug_image",
    "share_pid",
    "compose_sidecar",
    "targets",
    "shell",
    "session",
    "toolbox",
    "cleanup",
    "cp",
    "capture",
    "forward",
    "lsp",
)


class _Printable:
    """A text stream that writes `printable(text)` to the stream it wraps (everything else is delegated)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(printable(text))
        return len(text)

    @property
    def unfiltered(self) -> TextIO:
        """The wrapped stream, for debugbox's own control output (a progress line redrawn with `\\r`)."""
        return self._stream

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def json_text(value: Any) -> str:
    """`--json` output: indented for a person at a terminal, compact (Python's C encoder, several times faster
    on a 25,000-stage Dockerfile) when piped into another program."""
    if sys.stdout.isatty():
        return json.dumps(value, indent=2)
    return json.dumps(value)


def own_stream(stream: TextIO) -> TextIO:
    """`stream` without the printable filter: only for text debugbox itself wrote, with no data in it."""
    return stream.unfiltered if isinstance(stream, _Printable) else stream


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def engine_timeout(value: float | None) -> float | None:
    """A `--timeout` as given (None: the settings' default), checked: more than 0 seconds and at most an hour,
    so NaN, infinity and 0 are usage errors, not a socket's traceback or a silent default."""
    if value is not None and not 0 < value <= 3600:
        raise UsageError("--timeout must be between 0 and 3600 seconds")
    return value


class Stopped(KeyboardInterrupt):
    """SIGTERM, or SIGHUP (the terminal closed), taken as Ctrl-C: the command cleans up on its way out as it
    does for Ctrl-C (`stop_on_signals`), and exits with 128 + the signal's number, as if it had been killed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise `Stopped` in the main thread, so `finally` and `except
    BaseException` clean-ups run (a partly written file removed) instead of the process just ending."""
    import signal

    def stop(signum: int, frame: object) -> None:
        raise Stopped(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _columns() -> int:
    """The terminal's width as `shutil.get_terminal_size` finds it ($COLUMNS, then stdout's terminal, else 80)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, sized without importing `shutil`: argparse builds one for every `add_argument`, and
    `shutil` brings zlib, bz2 and lzma to a `debugbox shell` that execs the engine's CLI a moment later."""

    def __init__(
        self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None
    ) -> None:
        super().__init__(
            prog, indent_increment, max_help_position, _columns() - 2 if width is None else width
        )


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose help uses `_HelpFormatter` (subcommands' parsers are made with this class too)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole CLI; with `only` (a module name from SUBCOMMANDS), just that subcommand."""
    parser = _Parser(
        prog="debugbox",
        description="Get a shell and real tools into a running container, even a distroless one.",
    )
    parser.add_argument("--version", action="version", version=f"debugbox {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        if only is not None and name != only:
            continue
        importlib.import_module(f"debugbox.cli.{name}").register(sub)
    return parser


class _Deferred(types.ModuleType):
    """A module that is imported for real on the first use of one of its names, then stands for it."""

    def __getattr__(self, name: str) -> Any:
        sys.modules.pop(self.__name__, None)
        real = importlib.import_module(self.__name__)
        self.__dict__.update(real.__dict__)  # later lookups find the names without coming here
        return getattr(real, name)


def defer_import(name: str) -> None:
    """Let `import NAME` give a `_Deferred` stand-in until one of its names is used, unless it is loaded already.

    For `inspect` (~9 ms to import, with `ast`, `dis` and `tokenize`; benchmarks/README.md): `dataclasses` imports
    it at its top but uses it only to write a docstring for a class without one, and every dataclass and record
    debugbox defines has its own. A terminal's `debugbox shell` pays that import for nothing before it execs the
    engine's CLI; any code that does use `inspect` (pygls under `debugbox lsp`) loads the real module then.
    """
    if name not in sys.modules:
        sys.modules[name] = _Deferred(name)


def main(argv: Sequence[str] | None = None) -> int:
    defer_import("inspect")
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Printable(out), _Printable(err)  # type: ignore[assignment]
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = out, err


def _main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    # Import only the subcommand asked for: the others pull in the analysers, PyYAML and lsprotocol (about 0.3 s
    # of CPU), which editors starting `debugbox lsp` and terminals opening `debugbox shell` would wait for.
    first = words[0].replace("-", "_") if words and not words[0].startswith("-") else ""
    parser = build_parser(only=first if first in SUBCOMMANDS else None)
    args = parser.parse_args(words)
    try:
        code: int = args.func(args)
    except UsageError as exc:
        print(f"debugbox: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        return 128 + exc.signum if isinstance(exc, Stopped) else 130
    except BrokenPipeError:
        # The reader went away (`debugbox inspect … | head`): stop quietly, as other CLI tools do.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return code


def terminal_consent(yes: bool) -> Callable[[str], bool]:
    """The CLI's consent to a change that asks first (a debug container added to a pod, copies deleted):
    `--yes`, else a y/N question on a terminal, else no."""

    def ask(question: str) -> bool:
        if yes:
            print(f"debugbox: {question.split('?')[0]}: yes (--yes)", file=sys.stderr)
            return True
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            return False
        print(f"debugbox: {question} [y/N] ", end="", file=sys.stderr, flush=True)
        try:
            return sys.stdin.readline().strip().lower() in ("y", "yes")
        except (OSError, KeyboardInterrupt):
            return False

    return ask
