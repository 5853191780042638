"""Main LSP suite: settings from `initializationOptions`, pulled with `workspace/configuration` on
`didChangeConfiguration`, or pushed in the notification by clients that cannot be asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from debugbox.core.wire import Command
from lsprotocol import types as lsp

from tests.lsp.conftest import CONFIG, EditorClient, bare_capabilities, initialize_params, vscode_capabilities

pytestmark = pytest.mark.lsp

ALPINE = 'FROM alpine:3.20\nCMD ["/bin/sh"]\n'


@pytest_lsp.fixture(config=CONFIG)
async def fresh(lsp_client: EditorClient) -> Any:
    yield
    await lsp_client.shutdown_session()


async def generated(client: EditorClient, dockerfile: Path, regenerate: bool = False) -> str:
    result = await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(
            command=Command.GENERATE_DEBUG_DOCKERFILE.value,
            arguments=[{"uri": dockerfile.as_uri(), "regenerate": regenerate}],
        )
    )
    assert result.get("created") or result.get("regenerated"), result
    return dockerfile.with_name(dockerfile.name + ".debug").read_text()


def installed(text: str) -> list[str]:
    """The packages of the generated `apk add` line."""
    line = next(line for line in text.splitlines() if "apk add" in line)
    return line.split("apk add --no-cache", 1)[1].split()


def applied(client: EditorClient, origin: str) -> Any:
    return lambda: any(f"settings from {origin} applied" in m.message for m in client.log_messages)


async def test_did_change_configuration_re_pulls_the_settings(fresh: EditorClient, tmp_path: Path) -> None:
    await fresh.initialize_session(initialize_params(tmp_path, vscode_capabilities()))
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(ALPINE)
    uri = fresh.open(dockerfile)
    await fresh.diagnostics_for(uri, 1)
    before = await generated(fresh, dockerfile)
    assert "tcpdump" in installed(before)

    fresh.set_configuration({"debugImage": {"tools": ["curl"]}}, section="debugbox")
    fresh.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings=None))
    await fresh.wait_for(applied(fresh, "workspace/configuration"))
    after = await generated(fresh, dockerfile, regenerate=True)

    assert installed(after) == ["curl"]
    # Open documents were analysed again under the new settings (same version, published again).
    await fresh.wait_for(lambda: sum(1 for p in fresh.published if p.uri == uri and p.version == 1) >= 2)


async def test_initialization_options_are_used_until_the_client_has_its_own(
    fresh: EditorClient, tmp_path: Path
) -> None:
    options = {"settings": {"debugImage": {"tools": ["strace"], "appImage": "registry.example/api:1.2"}}}
    await fresh.initialize_session(initialize_params(tmp_path, vscode_capabilities(), options))
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(ALPINE)

    text = await generated(fresh, dockerfile)

    assert "ARG APP_IMAGE=registry.example/api:1.2" in text
    assert installed(text) == ["strace"]


async def test_the_debugbox_section_may_also_come_unwrapped(fresh: EditorClient, tmp_path: Path) -> None:
    options = {"debugImage.tools": ["strace"]}
    await fresh.initialize_session(initialize_params(tmp_path, vscode_capabilities(), options))
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(ALPINE)

    text = await generated(fresh, dockerfile)

    assert installed(text) == ["strace"]


async def test_clients_without_configuration_push_settings(fresh: EditorClient, tmp_path: Path) -> None:
    await fresh.initialize_session(initialize_params(tmp_path, bare_capabilities()))
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(ALPINE)

    fresh.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings={"debugbox": {"debugImage": {"appImage": "example/app:7"}}})
    )
    await fresh.wait_for(applied(fresh, "workspace/didChangeConfiguration"))

    assert "ARG APP_IMAGE=example/app:7" in await generated(fresh, dockerfile)


async def test_invalid_setting_values_are_reported_and_ignored(fresh: EditorClient, tmp_path: Path) -> None:
    options = {"settings": {"strategy": 5, "debugImage": {"tools": ["curl"]}}}
    await fresh.initialize_session(initialize_params(tmp_path, vscode_capabilities(), options))
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(ALPINE)

    text = await generated(fresh, dockerfile)

    assert installed(text) == ["curl"]  # the valid part of the settings still applies
    assert any("debugbox.strategy" in m.message for m in fresh.messages)
