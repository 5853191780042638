"""Every program debugbox runs is found by `cli_tools.resolve_program` (PATH's absolute folders, never a relative
entry): here `debugbox session`, the editor terminal's kubectl wrapper, run from a repository that ships its own
`kubectl` with `.` first on PATH. `run_in_hostile_repo` is shared with `debugbox shell`'s docker
(tests/integration/docker/test_cli_shell_path.py)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.conftest import require

KUBECTL = Path(sys.executable).parent / "kubectl"


def run_in_hostile_repo(
    tmp_path: Path, program: str, args: Sequence[str], env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """`python -m debugbox ARGS` from a repository holding its own executable `program` (which touches a marker
    when run), with `.` first on PATH; the finished process and the marker's path."""
    repo = tmp_path / "repo"
    repo.mkdir()
    marker = tmp_path / f"the-repository-{program}-ran"
    fake = repo / program
    fake.write_text(f"#!/bin/sh\ntouch {marker}\necho fake\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    env = {**os.environ, **(env or {})}
    env["PATH"] = os.pathsep.join([".", env.get("PATH", os.defpath)])
    proc = subprocess.run(
        [sys.executable, "-P", "-m", "debugbox", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return proc, marker


def test_session_never_runs_a_kubectl_from_the_current_folder(tmp_path: Path) -> None:
    require(KUBECTL.is_file(), "the pinned kubectl (test extras) is not installed next to this Python")
    watch = json.dumps({"namespace": "default", "pod": "web", "container": "debugbox-app"})
    env = {
        "PATH": os.pathsep.join([str(KUBECTL.parent), os.environ.get("PATH", os.defpath)]),
        "KUBECONFIG": str(tmp_path / "no-kubeconfig"),  # nothing to watch: the command runs unwatched
    }

    proc, marker = run_in_hostile_repo(
        tmp_path, "kubectl", ["session", "--watch", watch, "--", "kubectl", "version", "--client"], env
    )

    assert proc.returncode == 0, proc.stderr
    assert "Client Version" in proc.stdout and "fake" not in proc.stdout
    assert not marker.exists()


def test_a_nerdctl_target_without_nerdctl_says_it_is_not_installed(tmp_path: Path) -> None:
    # resolve_program's "not found in the absolute folders of PATH" was read as nerdctl's own "not found": the
    # line said "no such container: web (nerdctl)".
    (tmp_path / "bin").mkdir()  # a PATH without nerdctl, whatever this machine has
    env = {**os.environ, "PATH": str(tmp_path / "bin")}
    argv = [sys.executable, "-m", "debugbox", "shell", "nerdctl://web", "--print"]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1
    (line,) = proc.stderr.splitlines()
    assert "nerdctl is not installed" in line and "no such container" not in line, line
