"""The real `debugbox` console script on Dockerfiles: inspect, check, debug-image, and bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.unit.dockerfile.test_dockerfile_analysis import DISTROLESS


def debugbox_exe() -> list[str]:
    exe = shutil.which("debugbox", path=str(ROOT / ".venv" / "bin")) or shutil.which("debugbox")
    return [exe] if exe else [sys.executable, "-m", "debugbox"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEBUGBOX_")}
    return subprocess.run(
        [*debugbox_exe(), *args], cwd=cwd, capture_output=True, text=True, timeout=60, env=env, check=False
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(DISTROLESS, encoding="utf-8")
    return tmp_path


def test_inspect_json(project: Path) -> None:
    result = run("inspect", "Dockerfile", "--json", cwd=project)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["kind"] == "dockerfile" and data["final_stage"] == 1
    build, final = data["stages"]
    assert build["name"] == "build" and build["package_manager"] == "apt" and build["line"] == 1
    assert final == {
        "index": 1,
        "name": None,
        "line": 3,
        "from": "gcr.io/distroless/static:nonroot",
        "image": "gcr.io/distroless/static:nonroot",
        "base_stage": None,
        "family": "distroless",
        "package_manager": "none",
        "has_shell": False,
        "shell": None,
        "user": None,
    }


def test_inspect_table(project: Path) -> None:
    result = run("inspect", "Dockerfile", cwd=project)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["#", "NAME", "LINE", "IMAGE", "BASE", "FAMILY", "PKG", "SHELL", "USER"]
    assert lines[2].split()[:4] == ["1*", "-", "3", "gcr.io/distroless/static:nonroot"]


def test_check_lint_output_and_exit_code(project: Path) -> None:
    result = run("check", "Dockerfile", cwd=project)
    assert result.returncode == 1  # DBX102 is an error
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Dockerfile:3:6: information DBX101 The final image")
    assert lines[1].startswith("Dockerfile:5:1: error DBX102 CMD in shell form")
    (project / "ok.Dockerfile").write_text("FROM python:3.12-slim\nCMD python -m app\n", encoding="utf-8")
    clean = run("check", "ok.Dockerfile", "--json", cwd=project)
    assert clean.returncode == 0 and json.loads(clean.stdout) == []
    both = run("check", "--json", "Dockerfile", "ok.Dockerfile", cwd=project)
    findings = json.loads(both.stdout)
    assert {(f["path"], f["code"], f["severity"]) for f in findings} == {
        ("Dockerfile", "DBX101", "information"),
        ("Dockerfile", "DBX102", "error"),
    }


def test_check_info_only_exits_zero(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY app /app\n", encoding="utf-8")
    result = run("check", "Dockerfile", cwd=tmp_path)
    assert result.returncode == 0 and "DBX101" in result.stdout


def test_debug_image_writes_and_refuses_to_overwrite(project: Path) -> None:
    result = run("debug-image", "Dockerfile", cwd=project)
    assert result.returncode == 0, result.stderr
    target = project / "Dockerfile.debug"
    first = target.read_text(encoding="utf-8")
    assert "FROM busybox:musl AS debug-tools" in first and "ARG APP_IMAGE=" in first
    target.write_text("# my edits\n", encoding="utf-8")
    refused = run("debug-image", "Dockerfile", cwd=project)
    assert refused.returncode == 1
    assert (
        "exists" in refused.stderr and "--force" in refused.stderr and len(refused.stderr.splitlines()) == 1
    )
    assert target.read_text(encoding="utf-8") == "# my edits\n"
    forced = run("debug-image", "Dockerfile", "--force", "--app-image", "me/app:1", cwd=project)
    assert forced.returncode == 0
    assert "ARG APP_IMAGE=me/app:1\n" in target.read_text(encoding="utf-8")


def test_debug_image_stdout_output_and_compose(project: Path) -> None:
    (project / "compose.yaml").write_text(
        "services:\n  app:\n    build: .\n    image: acme/app:3\n", encoding="utf-8"
    )
    out = run("debug-image", "Dockerfile", "--stdout", cwd=project)
    assert out.returncode == 0 and "ARG APP_IMAGE=acme/app:3\n" in out.stdout
    assert not (project / "Dockerfile.debug").exists()
    both = run("debug-image", "Dockerfile", "--stdout", "-o", "Dbg", cwd=project)
    assert (
        both.returncode == 2 and not both.stdout and not (project / "Dbg").exists()
    )  # -o was ignored silently
    assert (
        both.stderr == "debugbox: --stdout prints the result and -o writes it to a file: give one of them\n"
    )
    custom = run("debug-image", "Dockerfile", "-o", "debug/Dbg", cwd=project)
    assert custom.returncode == 2  # the folder does not exist: one line, no traceback
    assert "Traceback" not in custom.stderr
    (project / "debug").mkdir()
    assert run("debug-image", "Dockerfile", "-o", "debug/Dbg", cwd=project).returncode == 0
    assert (project / "debug" / "Dbg").is_file()


@pytest.mark.parametrize("command", [["inspect"], ["check"], ["debug-image"], ["inspect", "--json"]])
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing", None, "no such file"),
        ("adir", "DIR", "is a directory"),
        ("binary", b"\x7fELF\x00\x01\x02\x00\x00", "binary"),
        ("empty", b"", "empty"),
        ("Dockerfile.nofrom", b"RUN echo hi\n", "no FROM"),
        ("latin1", b"FROM alpine\nLABEL x=\xe9\n", "not UTF-8"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    tmp_path: Path, command: list[str], name: str, content: bytes | str | None, message: str
) -> None:
    if content == "DIR":
        (tmp_path / name).mkdir()
    elif isinstance(content, bytes):
        (tmp_path / name).write_bytes(content)
    result = run(command[0], name, *command[1:], cwd=tmp_path)
    assert result.returncode == 2, result
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr


def test_windows_dockerfile(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir\n", encoding="utf-8"
    )
    assert run("check", "Dockerfile", cwd=tmp_path).returncode == 0
    result = run("debug-image", "Dockerfile", cwd=tmp_path)
    assert result.returncode == 2 and "Windows" in result.stderr


def test_corpus_check_in_one_run(corpus: Path, tmp_path: Path) -> None:
    """All corpus Dockerfiles in one `check --json` run; the one file without FROM alone gives exit 2."""
    files = sorted(str(p) for p in (corpus / "dockerfiles").iterdir())
    no_from = [f for f in files if "negative" in f]
    result = run("check", "--json", *[f for f in files if f not in no_from], cwd=tmp_path)
    # No corpus file has a shell-form command where there is no /bin/sh: information and warnings only.
    assert result.returncode == 0, result.stderr
    findings = json.loads(result.stdout)
    assert not [f for f in findings if f["severity"] == "error"]
    assert {f["code"] for f in findings} <= {"DBX101", "DBX102", "DBX103"}
    assert all(f["path"] in files and f["line"] >= 1 for f in findings)
    assert sum(f["code"] == "DBX101" for f in findings) >= 25
    for name in no_from:
        bad = run("inspect", name, cwd=tmp_path)
        assert bad.returncode == 2 and "no FROM" in bad.stderr


def test_manifests_are_dispatched_to_the_kubernetes_core(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n"
        "  - name: app\n    image: gcr.io/distroless/static:nonroot\n",
        encoding="utf-8",
    )
    result = run("inspect", "pod.yaml", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["kind"] == "kubernetes"
    table = run("inspect", "pod.yaml", cwd=tmp_path)
    assert table.returncode == 0 and "Pod/web" in table.stdout and "app" in table.stdout
    checked = run("check", "pod.yaml", "--json", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr  # information only: nothing fails the check
    (finding,) = json.loads(checked.stdout)
    assert (finding["path"], finding["line"], finding["column"]) == ("pod.yaml", 8, 12)
    assert (finding["severity"], finding["code"]) == ("information", "DBX200")
    assert "kubectl debug -it web --target=app" in finding["message"]
    (tmp_path / "notes.yaml").write_text("title: not a manifest\n", encoding="utf-8")
    other = run("inspect", "notes.yaml", cwd=tmp_path)
    assert other.returncode == 2 and "not a Kubernetes manifest" in other.stderr
