"""`ssh://` URLs and the ssh command debugbox runs for them (the docker CLI's, made non-interactive)."""

from __future__ import annotations

import pytest
from debugbox.core.errors import RuntimeUnavailable
from debugbox.edge.engine_api import Endpoint, EngineClient
from debugbox.edge.ssh_transport import SshHost, parse_ssh_url, ssh_argv, ssh_hint


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
