"""`ssh://` URLs and the ssh command debugbox runs for them (the docker CLI's, made non-interactive)."""

from __future__ import annotations

import shlex

import pytest
from debugbox.core.errors import RuntimeUnavailable
from debugbox.edge.engine_api import Endpoint, EngineClient
from debugbox.edge.ssh_transport import PODMAN, SshHost, parse_ssh_url, ssh_argv, ssh_hint


def test_urls() -> None:
    assert parse_ssh_url("ssh://build-host") == SshHost("build-host")
    assert parse_ssh_url("ssh://me@10.0.0.5:2222") == SshHost("10.0.0.5", "me", 2222)
    assert parse_ssh_url("ssh://me@box/run/user/1000/docker.sock") == SshHost(
        "box", "me", None, "/run/user/1000/docker.sock"
    )


@pytest.mark.parametrize(
    "url",
    [
        "ssh://",
        "ssh://-oProxyCommand=touch%20pwned",
        "ssh://-oProxyCommand=x@host",
        "ssh://me:secret@host",
        "ssh://me@host:notaport",
        "tcp://host:2375",
    ],
)
def test_hostile_or_unusable_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        parse_ssh_url(url)


def test_a_refused_url_is_a_sentence_from_the_client() -> None:
    with pytest.raises(RuntimeUnavailable, match="names no valid user"):
        EngineClient(Endpoint("ssh://-oProxyCommand=x@host", "DOCKER_HOST"), 1).ping()


def test_the_ssh_command_is_the_docker_clis_made_non_interactive() -> None:
    """docker/cli cli/connhelper/connhelper.go: `ssh -o ConnectTimeout=30 -T [-l] [-p] -- host docker …`."""
    assert ssh_argv(SshHost("box", "me", 2222), 5) == [
        "ssh",
        "-o",
        "BatchMode=yes",
        "-o",
        "ConnectTimeout=6",
        "-T",
        "-l",
        "me",
        "-p",
        "2222",
        "--",
        "box",
        "docker",
        "system",
        "dial-stdio",
    ]
    assert ssh_argv(SshHost("box", socket_path="/run/d.sock"), 0.5)[4:] == [
        "ConnectTimeout=2",
        "-T",
        "--",
        "box",
        "docker",
        "--host=unix:///run/d.sock",
        "system",
        "dial-stdio",
    ]


def test_hints() -> None:
    assert "login was refused" in ssh_hint("root@h: Permission denied (publickey).")
    assert "host key" in ssh_hint("Host key verification failed.")
    assert "docker CLI must be installed" in ssh_hint("bash: line 1: docker: command not found")
    assert "cannot reach its engine" in ssh_hint(
        "Got permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock"
    )
    assert "reachable" in ssh_hint("ssh: connect to host h port 22: Connection refused")


def test_podman_runs_its_own_dial_stdio_on_the_far_side() -> None:
    """`CONTAINER_HOST=ssh://…/PATH`: `podman --url=unix://PATH system dial-stdio`; without a path, the login
    user's default service."""
    assert ssh_argv(SshHost("box", "me", socket_path="/run/user/1000/podman/podman.sock"), 5, PODMAN)[
        -6:
    ] == [
        "--",
        "box",
        "podman",
        "--url=unix:///run/user/1000/podman/podman.sock",
        "system",
        "dial-stdio",
    ]
    assert ssh_argv(SshHost("box"), 5, PODMAN)[-4:] == ["box", "podman", "system", "dial-stdio"]


def test_the_socket_path_is_decoded_as_the_clis_decode_it() -> None:
    assert (
        parse_ssh_url("ssh://me@box/tmp/my%20sockets/podman.sock").socket_path
        == "/tmp/my sockets/podman.sock"
    )


def test_the_socket_path_is_one_word_for_the_remote_shell() -> None:
    # ssh hands the command to the login user's shell: a space or a `$(…)` in the path stays in the path.
    for path in ("/tmp/my sockets/podman.sock", "/tmp/$(touch pwned).sock"):
        [flag] = [word for word in ssh_argv(SshHost("box", socket_path=path), 5, PODMAN) if "unix://" in word]
        assert shlex.split(flag) == [f"--url=unix://{path}"]


def test_podman_hints() -> None:
    def hint(said: str) -> str:
        return ssh_hint(said, PODMAN)

    assert "podman must be installed" in hint("bash: line 1: podman: command not found")
    down = (
        'Error: unable to connect to Podman socket: Get "http://d/v4.3.1/libpod/_ping": dial unix '
        "/run/user/1000/podman/podman.sock: connect: no such file or directory"
    )
    assert "systemctl --user enable --now podman.socket" in hint(down)
    # a socket the login user may not use is the service's problem, not a refused login
    assert "not running for that user" in hint(down.replace("no such file or directory", "permission denied"))
    assert "too old" in hint("Error: unrecognized command `podman system dial-stdio`")
    assert "login was refused" in hint("me@box: Permission denied (publickey).")
    assert "reachable" in hint("ssh: connect to host h port 22: Connection refused")
