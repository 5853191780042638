"""A Docker engine that is down, refusing or hung: a clear message within the configured timeout, never a
hang.

These drive the real client code against real sockets (a missing path, a socket nobody listens on, a socket
that accepts and never answers); the LSP-level counterparts in tests/lsp/test_targets.py check the server
keeps serving.
"""

from __future__ import annotations

import functools
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from debugbox.core.errors import RuntimeUnavailable
from debugbox.core.settings import DockerSettings, Settings
from debugbox.edge import service

from tests.deadlines import outlasting, returns_within, within
from tests.integration.docker.engine import DISTROLESS, Containers, HangingSocket, container_id

pytestmark = pytest.mark.docker

TIMEOUT = 1.0
SETTINGS = Settings(docker=DockerSettings(timeout_seconds=TIMEOUT))


@pytest.fixture
def short_dir() -> Iterator[Path]:
    # Unix socket paths are limited to 107 bytes; pytest's tmp_path can be longer.
    with tempfile.TemporaryDirectory(prefix="dbx-") as folder:
        yield Path(folder)


@pytest.fixture
def only_docker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the (absent) Podman and nerdctl of these machines stay absent whatever the environment."""
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)


def _refusing_socket(path: Path) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.close()  # the file stays, nobody listens: connect() is refused


@pytest.mark.parametrize("kind", ["missing", "refusing", "hanging", "regular-file"])
def test_engine_trouble_is_a_clear_message_within_the_timeout(
    kind: str, short_dir: Path, monkeypatch: pytest.MonkeyPatch, only_docker: None
) -> None:
    path = short_dir / "docker.sock"
    hanging = None
    if kind == "refusing":
        _refusing_socket(path)
    elif kind == "regular-file":
        path.write_text("")  # connect() is refused here too: "is the daemon running?" would be no help
    elif kind == "hanging":
        hanging = HangingSocket(path)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
    expected = {
        "missing": "the socket does not exist",
        "refusing": "refused the connection",
        "hanging": f"did not answer within {TIMEOUT:g} s",
        "regular-file": f"{path} is not a socket (is DOCKER_HOST pointing at the wrong path?)",
    }[kind]
    try:
        # A hung engine never answers: without the deadline these calls would not return at all.
        start = time.monotonic()
        listing = returns_within(within(TIMEOUT), lambda: service.list_targets(SETTINGS))
        listed_in = time.monotonic() - start

        with pytest.raises(RuntimeUnavailable) as caught:
            returns_within(
                within(TIMEOUT), lambda: service.plan(SETTINGS, "web", service.plan_options(SETTINGS))
            )
    finally:
        if hanging is not None:
            hanging.close()

    assert [t for t in listing.targets if t.runtime == "docker"] == []  # Podman may still answer
    assert len(listing.errors) == 1 and listing.errors[0].startswith("docker: ")
    assert expected in listing.errors[0] and f"unix://{path}" in listing.errors[0]
    assert "DOCKER_HOST" in listing.errors[0]
    assert expected in str(caught.value)  # the message names what happened (for a hung engine: the deadline)
    if kind == "hanging":
        assert listed_in >= TIMEOUT * 0.9  # it did wait for the daemon, for the configured time


def test_a_hung_podman_does_not_hold_up_a_docker_target(
    containers: Containers, short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plain reference is asked of Podman too (a container of the same name there is refused, not guessed): a
    Podman service that never answers must not make a Docker container wait for its engine timeout."""
    name = containers.run(DISTROLESS)
    hanging = HangingSocket(short_dir / "podman.sock")
    monkeypatch.setenv("CONTAINER_HOST", hanging.url)
    grace = service.SECOND_OPINION_SECONDS
    settings = Settings(docker=DockerSettings(timeout_seconds=outlasting(grace)))
    try:
        # A session's lookup, and that of `cp`, `forward` and `capture` (an inspect only).
        for probe in (True, False):
            backend, target = returns_within(
                within(grace), functools.partial(service.resolve, settings, name, probe=probe)
            )
            assert (backend.runtime, target.name) == ("docker", name)
        asked = hanging.accepted
    finally:
        hanging.close()
    assert asked == 2  # Podman was asked each time, and never answered


def test_an_unsupported_docker_host_scheme_is_named(
    monkeypatch: pytest.MonkeyPatch, only_docker: None
) -> None:
    # ssh:// is supported now (tests/integration/docker/test_remote_engines.py); a Windows named pipe is not.
    monkeypatch.setenv("DOCKER_HOST", "npipe:////./pipe/docker_engine")
    listing = service.list_targets(SETTINGS)
    assert listing.errors and "npipe:// scheme is not supported" in listing.errors[0]


def shared_id_prefix(create: Callable[[], str], full_id: Callable[[str], str]) -> str:
    """Create containers until two of them share the first character of their IDs (at most 17): that
    character."""
    seen: set[str] = set()
    while True:
        first = full_id(create())[0]
        if first in seen:
            return first
        seen.add(first)


def test_an_id_prefix_of_several_containers_is_said_as_such(containers: Containers, short_dir: Path) -> None:
    # Docker answered 500 "Multiple IDs found with provided prefix": printed as the engine's status and words,
    # without what to do.
    prefix = shared_id_prefix(lambda: containers.run(DISTROLESS, create_only=True), container_id)
    # A Podman with a container whose ID starts with it too would make the plain reference a refusal naming
    # both engines (tests/integration/podman/test_both_engines.py): Podman is pointed where nothing answers.
    env = {**os.environ, "CONTAINER_HOST": f"unix://{short_dir}/no-podman.sock"}
    for ref in (prefix, f"docker://{prefix}"):
        argv = [sys.executable, "-m", "debugbox", "shell", ref, "--print"]
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, env=env
        )
        assert proc.returncode == 1, proc.stderr
        assert proc.stderr.startswith(f"debugbox: {prefix!r} is the start of more than one container's ID")
        assert "debugbox targets" in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr


@pytest.mark.parametrize("host", ["tcp://127.0.0.1:99999", "tcp://127.0.0.1:abc", "tcp://[::1", "ssh://[::1"])
def test_a_docker_host_that_is_no_valid_address_is_one_sentence(
    host: str, monkeypatch: pytest.MonkeyPatch, only_docker: None
) -> None:
    # urllib's ValueError ("Port out of range 0-65535", "Invalid IPv6 URL") was a traceback from `debugbox shell`
    # and "internal error (ValueError: …)" in a listing.
    monkeypatch.setenv("DOCKER_HOST", host)
    listing = service.list_targets(SETTINGS, runtimes=["docker"])
    (error,) = listing.errors
    assert error.startswith(f"docker: Docker endpoint {host} (DOCKER_HOST) is not a valid address (")
    assert error.endswith("); correct DOCKER_HOST")
    argv = [sys.executable, "-m", "debugbox", "shell", "web", "--print"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert "is not a valid address" in proc.stderr and "Traceback" not in proc.stderr


def test_a_docker_context_that_does_not_exist_is_said_and_no_other_engine_asked(
    monkeypatch: pytest.MonkeyPatch, only_docker: None, tmp_path: Path
) -> None:
    # It fell back to the default socket: this machine's engine was listed while the terminals' docker (which
    # reads DOCKER_CONTEXT too) refused to start.
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.setenv("DOCKER_CONTEXT", "gone")
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    listing = service.list_targets(SETTINGS, runtimes=["docker"])
    assert listing.targets == []
    assert listing.errors == [
        "docker: docker context 'gone' (DOCKER_CONTEXT) does not exist: create it, or unset DOCKER_CONTEXT"
    ]
