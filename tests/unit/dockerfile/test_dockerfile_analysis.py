"""Diagnostics, quick fixes, code actions, hover and lens anchors of one analysed Dockerfile."""

from __future__ import annotations

from debugbox.core.analysis import ActionContext
from debugbox.core.dockerfile.analysis import analyze, debug_uri
from debugbox.core.settings import Settings
from debugbox.core.wire import Command
from lsprotocol import types as lsp

URI = "file:///work/app/Dockerfile"
DISTROLESS = """\
FROM golang:1.22 AS build
RUN go build -o /app .
FROM gcr.io/distroless/static:nonroot
COPY --from=build /app /app
CMD /app --serve
"""


def rng(line: int, start: int = 0, end: int = 0) -> lsp.Range:
    return lsp.Range(
        start=lsp.Position(line=line, character=start), end=lsp.Position(line=line, character=end)
    )


def ctx(exists: bool = False, only: list[str] | None = None) -> ActionContext:
    return ActionContext(
        settings=Settings(), file_exists=lambda uri: exists and uri.endswith(".debug"), only=only
    )


def apply(text: str, edit: lsp.TextEdit) -> str:
    lines = text.split("\n")
    s, e = edit.range.start, edit.range.end
    head = "\n".join([*lines[: s.line], lines[s.line][: s.character]])
    tail = "\n".join([lines[e.line][e.character :], *lines[e.line + 1 :]])
    return head + edit.new_text + tail


def codes(text: str) -> list[tuple[str, int, lsp.DiagnosticSeverity | None]]:
    return [
        (str(d.code), d.range.start.line, d.severity) for d in analyze(URI, text, Settings()).diagnostics()
    ]


def test_debug_uri() -> None:
    assert debug_uri("file:///w/api.Dockerfile") == "file:///w/api.Dockerfile.debug"


def test_distroless_final_stage_diagnostics() -> None:
    a = analyze(URI, DISTROLESS, Settings())
    diags = {str(d.code): d for d in a.diagnostics()}
    assert set(diags) == {"DBX101", "DBX102"}
    info = diags["DBX101"]
    assert info.severity == lsp.DiagnosticSeverity.Information and info.source == "debugbox"
    # On the image token of the final FROM.
    assert (info.range.start.line, info.range.start.character, info.range.end.character) == (2, 5, 37)
    err = diags["DBX102"]
    assert err.severity == lsp.DiagnosticSeverity.Error and err.range.start.line == 4


def test_exec_form_quick_fix_rewrites_the_command() -> None:
    a = analyze(URI, DISTROLESS, Settings())
    actions = a.actions(rng(4, 2, 2), ctx())
    fix = next(x for x in actions if x.title.startswith("Rewrite in exec"))
    assert fix.kind == "quickfix" and fix.preferred and len(fix.edits) == 1
    fixed = apply(DISTROLESS, fix.edits[0])
    assert fixed.splitlines()[4] == 'CMD ["/app", "--serve"]'
    assert [c for c in codes(fixed) if c[0] == "DBX102"] == []


def test_no_quick_fix_for_commands_json_cannot_express() -> None:
    for cmd in [
        "CMD /app && echo hi",
        "CMD /app | tee x",
        "ENTRYPOINT $APP",
        'CMD /app "quoted arg"',
        "CMD /app > log",
    ]:
        text = f"FROM scratch\n{cmd}\n"
        a = analyze(URI, text, Settings())
        assert [str(d.code) for d in a.diagnostics()].count("DBX102") == 1, cmd
        assert not [x for x in a.actions(rng(1), ctx()) if x.edits], cmd


def test_shell_form_run_in_debug_variant_without_bin_sh() -> None:
    text = "FROM gcr.io/distroless/base:debug\nRUN ls\nHEALTHCHECK CMD /app health\n"
    found = codes(text)
    assert ("DBX102", 1, lsp.DiagnosticSeverity.Error) in found
    assert ("DBX102", 2, lsp.DiagnosticSeverity.Error) in found
    assert not [c for c in found if c[0] == "DBX101"]  # it has a shell, at /busybox/sh
    # A SHELL instruction naming busybox makes shell form fine.
    assert codes('FROM gcr.io/distroless/base:debug\nSHELL ["/busybox/sh", "-c"]\nRUN ls\n') == []


def test_healthcheck_quick_fix_keeps_options() -> None:
    text = "FROM scratch\nHEALTHCHECK --interval=5s CMD /bin/probe -addr=:8081\n"
    a = analyze(URI, text, Settings())
    fix = next(x for x in a.actions(rng(1), ctx()) if x.edits)
    assert (
        apply(text, fix.edits[0]).splitlines()[1]
        == 'HEALTHCHECK --interval=5s CMD ["/bin/probe", "-addr=:8081"]'
    )


def test_healthcheck_http_client_warning() -> None:
    warn = lsp.DiagnosticSeverity.Warning
    assert ("DBX103", 1, warn) in codes(
        'FROM debian:12-slim\nHEALTHCHECK CMD ["curl", "-f", "http://localhost"]\n'
    )
    assert ("DBX103", 1, warn) in codes("FROM gcr.io/distroless/static\nHEALTHCHECK CMD wget -q localhost\n")
    # Installed in the file, or present in the image: no warning.
    assert (
        codes(
            "FROM debian:12-slim\nRUN apt-get update && apt-get install -y curl\nHEALTHCHECK CMD curl -f x\n"
        )
        == []
    )
    assert codes("FROM alpine:3\nHEALTHCHECK CMD wget -q -O- localhost\n") == []
    assert codes("FROM python:3.12\nHEALTHCHECK CMD curl -f localhost\n") == []
    # Unknown images: debugbox says nothing.
    assert codes("FROM registry.example/x:1\nHEALTHCHECK CMD curl -f localhost\n") == []


def test_images_with_a_shell_and_windows_images_get_no_diagnostics() -> None:
    assert codes("FROM python:3.12-slim\nRUN pip install x\nCMD python app.py\n") == []
    windows = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir\nCMD cmd /c echo\n"
    assert codes(windows) == []
    assert analyze(URI, windows, Settings()).actions(rng(1), ctx()) == []


def test_generate_actions_anywhere_and_on_the_diagnostic() -> None:
    a = analyze(URI, DISTROLESS, Settings())
    anywhere = a.actions(rng(0), ctx())
    assert [(x.title, x.kind) for x in anywhere] == [
        ("Generate Dockerfile.debug", "source"),
        ("Use the :debug variant in Dockerfile.debug", "source"),
    ]
    assert anywhere[0].command == Command.GENERATE_DEBUG_DOCKERFILE.value
    assert anywhere[0].arguments == ({"uri": URI},)
    assert anywhere[1].arguments == ({"uri": URI, "variant": "debug"},)
    on_diag = [x for x in a.actions(rng(2, 6, 6), ctx()) if x.kind == "quickfix"]
    assert [x.title for x in on_diag] == [
        "Generate Dockerfile.debug",
        "Use the :debug variant in Dockerfile.debug",
    ]
    assert all(x.diagnostics and x.diagnostics[0].code == "DBX101" for x in on_diag)


def test_regenerate_when_the_debug_file_exists() -> None:
    a = analyze("file:///w/api.Dockerfile", "FROM alpine\n", Settings())
    (action,) = a.actions(rng(0), ctx(exists=True))
    assert action.title == "Regenerate api.Dockerfile.debug (replaces its content)"
    assert action.arguments == ({"uri": "file:///w/api.Dockerfile", "regenerate": True},)


def test_only_filter() -> None:
    a = analyze(URI, DISTROLESS, Settings())
    assert {x.kind for x in a.actions(rng(2, 6, 6), ctx(only=["quickfix"]))} == {"quickfix"}
    assert {x.kind for x in a.actions(rng(2, 6, 6), ctx(only=["source"]))} == {"source"}
    assert a.actions(rng(2, 6, 6), ctx(only=["refactor"])) == []


def test_hover_on_from_lines() -> None:
    a = analyze(URI, DISTROLESS, Settings())
    hover = a.hover(lsp.Position(line=2, character=10))
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    text = hover.contents.value
    for part in [
        "(final)",
        "gcr.io/distroless/static:nonroot",
        "distroless",
        "package manager: none",
        "shell: no",
    ]:
        assert part in text
    assert "65532` (image default)" in text and "Why:" in text
    assert a.hover(lsp.Position(line=1, character=0)) is None
    build = a.hover(lsp.Position(line=0, character=0))
    assert build is not None and "apt" in str(build.contents)


def test_lens_anchor_on_final_from() -> None:
    (anchor,) = analyze(URI, DISTROLESS, Settings()).lens_anchors()
    assert anchor.purpose == "dockerfile-final-from"
    assert anchor.range.start.line == 2
    assert anchor.data["image"] == "gcr.io/distroless/static:nonroot" and anchor.data["stage"] == "1"
    assert analyze(URI, "# no FROM\n", Settings()).lens_anchors() == ()


def test_debug_variant_action_only_for_distroless() -> None:
    a = analyze(URI, "FROM cgr.dev/chainguard/static:latest\n", Settings())
    assert [str(d.code) for d in a.diagnostics()] == ["DBX101"]
    assert [x.title for x in a.actions(rng(0), ctx())] == ["Generate Dockerfile.debug"]
