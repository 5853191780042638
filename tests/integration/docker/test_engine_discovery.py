"""Finding the engine like its CLI does, proven on the real engine: a docker context from DOCKER_CONFIG, and
Podman's Docker-compatible socket (here: a path that leads to the same engine, with no `podman` CLI on PATH,
so the argv falls back to `docker --host unix://…podman.sock`). Each produced argv is run for real.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from debugbox.core.settings import Settings
from debugbox.edge import service

from tests.conftest import require
from tests.integration.docker.engine import DISTROLESS, TOOLBOX, Containers

pytestmark = pytest.mark.docker

SETTINGS = Settings(toolbox_image=TOOLBOX)
ENGINE_SOCKET = Path("/var/run/docker.sock")


@pytest.fixture
def short_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="dbx-") as folder:
        yield Path(folder)


def _scripted(name: str, runtime_ref: str) -> list[str]:
    options = service.plan_options(
        SETTINGS, command=("sh", "-c", "wget -qO- localhost:8080"), tty=False, stdin=False
    )
    return list(service.plan(SETTINGS, runtime_ref, options).argv)


def test_a_docker_context_is_used_and_named_in_the_argv(
    containers: Containers, short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require(ENGINE_SOCKET.is_socket(), f"the engine does not listen on the default socket {ENGINE_SOCKET}")
    target = containers.run(DISTROLESS)
    config = short_dir / "docker-config"
    meta = config / "contexts" / "meta" / hashlib.sha256(b"dbx-test").hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(
        json.dumps(
            {"Name": "dbx-test", "Metadata": {}, "Endpoints": {"docker": {"Host": f"unix://{ENGINE_SOCKET}"}}}
        )
    )
    (config / "config.json").write_text(json.dumps({"currentContext": "dbx-test"}))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(config))

    listing = service.list_targets(SETTINGS, runtimes=["docker"])
    argv = _scripted(target, target)

    assert any(t.name == target for t in listing.targets)
    assert argv[:3] == ["docker", "--context", "dbx-test"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "hello from distroless-app"


def test_podman_compatible_socket_without_the_podman_cli(
    containers: Containers, short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require(ENGINE_SOCKET.is_socket(), f"the engine does not listen on the default socket {ENGINE_SOCKET}")
    target = containers.run(DISTROLESS)
    docker = shutil.which("docker")
    assert docker is not None
    (short_dir / "bin").mkdir()  # a PATH with docker and without podman (installed or not on this machine)
    (short_dir / "bin" / "docker").symlink_to(docker)
    monkeypatch.setenv("PATH", str(short_dir / "bin"))
    (short_dir / "podman").mkdir()
    podman_socket = short_dir / "podman" / "podman.sock"
    podman_socket.symlink_to(ENGINE_SOCKET)  # an Engine API behind Podman's rootless socket path
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(short_dir))

    listing = service.list_targets(SETTINGS, runtimes=["podman"])
    mine = next(t for t in listing.targets if t.name == target)
    argv = _scripted(target, f"podman://{target}")

    assert listing.errors == [] and mine.runtime == "podman" and mine.id.startswith("podman://")
    assert mine.recommended == "sidecar"
    assert argv[:4] == ["docker", "--host", f"unix://{podman_socket}", "run"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "hello from distroless-app"
