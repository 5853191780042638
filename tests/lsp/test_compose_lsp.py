"""Compose files in a VS Code-like editor over a real stdio connection to `debugbox lsp`: diagnostics from the
`build:` Dockerfile's facts and the image table, the missing `service:` reference, the hover on a service with
the Dockerfile's facts, the "Add a debug sidecar service" action applied as an edit, and the per-service lenses.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from lsprotocol import types as lsp

from tests.lsp.conftest import EditorClient, apply_text_edits

pytestmark = pytest.mark.lsp

COMPOSE = """\
services:
  api:
    build:
      context: ./api
    healthcheck:
      test: wget -q -O- http://localhost/ || exit 1
  db:
    image: postgres:16
    pid: "service:nope"
  static:
    image: gcr.io/distroless/static-debian12
    command: ["sh", "-c", "serve"]
"""
DOCKERFILE = (
    "FROM golang:1.22 AS build\nRUN go build -o /app .\nFROM gcr.io/distroless/base-debian12\nUSER nonroot\n"
)


def _workspace(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "Dockerfile").write_text(DOCKERFILE)


async def _sidecar_actions(client: EditorClient, uri: str, line: int) -> list[lsp.CodeAction]:
    """The "Add a debug sidecar service" actions as listed at column 4 of `line` (one per implementation)."""
    result = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=lsp.Range(lsp.Position(line, 4), lsp.Position(line, 4)),
            context=lsp.CodeActionContext(diagnostics=[]),
        )
    )
    return [a for a in result or [] if isinstance(a, lsp.CodeAction) and "sidecar" in a.title]


async def test_diagnostics_hover_action_and_lenses(client: EditorClient, tmp_path: Path) -> None:
    _workspace(tmp_path)
    uri = client.open(tmp_path / "compose.yaml", COMPOSE, language_id="dockercompose")
    found = await client.diagnostics_for(uri, 1)
    by_line = {d.range.start.line: d for d in found}
    assert sorted(by_line) == [5, 8, 11]
    # The build service's facts come from its Dockerfile's final stage (distroless base: no shell).
    assert by_line[5].code == "DBX301" and "gcr.io/distroless/base-debian12" in by_line[5].message
    assert by_line[8].code == "DBX302" and "service:nope" in by_line[8].message
    assert by_line[11].code == "DBX301" and "starts sh" in by_line[11].message

    hover = await client.text_document_hover_async(
        lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(1, 3))
    )
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    value = hover.contents.value
    assert "api/Dockerfile" in value and "gcr.io/distroless/base-debian12" in value
    assert "shell: no" in value and "nonroot" in value

    # With `auto` one action per compose implementation installed (the test extras add podman-compose): Docker's.
    sidecars = await _sidecar_actions(client, uri, 7)
    (listed,) = [a for a in sidecars if "podman" not in a.title.lower()]
    # Listed without its edit, whose check loads the whole file twice (seconds for thousands of services): an
    # editor that resolves actions gets it checked when it is chosen.
    assert "debug-db" in listed.title and listed.edit is None and listed.data is not None
    action = await client.choose(listed)
    assert action.edit is not None
    assert action.edit.document_changes is not None
    (change,) = action.edit.document_changes
    assert isinstance(change, lsp.TextDocumentEdit) and change.text_document.version == 1
    edited = apply_text_edits(COMPOSE, list(change.edits))  # type: ignore[arg-type]
    services = yaml.safe_load(edited)["services"]
    assert services["debug-db"]["pid"] == "service:db" and services["debug-db"]["profiles"] == ["debug"]
    assert edited.startswith(COMPOSE)  # appended after the last service, nothing else touched

    lenses = await client.text_document_code_lens_async(
        lsp.CodeLensParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
    )
    titles = {(lens.range.start.line, lens.command.title) for lens in lenses or [] if lens.command}
    assert (1, "Generate Dockerfile.debug") in titles
    assert not any(line != 1 and "Generate" in title for line, title in titles)


async def test_diagnostics_follow_a_dockerfile_changed_on_disk(client: EditorClient, tmp_path: Path) -> None:
    """`workspace/didChangeWatchedFiles` for a compose file's `build:` Dockerfile re-analyses the open compose
    file: no edit of it is needed for the new facts to show. The server asked the editor to watch Dockerfiles."""
    (tmp_path / "api").mkdir()
    dockerfile = tmp_path / "api" / "Dockerfile"
    dockerfile.write_text("FROM alpine:3.20\n")
    text = (
        "services:\n  api:\n    build: ./api\n    healthcheck:\n      test: wget -q -O- http://localhost/\n"
    )
    uri = client.open(tmp_path / "compose.yaml", text, language_id="dockercompose")
    assert await client.diagnostics_for(uri, 1) == []
    await client.wait_for(lambda: client.registrations, timeout=5)
    (registration,) = client.registrations
    assert registration.method == lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES
    assert registration.register_options is not None
    globs = [w["globPattern"] for w in registration.register_options["watchers"]]  # type: ignore[index]
    assert "**/*[Dd]ockerfile*" in globs

    def changed(path: Path) -> None:
        event = lsp.FileEvent(uri=path.as_uri(), type=lsp.FileChangeType.Changed)
        client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(changes=[event]))

    published = len(client.published)
    (tmp_path / "other.yaml").write_text("a: 1\n")
    changed(tmp_path / "other.yaml")  # not an input of the compose file: nothing is analysed again
    dockerfile.write_text("FROM gcr.io/distroless/static-debian12\n")
    changed(dockerfile)
    found = await client.wait_for(
        lambda: next((p for p in client.published[published:] if p.uri == uri and p.diagnostics), None)
    )
    assert [d.code for d in found.diagnostics] == ["DBX301"]
    assert "gcr.io/distroless/static-debian12" in found.diagnostics[0].message
    assert found.version == 1  # the compose file itself was not edited
    assert len([p for p in client.published[published:] if p.uri == uri]) == 1


async def test_an_override_in_a_linked_folder(client: EditorClient, tmp_path: Path) -> None:
    """An override file, opened through a link to its folder: the base file's services are known (no DBX302 for
    `service:db`), and the podman-compose form names the container after the folder's real name, as
    podman-compose does (`os.path.realpath` of the file's folder), not the link's."""
    real = tmp_path / "real-shop"
    real.mkdir()
    (real / "compose.yaml").write_text(
        "services:\n  api:\n    image: busybox\n  db:\n    image: postgres:16\n"
    )
    (tmp_path / "checkout").symlink_to(real)
    text = "services:\n  api:\n    network_mode: service:db\n"
    uri = client.open(tmp_path / "checkout" / "compose.override.yaml", text, language_id="dockercompose")
    assert await client.diagnostics_for(uri, 1) == []
    (listed,) = [a for a in await _sidecar_actions(client, uri, 2) if "podman-compose" in a.title]
    podman = await client.choose(listed)
    assert podman.edit is not None and podman.edit.document_changes is not None
    (change,) = podman.edit.document_changes
    assert isinstance(change, lsp.TextDocumentEdit)
    edited = apply_text_edits(text, list(change.edits))  # type: ignore[arg-type]
    assert yaml.safe_load(edited)["services"]["debug-api"]["pid"] == "container:real-shop_api_1"


async def test_a_sidecar_in_a_file_with_anchors_is_checked_before_it_is_listed(
    client: EditorClient, tmp_path: Path
) -> None:
    """Anchors and aliases can make the loaded file differ from what the edit's text says: there the check runs
    before the action is listed, which then carries its edit (or its refusal)."""
    text = "x-common: &common\n  image: busybox\nservices:\n  api:\n    <<: *common\n"
    uri = client.open(tmp_path / "compose.yaml", text, language_id="dockercompose")
    await client.diagnostics_for(uri, 1)
    sidecars = await _sidecar_actions(client, uri, 4)
    assert sidecars and all(a.edit is not None and a.data is None for a in sidecars), sidecars
