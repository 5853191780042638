"""`debugbox shell` on the real engine from inside a repository that ships its own `docker`, with `.` first on
PATH: the session runs through the real docker CLI (found in PATH's absolute folders by
`cli_tools.resolve_program`), and the repository's `docker` never runs."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli_program_lookup import run_in_hostile_repo
from tests.integration.docker.engine import SHELL_APP, Containers


def test_cli_shell_never_runs_a_docker_from_the_current_folder(
    containers: Containers, tmp_path: Path
) -> None:
    target = containers.run(SHELL_APP)

    proc, marker = run_in_hostile_repo(
        tmp_path, "docker", ["shell", target, "--", "echo", "inside the target"]
    )

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "inside the target"
    assert not marker.exists()
