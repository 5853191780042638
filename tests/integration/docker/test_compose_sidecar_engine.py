"""The debug sidecar service on the real engine: `debugbox compose-sidecar --write`, then Debian's
docker-compose 1.29 starts the project (the sidecar stays out without the profile) and, with `--profile debug`,
a sidecar that sees the target's processes and answers on its localhost. Everything is removed afterwards
(`down` of the uniquely named project)."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli.test_cli_manifest import run as debugbox
from tests.conftest import require
from tests.integration.docker.engine import DISTROLESS, TOOLBOX, docker, unique_name

pytestmark = pytest.mark.docker


def _compose(project: str, folder: Path, *args: str) -> str:
    exe = shutil.which("docker-compose")
    assert exe is not None
    done = subprocess.run(
        [exe, "-p", project, *args], cwd=folder, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _running_services(project: str) -> set[str]:
    out = docker(
        "ps", "--filter", f"label=com.docker.compose.project={project}", "--format",
        '{{.Label "com.docker.compose.service"}}',
    )  # fmt: skip
    return set(out.split())


def test_debug_profile_starts_a_sidecar_in_the_targets_namespaces(images: None, tmp_path: Path) -> None:
    require(shutil.which("docker-compose") is not None, "docker-compose (Debian's package) is not installed")
    original = f"services:\n  app:\n    image: {DISTROLESS}\n"
    (tmp_path / "compose.yaml").write_text(original)
    edited = debugbox("compose-sidecar", "compose.yaml", "app", "--image", TOOLBOX, "--write", cwd=tmp_path)
    assert edited.returncode == 0, edited.stderr
    assert (tmp_path / "compose.yaml").read_text().startswith(original)
    project = unique_name("dbxc")
    try:
        _compose(project, tmp_path, "up", "-d")
        assert _running_services(project) == {"app"}  # not started without the profile
        _compose(project, tmp_path, "--profile", "debug", "up", "-d")
        assert _running_services(project) == {"app", "debug-app"}
        sidecar = docker(
            "ps", "-q", "--filter", f"label=com.docker.compose.project={project}",
            "--filter", "label=com.docker.compose.service=debug-app",
        ).split()  # fmt: skip
        assert len(sidecar) == 1
        # The target's processes (its httpd is PID 1 of the shared namespace) and its localhost.
        ps = docker("exec", sidecar[0], "ps", "-o", "pid,args")
        assert "/httpd -f -p 8080" in ps
        deadline, page = time.monotonic() + 20, ""
        while time.monotonic() < deadline and "hello from distroless-app" not in page:
            page = docker("exec", sidecar[0], "wget", "-q", "-O-", "http://127.0.0.1:8080/", check=False)
            time.sleep(0.2)
        assert "hello from distroless-app" in page
    finally:
        _compose(project, tmp_path, "--profile", "debug", "down", "-t", "0")
    assert _running_services(project) == set()


@pytest.mark.parametrize("profile", ["dev", '"${DBX_TEAM_PROFILE:-dev}"'], ids=["plain", "variable"])
def test_a_target_in_a_profile_is_started_by_the_command_debugbox_prints(
    images: None, tmp_path: Path, profile: str
) -> None:
    """The command printed after `--write` runs here, as printed: with the Docker Compose installed (this machine
    has `docker-compose` and no `docker compose` plugin; it printed `docker compose`: "unknown command"), and a
    target's own profiles on, which compose needs to pull it in for the sidecar ("was pulled in as a dependency
    … but is not enabled by the active profiles"; it printed `--profile debug` only), as compose interpolates
    them (`${DBX_TEAM_PROFILE:-dev}` is `dev` with the variable unset; it was printed as written)."""
    require(shutil.which("docker-compose") is not None, "docker-compose (Debian's package) is not installed")
    (tmp_path / "compose.yaml").write_text(
        f"services:\n  app:\n    image: {DISTROLESS}\n    profiles: [{profile}]\n"
    )
    edited = debugbox("compose-sidecar", "compose.yaml", "app", "--image", TOOLBOX, "--write", cwd=tmp_path)
    assert edited.returncode == 0, edited.stderr
    assert ("with DBX_TEAM_PROFILE unset" in edited.stderr.decode()) == ("DBX_" in profile)
    command = edited.stderr.decode().split("start it with `", 1)[1].split("`", 1)[0].split()
    assert command[-7:] == ["--profile", "dev", "--profile", "debug", "run", "--rm", "debug-app"]
    program, flags = command[:-7], command[-7:-3]
    project = unique_name("dbxc")
    try:
        up = subprocess.run(
            [*program, "-p", project, *flags, "up", "-d"], cwd=tmp_path, capture_output=True, text=True,
            timeout=180, check=False,
        )  # fmt: skip
        assert up.returncode == 0, up.stderr
        assert _running_services(project) == {"app", "debug-app"}
    finally:
        _compose(project, tmp_path, *flags, "down", "-t", "0")
    assert _running_services(project) == set()
