"""A small LSP client over stdio for any language server: the wire of the benchmark and the robustness tests.

It starts the server as a subprocess, frames JSON-RPC with `Content-Length` headers and reads the server's
output on a thread, so callers stay synchronous (plain pytest and hypothesis tests, simple timing loops). It
answers the requests servers send to clients (`workspace/configuration`, `client/registerCapability`,
`window/workDoneProgress/create`, …) with sensible replies, keeps every notification with its arrival time,
and can poll the peak resident memory of the server's whole process tree.

Nothing here knows about debugbox: the same class measures docker-langserver and yaml-language-server.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

ServerRequestHandler = Callable[[Any], Any]


class ResponseError(Exception):
    """The server answered a request with a JSON-RPC error object."""

    def __init__(self, error: Mapping[str, Any]) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code = error.get("code")
        self.message = error.get("message")
        self.error = dict(error)


class ServerDied(Exception):
    """The server's stdout closed (it exited or crashed) while we were waiting for it."""


@dataclass
class Notification:
    method: str
    params: Any
    at: float
    """`time.perf_counter()` when the message was read."""


@dataclass
class ServerRequest:
    method: str
    params: Any
    at: float


@dataclass
class Exchange:
    """A request in flight: when it was sent and the future of its answer."""

    id: int
    method: str
    sent: float
    future: Future[Any] = field(default_factory=Future)
    answered: float | None = None


def _lookup(config: Mapping[str, Any], section: str | None) -> Any:
    if not section:
        return dict(config)
    node: Any = config
    for part in section.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def process_tree_rss(root_pid: int) -> int:
    """Resident set size in bytes of `root_pid` and all its descendants (0 if it is gone)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # Field 4 (ppid) follows the parenthesised command name, which may itself contain spaces.
        rest = stat[stat.rfind(b")") + 2 :].split()
        children.setdefault(int(rest[1]), []).append(int(entry))
    total = 0
    todo = [root_pid]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, ()))
        try:
            with open(f"/proc/{pid}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            continue
    return total


class LspClient:
    """One server process and the client end of its stdio connection."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        config: Mapping[str, Any] | None = None,
        stderr_path: str | Path | None = None,
        poll_rss: bool = False,
        rss_interval: float = 0.01,
    ) -> None:
        self.argv = list(argv)
        self.config: Mapping[str, Any] = config or {}
        self.notifications: list[Notification] = []
        self.server_requests: list[ServerRequest] = []
        self.handlers: dict[str, ServerRequestHandler] = {
            "workspace/configuration": self._configuration,
            "client/registerCapability": lambda _p: None,
            "client/unregisterCapability": lambda _p: None,
            "window/workDoneProgress/create": lambda _p: None,
            "window/showMessageRequest": lambda _p: None,
            "window/showDocument": lambda _p: {"success": True},
            "workspace/applyEdit": lambda _p: {
                "applied": False,
                "failureReason": "test client applies nothing",
            },
            "workspace/workspaceFolders": lambda _p: None,
            "workspace/codeLens/refresh": lambda _p: None,
            "workspace/semanticTokens/refresh": lambda _p: None,
            "workspace/inlayHint/refresh": lambda _p: None,
            "workspace/diagnostic/refresh": lambda _p: None,
        }
        self.protocol_errors: list[str] = []
        """Anything the reader could not make sense of (bad framing, invalid JSON, unknown response ids)."""
        self.peak_rss = 0
        self._pending: dict[int, Exchange] = {}
        self._next_id = 1
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._closed = False
        self._stderr_file: TextIO | None = None
        if stderr_path is not None:
            self._stderr_file = open(stderr_path, "w")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr_file if self._stderr_file is not None else subprocess.DEVNULL,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            bufsize=0,
        )
        self._reader = threading.Thread(target=self._read_loop, name="lsp-reader", daemon=True)
        self._reader.start()
        self._rss_thread: threading.Thread | None = None
        if poll_rss:
            self._rss_thread = threading.Thread(
                target=self._rss_loop, args=(rss_interval,), name="lsp-rss", daemon=True
            )
            self._rss_thread.start()

    # -- wire ------------------------------------------------------------------------------------------------

    def send_raw(self, body: bytes) -> None:
        """Write one framed message whose body is exactly `body` (used to send malformed JSON on purpose)."""
        header = f"Content-Length: {len(body)}\r\n\r\n".encode("ascii")
        assert self.proc.stdin is not None
        with self._write_lock:
            self.proc.stdin.write(header + body)
            self.proc.stdin.flush()

    @staticmethod
    def _encode(message: Mapping[str, Any]) -> bytes:
        try:
            return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        except UnicodeEncodeError:
            # Lone surrogates: send them as JSON `\udXXX` escapes, as JavaScript clients (JSON.stringify) do.
            return json.dumps(message, separators=(",", ":")).encode("ascii")

    def _send(self, message: Mapping[str, Any]) -> None:
        self.send_raw(self._encode(message))

    def notify(self, method: str, params: Any = None) -> float:
        """Send a notification; returns the time just before it was written.

        Before, not after: once the write releases the GIL the reader thread may take an answer off the pipe
        before this thread runs again, and a timestamp taken after the write could then be later than the
        answer.
        """
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        body = self._encode(message)  # encoding a 2 MB document is the client's time, not the server's
        sent = time.perf_counter()
        self.send_raw(body)
        return sent

    def request_async(self, method: str, params: Any = None) -> Exchange:
        with self._lock:
            if self._closed:
                raise ServerDied(f"{method}: the server has exited")
            rid = self._next_id
            self._next_id += 1
            exchange = Exchange(rid, method, time.perf_counter())
            self._pending[rid] = exchange
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            message["params"] = params
        body = self._encode(message)
        exchange.sent = time.perf_counter()
        self.send_raw(body)
        return exchange

    def wait(self, exchange: Exchange, timeout: float) -> Any:
        """The result of `exchange`; raises ResponseError, ServerDied or TimeoutError."""
        return exchange.future.result(timeout=timeout)

    def request(self, method: str, params: Any = None, timeout: float = 30.0) -> Any:
        return self.wait(self.request_async(method, params), timeout)

    def _read_loop(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        try:
            while True:
                length = None
                while True:
                    line = stream.readline()
                    if not line:
                        return
                    line = line.strip()
                    if not line:
                        break
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                if length is None:
                    self.protocol_errors.append("message without Content-Length")
                    continue
                body = b""
                while len(body) < length:
                    chunk = stream.read(length - len(body))
                    if not chunk:
                        return
                    body += chunk
                at = time.perf_counter()
                try:
                    message = json.loads(body)
                except ValueError as exc:
                    self.protocol_errors.append(f"invalid JSON from server: {exc}")
                    continue
                self._dispatch(message, at)
        finally:
            with self._cond:
                self._closed = True
                pending = list(self._pending.values())
                self._pending.clear()
                self._cond.notify_all()
            for exchange in pending:
                if not exchange.future.done():
                    exchange.future.set_exception(ServerDied(f"{exchange.method}: the server exited"))

    def _dispatch(self, message: Mapping[str, Any], at: float) -> None:
        if "method" in message and "id" in message:
            method = message["method"]
            with self._cond:
                self.server_requests.append(ServerRequest(method, message.get("params"), at))
                self._cond.notify_all()
            handler = self.handlers.get(method)
            if handler is None:
                reply: dict[str, Any] = {
                    "jsonrpc": "2.0",
                    "id": message["id"],
                    "error": {"code": -32601, "message": f"client does not handle {method}"},
                }
            else:
                reply = {"jsonrpc": "2.0", "id": message["id"], "result": handler(message.get("params"))}
            try:
                self._send(reply)
            except OSError:
                pass
        elif "method" in message:
            with self._cond:
                self.notifications.append(Notification(message["method"], message.get("params"), at))
                self._cond.notify_all()
        elif "id" in message:
            with self._cond:
                exchange = self._pending.pop(message["id"], None)
            if exchange is None:
                self.protocol_errors.append(f"response to unknown id {message.get('id')!r}")
                return
            exchange.answered = at
            if "error" in message and message["error"] is not None:
                exchange.future.set_exception(ResponseError(message["error"]))
            else:
                exchange.future.set_result(message.get("result"))
        else:
            self.protocol_errors.append(f"unrecognised message {str(message)[:200]}")

    def _configuration(self, params: Any) -> list[Any]:
        items = (params or {}).get("items") or []
        return [_lookup(self.config, item.get("section")) for item in items]

    # -- waiting --------------------------------------------------------------------------------------------

    def wait_for(
        self, predicate: Callable[[Notification], bool], timeout: float, start: int = 0
    ) -> tuple[int, Notification]:
        """The first notification at index ≥ `start` matching `predicate`, with its index."""
        deadline = time.monotonic() + timeout
        with self._cond:
            index = start
            while True:
                while index < len(self.notifications):
                    note = self.notifications[index]
                    if predicate(note):
                        return index, note
                    index += 1
                if self._closed:
                    raise ServerDied("the server exited while we waited for a notification")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("no matching notification")
                self._cond.wait(remaining)

    def wait_for_diagnostics(
        self, uri: str, timeout: float, start: int = 0, version: int | None = None
    ) -> tuple[int, Notification]:
        """The next `textDocument/publishDiagnostics` for `uri` from index `start`.

        With `version`, a publish that names an older version is skipped; one that names no version at all is
        accepted (servers need not send it), so callers pass `start` = the index at the moment of the change.
        """

        def match(note: Notification) -> bool:
            if note.method != "textDocument/publishDiagnostics" or note.params.get("uri") != uri:
                return False
            got = note.params.get("version")
            return version is None or got is None or got >= version

        return self.wait_for(match, timeout, start)

    def mark(self) -> int:
        """The index the next notification will get."""
        with self._lock:
            return len(self.notifications)

    # -- lifecycle ------------------------------------------------------------------------------------------

    def initialize(
        self,
        root: Path,
        *,
        capabilities: Mapping[str, Any] | None = None,
        initialization_options: Any = None,
        timeout: float = 60.0,
    ) -> tuple[Any, float]:
        """initialize + initialized; returns the result and seconds from process start to the result."""
        params: dict[str, Any] = {
            "processId": os.getpid(),
            "clientInfo": {"name": "debugbox-bench", "version": "1"},
            "rootUri": root.as_uri(),
            "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
            "capabilities": capabilities if capabilities is not None else default_capabilities(),
        }
        if initialization_options is not None:
            params["initializationOptions"] = initialization_options
        exchange = self.request_async("initialize", params)
        result = self.wait(exchange, timeout)
        assert exchange.answered is not None
        took = exchange.answered - self.started
        self.notify("initialized", {})
        return result, took

    def alive(self) -> bool:
        return self.proc.poll() is None

    def shutdown(self, timeout: float = 10.0) -> int | None:
        """shutdown + exit, then wait for the process; kills it if it does not go. Returns the exit code."""
        try:
            if self.alive():
                self.request("shutdown", None, timeout=timeout)
                self.notify("exit")
        except (ResponseError, ServerDied, TimeoutError, OSError):
            pass
        return self.close(timeout)

    def close(self, timeout: float = 5.0) -> int | None:
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._reader.join(timeout=5)
        if self._rss_thread is not None:
            self._rss_thread.join(timeout=5)
        if self._stderr_file is not None:
            self._stderr_file.close()
        return code

    def _rss_loop(self, interval: float) -> None:
        while self.proc.poll() is None:
            rss = process_tree_rss(self.proc.pid)
            if rss > self.peak_rss:
                self.peak_rss = rss
            time.sleep(interval)

    def __enter__(self) -> LspClient:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.shutdown()


def default_capabilities() -> dict[str, Any]:
    """Roughly what VS Code announces for the features the benchmark and the tests use."""
    return {
        "general": {"positionEncodings": ["utf-16"]},
        "workspace": {
            "applyEdit": True,
            "workspaceEdit": {"documentChanges": True, "resourceOperations": ["create", "rename", "delete"]},
            "configuration": True,
            "didChangeConfiguration": {"dynamicRegistration": True},
            "executeCommand": {"dynamicRegistration": True},
            "workspaceFolders": True,
        },
        "textDocument": {
            "synchronization": {"dynamicRegistration": True, "didSave": True},
            "publishDiagnostics": {"relatedInformation": True, "versionSupport": True},
            "hover": {"dynamicRegistration": True, "contentFormat": ["markdown", "plaintext"]},
            "codeAction": {
                "dynamicRegistration": True,
                "isPreferredSupport": True,
                "disabledSupport": True,
                "dataSupport": True,
                "resolveSupport": {"properties": ["edit"]},
                "codeActionLiteralSupport": {
                    "codeActionKind": {
                        "valueSet": ["", "quickfix", "refactor", "refactor.rewrite", "source"],
                    }
                },
            },
            "codeLens": {"dynamicRegistration": True},
        },
        "window": {"workDoneProgress": True, "showDocument": {"support": True}},
    }


def sync_kind(init_result: Any) -> int:
    """The server's TextDocumentSyncKind (0 none, 1 full, 2 incremental)."""
    sync = (init_result or {}).get("capabilities", {}).get("textDocumentSync", 0)
    if isinstance(sync, int):
        return sync
    return int(sync.get("change", 0) or 0)


def insert_line_change(text: str, line: int, new_line: str, kind: int) -> tuple[str, list[dict[str, Any]]]:
    """The text with `new_line` inserted before 0-based `line`, and the contentChanges to send for `kind`."""
    lines = text.split("\n")
    new_text = "\n".join([*lines[:line], new_line, *lines[line:]])
    if kind == 2:
        at = {"line": line, "character": 0}
        return new_text, [{"range": {"start": at, "end": at}, "text": new_line + "\n"}]
    return new_text, [{"text": new_text}]
