"""Writes go only where the user chose, over a real stdio connection: `generateDebugDockerfile` never sends an
edit (CreateFile or text edit) for a Dockerfile.debug that is a symbolic link leaving the workspace or a dangling
one, and says so naming the link; a link that stays inside the workspace is still written through and stays a
link. The editor client applies what it gets to the disk (tests/lsp/conftest.py), as VS Code's save would.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from debugbox.core.wire import Command
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

from tests.lsp.conftest import EditorClient

pytestmark = pytest.mark.lsp

GENERATE = Command.GENERATE_DEBUG_DOCKERFILE.value
ALPINE = "FROM alpine:3.20\nRUN apk add --no-cache curl\n"
MINE = "# someone else's file\n"


async def generate(client: EditorClient, **args: Any) -> Any:
    return await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command=GENERATE, arguments=[args])
    )


@pytest.fixture
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("outside-the-workspace")


async def _refused(client: EditorClient, link: Path, **args: Any) -> str:
    with pytest.raises(JsonRpcException) as err:
        await generate(client, **args)
    assert client.applied_edits == []  # no CreateFile, no text edit: nothing for the editor to write through
    shown = [m.message for m in client.messages if m.type == lsp.MessageType.Error]
    assert any(str(link) in m for m in shown), shown
    assert str(link) in str(err.value)
    return str(err.value)


@pytest.mark.parametrize("regenerate", [False, True])
async def test_a_link_leaving_the_workspace_gets_no_edit(
    client: EditorClient, tmp_path: Path, outside: Path, regenerate: bool
) -> None:
    (tmp_path / "Dockerfile").write_text(ALPINE)
    victim = outside / "authorized_keys"
    victim.write_text(MINE)
    link = tmp_path / "Dockerfile.debug"
    link.symlink_to(victim)
    uri = client.open(tmp_path / "Dockerfile")

    message = await _refused(client, link, uri=uri, regenerate=regenerate)

    assert "outside" in message
    assert victim.read_text() == MINE and link.is_symlink()


async def test_a_dangling_link_gets_no_create_file(
    client: EditorClient, tmp_path: Path, outside: Path
) -> None:
    (tmp_path / "Dockerfile").write_text(ALPINE)
    link = tmp_path / "Dockerfile.debug"
    link.symlink_to(outside / "created-through-the-link")
    uri = client.open(tmp_path / "Dockerfile")

    message = await _refused(client, link, uri=uri, regenerate=True)

    assert "does not exist" in message
    assert not (outside / "created-through-the-link").exists() and link.is_symlink()


async def test_a_dangling_link_inside_the_workspace_is_not_created_through_either(
    bare_client: EditorClient, tmp_path: Path
) -> None:
    """The server's own write (an editor without workspace edits): not through a dangling link, even one that
    points inside the workspace."""
    (tmp_path / "Dockerfile").write_text(ALPINE)
    link = tmp_path / "Dockerfile.debug"
    link.symlink_to(tmp_path / "elsewhere.debug")

    await _refused(bare_client, link, uri=(tmp_path / "Dockerfile").as_uri())

    assert not (tmp_path / "elsewhere.debug").exists() and link.is_symlink()


async def test_a_link_inside_the_workspace_is_regenerated_and_stays_a_link(
    client: EditorClient, tmp_path: Path
) -> None:
    (tmp_path / "Dockerfile").write_text(ALPINE)
    (tmp_path / "debug").mkdir()
    real = tmp_path / "debug" / "real.debug"
    real.write_text("# stale\n")
    link = tmp_path / "Dockerfile.debug"
    link.symlink_to(os.path.join("debug", "real.debug"))
    uri = client.open(tmp_path / "Dockerfile")

    result = await generate(client, uri=uri, regenerate=True)

    assert result == {"regenerated": True, "uri": link.as_uri()}
    assert link.is_symlink() and os.readlink(link) == os.path.join("debug", "real.debug")
    assert "apk add --no-cache" in real.read_text()


async def test_a_linked_folder_leaving_the_workspace_gets_no_edit(
    client: EditorClient, tmp_path: Path, outside: Path
) -> None:
    """`ws/svc -> elsewhere`: Dockerfile.debug there is not a link itself, but it would land outside."""
    (outside / "Dockerfile").write_text(ALPINE)
    linked = tmp_path / "svc"
    linked.symlink_to(outside, target_is_directory=True)
    uri = client.open(linked / "Dockerfile")

    message = await _refused(client, linked / "Dockerfile.debug", uri=uri)

    assert "outside" in message
    assert not (outside / "Dockerfile.debug").exists()


async def test_a_manifest_linked_from_outside_the_workspace_gets_no_edit(
    client: EditorClient, tmp_path: Path, outside: Path
) -> None:
    """#10 §3 for manifest edits: the editor would save the quick fix through the link, so none is offered (a
    disabled action naming the link, or none), and the share-pid command is refused naming it."""
    from tests.lsp.test_manifests import DEPLOY, INSIDE, actions, at, command

    victim = outside / "deploy.yaml"
    victim.write_text(DEPLOY)
    link = tmp_path / "deploy.yaml"
    link.symlink_to(victim)
    uri = client.open(link, DEPLOY, language_id="yaml")
    await client.diagnostics_for(uri, 1)

    offered = await actions(client, uri, at(INSIDE, 2))
    assert offered, "the debug-now action (no edit) is still offered"
    assert all(a.edit is None for a in offered)
    disabled = [a for a in offered if a.disabled is not None]
    assert all(str(link) in a.disabled.reason for a in disabled)  # type: ignore[union-attr]

    with pytest.raises(JsonRpcException) as err:
        await command(client, Command.ADD_SHARE_PROCESS_NAMESPACE.value, uri=uri)
    assert str(link) in str(err.value) and client.applied_edits == []
    assert victim.read_text() == DEPLOY
