"""Main LSP suite: bad documents and bad command arguments get clear answers, and the server keeps serving."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from debugbox.core.wire import Command
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from tests.lsp.conftest import EditorClient

pytestmark = pytest.mark.lsp

GENERATE = Command.GENERATE_DEBUG_DOCKERFILE.value
ORIGIN = lsp.Position(line=0, character=0)


async def actions(client: EditorClient, uri: str) -> Any:
    return await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=lsp.Range(start=ORIGIN, end=ORIGIN),
            context=lsp.CodeActionContext(diagnostics=[]),
        )
    )


async def hover(client: EditorClient, uri: str, line: int = 0) -> Any:
    return await client.text_document_hover_async(
        lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=line, character=0)
        )
    )


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("\x00\x01\x02\xff\ufffd" * 1000, id="binary"),
        pytest.param("FROM \ud800alpine\nRUN \udfff\n", id="lone-surrogates"),
        pytest.param("", id="empty"),
        pytest.param("FROM alpine\nRUN <<EOF\necho never closed\n", id="unbalanced-heredoc"),
        pytest.param("FROM alpine\nRUN " + "x" * 2_000_000 + "\n", id="two-megabyte-line"),
        pytest.param("FROM scratch\n" + "RUN echo hi \\\n" * 20_000, id="endless-continuation"),
    ],
)
async def test_broken_documents_are_answered(client: EditorClient, tmp_path: Path, text: str) -> None:
    uri = client.open(tmp_path / "Dockerfile", text)

    diagnostics = await client.diagnostics_for(uri, 1)
    answered = await actions(client, uri)
    await hover(client, uri)

    assert all(d.source == "debugbox" for d in diagnostics)
    assert answered is None or isinstance(answered, list | tuple)
    follow_up = client.open(tmp_path / "ok.Dockerfile", "FROM gcr.io/distroless/static\n")
    assert [d.code for d in await client.diagnostics_for(follow_up, 1)] == ["DBX101"]


async def test_documents_that_are_not_dockerfiles_or_manifests_get_nothing(
    client: EditorClient, tmp_path: Path
) -> None:
    uri = client.open(tmp_path / "notes.yaml", "title: not a manifest\n", language_id="yaml")

    assert await actions(client, uri) is None
    assert await hover(client, uri) is None
    probe = client.open(tmp_path / "Dockerfile", "FROM scratch\n")
    await client.diagnostics_for(probe, 1)
    assert not any(p.uri == uri for p in client.published)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param(None, "expected one object argument", id="no-arguments"),
        pytest.param([], "expected one object argument", id="empty-list"),
        pytest.param(["file:///x/Dockerfile"], "expected one object argument", id="bare-string"),
        pytest.param([{}, {}], "expected one object argument", id="two-objects"),
        pytest.param([{}], '"uri" is required', id="missing-uri"),
        pytest.param([{"uri": 5}], '"uri" must be a string', id="uri-not-a-string"),
        pytest.param([{"uri": "Dockerfile"}], "must be a document URI", id="uri-without-scheme"),
        pytest.param([{"uri": "untitled:Untitled-1"}], "only file: URIs", id="not-a-file-uri"),
        pytest.param([{"uri": "file:///no/such/dir/Dockerfile"}], "unknown document", id="unknown-document"),
        pytest.param(
            [{"uri": "DOCKERFILE", "regenerate": "yes"}], "must be true or false", id="regenerate-type"
        ),
        pytest.param([{"uri": "DOCKERFILE", "variant": "fancy"}], '"variant" must be one of', id="variant"),
        pytest.param([{"uri": "NOTES"}], "is not a Dockerfile", id="not-a-dockerfile"),
    ],
)
async def test_bad_command_arguments_are_invalid_params(
    client: EditorClient, tmp_path: Path, arguments: Any, message: str
) -> None:
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.20\n")
    (tmp_path / "notes.txt").write_text("hello\n")
    if arguments:
        arguments = [
            {k: _placeholder(v, tmp_path) for k, v in a.items()} if isinstance(a, dict) else a
            for a in arguments
        ]

    with pytest.raises(JsonRpcInvalidParams, match=message):
        await client.workspace_execute_command_async(
            lsp.ExecuteCommandParams(command=GENERATE, arguments=arguments)
        )

    # Still serving: the same command with good arguments works, and nothing was written before.
    assert not (tmp_path / "Dockerfile.debug").exists()
    result = await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command=GENERATE, arguments=[{"uri": (tmp_path / "Dockerfile").as_uri()}])
    )
    assert result["created"] is True


def _placeholder(value: Any, root: Path) -> Any:
    return {"DOCKERFILE": (root / "Dockerfile").as_uri(), "NOTES": (root / "notes.txt").as_uri()}.get(
        value, value
    )


async def test_unknown_commands_are_rejected(client: EditorClient) -> None:
    with pytest.raises(JsonRpcException, match=r"debugbox\.noSuchCommand"):
        await client.workspace_execute_command_async(
            lsp.ExecuteCommandParams(command="debugbox.noSuchCommand", arguments=[])
        )


async def test_a_dockerfile_debug_cannot_be_generated_from_nothing(
    client: EditorClient, tmp_path: Path
) -> None:
    # No FROM at all: a request the server understands but cannot carry out (RequestFailed), not a crash.
    (tmp_path / "Dockerfile").write_text("# nothing here yet\n")
    uri = (tmp_path / "Dockerfile").as_uri()

    with pytest.raises(JsonRpcException) as raised:
        await client.workspace_execute_command_async(
            lsp.ExecuteCommandParams(command=GENERATE, arguments=[{"uri": uri}])
        )
    assert raised.value.code == lsp.LSPErrorCodes.RequestFailed
    assert "cannot generate Dockerfile.debug for Dockerfile" in raised.value.message
    assert "no FROM instruction" in raised.value.message
    assert not (tmp_path / "Dockerfile.debug").exists()
    assert await hover(client, uri) is None
