"""`cli_tools.resolve_program`: the one place a program name becomes the absolute path that runs — only PATH's
absolute folders, never a workspace folder, never a relative path."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from debugbox.core.errors import RuntimeUnavailable
from debugbox.edge.cli_tools import resolve_program, run_cli


def _program(folder: Path, name: str = "docker") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / name
    exe.write_text("#!/bin/sh\necho " + str(folder) + "\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


def test_relative_path_entries_are_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    _program(repo)  # ./docker in the current folder
    real = _program(tmp_path / "usr" / "bin")
    monkeypatch.chdir(repo)
    path = os.pathsep.join(["", ".", "bin", str(real.parent)])

    assert resolve_program(["docker", "ps"], path=path) == (str(real), "ps")


def test_workspace_folders_are_never_searched(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    _program(ws / "tools")
    real = _program(tmp_path / "usr" / "bin")
    path = os.pathsep.join([str(ws / "tools"), str(real.parent)])

    assert resolve_program(["docker"], exclude=[ws], path=path)[0] == str(real)
    with pytest.raises(RuntimeUnavailable, match="not installed"):
        resolve_program(["docker"], exclude=[ws], path=str(ws / "tools"))
    with pytest.raises(RuntimeUnavailable, match="inside the workspace"):
        resolve_program([str(ws / "tools" / "docker")], exclude=[ws], path="")


def test_a_relative_program_path_is_refused_and_absolute_ones_are_kept(tmp_path: Path) -> None:
    with pytest.raises(RuntimeUnavailable, match="relative path"):
        resolve_program(["./docker", "ps"], path="/usr/bin")
    assert resolve_program(["/opt/x/kubectl", "get"], path="") == ("/opt/x/kubectl", "get")


def test_run_cli_does_not_run_a_program_from_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    _program(repo, "nerdctl")
    real = _program(tmp_path / "usr" / "bin", "nerdctl")
    monkeypatch.chdir(repo)
    monkeypatch.setenv("PATH", os.pathsep.join([".", str(real.parent), os.environ.get("PATH", "")]))

    assert run_cli(["nerdctl"], 5.0, "nerdctl ps").strip() == str(real.parent)
