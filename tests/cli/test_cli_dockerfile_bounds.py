"""`debugbox check` on hostile and BuildKit-rejected Dockerfiles: a clean message and the right exit code."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli_dockerfile import run
from tests.unit.dockerfile.test_dockerfile_buildkit_rules import doubling


def test_doubling_file_exits_cleanly_with_a_message(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(doubling(40), encoding="utf-8")
    result = run("check", "Dockerfile", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("Dockerfile:15:1: warning DBX111 ARG A14 is not computed")


def test_deep_nesting_is_no_traceback(tmp_path: Path) -> None:
    nested = "${A:-" * 3000 + "alpine" + "}" * 3000
    (tmp_path / "Dockerfile").write_text(f"ARG A\nFROM alpine\nENV B={nested}\n", encoding="utf-8")
    result = run("check", "Dockerfile", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    shown = run("inspect", "--json", "Dockerfile", cwd=tmp_path)
    assert shown.returncode == 0 and "Traceback" not in shown.stderr


def test_files_buildkit_rejects_exit_1(tmp_path: Path) -> None:
    for name, text in {
        "env": "FROM alpine\nENV foo\n",
        "cmd": "FROM alpine\nCMD [1, 2]\n",
        "nested": 'FROM alpine\nCMD [["a"]]\n',
    }.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        result = run("check", name, cwd=tmp_path)
        assert result.returncode == 1, (name, result.stdout, result.stderr)
        assert f"{name}:2:1: error DBX110 BuildKit cannot parse this Dockerfile" in result.stdout


def test_buildkit_negative_testfiles_fail_check(conformance: Path, tmp_path: Path) -> None:
    base = conformance / "frontend" / "dockerfile" / "parser" / "testfiles-negative"
    for case in sorted(p.name for p in base.iterdir()):
        work = tmp_path / case
        work.mkdir()
        (work / "Dockerfile").write_bytes((base / case / "Dockerfile").read_bytes())
        result = run("check", "Dockerfile", cwd=work)
        if (work / "Dockerfile").stat().st_size == 0:
            # An empty file is refused before analysis, as bad input (exit 2), with one line saying so.
            assert (result.returncode, result.stderr.strip()) == (
                2,
                "debugbox: Dockerfile: the file is empty",
            )
            continue
        assert result.returncode == 1, (case, result.stdout, result.stderr)
        assert "error DBX110 BuildKit cannot parse this Dockerfile" in result.stdout, case
