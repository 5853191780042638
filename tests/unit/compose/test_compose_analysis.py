"""The compose analysis: DBX301-303, the `build.target` stage, and what the edge reads for it (workspace-bounded)."""

from __future__ import annotations

from pathlib import Path

from debugbox.core.compose.analysis import analyze
from debugbox.core.compose.model import read_compose
from debugbox.core.settings import Settings
from debugbox.edge.workspace import build_dockerfiles

from tests.unit.compose.compose_support import compose_config

DOCKERFILE = "FROM alpine:3.20 AS dev\nFROM scratch AS runtime\nCOPY app /app\n"


def _codes(text: str, dockerfiles: dict[str, tuple[str, str]] | None = None) -> list[tuple[int, str]]:
    found = analyze("file:///w/compose.yaml", text, Settings(), None, dockerfiles).diagnostics()
    return [(d.range.start.line, str(d.code)) for d in found]


def test_build_target_stage_decides() -> None:
    text = (
        "services:\n"
        "  dev:\n    build: {context: ., target: dev}\n    healthcheck: {test: 'true'}\n"
        "  run:\n    build: {context: ., target: runtime}\n    healthcheck: {test: 'true'}\n"
        "  final:\n    build: .\n    healthcheck:\n      test: [CMD, /app, --health]\n"
    )
    files = {name: ("/w/Dockerfile", DOCKERFILE) for name in ("dev", "run", "final")}
    # alpine has /bin/sh; scratch has nothing; an exec-form test needs no shell.
    assert _codes(text, files) == [(6, "DBX301")]
    # Without the Dockerfile's text nothing is known, and nothing is said.
    assert _codes(text) == []


def test_images_commands_and_references() -> None:
    text = (
        "services:\n"
        "  a:\n    image: gcr.io/distroless/static\n    entrypoint: /bin/sh -c serve\n"
        "  b:\n    image: gcr.io/distroless/static\n    command: serve --port 80\n"
        "  c:\n    image: alpine\n    command: [sh, -c, serve]\n    network_mode: service:a\n"
        "  d:\n    image: busybox\n    network_mode: 'service:gone'\n"
    )
    # A string command is split into words by compose, not run by a shell: only `/bin/sh …` is flagged.
    assert _codes(text) == [(3, "DBX301"), (13, "DBX302")]


def test_a_missing_service_message_names_a_few_services_not_all() -> None:
    # Each DBX302 listed every service: 6,000 services with broken references published over 300 MB of
    # messages (15 s to build them). Each names at most twelve now, and how many more there are.
    text = "services:\n" + "".join(
        f"  s{i:03}:\n    image: busybox\n    pid: service:gone\n" for i in range(200)
    )
    found = analyze("file:///w/compose.yaml", text, Settings(), None, None).diagnostics()
    assert len(found) == 200
    names = ", ".join(f"s{i:03}" for i in range(12))
    assert {d.message for d in found} == {
        f"pid: service:gone names a service that is not in this file: compose refuses to start s{i:03}. "
        f"Use one of: {names} (and 188 more)."
        for i in range(200)
    }


def test_a_service_reference_with_a_variable_is_the_environments(tmp_path: Path) -> None:
    # Compose interpolates `service:${DB:-db}` before it looks for the service; the real `docker-compose config`
    # accepts the file, so debugbox must not say compose refuses it. A plain missing name is still reported.
    text = (
        "services:\n  api:\n    image: busybox\n    network_mode: service:${NET_OF_API:-db}\n"
        "    pid: 'service:$${literally}'\n  db:\n    image: busybox\n"
    )
    (tmp_path / "compose.yaml").write_text(text.replace("    pid: 'service:$${literally}'\n", ""))
    assert compose_config(tmp_path, "compose.yaml")["services"]["api"]["network_mode"] == "service:db"
    assert _codes(text) == [(4, "DBX302")]  # `$$` is a `$`, no variable: `service:${literally}` is missing


def test_syntax_error() -> None:
    assert _codes("services:\n  a:\n    image: [x\n") == [(3, "DBX303")]


def test_edge_reads_only_inside_the_workspace(tmp_path: Path) -> None:
    work, outside = tmp_path / "work", tmp_path / "outside"
    (work / "app").mkdir(parents=True)
    outside.mkdir()
    (work / "app" / "Dockerfile").write_text("FROM scratch\n")
    (outside / "Dockerfile").write_text("FROM scratch\n")
    (work / "linked").symlink_to(outside)
    (work / "big").mkdir()
    (work / "big" / "Dockerfile").write_text("FROM scratch\n" + "# padding\n" * 200_000)
    text = (
        "services:\n  app:\n    build: app\n  up:\n    build: ../outside\n  link:\n    build: linked\n"
        "  git:\n    build: https://example.invalid/r.git\n  big:\n    build: big\n"
    )
    found, skipped = build_dockerfiles(read_compose(text), work / "compose.yaml", work)
    assert list(found) == ["app"] and found["app"][1] == "FROM scratch\n"
    assert set(skipped) == {"up", "link", "git", "big"}
    assert "outside the workspace" in skipped["up"] and "outside the workspace" in skipped["link"]
    assert "larger than" in skipped["big"]


def test_sidecar_action_offered_inside_a_service_and_disabled_with_the_reason() -> None:
    from debugbox.core.analysis import ActionContext
    from lsprotocol import types as lsp

    def at(text: str, line: int, character: int = 4) -> list[tuple[str, str | None, int]]:
        analysis = analyze("file:///w/compose.yaml", text, Settings(), None, None)
        pos = lsp.Position(line=line, character=character)
        found = analysis.actions(lsp.Range(start=pos, end=pos), ActionContext(Settings(), lambda _uri: False))
        return [(a.title, a.disabled_reason, len(a.edits)) for a in found]

    block = "name: shop\nservices:\n  api:\n    image: busybox\nvolumes: {}\n"
    assert at(block, 3) == [("Add a debug sidecar service (profile debug): debug-api", None, 1)]
    assert at(block, 4) == []  # outside every service
    (_title, reason, edits), *_ = at("services: {api: {image: busybox}}\n", 0, 12)
    assert reason is not None and "not a block mapping" in reason and edits == 0
    # The image is the setting; an invalid one is refused, not written.
    analysis = analyze("file:///w/compose.yaml", block, Settings(), None, None)
    bad = analysis.sidecar_action("api", "Not An Image")
    assert bad.disabled_reason is not None and "debugbox.toolboxImage" in bad.disabled_reason
