"""The LSP suite's own client cannot hang the suite (`EditorClient`): a server that dies fails its pending
requests (pytest-lsp does that), one that never answers `initialize` fails it within `SESSION_SECONDS`, and one
that does not exit is aborted and killed, failing its test, instead of being waited for without end (pygls)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from tests.lsp import conftest
from tests.lsp.conftest import initialize_params, make_editor_client, vscode_capabilities

pytestmark = pytest.mark.lsp


async def test_a_server_that_exits_at_once_fails_initialize_with_its_exit_code(tmp_path: Path) -> None:
    client = make_editor_client()
    await client.start_io(sys.executable, "-c", "import sys; sys.exit(3)")
    try:
        with pytest.raises(RuntimeError, match="exited with return code: 3"):
            await client.initialize_session(initialize_params(tmp_path, vscode_capabilities()))
    finally:
        await client.stop()


async def test_a_server_that_never_answers_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "SESSION_SECONDS", 1.0)
    client = make_editor_client()
    # Reads its input to the end and never writes a byte: alive and silent until the client stops it.
    await client.start_io(sys.executable, "-c", "import sys; sys.stdin.buffer.read()")
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(
                client.initialize_session(initialize_params(tmp_path, vscode_capabilities())), 30
            )
        assert loop.time() - started < 10  # the client's own bound, not this test's
    finally:
        await client.stop()


async def test_a_server_that_does_not_exit_is_killed_and_fails_its_test(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(conftest, "EXIT_SECONDS", 1.0)
    client = make_editor_client()
    # Ignores the end of its input, as a server stuck in a thread would.
    await client.start_io(sys.executable, "-c", "import time; time.sleep(600)")
    server = client._server
    assert server is not None
    with pytest.raises(AssertionError, match="had not exited 1 s after its input was closed"):
        await asyncio.wait_for(client.stop(), 30)
    assert server.returncode is not None
