"""The real `debugbox` console script on compose files: `inspect --json`, `check`, `compose-sidecar`."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.cli.test_cli_manifest import run

COMPOSE = """\
services:
  api:
    build:
      context: ./api
      target: runtime
    healthcheck:
      test: /app --health || exit 1
  db:
    image: postgres:16
    network_mode: service:gone
"""
DOCKERFILE = (
    "FROM golang:1.22 AS build\nFROM gcr.io/distroless/static AS runtime\nUSER nonroot\nFROM alpine\n"
)


def _project(tmp_path: Path) -> Path:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    return tmp_path


def test_inspect_json(tmp_path: Path) -> None:
    done = run("inspect", "--json", "compose.yaml", cwd=_project(tmp_path))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    api, db = result["services"]
    assert api["build"]["read"] and api["build"]["target"] == "runtime"
    # The `target:` stage, not the last one: distroless, no shell, its USER.
    assert (api["base"], api["family"], api["has_shell"], api["user"]) == (
        "gcr.io/distroless/static",
        "distroless",
        False,
        "nonroot",
    )
    assert db["image"] == "postgres:16" and db["network_mode"] == "service:gone"


def test_check_reports_and_fails(tmp_path: Path) -> None:
    done = run("check", "compose.yaml", cwd=_project(tmp_path))
    assert done.returncode == 1
    lines = done.stdout.decode().splitlines()
    assert lines[0].startswith("compose.yaml:7:13: error DBX301")
    assert lines[1].startswith("compose.yaml:10:19: error DBX302")


def test_inspect_names_a_dockerfile_outside_the_folder(tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "Dockerfile").write_text("FROM scratch\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "compose.yaml").write_text("services:\n  a:\n    build: ../other\n")
    done = run("inspect", "--json", "compose.yaml", cwd=project)
    assert done.returncode == 0, done.stderr
    (a,) = json.loads(done.stdout)["services"]
    assert not a["build"]["read"] and "outside the workspace" in a["build"]["why_not_read"]
    assert a["has_shell"] is None


def test_compose_sidecar_prints_then_writes(tmp_path: Path) -> None:
    project = _project(tmp_path)
    printed = run("compose-sidecar", "compose.yaml", "api", cwd=project)
    assert printed.returncode == 0, printed.stderr
    assert (project / "compose.yaml").read_text() == COMPOSE  # printing does not touch the file
    out = printed.stdout.decode()
    assert out.startswith(COMPOSE)
    assert yaml.safe_load(out)["services"]["debug-api"]["pid"] == "service:api"
    written = run("compose-sidecar", "compose.yaml", "api", "--image", "busybox:1.36", "--write", cwd=project)
    assert written.returncode == 0, written.stderr
    assert b"debug-api" in written.stderr and b"nerdctl" in written.stderr
    new = (project / "compose.yaml").read_text()
    assert new.startswith(COMPOSE) and yaml.safe_load(new)["services"]["debug-api"]["image"] == "busybox:1.36"
    refused = run("compose-sidecar", "compose.yaml", "nope", cwd=project)
    assert refused.returncode == 1 and b"no service 'nope'" in refused.stderr


def test_inspect_names_an_included_file_outside_the_folder(tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "compose.yaml").write_text("services:\n  secret:\n    image: busybox\n")
    project = tmp_path / "project"
    (project / "db").mkdir(parents=True)
    (project / "db" / "compose.yaml").write_text("services:\n  db:\n    image: postgres:16\n")
    (project / "compose.yaml").write_text(
        "include:\n  - db/compose.yaml\n  - ../other/compose.yaml\nservices:\n  a:\n    image: busybox\n"
    )
    done = run("inspect", "--json", "compose.yaml", cwd=project)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert [(s["name"], s["included_from"]) for s in result["services"]] == [
        ("a", None),
        ("db", str(project / "db" / "compose.yaml")),
    ]
    (why,) = result["files_not_read"].values()
    assert list(result["files_not_read"]) == [str(tmp_path / "other" / "compose.yaml")]
    assert "outside the workspace" in why


def test_compose_sidecar_follows_extends_as_the_editor_does(tmp_path: Path) -> None:
    # podman-compose names the container after the `container_name` the service inherits (checked on the real
    # Podman: `extends: {file: common.yaml}` gives `the-app`); the command line read the file alone and wrote
    # `<project>_app_1`, a container that never exists.
    (tmp_path / "common.yaml").write_text(
        "services:\n  base:\n    image: busybox\n    container_name: the-app\n    profiles: [dev]\n"
    )
    (tmp_path / "compose.yaml").write_text(
        "services:\n  app:\n    extends: {file: common.yaml, service: base}\n"
    )
    done = run("compose-sidecar", "compose.yaml", "app", "--engine", "podman", "--write", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load((tmp_path / "compose.yaml").read_text())["services"]["debug-app"]["pid"] == (
        "container:the-app"
    )
    assert b"`podman-compose --profile dev --profile debug run --rm debug-app`" in done.stderr
