"""Where the engines are: DOCKER_HOST, the docker context (config.json → contexts/meta), Podman's socket."""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path

from debugbox.edge.docker_backend import podman_cli
from debugbox.edge.endpoints import DEFAULT_DOCKER_HOST, docker_endpoint, podman_endpoint, podman_sockets


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


def test_an_unknown_context_is_a_problem_and_default_is_the_default_socket(tmp_path: Path) -> None:
    # The docker CLI refuses an unknown context; debugbox asked the default engine instead, so the listing and
    # the terminals' docker disagreed.
    unknown = docker_endpoint({"DOCKER_CONTEXT": "nope"}, tmp_path)
    assert unknown.endpoint.problem == (
        "docker context 'nope' (DOCKER_CONTEXT) does not exist: create it, or unset DOCKER_CONTEXT"
    )
    default = docker_endpoint({"DOCKER_CONTEXT": "default"}, tmp_path).endpoint
    assert default.url == DEFAULT_DOCKER_HOST and not default.problem


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


def test_container_host_is_podmans_endpoint_when_set(tmp_path: Path) -> None:
    # What the podman CLI talks to when it is set, socket on this machine or not.
    found = podman_endpoint({"CONTAINER_HOST": "tcp://10.0.0.5:8080", "XDG_RUNTIME_DIR": str(tmp_path)})
    assert found is not None and (found.url, found.source) == ("tcp://10.0.0.5:8080", "CONTAINER_HOST")


def test_podman_cli_falls_back_to_docker_on_the_compatible_socket() -> None:
    assert podman_cli("unix:///run/podman/podman.sock", which=lambda _: "/usr/bin/podman") == (
        ("podman",),
        "",
    )
    assert podman_cli("unix:///run/podman/podman.sock", which=lambda _: None) == (
        ("docker", "--host", "unix:///run/podman/podman.sock"),
        "",
    )


def test_podman_over_ssh_needs_the_podman_cli_for_its_terminals() -> None:
    # `docker --host ssh://…` would run `docker system dial-stdio` on the far side: refused, not handed over.
    url = "ssh://me@box/run/user/1000/podman/podman.sock"
    assert podman_cli(url, which=lambda _: "/usr/bin/podman") == (("podman",), "")
    _, problem = podman_cli(url, which=lambda _: None)
    assert problem.startswith(f"CONTAINER_HOST is {url}, which only the podman CLI can reach for a session")
    assert "install podman" in problem and "\n" not in problem


def _tls_context(home: Path, name: str, host: str, files: tuple[str, ...], skip: bool | None = None) -> Path:
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = home / ".docker" / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    endpoint: dict[str, object] = {"Host": host}
    if skip is not None:
        endpoint["SkipTLSVerify"] = skip
    (meta / "meta.json").write_text(json.dumps({"Name": name, "Endpoints": {"docker": endpoint}}))
    tls = home / ".docker" / "contexts" / "tls" / digest / "docker"
    tls.mkdir(parents=True)
    for f in files:
        (tls / f).write_text("PEM")
    return tls


def test_a_context_with_tls_files_verifies_with_them(tmp_path: Path) -> None:
    tls = _tls_context(tmp_path, "prod", "tcp://prod:2376", ("ca.pem", "cert.pem", "key.pem"))
    found = docker_endpoint({"DOCKER_CONTEXT": "prod"}, tmp_path)
    assert found.endpoint.tls is not None and found.endpoint.tls.verify
    assert (found.endpoint.tls.ca, found.endpoint.tls.cert, found.endpoint.tls.key) == (
        str(tls / "ca.pem"),
        str(tls / "cert.pem"),
        str(tls / "key.pem"),
    )
    assert "context prod" in found.endpoint.tls.origin
    assert found.cli_args == ("--context", "prod")  # the context carries the TLS files to the CLI


def test_a_context_without_tls_files_is_plain_tcp_unless_verification_is_skipped(tmp_path: Path) -> None:
    """The CLI's rule (docker/cli cli/context/docker/load.go, tlsConfig): no TLS data and no skip → no TLS."""
    _tls_context(tmp_path, "plain", "tcp://plain:2375", ())
    assert docker_endpoint({"DOCKER_CONTEXT": "plain"}, tmp_path).endpoint.tls is None
    _tls_context(tmp_path, "insecure", "tcp://insecure:2376", (), skip=True)
    tls = docker_endpoint({"DOCKER_CONTEXT": "insecure"}, tmp_path).endpoint.tls
    assert tls is not None and not tls.verify and tls.ca is None


def test_an_ssh_context_has_no_tls(tmp_path: Path) -> None:
    _tls_context(tmp_path, "box", "ssh://me@box", ("ca.pem",))
    found = docker_endpoint({"DOCKER_CONTEXT": "box"}, tmp_path)
    assert found.endpoint.url == "ssh://me@box" and found.endpoint.tls is None


def test_tls_variables_become_the_cli_flags(tmp_path: Path) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    for f in ("ca.pem", "cert.pem", "key.pem"):
        (certs / f).write_text("PEM")
    env = {"DOCKER_HOST": "tcp://h:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(certs)}
    found = docker_endpoint(env, tmp_path)
    assert found.endpoint.tls is not None and found.endpoint.tls.verify
    assert found.cli_args == (
        "--host",
        "tcp://h:2376",
        "--tlsverify",
        f"--tlscacert={certs / 'ca.pem'}",
        f"--tlscert={certs / 'cert.pem'}",
        f"--tlskey={certs / 'key.pem'}",
    )
    # DOCKER_TLS: encrypted, not verified; the default folder is the config folder
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker" / "ca.pem").write_text("PEM")
    found = docker_endpoint({"DOCKER_HOST": "tcp://h:2376", "DOCKER_TLS": "1"}, tmp_path)
    assert found.endpoint.tls is not None and not found.endpoint.tls.verify
    assert found.cli_args == (
        "--host",
        "tcp://h:2376",
        "--tls",
        f"--tlscacert={tmp_path / '.docker' / 'ca.pem'}",
    )
    # plain TCP without the variables; no TLS for ssh whatever the variables
    assert docker_endpoint({"DOCKER_HOST": "tcp://h:2375"}, tmp_path).endpoint.tls is None
    ssh = docker_endpoint({"DOCKER_HOST": "ssh://me@h", "DOCKER_TLS_VERIFY": "1"}, tmp_path)
    assert ssh.endpoint.tls is None and ssh.cli_args == ("--host", "ssh://me@h")


def test_unusable_tls_files_are_one_sentence_when_the_engine_is_called(tmp_path: Path) -> None:
    import pytest
    from debugbox.core.errors import RuntimeUnavailable
    from debugbox.edge.engine_api import EngineClient

    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "ca.pem").write_text("not a certificate")
    env = {"DOCKER_HOST": "tcp://127.0.0.1:1", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(certs)}
    client = EngineClient(docker_endpoint(env, tmp_path).endpoint, 1)
    with pytest.raises(
        RuntimeUnavailable, match=f"cannot use DOCKER_CERT_PATH {certs} for TLS: .*readable PEM"
    ):
        client.ping()
