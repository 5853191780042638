"""`debugbox shell` on the real engine from inside a repository that ships its own `docker`, with `.` first on
PATH: the session runs through the real docker CLI (found in PATH's absolute folders by
`cli_tools.resolve_program`), and the repository's `docker` never runs."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.integration.docker.engine import SHELL_APP, Containers


def test_cli_shell_never_runs_a_docker_from_the_current_folder(
    containers: Containers, tmp_path: Path
) -> None:
    target = containers.run(SHELL_APP)
    repo = tmp_path / "repo"
    repo.mkdir()
    marker = tmp_path / "the-repository-docker-ran"
    fake = repo / "docker"
    fake.write_text(f"#!/bin/sh\ntouch {marker}\necho fake\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    env = {**os.environ, "PATH": os.pathsep.join([".", os.environ.get("PATH", os.defpath)])}

    proc = subprocess.run(
        [sys.executable, "-P", "-m", "debugbox", "shell", target, "--", "echo", "inside the target"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "inside the target"
    assert not marker.exists()
