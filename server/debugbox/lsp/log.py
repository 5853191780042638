"""Server logging: stderr and an optional file from process start, the editor's log (`window/logMessage`) once
connected.

Never stdout: under `debugbox lsp` it is the JSON-RPC channel, and one stray line corrupts the stream.

- `setup_logging(log_file)` runs before the server exists (cli/lsp.py). Without `--log-file`, a file under
  `$DEBUGBOX_LOG_DIR` is used when that variable is set (the test command sets it, so every test run keeps the
  server logs as artifacts).
- pygls logs every message body at INFO; its loggers are held at WARNING so a 5 MB document does not end up in
  the log three times. Its tracebacks for the JSON-RPC errors we raise on purpose (bad command arguments) are
  cut to one line: those are answers to the client, not server faults.
- `ClientLogHandler` forwards `debugbox.*` records to the editor. Records may come from worker threads
  (analysis) while messages must be written from the event loop, so emitting hops onto the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from lsprotocol import types as lsp

LOGGER_NAME = "debugbox"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: Longest message sent to the editor; the full text still goes to stderr / the log file.
_MAX_CLIENT_MESSAGE = 20_000

#: `debugbox.logLevel` setting values → logging levels.
LEVELS = {"error": logging.ERROR, "warning": logging.WARNING, "info": logging.INFO, "debug": logging.DEBUG}

_MESSAGE_TYPES = (
    (logging.ERROR, lsp.MessageType.Error),
    (logging.WARNING, lsp.MessageType.Warning),
    (logging.INFO, lsp.MessageType.Info),
)


#: InvalidParams, RequestCancelled, RequestFailed, ContentModified: answers to the client, not server faults.
_EXPECTED_ERROR_CODES = frozenset({-32602, -32800, -32803, -32801})


class _ExpectedRpcErrors(logging.Filter):
    """Drop the traceback pygls attaches when a handler raises an expected JSON-RPC error (InvalidParams…)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None:
            # JSON-RPC exceptions carry an int `code`; duck typing keeps pygls out of this module's imports.
            code = getattr(exc, "code", None)
            if isinstance(code, int) and code in _EXPECTED_ERROR_CODES and hasattr(exc, "to_response_error"):
                record.msg = f"request answered with an error: {exc}"
                record.args = None
                record.exc_info = None
                record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def _default_log_file() -> str | None:
    log_dir = os.environ.get("DEBUGBOX_LOG_DIR")
    if not log_dir:
        return None
    return str(Path(log_dir) / f"debugbox-lsp-{os.getpid()}.log")


def setup_logging(log_file: str | None, level: int = logging.INFO) -> None:
    """Configure the process's logging for the language server; idempotent enough for tests that call it
    twice."""
    formatter = logging.Formatter(_FORMAT)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    path = log_file or _default_log_file()
    if path:
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            handlers.append(logging.FileHandler(path, encoding="utf-8"))
        except OSError as exc:
            print(f"debugbox: cannot write the log file {path}: {exc}", file=sys.stderr)
    root = logging.getLogger()
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(_ExpectedRpcErrors())
        root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger(LOGGER_NAME).setLevel(level)
    # pygls logs every message it sends at INFO (bodies included); only its problems are worth keeping.
    logging.getLogger("pygls").setLevel(logging.WARNING)


def set_level(level_name: str) -> None:
    """Apply the `debugbox.logLevel` setting."""
    logging.getLogger(LOGGER_NAME).setLevel(LEVELS.get(level_name, logging.INFO))


class ClientLogHandler(logging.Handler):
    """Forward `debugbox.*` log records to the editor as `window/logMessage`.

    `send` writes one message; it is only ever called on the event loop given to `attach`. Before `attach`
    (i.e. before `initialize`) records are not forwarded: the client could not show them anyway.
    """

    def __init__(self, send: Callable[[lsp.LogMessageParams], None]) -> None:
        super().__init__(logging.DEBUG)
        self._send = send
        self._loop: asyncio.AbstractEventLoop | None = None
        self._local = threading.local()
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def emit(self, record: logging.LogRecord) -> None:
        loop = self._loop
        # The re-entrancy guard stops a failure while sending (which logs) from looping back into the client.
        if loop is None or loop.is_closed() or getattr(self._local, "busy", False):
            return
        try:
            text = self.format(record)
        except Exception:  # a bad %-format in someone's log call must not break the caller
            return
        if len(text) > _MAX_CLIENT_MESSAGE:
            text = text[:_MAX_CLIENT_MESSAGE] + " … (truncated; the full text is in the server log)"
        kind = next((t for lvl, t in _MESSAGE_TYPES if record.levelno >= lvl), lsp.MessageType.Log)
        params = lsp.LogMessageParams(type=kind, message=text)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._deliver(params)
        else:
            loop.call_soon_threadsafe(self._deliver, params)

    def _deliver(self, params: lsp.LogMessageParams) -> None:
        self._local.busy = True
        try:
            # The connection may be gone; stderr and the log file still have the record.
            with contextlib.suppress(Exception):
                self._send(params)
        finally:
            self._local.busy = False
