"""The robustness tests' server: a real `python -m debugbox lsp` process on stdio, driven by the benchmark's
LSP client.

Every test here talks to the server exactly as an editor does (Content-Length framed JSON-RPC over pipes), and
judges it from the outside: each request answered (a result or a proper JSON-RPC error) within its deadline,
the process alive, its memory bounded, and no traceback in its stderr or log file.
"""

from __future__ import annotations

import itertools
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from lsp_client import LspClient, ResponseError, ServerDied, process_tree_rss  # noqa: E402

#: Generous deadlines: "answered at all", on a loaded 2-core machine; speed is the benchmark's job.
REQUEST_DEADLINE = 30.0
#: Peak resident memory of the server process tree we accept after any input in these tests.
MEMORY_LIMIT = 1536 * 2**20

#: Lines in the server's stderr/log that mean something went wrong inside it.
FAULT_MARKERS = ("Traceback (most recent call last)", " ERROR ", " CRITICAL ")

_counter = itertools.count()
_RECORD_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


class Server:
    """One debugbox language server process plus what it takes to judge its health."""

    def __init__(
        self,
        workspace: Path,
        logs: Path,
        *,
        env: dict[str, str] | None = None,
        capabilities: dict[str, Any] | None = None,
        settings: dict[str, Any] | None = None,
    ) -> None:
        self.workspace = workspace
        self._seen: dict[Path, int] = {}
        logs.mkdir(parents=True, exist_ok=True)
        n = next(_counter)
        self.stderr_path = logs / f"stderr-{n}.log"
        self.log_path = logs / f"server-{n}.log"
        run_env = dict(os.environ)
        run_env.pop("DEBUGBOX_LOG_DIR", None)
        run_env.update(env or {})
        self.client = LspClient(
            [sys.executable, "-m", "debugbox", "lsp", "--log-file", str(self.log_path)],
            cwd=str(workspace),
            env=run_env,
            stderr_path=self.stderr_path,
            poll_rss=True,
            rss_interval=0.05,
        )
        self.client.config = {"debugbox": settings or {}}
        self.client.initialize(
            workspace,
            capabilities=capabilities,
            initialization_options={"settings": settings} if settings else None,
            timeout=REQUEST_DEADLINE,
        )

    # -- requests that must be answered ---------------------------------------------------------------------

    def ask(self, method: str, params: Any, deadline: float = REQUEST_DEADLINE) -> Any:
        """Send a request; returns its result, or the ResponseError it was answered with.

        Fails the test if there is no answer within `deadline` or the server died.
        """
        exchange = self.client.request_async(method, params)
        try:
            return self.client.wait(exchange, deadline)
        except ResponseError as exc:
            assert isinstance(exc.code, int), f"{method}: error without an integer code: {exc.error}"
            assert isinstance(exc.message, str), f"{method}: error without a message: {exc.error}"
            return exc
        except TimeoutError:
            pytest.fail(f"{method} not answered within {deadline:.0f} s ({self.describe()})")
        except ServerDied:
            pytest.fail(f"the server died during {method}: {self.tail()}")

    def open(self, uri: str, text: str, language_id: str, version: int = 1) -> None:
        self.client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": language_id, "version": version, "text": text}},
        )

    def close(self, uri: str) -> None:
        self.client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})

    def uri(self, name: str) -> str:
        """A fresh `file:` URI in the workspace (the file itself need not exist)."""
        folder = self.workspace / f"doc{next(_counter)}"
        return (folder / name).as_uri()

    # -- health ---------------------------------------------------------------------------------------------

    def faults(self, allow: tuple[str, ...] = ()) -> list[str]:
        """Log records with a fault (ERROR/CRITICAL or a traceback) written since the previous call, so each
        test sees its own. Records whose first line contains one of `allow` are not faults."""
        found = []
        for path in (self.stderr_path, self.log_path):
            if not path.exists():
                continue
            with path.open("rb") as f:
                f.seek(self._seen.get(path, 0))
                chunk = f.read()
                self._seen[path] = f.tell()
            records: list[list[str]] = []
            for line in chunk.decode(errors="replace").splitlines():
                if _RECORD_START.match(line) or not records:
                    records.append([line])
                else:
                    records[-1].append(line)
            for record in records:
                head = record[0]
                faulty = any(m in head for m in FAULT_MARKERS) or any(FAULT_MARKERS[0] in r for r in record)
                if faulty and not any(a in head for a in allow):
                    text = "\n".join(record)
                    if len(text) > 2500:  # keep the head (what logged it) and the tail (the exception)
                        text = text[:800] + "\n  [...]\n" + text[-1700:]
                    found.append(f"{path.name}: {text}")
        return found

    def tail(self, lines: int = 40) -> str:
        text = self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def describe(self) -> str:
        return f"alive={self.client.alive()} rss={process_tree_rss(self.client.proc.pid) / 2**20:.0f} MiB"

    def assert_healthy(self, allow: tuple[str, ...] = ()) -> None:
        """Alive, answering, memory bounded, nothing broken in its stderr or log, a clean wire."""
        assert self.client.alive(), f"the server exited: {self.tail()}"
        result = self.ask(
            "textDocument/hover",
            {"textDocument": {"uri": "file:///nowhere/x"}, "position": {"line": 0, "character": 0}},
        )
        assert result is None or isinstance(result, dict | ResponseError)
        assert self.client.peak_rss < MEMORY_LIMIT, f"peak RSS {self.client.peak_rss / 2**20:.0f} MiB"
        assert not self.client.protocol_errors, self.client.protocol_errors[:5]
        faults = self.faults(allow)
        assert not faults, "\n".join(faults[:10])

    def stop(self) -> int | None:
        return self.client.shutdown()
