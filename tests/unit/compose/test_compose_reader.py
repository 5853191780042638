"""The compose reader: which files are compose files, services, images, `build:` paths, ranges, bounds."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest
from debugbox.core.compose.model import Lines, build_dockerfile, read_compose
from debugbox.core.documents import DocumentKind, is_compose_name, kind_of
from debugbox.core.kubernetes.verify import judge_load

from tests.unit.compose.compose_support import REAL_FILES


@pytest.mark.parametrize(
    "name",
    [
        "compose.yaml",
        "compose.yml",
        "docker-compose.yml",
        "docker-compose.yaml",
        "docker-compose.prod.yml",
        "docker-compose.override.yml",
        "compose.override.yaml",
        "Docker-Compose.YML",
    ],
)
def test_compose_names(name: str) -> None:
    assert is_compose_name(name)
    # A compose file is a compose file even when it happens to mention apiVersion and kind.
    assert kind_of(f"file:///w/{name}", "apiVersion: v1\nkind: Pod\n") is DocumentKind.COMPOSE


@pytest.mark.parametrize(
    "name", ["compose.json", "my-compose.yaml", "compose", "composer.yaml", "deploy.yaml"]
)
def test_not_compose_names(name: str) -> None:
    assert not is_compose_name(name)
    assert kind_of(f"file:///w/{name}", "services:\n  a:\n    image: x\n") is DocumentKind.OTHER
    # The Docker extension for VS Code names the language of compose files, whatever their name.
    assert kind_of(f"file:///w/{name}", "services: {}\n", "dockercompose") is DocumentKind.COMPOSE


TEXT = """\
x-common: &common
  image: gcr.io/distroless/static
  pid: "service:db"

services:
  api:
    <<: *common
    build:
      context: ../api
      dockerfile: Dockerfile.prod
      target: runtime
    command: ["sh", "-c", "serve"]
  db:
    image: postgres:16
    healthcheck:
      test: pg_isready || exit 1
  web:
    build: web
"""


def test_services_images_builds_and_ranges() -> None:
    compose = read_compose(TEXT)
    assert compose.error is None
    assert [s.name for s in compose.services] == ["api", "db", "web"]
    api, db, web = compose.services
    lines = Lines(TEXT)
    # The key's range is the name on its line.
    assert lines.range(api.key.start, api.key.end).start.line == 5
    assert TEXT[api.key.start : api.key.end] == "api"
    # Merge keys are followed: image and pid come from the anchored mapping, positions where they are written.
    assert api.image is not None and api.image.value == "gcr.io/distroless/static"
    assert api.pid is not None and TEXT[api.pid.start : api.pid.end] == '"service:db"'
    assert api.build is not None
    assert (api.build.context, api.build.dockerfile, api.build.target) == (
        "../api",
        "Dockerfile.prod",
        "runtime",
    )
    assert api.commands[0].words == ("sh", "-c", "serve") and not api.commands[0].shell
    assert db.image is not None and TEXT[db.image.start : db.image.end] == "postgres:16"
    assert db.commands[0].key == "healthcheck.test" and db.commands[0].shell
    assert web.build is not None and web.build.context == "web" and web.build.dockerfile == "Dockerfile"


def test_build_paths_are_resolved_against_the_compose_folder_and_bounded() -> None:
    compose = read_compose(TEXT)
    api, _, web = compose.services
    assert api.build is not None and web.build is not None
    folder, root = PurePosixPath("/w/deploy"), PurePosixPath("/w")
    inside = build_dockerfile(folder, web.build, root)
    assert inside is not None and inside.dockerfile == PurePosixPath("/w/deploy/web/Dockerfile")
    assert not inside.outside
    up = build_dockerfile(folder, api.build, root)
    assert up is not None and up.dockerfile == PurePosixPath("/w/api/Dockerfile.prod") and not up.outside
    # The same `../api` from a workspace that is the deploy folder itself lies outside it: said, not hidden.
    out = build_dockerfile(folder, api.build, folder)
    assert out is not None and out.outside


def test_git_and_inline_builds_have_no_file() -> None:
    compose = read_compose(
        "services:\n  a:\n    build: https://github.com/o/r.git#main\n"
        "  b:\n    build:\n      context: .\n      dockerfile_inline: |\n        FROM scratch\n"
    )
    a, b = compose.services
    assert a.build is not None and build_dockerfile(PurePosixPath("/w"), a.build) is None
    assert b.build is not None and build_dockerfile(PurePosixPath("/w"), b.build) is None


def test_invalid_yaml_is_an_error_not_an_exception() -> None:
    compose = read_compose("services:\n  a:\n    image: [x\n")
    assert compose.error is not None and compose.services == []


def test_alias_bomb_and_deep_nesting_are_bounded() -> None:
    # Billion laughs: ten levels of ten aliases; never expanded (one node per alias), read at once.
    lines = ['a0: &a0 ["lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    bomb = "\n".join(lines) + "\nservices:\n  s:\n    image: x\n    command: *a9\n"
    compose = read_compose(bomb)
    assert [s.name for s in compose.services] == ["s"]
    # Merge keys of merge keys, exponentially: only followed a bounded number of levels.
    merges = ["m0: &m0 {image: deep}"]
    merges += [f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}]}}" for i in range(1, 40)]
    compose = read_compose("\n".join(merges) + "\nservices:\n  s:\n    <<: *m39\n")
    assert [s.name for s in compose.services] == ["s"]
    deep = read_compose("services: " + "[" * 5000 + "]" * 5000 + "\n")
    assert deep.error is not None and "nesting" in deep.error.message


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.parent.name)
def test_real_files_read(path: Path) -> None:
    text = path.read_text()
    compose = read_compose(text)
    assert compose.error is None
    loaded = judge_load(text)[0]
    assert [s.name for s in compose.services] == list(loaded["services"])
    for service in compose.services:
        spec = loaded["services"][service.name]
        assert (service.image.value if service.image else None) == spec.get("image")
        assert (service.build is not None) == ("build" in spec)
