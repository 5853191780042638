"""The per-service "Debug running container" lens of a compose file, over real stdio, with real containers
carrying compose's labels (the same watch and command as the Dockerfile lens)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from tests.integration.docker.engine import DISTROLESS, Containers, container_id
from tests.lsp.test_targets import OPTIONS, TerminalClient, command, editor, live  # noqa: F401 - the fixtures

pytestmark = [pytest.mark.lsp, pytest.mark.docker]


async def test_debug_lens_per_service(editor: TerminalClient, live: Containers, tmp_path: Path) -> None:  # noqa: F811
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "Dockerfile").write_text("FROM scratch\n")
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  web:\n    build: web\n  db:\n    image: postgres:16\n")
    labels = {"com.docker.compose.project.working_dir": str(tmp_path), "com.docker.compose.service": "web"}
    web = live.run(DISTROLESS, labels=labels)
    other = {**labels, "com.docker.compose.project.working_dir": str(tmp_path / "elsewhere")}
    live.run(DISTROLESS, labels=other)  # the same service name in another project: not ours
    uri = editor.open(compose, language_id="dockercompose")
    params = lsp.CodeLensParams(text_document=lsp.TextDocumentIdentifier(uri=uri))

    lenses: list[lsp.CodeLens] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        lenses = await asyncio.wait_for(editor.text_document_code_lens_async(params), 20) or []
        if any(lens.command and lens.command.title.startswith("Debug running") for lens in lenses):
            break
        await asyncio.sleep(0.2)  # the first request starts the background listing; the refresh follows

    titles = sorted((lens.range.start.line, lens.command.title) for lens in lenses if lens.command)
    assert titles == [(1, "Debug running container (1)"), (1, "Generate Dockerfile.debug")]
    (debug,) = [lens for lens in lenses if lens.command and lens.command.title.startswith("Debug running")]
    assert debug.command is not None and debug.command.command == "debugbox.openDebugTerminal"
    (args,) = debug.command.arguments or []
    assert args["target"] == f"docker://{container_id(web)[:12]}" and args["uri"] == uri


async def test_nerdctl_action_opens_the_terminal_of_that_services_container(
    editor: TerminalClient,  # noqa: F811
    live: Containers,  # noqa: F811
    tmp_path: Path,
) -> None:
    """nerdctl compose has no `service:` namespaces: with `debugbox.compose.engine` = nerdctl the action inside a
    service is the debug terminal on that service's running container (not another service's)."""
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  web:\n    image: busybox\n  db:\n    image: postgres:16\n")
    labels = {"com.docker.compose.project.working_dir": str(tmp_path), "com.docker.compose.service": "web"}
    live.run(DISTROLESS, labels={**labels, "com.docker.compose.service": "db"})
    web = live.run(DISTROLESS, labels=labels)
    editor.set_configuration({**OPTIONS, "compose": {"engine": "nerdctl"}}, section="debugbox")
    editor.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings=None))
    await editor.wait_for(
        lambda: any("settings from workspace/configuration applied" in m.message for m in editor.log_messages)
    )
    uri = editor.open(compose, language_id="dockercompose")
    result = await editor.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=lsp.Range(lsp.Position(2, 4), lsp.Position(2, 4)),
            context=lsp.CodeActionContext(diagnostics=[]),
        )
    )
    (action,) = [a for a in result or [] if isinstance(a, lsp.CodeAction)]
    assert "nerdctl compose has no `service:` namespaces" in action.title and action.edit is None
    assert action.command is not None and action.command.command == "debugbox.openDebugTerminal"
    (args,) = action.command.arguments or []
    assert args == {"uri": uri, "service": "web"}
    opened = await command(editor, action.command.command, args)
    assert opened["opened"] is True and len(editor.terminals) == 1
    assert f"--pid=container:{container_id(web)}" in editor.terminals[0]["argv"]
    # A service without a running container: one clear message, no terminal.
    with pytest.raises(Exception, match="no running container of service nope"):
        await command(editor, action.command.command, {"uri": uri, "service": "nope"})
    assert len(editor.terminals) == 1


async def test_included_service_lens_at_its_include_entry(
    editor: TerminalClient,  # noqa: F811
    live: Containers,  # noqa: F811
    tmp_path: Path,
) -> None:
    """A service from an included file (compose spec `include:`) is this project's: its running container gets
    a lens on the `include:` entry, named after it, and no DBX302 for a reference to it."""
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "compose.yaml").write_text("services:\n  cache:\n    image: redis:7\n")
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "include:\n  - db/compose.yaml\nservices:\n  web:\n    image: busybox\n    pid: service:cache\n"
    )
    labels = {"com.docker.compose.project.working_dir": str(tmp_path), "com.docker.compose.service": "cache"}
    cache = live.run(DISTROLESS, labels=labels)
    uri = editor.open(compose, language_id="dockercompose")
    assert await editor.diagnostics_for(uri, 1) == []
    params = lsp.CodeLensParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
    lenses: list[lsp.CodeLens] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        lenses = await asyncio.wait_for(editor.text_document_code_lens_async(params), 20) or []
        if any(lens.command for lens in lenses):
            break
        await asyncio.sleep(0.2)
    titles = [(lens.range.start.line, lens.command.title) for lens in lenses if lens.command]
    assert titles == [(1, "Debug cache (1)")]
    (args,) = lenses[0].command.arguments or []  # type: ignore[union-attr]
    assert args["target"] == f"docker://{container_id(cache)[:12]}"
