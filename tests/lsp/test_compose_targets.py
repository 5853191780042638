"""The per-service "Debug running container" lens of a compose file, over real stdio, with real containers
carrying compose's labels (the same watch and command as the Dockerfile lens)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from tests.integration.docker.engine import DISTROLESS, Containers, container_id
from tests.lsp.test_targets import TerminalClient, editor, live  # noqa: F401 - the fixtures

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
