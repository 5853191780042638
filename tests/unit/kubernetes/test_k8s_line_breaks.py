"""Lines as LSP counts them (`\n`, `\r\n`, `\r`; LSP 3.17 "Text Documents") versus libyaml, which also breaks
lines at NEL (U+0085), U+2028 and U+2029: every position debugbox sends is an LSP position, and every edit lands
on the line it was meant for."""

from __future__ import annotations

import re

import lsprotocol.types as lsp
import pytest
from debugbox.core.analysis import ActionContext
from debugbox.core.kubernetes.analysis import analyze
from debugbox.core.kubernetes.pod_spec import find_pod_specs
from debugbox.core.kubernetes.yamlstream import split_documents
from debugbox.core.settings import Settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from k8s_support import at_path, load_all
from test_k8s_properties import manifests

SETTINGS = Settings(toolbox_image="example.org/toolbox:1")
URI = "file:///project/pod.yaml"
_LSP_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")


def lsp_lines(text: str) -> list[str]:
    """The document's lines as an LSP client sees them, each with its line break."""
    lines = [m.group(0) for m in _LSP_LINE.finditer(text)]
    return lines[:-1] if lines and lines[-1] == "" else lines


def apply_lsp(text: str, edits: list[lsp.TextEdit] | tuple[lsp.TextEdit, ...]) -> str:
    """Apply `edits` the way an LSP client does (UTF-16 columns; these texts are BMP-only)."""
    lines = lsp_lines(text)

    def offset(p: lsp.Position) -> int:
        return sum(len(line) for line in lines[: p.line]) + p.character

    for e in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(e.range.start)] + e.new_text + text[offset(e.range.end) :]
    return text


# Two comment lines ended by a bare CR before the pod spec: LSP and libyaml both count them as lines;
# counting only `\n` put the edit two lines early (inside `metadata`).
BARE_CR = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n# one\r# two\r"
    "spec:\n  restartPolicy: Always\n  containers:\n  - name: app\n    image: nginx\n"
)


def test_edit_after_bare_cr_lines_lands_on_the_right_line() -> None:
    analysis = analyze(URI, BARE_CR, SETTINGS)
    spec_line = lsp_lines(BARE_CR).index("spec:\n")
    assert spec_line == 6
    outcome = analysis.share_pid(spec_line + 1)
    assert outcome.changed and outcome.edits[0].range.start.line == spec_line + 2
    new = apply_lsp(BARE_CR, outcome.edits)
    assert new == BARE_CR.replace("Always\n", "Always\n  shareProcessNamespace: true\n")
    assert load_all(new)[0]["spec"]["shareProcessNamespace"] is True


def test_quick_fix_and_sidecar_after_bare_cr_lines() -> None:
    analysis = analyze(URI, BARE_CR, SETTINGS)
    ctx = ActionContext(settings=SETTINGS, file_exists=lambda _uri: False)
    at = lsp.Position(7, 2)
    actions = analysis.actions(lsp.Range(at, at), ctx)
    share = next(a for a in actions if a.title.startswith("Add shareProcessNamespace"))
    assert apply_lsp(BARE_CR, share.edits) == BARE_CR.replace(
        "Always\n", "Always\n  shareProcessNamespace: true\n"
    )
    side = next(a for a in actions if a.edits and "sidecar" in a.title)
    spec = load_all(apply_lsp(BARE_CR, side.edits))[0]["spec"]
    assert [c["name"] for c in spec["containers"]] == ["app", "debug"]


def test_a_document_written_with_bare_cr_only() -> None:
    text = BARE_CR.replace("\n", "\r")
    analysis = analyze(URI, text, SETTINGS)
    (spec,) = analysis.pod_specs()
    assert spec.line == 6 and spec.containers[0].line == 9
    new = apply_lsp(text, analysis.share_pid(7).edits)
    assert new == text.replace("Always\r", "Always\r  shareProcessNamespace: true\r")


@pytest.mark.parametrize("sep", ["\x85", "\u2028", "\u2029"])
def test_nel_and_unicode_separators_are_one_lsp_line(sep: str) -> None:
    # libyaml breaks the quoted name at `sep` (its lines are one ahead from there); LSP does not.
    text = (
        f'apiVersion: v1\nkind: Pod\nmetadata:\n  name: "a{sep}b"\n'
        "spec:\n  restartPolicy: Always\n  containers:\n  - name: app\n    image: nginx\n"
    )
    analysis = analyze(URI, text, SETTINGS)
    (spec,) = analysis.pod_specs()
    assert (spec.line, spec.end_line, spec.containers[0].line) == (4, 8, 7)
    name_range = spec.containers[0].name_range
    assert name_range is not None and (name_range.start.line, name_range.start.character) == (7, 10)
    outcome = analysis.share_pid(5)
    new = apply_lsp(text, outcome.edits)
    assert new == text.replace("Always\n", "Always\n  shareProcessNamespace: true\n")
    assert [s.line for s in find_pod_specs(text)] == [4]


def test_document_marker_after_a_bare_cr_starts_a_document() -> None:
    # libyaml reads `---` after a bare CR as a new document; so must the splitter (and its line counts).
    doc = "apiVersion: v1\rkind: Pod\rspec:\r  containers: []\r"
    chunks = [c for c in split_documents(doc + "---\r" + doc) if c.index is not None]
    assert [c.line for c in chunks] == [0, 4]
    assert len(load_all(doc + "---\r" + doc)) == 2
    assert [s.line for s in find_pod_specs(doc + "---\r" + doc)] == [2, 7]


def test_syntax_errors_after_a_nel_are_reported_on_the_lsp_line() -> None:
    from debugbox.core.kubernetes.inspect import inspect_manifest

    text = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: "a\x85b"\nspec:\n  containers: [\n'
    (diag,) = analyze(URI, text, SETTINGS).diagnostics()
    assert diag.code == "DBX201" and diag.range.start.line == 6  # libyaml says line 7: one NEL too many
    assert [e["line"] for e in inspect_manifest(text)["errors"]] == [7]  # 1-based


@st.composite
def mixed_breaks(draw: st.DrawFn) -> tuple[str, str]:
    """A generated manifest whose line breaks are each `\n`, `\r\n` or `\r`, with a NEL or U+2028 inside a
    quoted annotation before the pod spec; and the pod spec's path."""
    text, path, _pod = draw(manifests())
    if text.lstrip().startswith("{"):
        text = text.replace("\r\n", "\n")
    else:
        sep = draw(st.sampled_from(["\x85", "\u2028"]))
        text = re.sub(r"(?m)^kind:", f'x-note: "a{sep}b"\nkind:', text.replace("\r\n", "\n"), count=1)
    parts = text.split("\n")
    breaks = draw(st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=len(parts), max_size=len(parts)))
    return "".join(p + b for p, b in zip(parts[:-1], breaks, strict=False)) + parts[-1], path


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixed_breaks())
def test_share_pid_edits_land_right_whatever_the_line_breaks(case: tuple[str, str]) -> None:
    text, path = case
    outcome = analyze(URI, text, SETTINGS).share_pid(None)
    new = apply_lsp(text, outcome.edits)
    expected = load_all(text)[0]
    if outcome.changed:
        at_path(expected, path)["shareProcessNamespace"] = True
    assert load_all(new)[0] == expected


KIND_LINES = st.lists(
    st.sampled_from(
        [
            "kind: Pod",
            "\ufeffkind: Deployment",
            '"kind": "List"',
            "'kind':   Job   # a comment",
            "kind:",
            "  kind: Nested",
            "kind: !!str Tagged",
            "akind: NotAKey",
            "apiVersion: v1",
            "",
            "# kind: Commented",
        ]
    ),
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(KIND_LINES, st.booleans())
def test_the_top_kind_pattern_for_newline_only_text_finds_what_the_general_one_does(
    lines: list[str], final_newline: bool
) -> None:
    """`scan_document` reads the top-level kinds of a `\\n`-only text with `re.M`'s `^` (three times faster
    than the look-behind that also knows CR, NEL, LS and PS): the two must agree on every such text."""
    from debugbox.core.kubernetes.pod_spec import _TOP_KIND, _TOP_KIND_NL

    text = "\n".join(lines) + ("\n" if final_newline else "")
    assert _TOP_KIND_NL.findall(text) == _TOP_KIND.findall(text)
