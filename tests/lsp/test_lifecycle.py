"""Main LSP suite: initialize over a real stdio connection, what the server advertises, and clean shutdown."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest_lsp
from debugbox.core.wire import Command
from lsprotocol import types as lsp
from pytest_lsp import client_capabilities

from tests.lsp.conftest import CONFIG, EditorClient, initialize_params, vscode_capabilities
from tests.lsp.rawrpc import RawPeer


@pytest_lsp.fixture(config=CONFIG)
async def fresh(lsp_client: EditorClient) -> None:
    """A connected but not yet initialized server."""
    yield
    await lsp_client.shutdown_session()


async def test_initialize_advertises_capabilities_and_commands(fresh: EditorClient, tmp_path: Path) -> None:
    result = await fresh.initialize_session(initialize_params(tmp_path, vscode_capabilities()))

    caps = result.capabilities
    assert result.server_info is not None and result.server_info.name == "debugbox"
    assert isinstance(caps.text_document_sync, lsp.TextDocumentSyncOptions)
    assert caps.text_document_sync.change == lsp.TextDocumentSyncKind.Incremental
    assert caps.text_document_sync.open_close is True
    assert caps.hover_provider
    assert isinstance(caps.code_action_provider, lsp.CodeActionOptions)
    assert lsp.CodeActionKind.QuickFix in (caps.code_action_provider.code_action_kinds or [])
    assert caps.code_lens_provider is not None
    assert caps.execute_command_provider is not None
    commands = caps.execute_command_provider.commands
    assert Command.GENERATE_DEBUG_DOCKERFILE.value in commands
    # Every advertised command is debugbox's own (client-side ids must never be listed: vscode-languageclient
    # would register them twice).
    assert all(c.startswith("debugbox.") for c in commands)


async def test_initialize_logs_to_the_client_not_stdout(fresh: EditorClient, tmp_path: Path) -> None:
    await fresh.initialize_session(initialize_params(tmp_path, vscode_capabilities()))
    # The first log line names the version and the client; it reached us as window/logMessage, which also
    # proves nothing else was written to stdout (a stray line would have broken the JSON-RPC stream).
    await fresh.wait_for(lambda: any("debugbox-tests" in m.message for m in fresh.log_messages))


async def test_malformed_requests_get_error_responses_and_the_server_keeps_serving(tmp_path: Path) -> None:
    peer = await RawPeer.start()
    try:
        await peer.initialize(tmp_path.as_uri())
        # Params that do not match the method's schema: answered with InvalidParams, not left hanging.
        bad = await peer.request(1, "textDocument/hover", {"textDocument": 5})
        assert bad["error"]["code"] == lsp.ErrorCodes.InvalidParams
        assert "textDocument/hover" in bad["error"]["message"]
        missing = await peer.request("two", "textDocument/codeAction", {})
        assert missing["error"]["code"] == lsp.ErrorCodes.InvalidParams
        # Not JSON at all, then a notification with bad params: nothing to answer, but nothing may break
        # either.
        peer.send_bytes(b"{not json")
        peer.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": None}})
        unknown = await peer.request(3, "debugbox/noSuchMethod", {})
        assert unknown["error"]["code"] == lsp.ErrorCodes.MethodNotFound
        # Objects that merely look like messages, nested in arguments, stay arguments (rejected as such).
        nested = await peer.request(
            5,
            "workspace/executeCommand",
            {"command": "debugbox.generateDebugDockerfile", "arguments": [{"uri": {"jsonrpc": "", "id": 1}}]},
        )
        assert nested["error"]["code"] == lsp.ErrorCodes.InvalidParams
        assert "uri" in nested["error"]["message"]
        # Not a request at all: a method that is not a string; an id without anything else.
        odd = await peer.request(6, 42, {})
        assert odd["error"]["code"] == lsp.ErrorCodes.InvalidRequest
        peer.send({"jsonrpc": "2.0", "id": 7})
        hover = await peer.request(
            4,
            "textDocument/hover",
            {
                "textDocument": {"uri": (tmp_path / "Dockerfile").as_uri()},
                "position": {"line": 0, "character": 0},
            },
        )
        assert hover == {"jsonrpc": "2.0", "id": 4, "result": None}
    finally:
        assert await peer.stop() == 0


async def test_positions_are_utf16_even_when_the_client_prefers_utf8(
    fresh: EditorClient, tmp_path: Path
) -> None:
    caps = client_capabilities("neovim")
    assert caps.general is not None and caps.general.position_encodings
    assert caps.general.position_encodings[0] == lsp.PositionEncodingKind.Utf8

    result = await fresh.initialize_session(initialize_params(tmp_path, caps))

    assert result.capabilities.position_encoding == lsp.PositionEncodingKind.Utf16
    # A non-BMP character before the shell-form CMD: the diagnostic's columns are UTF-16 (the emoji counts 2).
    uri = fresh.open(
        tmp_path / "Dockerfile", 'FROM gcr.io/distroless/static\nCMD /app --name "\U0001f600" x\n'
    )
    shell_form = next(d for d in await fresh.diagnostics_for(uri, 1) if d.code == "DBX102")
    assert shell_form.range.end == lsp.Position(line=1, character=len('CMD /app --name "') + 2 + len('" x'))


def test_starting_the_server_imports_no_container_or_cluster_sdk() -> None:
    # `debugbox lsp` must start fast: the docker and kubernetes SDKs load only when a live-target request
    # needs them. A fresh interpreter, because this test process may have imported them already.
    probe = (
        "import sys\n"
        "from debugbox.lsp.server import create_server\n"
        "create_server()\n"
        "heavy = ('docker', 'kubernetes', 'debugbox.edge.kube_client')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"
