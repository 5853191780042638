"""Where the engines are: DOCKER_HOST, the docker context (config.json → contexts/meta), Podman's socket."""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path

from debugbox.edge.docker_backend import podman_cli
from debugbox.edge.endpoints import DEFAULT_DOCKER_HOST, docker_endpoint, podman_sockets


def _context(home: Path, name: str, host: str) -> None:
    meta = home / ".docker" / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({"Name": name, "Endpoints": {"docker": {"Host": host}}}))


def test_default(tmp_path: Path) -> None:
    found = docker_endpoint({}, tmp_path)
    assert found.endpoint.url == DEFAULT_DOCKER_HOST and found.cli_args == ()


def test_docker_host_wins_and_is_spelled_out_for_the_terminal(tmp_path: Path) -> None:
    _context(tmp_path, "remote", "tcp://10.0.0.5:2375")
    env = {"DOCKER_HOST": "unix:///run/user/1000/docker.sock", "DOCKER_CONTEXT": "remote"}
    found = docker_endpoint(env, tmp_path)
    assert (
        found.endpoint.url == "unix:///run/user/1000/docker.sock" and found.endpoint.source == "DOCKER_HOST"
    )
    assert found.cli_args == ("--host", "unix:///run/user/1000/docker.sock")


def test_current_context_from_config(tmp_path: Path) -> None:
    _context(tmp_path, "colima", "unix:///home/u/.colima/default/docker.sock")
    (tmp_path / ".docker" / "config.json").write_text(json.dumps({"currentContext": "colima"}))
    found = docker_endpoint({}, tmp_path)
    assert found.endpoint.url == "unix:///home/u/.colima/default/docker.sock"
    assert found.endpoint.source == "current context colima" and found.cli_args == ("--context", "colima")


def test_docker_context_env_and_docker_config_dir(tmp_path: Path) -> None:
    config = tmp_path / "cfg"
    meta = config / "contexts" / "meta" / hashlib.sha256(b"ci").hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({"Endpoints": {"docker": {"Host": "tcp://ci:2375"}}}))
    found = docker_endpoint({"DOCKER_CONTEXT": "ci", "DOCKER_CONFIG": str(config)}, tmp_path)
    assert found.endpoint.url == "tcp://ci:2375"


def test_unknown_or_default_context_falls_back(tmp_path: Path) -> None:
    assert docker_endpoint({"DOCKER_CONTEXT": "nope"}, tmp_path).endpoint.url == DEFAULT_DOCKER_HOST
    assert docker_endpoint({"DOCKER_CONTEXT": "default"}, tmp_path).endpoint.url == DEFAULT_DOCKER_HOST


def test_podman_socket_only_when_it_is_a_socket(tmp_path: Path) -> None:
    folder = tmp_path / "podman"
    folder.mkdir()
    assert podman_sockets({"XDG_RUNTIME_DIR": str(tmp_path)}) == [] or all(
        p != folder / "podman.sock" for p in podman_sockets({"XDG_RUNTIME_DIR": str(tmp_path)})
    )
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(folder / "podman.sock"))
        assert podman_sockets({"XDG_RUNTIME_DIR": str(tmp_path)})[0] == folder / "podman.sock"
    finally:
        sock.close()


def test_podman_cli_falls_back_to_docker_on_the_compatible_socket() -> None:
    assert podman_cli("/run/podman/podman.sock", which=lambda _: "/usr/bin/podman") == ("podman",)
    assert podman_cli("/run/podman/podman.sock", which=lambda _: None) == (
        "docker",
        "--host",
        "unix:///run/podman/podman.sock",
    )
