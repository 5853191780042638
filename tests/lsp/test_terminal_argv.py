"""argv[0] of a debug terminal is an absolute path the server found outside the workspace, over a real stdio
connection and the real Docker engine: with `.` and a workspace folder first on PATH, both holding a `docker`,
and the server running in the workspace, the editor is handed the real docker's absolute path, and the
workspace's `docker` never runs (not for the terminal, not for the server's own CLI calls: a `nerdctl` in a
workspace folder on PATH is not what `listTargets` runs)."""

from __future__ import annotations

import atexit
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from debugbox.core.wire import Command
from pytest_lsp import ClientServerConfig

from tests.lsp.conftest import EditorClient, initialize_params, vscode_capabilities
from tests.lsp.test_targets import (
    DISTROLESS,
    OPTIONS,
    Containers,
    TerminalClient,
    command,
    live,
    make_terminal_client,
)

__all__ = ["live"]  # the fixture, imported for pytest

WORKSPACE = Path(tempfile.mkdtemp(prefix="dbx-argv-ws-"))
atexit.register(shutil.rmtree, WORKSPACE, True)
MARKER = WORKSPACE / "the-workspace-docker-ran"
REAL_PATH = os.environ.get("PATH", os.defpath)
PLANTED = [WORKSPACE / name for name in ("docker", "bin/docker", "bin/nerdctl", "bin/podman", "bin/kubectl")]
for planted in PLANTED:
    planted.parent.mkdir(exist_ok=True)
    planted.write_text(f"#!/bin/sh\ntouch {MARKER}\nexit 0\n")
    planted.chmod(planted.stat().st_mode | stat.S_IXUSR)

HOSTILE_PATH = ClientServerConfig(
    # `env -C`: the server's working directory is the workspace, so `.` on PATH means the workspace.
    server_command=["env", "-C", str(WORKSPACE), sys.executable, "-P", "-m", "debugbox", "lsp"],
    client_factory=make_terminal_client,
    server_env={**os.environ, "PATH": os.pathsep.join([".", str(WORKSPACE / "bin"), REAL_PATH])},
)


@pytest_lsp.fixture(config=HOSTILE_PATH)
async def editor(lsp_client: EditorClient) -> AsyncIterator[None]:
    await lsp_client.initialize_session(initialize_params(WORKSPACE, vscode_capabilities(), OPTIONS))
    yield
    await lsp_client.shutdown_session()


@pytest.mark.docker
async def test_terminal_argv0_is_absolute_and_never_the_workspace_docker(
    editor: TerminalClient, live: Containers
) -> None:
    MARKER.unlink(missing_ok=True)
    real_docker = shutil.which("docker", path=REAL_PATH)
    assert real_docker is not None and os.path.isabs(real_docker)
    target = live.run(DISTROLESS)

    result = await command(editor, Command.OPEN_DEBUG_TERMINAL.value, {"target": target})

    assert result["opened"] is True
    (sent,) = editor.terminals
    assert sent["argv"][0] == real_docker and sent["argv"][1] == "run"
    assert result["argv"] == sent["argv"]
    assert not MARKER.exists()


@pytest.mark.docker
async def test_the_servers_own_cli_calls_never_run_a_workspace_program(
    editor: TerminalClient, live: Containers
) -> None:
    MARKER.unlink(missing_ok=True)
    live.run(DISTROLESS)

    listing = await command(editor, Command.LIST_TARGETS.value, {})

    assert listing["targets"], listing
    assert not MARKER.exists(), listing["errors"]
