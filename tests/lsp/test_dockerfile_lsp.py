"""Main LSP suite: a Dockerfile in a VS Code-like editor, over a real stdio connection to `debugbox lsp`.

Diagnostics on open and change (stamped with the version), code actions (Generate Dockerfile.debug, the
exec-form fix and its edit), hover, and the generate command end to end: the `workspace/applyEdit` the editor
receives, the file it creates, `window/showDocument`, never clobbering an existing file, and regenerating as
an undoable edit.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from debugbox.core.wire import Command
from lsprotocol import types as lsp

from tests.lsp.conftest import EditorClient, apply_text_edits

pytestmark = pytest.mark.lsp

GENERATE = Command.GENERATE_DEBUG_DOCKERFILE.value

DISTROLESS = """\
FROM golang:1.22 AS build
WORKDIR /src
COPY . .
RUN go build -o /app ./cmd/server

FROM gcr.io/distroless/static:nonroot
COPY --from=build /app /app
CMD /app --port 8080
"""

ALPINE = """\
FROM alpine:3.20
RUN apk add --no-cache curl
CMD ["/bin/sh"]
"""


def whole_line(line: int) -> lsp.Range:
    return lsp.Range(start=lsp.Position(line=line, character=0), end=lsp.Position(line=line, character=0))


async def code_actions(
    client: EditorClient, uri: str, line: int, only: list[lsp.CodeActionKind | str] | None = None
) -> list[lsp.CodeAction]:
    result = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=whole_line(line),
            context=lsp.CodeActionContext(diagnostics=[], only=only),  # type: ignore[arg-type]
        )
    )
    actions = list(result or [])
    assert all(isinstance(a, lsp.CodeAction) for a in actions)
    return actions  # type: ignore[return-value]


async def generate(client: EditorClient, **args: Any) -> Any:
    return await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command=GENERATE, arguments=[args])
    )


def codes(diagnostics: list[lsp.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)


async def test_diagnostics_on_open_carry_the_version(client: EditorClient, tmp_path: Path) -> None:
    uri = client.open(tmp_path / "Dockerfile", DISTROLESS)

    found = await client.diagnostics_for(uri, 1)

    assert codes(found) == ["DBX101", "DBX102"]
    assert all(d.source == "debugbox" for d in found)
    shell_form = next(d for d in found if d.code == "DBX102")
    assert shell_form.severity == lsp.DiagnosticSeverity.Error
    assert shell_form.range.start.line == 7


async def test_diagnostics_follow_changes(client: EditorClient, tmp_path: Path) -> None:
    uri = client.open(tmp_path / "Dockerfile", DISTROLESS)
    assert codes(await client.diagnostics_for(uri, 1)) == ["DBX101", "DBX102"]

    version = client.replace(uri, ALPINE)
    assert await client.diagnostics_for(uri, version) == []

    version = client.replace(uri, DISTROLESS.replace("CMD /app --port 8080", 'CMD ["/app"]'))
    assert codes(await client.diagnostics_for(uri, version)) == ["DBX101"]


async def test_closing_clears_diagnostics(client: EditorClient, tmp_path: Path) -> None:
    uri = client.open(tmp_path / "Dockerfile", DISTROLESS)
    await client.diagnostics_for(uri, 1)

    client.close(uri)

    assert await client.diagnostics_for(uri, None) == []


async def test_code_actions_offer_generate_and_the_exec_form_fix(
    client: EditorClient, tmp_path: Path
) -> None:
    uri = client.open(tmp_path / "Dockerfile", DISTROLESS)

    actions = await code_actions(client, uri, 7)

    by_title = {a.title: a for a in actions}
    generate_action = by_title["Generate Dockerfile.debug"]
    assert generate_action.command is not None
    assert generate_action.command.command == GENERATE
    assert list(generate_action.command.arguments or []) == [{"uri": uri}]
    assert generate_action.edit is None
    fix = by_title["Rewrite in exec (JSON) form"]
    assert fix.kind == lsp.CodeActionKind.QuickFix
    assert fix.is_preferred is True
    assert [d.code for d in fix.diagnostics or []] == ["DBX102"]
    # The fix is a versioned TextDocumentEdit: the editor refuses it if the document changed meanwhile.
    assert fix.edit is not None and fix.edit.document_changes is not None
    (change,) = fix.edit.document_changes
    assert isinstance(change, lsp.TextDocumentEdit)
    assert change.text_document.uri == uri
    assert change.text_document.version == 1
    edits = [e for e in change.edits if isinstance(e, lsp.TextEdit)]
    fixed = apply_text_edits(DISTROLESS, edits)
    assert fixed.splitlines()[7] == 'CMD ["/app", "--port", "8080"]'


async def test_code_actions_honour_only(client: EditorClient, tmp_path: Path) -> None:
    uri = client.open(tmp_path / "Dockerfile", DISTROLESS)

    quick_fixes = await code_actions(client, uri, 7, only=[lsp.CodeActionKind.QuickFix])
    sources = await code_actions(client, uri, 7, only=[lsp.CodeActionKind.Source])

    assert quick_fixes and all(a.kind == lsp.CodeActionKind.QuickFix for a in quick_fixes)
    assert sources and all(str(a.kind).startswith("source") for a in sources)
    assert "Generate Dockerfile.debug" in {a.title for a in sources}


async def test_exec_form_fix_applied_by_the_editor_clears_the_error(
    client: EditorClient, tmp_path: Path
) -> None:
    uri = client.open(tmp_path / "Dockerfile", DISTROLESS)
    fix = next(a for a in await code_actions(client, uri, 7) if a.title.startswith("Rewrite"))
    assert fix.edit is not None

    applied = await client.workspace_apply_edit_async_local(fix.edit)

    assert applied
    version, text = client.documents[uri]
    assert version == 2
    assert codes(await client.diagnostics_for(uri, 2)) == ["DBX101"]
    assert 'CMD ["/app", "--port", "8080"]' in text


async def test_hover_on_from_describes_the_image(client: EditorClient, tmp_path: Path) -> None:
    uri = client.open(tmp_path / "Dockerfile", DISTROLESS)

    hover = await client.text_document_hover_async(
        lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=5, character=8)
        )
    )

    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    assert "distroless" in hover.contents.value
    nothing = await client.text_document_hover_async(
        lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=2, character=1)
        )
    )
    assert nothing is None


async def test_generate_sends_create_file_and_text_then_shows_it(
    client: EditorClient, tmp_path: Path
) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(DISTROLESS)
    uri = client.open(dockerfile)

    result = await generate(client, uri=uri)

    target = tmp_path / "Dockerfile.debug"
    assert result == {"created": True, "uri": target.as_uri()}
    (params,) = client.applied_edits
    create, insert = params.edit.document_changes or []
    assert isinstance(create, lsp.CreateFile)
    assert create.uri == target.as_uri()
    assert create.options == lsp.CreateFileOptions(overwrite=False, ignore_if_exists=True)
    assert isinstance(insert, lsp.TextDocumentEdit)
    assert insert.text_document.uri == target.as_uri()
    (text_edit,) = insert.edits
    assert isinstance(text_edit, lsp.TextEdit)
    assert text_edit.range == whole_line(0)
    assert "FROM ${APP_IMAGE}" in text_edit.new_text
    assert re.search(r"(?m)^USER (root|0)$", text_edit.new_text)
    # Distroless has no package manager: busybox is copied in from the tools image.
    assert "busybox" in text_edit.new_text
    assert target.read_text() == text_edit.new_text
    assert [d.uri for d in client.shown_documents] == [target.as_uri()]


async def test_generate_never_clobbers_an_existing_file(client: EditorClient, tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(DISTROLESS)
    target = tmp_path / "Dockerfile.debug"
    target.write_text("# my own debug image\n")
    uri = client.open(dockerfile)

    result = await generate(client, uri=uri)

    assert result == {"created": False, "uri": target.as_uri(), "reason": "exists"}
    assert client.applied_edits == []
    assert target.read_text() == "# my own debug image\n"
    assert any("regenerate" in m.message.lower() for m in client.messages)
    # The code action says what it will do now: regenerate, replacing the content.
    titles = {a.title for a in await code_actions(client, uri, 0)}
    assert "Regenerate Dockerfile.debug (replaces its content)" in titles


async def test_regenerate_replaces_the_content_as_one_edit(client: EditorClient, tmp_path: Path) -> None:
    dockerfile = tmp_path / "api.Dockerfile"
    dockerfile.write_text(ALPINE)
    target = tmp_path / "api.Dockerfile.debug"
    target.write_text("# stale\nFROM scratch\n")
    uri = client.open(dockerfile)

    result = await generate(client, uri=uri, regenerate=True)

    assert result == {"regenerated": True, "uri": target.as_uri()}
    (params,) = client.applied_edits
    (change,) = params.edit.document_changes or []
    assert isinstance(change, lsp.TextDocumentEdit)
    assert change.text_document.version is None  # not open in the editor
    (edit,) = change.edits
    assert isinstance(edit, lsp.TextEdit)
    assert edit.range == lsp.Range(
        start=lsp.Position(line=0, character=0), end=lsp.Position(line=2, character=0)
    )
    assert target.read_text() == edit.new_text
    assert "apk add --no-cache" in edit.new_text
    assert [d.uri for d in client.shown_documents] == [target.as_uri()]


async def test_regenerate_an_open_debug_file_is_a_versioned_edit(
    client: EditorClient, tmp_path: Path
) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(ALPINE)
    target = tmp_path / "Dockerfile.debug"
    target.write_text("# edited by hand\n")
    uri = client.open(dockerfile)
    debug_uri = client.open(target)
    client.replace(debug_uri, "# edited by hand, unsaved\n")

    result = await generate(client, uri=uri, regenerate=True)

    assert result == {"regenerated": True, "uri": debug_uri}
    (params,) = client.applied_edits
    (change,) = params.edit.document_changes or []
    assert isinstance(change, lsp.TextDocumentEdit)
    assert change.text_document.version == 2
    version, text = client.documents[debug_uri]
    assert version == 3 and "apk add --no-cache" in text
    assert target.read_text() == "# edited by hand\n"  # the editor's buffer changed, not the file: undoable


async def test_generate_with_the_debug_variant(client: EditorClient, tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(DISTROLESS)
    uri = client.open(dockerfile)
    variant = next(a for a in await code_actions(client, uri, 0) if "variant" in a.title)
    assert variant.command is not None
    assert list(variant.command.arguments or []) == [{"uri": uri, "variant": "debug"}]

    result = await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(
            command=variant.command.command, arguments=list(variant.command.arguments or [])
        )
    )

    assert result["created"] is True
    text = (tmp_path / "Dockerfile.debug").read_text()
    assert "gcr.io/distroless/static:debug" in text


async def test_a_refused_edit_is_reported_not_retried(client: EditorClient, tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(ALPINE)
    uri = client.open(dockerfile)
    client.accept_edits = False

    result = await generate(client, uri=uri)

    assert result["created"] is False and result["reason"] == "rejected"
    assert len(client.applied_edits) == 1
    assert not (tmp_path / "Dockerfile.debug").exists()
    assert client.shown_documents == []


async def test_generate_for_a_dockerfile_that_is_not_open(client: EditorClient, tmp_path: Path) -> None:
    sub = tmp_path / "svc"
    sub.mkdir()
    (sub / "Dockerfile.prod").write_text(ALPINE)

    result = await generate(client, uri=(sub / "Dockerfile.prod").as_uri())

    assert result == {"created": True, "uri": (sub / "Dockerfile.prod.debug").as_uri()}
    # No compose file and no setting: the app image is a placeholder named after the folder.
    assert "ARG APP_IMAGE=svc:dev" in (sub / "Dockerfile.prod.debug").read_text()


async def test_generate_in_a_client_without_edit_support(bare_client: EditorClient, tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(ALPINE)
    uri = dockerfile.as_uri()

    created = await generate(bare_client, uri=uri)
    assert created == {"created": True, "uri": (tmp_path / "Dockerfile.debug").as_uri()}
    written = (tmp_path / "Dockerfile.debug").read_text()
    assert "apk add --no-cache" in written

    (tmp_path / "Dockerfile.debug").write_text("# mine\n")
    again = await generate(bare_client, uri=uri)
    refused = await generate(bare_client, uri=uri, regenerate=True)

    assert again["reason"] == "exists"
    assert refused == {
        "regenerated": False,
        "uri": (tmp_path / "Dockerfile.debug").as_uri(),
        "reason": "unsupported",
    }
    assert (tmp_path / "Dockerfile.debug").read_text() == "# mine\n"
    assert bare_client.applied_edits == [] and bare_client.shown_documents == []


async def test_clients_without_code_action_literals_get_commands(
    bare_client: EditorClient, tmp_path: Path
) -> None:
    uri = bare_client.open(tmp_path / "Dockerfile", DISTROLESS)
    await bare_client.diagnostics_for(uri, 1)

    result = await bare_client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=whole_line(7),
            context=lsp.CodeActionContext(diagnostics=[]),
        )
    )

    # Only what a bare Command can express: the generate commands, not the exec-form edit.
    assert result and all(isinstance(c, lsp.Command) for c in result)
    assert {c.title for c in result} == {
        "Generate Dockerfile.debug",
        "Use the :debug variant in Dockerfile.debug",
    }


async def test_the_app_image_never_comes_from_a_compose_file_outside_the_workspace(
    client: EditorClient, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`compose.yaml` in the workspace is a link to another project's compose file: its `image:` (a private
    registry's name) went into the generated Dockerfile.debug — a file in the cloned repository, which may be
    committed back. Compose files are read for the app image only inside the workspace folder, as written and
    after following links, like the compose analysis' `include:`/`extends:` files."""
    private = tmp_path_factory.mktemp("private")
    (private / "compose.yaml").write_text(
        "services:\n  app:\n    build: .\n    image: registry.internal.example/secret-app:1\n"
    )
    (tmp_path / "compose.yaml").symlink_to(private / "compose.yaml")
    (tmp_path / "Dockerfile").write_text(ALPINE)

    result = await generate(client, uri=(tmp_path / "Dockerfile").as_uri())

    assert result["created"] is True
    text = (tmp_path / "Dockerfile.debug").read_text()
    assert "secret-app" not in text and "ARG APP_IMAGE=" in text
