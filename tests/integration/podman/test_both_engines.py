"""A plain target reference on a machine with both real engines (Docker, and Podman on its root socket): one
that names a container on both is refused naming each, with the prefixed references to use instead; a prefixed
one, and one only a single engine knows, opens its container as before.

Docker's containers come from tests/integration/docker/engine.py, Podman's from test_podman_live.py (both named
`dbx-<random>` and removed afterwards); the same name on both is created here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require
from tests.integration.docker.engine import DISTROLESS as DOCKER_DISTROLESS
from tests.integration.docker.engine import TOOLBOX as DOCKER_TOOLBOX
from tests.integration.docker.engine import (
    Containers,
    build_test_images,
    container_id,
    docker,
    engine_ok,
    unique_name,
)
from tests.integration.podman.test_podman_live import DISTROLESS as PODMAN_DISTROLESS
from tests.integration.podman.test_podman_live import TOOLBOX as PODMAN_TOOLBOX
from tests.integration.podman.test_podman_live import _env, podman, start

pytestmark = [pytest.mark.docker, pytest.mark.podman]


@pytest.fixture
def on_docker(podman_images: None) -> Iterator[Containers]:
    """Docker containers of this test (removed afterwards), next to Podman's `started`."""
    require(engine_ok(), "no Docker engine answers (scripts/start-docker.sh starts one)")
    build_test_images()
    pool = Containers()
    try:
        yield pool
    finally:
        pool.cleanup()


def debugbox(*args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "debugbox", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, env=_env())


def podman_id(name: str) -> str:
    return podman("inspect", "-f", "{{.Id}}", name).strip()


def planned_id(proc: subprocess.CompletedProcess[str]) -> str:
    """The container ID a `--print` plan joins (`--pid=container:<id>`)."""
    assert proc.returncode == 0, proc.stderr
    pid = next(w for w in json.loads(proc.stdout) if w.startswith("--pid=container:"))
    return pid.removeprefix("--pid=container:")


def test_a_name_on_both_engines_is_refused_naming_both_and_each_prefix_opens_its_own(
    on_docker: Containers, started: list[str], tmp_path: Path
) -> None:
    # `debugbox shell web` took Docker's `web` without a word when Podman had one too (Docker was asked first).
    name = unique_name()
    on_docker.names.append(name)
    docker("run", "-d", "--name", name, DOCKER_DISTROLESS)
    started.append(name)
    podman("run", "-d", "--name", name, PODMAN_DISTROLESS)
    on_docker_id, on_podman_id = container_id(name), podman_id(name)
    refusal = (
        f"debugbox: {name!r} names a container on more than one engine: {name} (docker://{on_docker_id[:12]}) "
        f"and {name} (podman://{on_podman_id[:12]}); say which with docker://{name} or podman://{name}\n"
    )
    copied = tmp_path / "copied"
    # Every command that takes a container: the refusal comes before anything is made or written.
    for args in (
        ("shell", name, "--print", "--image", PODMAN_TOOLBOX),
        ("cp", f"{name}:/etc/hostname", str(copied)),
        ("forward", name, "8080", "--local", "0"),
        ("capture", name, "--count", "1", "-o", str(tmp_path / "out.pcap")),
    ):
        proc = debugbox(*args)
        assert (proc.returncode, proc.stderr) == (1, refusal), args
    assert list(tmp_path.iterdir()) == []

    docker_plan = debugbox("shell", f"docker://{name}", "--print", "--image", DOCKER_TOOLBOX)
    podman_plan = debugbox("shell", f"podman://{name}", "--print", "--image", PODMAN_TOOLBOX)
    assert (planned_id(docker_plan), planned_id(podman_plan)) == (on_docker_id, on_podman_id)
    copy = debugbox("cp", f"podman://{name}:/etc/hostname", str(copied))
    assert copy.returncode == 0, copy.stderr
    assert copied.read_text().strip() == on_podman_id[:12]  # Podman's container, not Docker's


def test_a_name_only_one_engine_knows_opens_there(on_docker: Containers, started: list[str]) -> None:
    only_docker = on_docker.run(DOCKER_DISTROLESS)
    only_podman = start(started, PODMAN_DISTROLESS)

    assert planned_id(debugbox("shell", only_docker, "--print", "--image", DOCKER_TOOLBOX)) == container_id(
        only_docker
    )
    assert planned_id(debugbox("shell", only_podman, "--print", "--image", PODMAN_TOOLBOX)) == podman_id(
        only_podman
    )


def _all_ids(engine: str) -> list[str]:
    run = docker if engine == "docker" else podman
    return run("ps", "-aq", "--no-trunc").split()


def _sole_starts(ids: list[str]) -> set[str]:
    """The characters that start exactly one of `ids`."""
    firsts = [i[0] for i in ids]
    return {c for c in firsts if firsts.count(c) == 1}


def test_an_id_prefix_of_a_container_on_each_engine_is_refused_naming_both(
    on_docker: Containers, started: list[str]
) -> None:
    # Create containers on both until one character starts exactly one container's ID on each engine, both of
    # them this test's (the engines are shared: others' containers count, and may go at any time).
    mine: dict[str, str] = {}  # ID: name
    for _ in range(40):
        name = on_docker.run(DOCKER_DISTROLESS, create_only=True)
        mine[container_id(name)] = name
        name = start(started, PODMAN_DISTROLESS, create_only=True)
        mine[podman_id(name)] = name
        docker_ids, podman_ids = _all_ids("docker"), _all_ids("podman")
        usable = sorted(
            c
            for c in _sole_starts(docker_ids) & _sole_starts(podman_ids)
            if all(next(i for i in ids if i[0] == c) in mine for ids in (docker_ids, podman_ids))
        )
        if usable:
            break
    else:
        pytest.fail("no character found that starts the ID of one of this test's containers on each engine")
    prefix = usable[0]
    on_docker_id = next(i for i in docker_ids if i.startswith(prefix))
    on_podman_id = next(i for i in podman_ids if i.startswith(prefix))

    proc = debugbox("shell", prefix, "--print")
    assert (proc.returncode, proc.stderr) == (
        1,
        f"debugbox: {prefix!r} names a container on more than one engine: {mine[on_docker_id]} "
        f"(docker://{on_docker_id[:12]}) and {mine[on_podman_id]} (podman://{on_podman_id[:12]}); "
        f"say which with docker://{prefix} or podman://{prefix}\n",
    )


def test_an_id_prefix_shared_on_each_engine_is_refused_naming_both(
    on_docker: Containers, started: list[str]
) -> None:
    # Each engine's own sentence named its engine alone (the first one asked): narrowed there, the prefix would
    # still have been the start of the other engine's containers.
    def starts(ids: list[str]) -> set[str]:
        firsts = [i[0] for i in ids]
        return {c for c in firsts if firsts.count(c) > 1}

    for _ in range(40):  # others' containers count too: the sentence names no container, only the engines
        on_docker.run(DOCKER_DISTROLESS, create_only=True)
        start(started, PODMAN_DISTROLESS, create_only=True)
        usable = sorted(starts(_all_ids("docker")) & starts(_all_ids("podman")))
        if usable:
            break
    else:
        pytest.fail("no character found that starts two container IDs on each engine")

    proc = debugbox("shell", usable[0], "--print")
    assert (proc.returncode, proc.stderr) == (
        1,
        f"debugbox: {usable[0]!r} is the start of more than one container's ID on docker and on podman: give "
        "more of the ID, or the container's name, with docker:// or podman:// in front (`debugbox targets` lists "
        "both)\n",
    )
