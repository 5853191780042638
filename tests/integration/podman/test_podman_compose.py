"""The debug sidecar service in podman-compose's form, on the real Podman: `debugbox compose-sidecar --engine
podman --write`, then the real podman-compose (the pinned test dependency) starts the project without the
sidecar, and with `--profile debug` a sidecar that sees the target's processes and answers on its localhost.
The Docker Compose form fails there (Podman refuses `--pid service:app`), which is why the form exists.
Everything the project created is removed afterwards (`down` of the uniquely named project)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from debugbox.edge import service

from tests.cli.test_cli_manifest import run as debugbox
from tests.conftest import require
from tests.integration.podman.test_podman_live import (  # noqa: F401 - a fixture
    DISTROLESS,
    SETTINGS,
    TOOLBOX,
    _env,
    podman,
    podman_images,
)

pytestmark = pytest.mark.podman


def _podman_compose() -> str:
    beside = Path(sys.executable).parent / "podman-compose"
    exe = str(beside) if beside.is_file() else shutil.which("podman-compose")
    require(exe is not None, "podman-compose is not installed (the test extras pin it)")
    assert exe is not None
    return exe


def _compose(folder: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [_podman_compose(), *args], cwd=folder, capture_output=True, text=True, timeout=180, check=False,
        env=_env(),
    )  # fmt: skip
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def _running(project: str) -> set[str]:
    out = podman(
        "ps", "--filter", f"label=com.docker.compose.project={project}",
        "--format", '{{index .Labels "com.docker.compose.service"}}',
    )  # fmt: skip
    return set(out.split())


@pytest.fixture
def root_podman(podman_images: None, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811 - the fixture
    """The test images, and the root Podman (not a rootless one under XDG_RUNTIME_DIR)."""
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)


ORIGINAL = f"services:\n  app:\n    image: {DISTROLESS}\n"


def _edited_project(tmp_path: Path, engine: str) -> tuple[str, Path]:
    """A uniquely named project folder (podman-compose's project is the folder's name) whose compose file
    `debugbox compose-sidecar --engine ENGINE --write` gave a sidecar for `app`."""
    project = f"dbxpc{uuid.uuid4().hex[:8]}"
    folder = tmp_path / project
    folder.mkdir()
    (folder / "compose.yaml").write_text(ORIGINAL)
    _write_sidecar(folder, "compose.yaml", engine)
    return project, folder


def _write_sidecar(cwd: Path, compose: str, engine: str = "podman") -> None:
    """`debugbox compose-sidecar COMPOSE app --image TOOLBOX --engine ENGINE --write` in `cwd`, which succeeds."""
    argv = ("compose-sidecar", compose, "app", "--image", TOOLBOX, "--engine", engine, "--write")
    edited = debugbox(*argv, cwd=cwd)
    assert edited.returncode == 0, edited.stderr


def test_podman_compose_starts_the_sidecar_in_the_targets_namespaces(
    root_podman: None, tmp_path: Path
) -> None:
    project, folder = _edited_project(tmp_path, "podman")
    text = (folder / "compose.yaml").read_text()
    assert text.startswith(ORIGINAL) and f'pid: "container:{project}_app_1"' in text
    try:
        _compose(folder, "up", "-d")
        assert _running(project) == {"app"}  # not started without the profile
        _compose(folder, "--profile", "debug", "up", "-d")
        assert _running(project) == {"app", "debug-app"}
        sidecar = f"{project}_debug-app_1"
        ps = podman("exec", sidecar, "ps", "-o", "pid,args")
        assert "/httpd -f -p 8080" in ps  # the target's processes
        deadline, page = time.monotonic() + 20, ""
        while time.monotonic() < deadline and "hello from distroless-app" not in page:
            page = podman("exec", sidecar, "wget", "-q", "-O-", "http://127.0.0.1:8080/", check=False)
            time.sleep(0.2)
        assert "hello from distroless-app" in page  # its localhost
    finally:
        _compose(folder, "--profile", "debug", "down", "-t", "0", check=False)
    assert _running(project) == set()
    assert not podman("ps", "-aq", "--filter", f"label=com.docker.compose.project={project}").strip()


def test_the_docker_compose_form_is_what_podman_refuses(root_podman: None, tmp_path: Path) -> None:
    """Why the Podman form exists: podman-compose passes `pid: service:app` to `podman run --pid` unchanged."""
    project, folder = _edited_project(tmp_path, "docker")
    try:
        done = _compose(folder, "--profile", "debug", "up", "-d", check=False)
        assert "service:app" in done.stdout + done.stderr
        assert _running(project) == {"app"}
    finally:
        _compose(folder, "--profile", "debug", "down", "-t", "0", check=False)
    assert not podman("ps", "-aq", "--filter", f"label=com.docker.compose.project={project}").strip()


def test_an_interpolated_project_name_is_the_one_podman_compose_uses(
    root_podman: None, tmp_path: Path
) -> None:
    """`name: ${VAR:-default}` is interpolated by podman-compose before it names containers: the sidecar's
    `pid: container:…` and the Dockerfile's related containers follow it (they used `${VAR:-…}` as written: a
    container name podman never gave, and a project name debugbox's own check threw away)."""
    project = f"dbxpc{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "checkout"  # not the project's name: `name:` decides
    folder.mkdir()
    (folder / "Dockerfile").write_text(f"FROM {DISTROLESS}\n")
    original = f"name: ${{DBX_UNSET_PROJECT:-{project}}}\nservices:\n  app:\n    build: .\n"
    (folder / "compose.yaml").write_text(original)
    _write_sidecar(folder, "compose.yaml")
    assert (
        f'pid: "container:{project}_app_1"  # podman-compose\'s name for it with DBX_UNSET_PROJECT unset'
        in (folder / "compose.yaml").read_text()
    )
    try:
        _compose(folder, "--profile", "debug", "up", "-d")
        assert _running(project) == {"app", "debug-app"}
        assert "/httpd -f -p 8080" in podman("exec", f"{project}_debug-app_1", "ps", "-o", "pid,args")
        listing = service.list_targets(
            SETTINGS, document=folder / "Dockerfile", workspace=folder, probe=False, runtimes=["podman"]
        )
        app = next(t for t in listing.targets if t.name == f"{project}_app_1")
        assert app.related and "compose service 'app'" in (app.related_reason or "")
    finally:
        _compose(folder, "--profile", "debug", "down", "-t", "0", check=False)
        podman("rmi", f"localhost/{project}_app", check=False)
    assert not podman("ps", "-aq", "--filter", f"label=com.docker.compose.project={project}").strip()


def test_a_folder_reached_through_a_link_is_named_as_podman_compose_names_it(
    root_podman: None, tmp_path: Path
) -> None:
    """podman-compose's project is the name of the compose file's folder after following links: the sidecar
    written through `checkout/compose.yaml` (a link to the project's folder) joins that container."""
    project = f"dbxpc{uuid.uuid4().hex[:8]}"
    (tmp_path / project).mkdir()
    (tmp_path / project / "compose.yaml").write_text(ORIGINAL)
    (tmp_path / "checkout").symlink_to(tmp_path / project)
    _write_sidecar(tmp_path, "checkout/compose.yaml")
    assert f'pid: "container:{project}_app_1"' in (tmp_path / project / "compose.yaml").read_text()
    try:
        _compose(tmp_path, "-f", "checkout/compose.yaml", "--profile", "debug", "up", "-d")
        assert _running(project) == {"app", "debug-app"}
    finally:
        _compose(
            tmp_path, "-f", "checkout/compose.yaml", "--profile", "debug", "down", "-t", "0", check=False
        )
    assert not podman("ps", "-aq", "--filter", f"label=com.docker.compose.project={project}").strip()


def test_an_override_files_sidecar_joins_the_merged_projects_container(
    root_podman: None, tmp_path: Path
) -> None:
    """podman-compose merges `compose.override.yaml` over `compose.yaml`: the base's `name:` and `x-podman:`
    name the override's service's container (`<name>-app-1`), which the sidecar written into the override joins
    (it named `<folder>_app_1`, and podman refused: no such container)."""
    project = f"dbxpc{uuid.uuid4().hex[:8]}"
    (tmp_path / "compose.yaml").write_text(
        f"name: {project}\nx-podman:\n  name_separator_compat: true\n" + ORIGINAL
    )
    (tmp_path / "compose.override.yaml").write_text("services:\n  app:\n    environment: {A: b}\n")
    _write_sidecar(tmp_path, "compose.override.yaml")
    assert f'pid: "container:{project}-app-1"' in (tmp_path / "compose.override.yaml").read_text()
    try:
        _compose(tmp_path, "--profile", "debug", "up", "-d")
        assert _running(project) == {"app", "debug-app"}
        assert "/httpd -f -p 8080" in podman("exec", f"{project}-debug-app-1", "ps", "-o", "pid,args")
    finally:
        _compose(tmp_path, "--profile", "debug", "down", "-t", "0", check=False)
    assert not podman("ps", "-aq", "--filter", f"label=com.docker.compose.project={project}").strip()
