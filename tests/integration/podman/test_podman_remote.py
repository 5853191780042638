"""Podman over ssh://, for real: `CONTAINER_HOST=ssh://root@127.0.0.1:PORT/run/podman/podman.sock`, the form
`podman system connection add` and `podman machine` write. OpenSSH's server runs on a high port of 127.0.0.1
(one per module, `SshServer`), and the far side's `podman --url=unix://… system dial-stdio` reaches the real
Podman service. Through the real CLI: `debugbox targets` lists the containers, `debugbox shell --print` plans,
`debugbox cp` copies both ways, and the planned argv, run with the terminal's environment, is the podman CLI
logging in over ssh itself (sshd's log counts its logins) and reaching the same containers. Then the failures,
each one sentence: podman missing on the far side, its service not running there, a refused login, and a
machine without the podman CLI (the docker CLI cannot reach Podman over ssh).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from debugbox.core.settings import DockerSettings
from debugbox.edge import engine_api, service

from tests.conftest import require
from tests.integration.docker.engine import DISTROLESS as DOCKER_DISTROLESS
from tests.integration.docker.engine import Containers, build_test_images, engine_ok
from tests.integration.docker.remote_engine import SshServer, free_port, sshd_ok
from tests.integration.podman.test_podman_live import (
    _PATH,
    CONTAINERS_CONF,
    DISTROLESS,
    SETTINGS,
    SHELL_APP,
    SOCKET,
    TOOLBOX,
    _env,
    start,
)

pytestmark = pytest.mark.podman

TIMEOUT = 3.0
PROBE = "ps; wget -qO- localhost:8080"
FAULTS = dataclasses.replace(SETTINGS, docker=DockerSettings(timeout_seconds=TIMEOUT))


@pytest.fixture(scope="module")
def sshd(podman_images: None) -> Iterator[SshServer]:
    """The ssh server (its sessions get the Podman settings of these machines), an `ssh` first on PATH with
    its client configuration in `bin/`, and a HOME whose `.ssh/known_hosts` knows it (the podman CLI's own
    ssh client reads that file, and its key from CONTAINER_SSHKEY)."""
    require(sshd_ok(), "Debian's openssh-server (scripts/setup-system.sh installs it) runs the ssh server")
    folder = Path(tempfile.mkdtemp(prefix="dbx-pssh-"))
    server: SshServer | None = None
    try:
        server = SshServer(folder / "ssh", {"CONTAINERS_CONF": str(CONTAINERS_CONF)}, bare_port=True)
        server.ssh_on_path(folder / "bin")
        (folder / "home" / ".ssh").mkdir(parents=True)
        shutil.copy(server.folder / "known_hosts", folder / "home" / ".ssh" / "known_hosts")
        yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _url(sshd: SshServer, path: str = str(SOCKET), *, user: str = "root", port: int = 0) -> str:
    return f"ssh://{user}@127.0.0.1:{port or sshd.port}{path}"


def _terminal_env(sshd: SshServer, url: str) -> dict[str, str]:
    """What a user's terminal holds for such a connection: CONTAINER_HOST, the key for podman's own ssh client
    (CONTAINER_SSHKEY), a HOME whose known hosts list the server, and `ssh` (for debugbox) on PATH."""
    folder = sshd.folder.parent
    return {
        **_env(),
        "CONTAINER_HOST": url,
        "CONTAINER_SSHKEY": str(sshd.folder / "user_key"),
        "HOME": str(folder / "home"),
        "PATH": f"{folder / 'bin'}{os.pathsep}{_PATH}",
        "KUBECONFIG": str(folder / "no-kubeconfig"),
    }


def _debugbox(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "debugbox", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False, env=env)


def _logins(sshd: SshServer) -> int:
    return sshd.log.read_text().count("Accepted publickey for root")


def test_podman_over_ssh_lists_plans_copies_and_the_terminals_podman_reaches_it(
    started: list[str], sshd: SshServer, tmp_path: Path
) -> None:
    distroless, shelled = start(started, DISTROLESS), start(started, SHELL_APP)
    env = _terminal_env(sshd, _url(sshd))

    listed = _debugbox(env, "targets", "--json")
    assert listed.returncode == 0, listed.stderr
    answer = json.loads(listed.stdout)
    assert not [e for e in answer["errors"] if "Podman" in e], answer["errors"]
    by_name = {t["name"]: t for t in answer["targets"] if t["runtime"] == "podman"}
    assert by_name[distroless]["recommended"] == "sidecar"
    assert by_name[shelled]["recommended"] == "exec"

    printed = _debugbox(
        env, "shell", f"podman://{distroless}", "--print", "--image", TOOLBOX, "--", "sh", "-c", PROBE
    )
    assert printed.returncode == 0, printed.stderr
    argv = json.loads(printed.stdout)
    assert argv[0] == "podman" and "--url" not in argv  # the terminal's podman finds CONTAINER_HOST itself

    # The terminal's podman logs in over ssh with its own client and reaches the same container.
    before = _logins(sshd)
    ran = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False, env=env)
    assert ran.returncode == 0, ran.stderr
    assert "/httpd -f -p 8080" in ran.stdout and ran.stdout.strip().endswith("hello from distroless-app")
    assert _logins(sshd) > before, "the podman CLI reached the engine over ssh"

    note = tmp_path / "note.txt"
    note.write_text("sent over ssh to Podman\n")
    sent = _debugbox(env, "cp", str(note), f"podman://{distroless}:/www/note.txt")
    assert sent.returncode == 0, sent.stderr
    back = _debugbox(env, "cp", f"podman://{distroless}:/www/note.txt", str(tmp_path / "back.txt"))
    assert back.returncode == 0, back.stderr
    assert (tmp_path / "back.txt").read_text() == "sent over ssh to Podman\n"

    # Without a path the far side's `podman system dial-stdio` takes the login user's own service.
    bare = _debugbox(_terminal_env(sshd, _url(sshd, "")), "targets", "--json")
    assert distroless in {t["name"] for t in json.loads(bare.stdout)["targets"] if t["runtime"] == "podman"}


@pytest.fixture
def in_process(sshd: SshServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process with the terminal's environment (CONTAINER_HOST set per test) and its own kept connections."""
    for key, value in _terminal_env(sshd, "").items():
        if (
            key != "CONTAINER_HOST"
        ):  # each test sets its own; the podman CLI of the fixtures uses the machine's
            monkeypatch.setenv(key, value)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    pool = engine_api._IdlePool()
    monkeypatch.setattr(engine_api, "_idle_pool", pool)
    yield
    pool.close_all()


def _fault(monkeypatch: pytest.MonkeyPatch, url: str) -> str:
    monkeypatch.setenv("CONTAINER_HOST", url)
    started = time.monotonic()
    listing = service.list_targets(FAULTS, runtimes=["podman"])
    assert time.monotonic() - started < TIMEOUT + 5
    assert len(listing.errors) == 1 and listing.targets == [], listing
    message = listing.errors[0]
    assert "\n" not in message and "Traceback" not in message
    assert f"could not reach the Podman engine at {url} (CONTAINER_HOST) over ssh: " in message
    return message


def test_podman_missing_on_the_far_side_is_one_sentence(
    sshd: SshServer, in_process: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = _fault(monkeypatch, _url(sshd, port=sshd.bare_port))
    assert "podman: not found" in message
    assert message.endswith("(podman must be installed on the remote host for `podman system dial-stdio`)")


def test_a_service_that_is_not_running_is_one_sentence(
    sshd: SshServer, in_process: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A rootless user whose podman.socket is not enabled: the socket in the URL does not exist.
    message = _fault(monkeypatch, _url(sshd, str(tmp_path / "podman.sock")))
    assert "unable to connect to Podman socket" in message and "no such file or directory" in message
    assert "Podman's service is not running for that user on the remote host" in message
    assert "systemctl --user enable --now podman.socket" in message and "DOCKER_HOST" not in message


def test_a_refused_login_is_one_sentence(
    sshd: SshServer, in_process: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = _fault(monkeypatch, _url(sshd, user="dbx-nobody"))
    assert "Permission denied (publickey)" in message and "the login was refused" in message


def test_nothing_listening_is_one_sentence(
    sshd: SshServer, in_process: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = _fault(monkeypatch, _url(sshd, port=free_port()))
    assert "Connection refused" in message and "is the host reachable" in message


def test_without_the_podman_cli_the_terminal_is_refused_but_listing_and_copies_work(
    started: list[str], sshd: SshServer, tmp_path: Path
) -> None:
    """debugbox's fallback for a machine without `podman` is `docker --host URL`; over ssh that runs `docker
    system dial-stdio` on the far side, which a Podman host does not have: refused before anything runs."""
    name = start(started, DISTROLESS)
    env = _terminal_env(sshd, _url(sshd))
    bin_dir = sshd.folder.parent / "bin"
    # ssh only (its wrapper runs OpenSSH by its absolute path): no podman, no docker
    env["PATH"] = str(bin_dir)

    listed = _debugbox(env, "targets", "--json")
    assert name in {t["name"] for t in json.loads(listed.stdout)["targets"] if t["runtime"] == "podman"}
    got = _debugbox(env, "cp", f"podman://{name}:/www/index.html", str(tmp_path / "index.html"))
    assert (
        got.returncode == 0 and (tmp_path / "index.html").read_text().strip() == "hello from distroless-app"
    )

    refusal = (
        f"debugbox: CONTAINER_HOST is {_url(sshd)}, which only the podman CLI can reach for a session, `forward` "
        "or `capture`, and podman is not installed here; install podman, or forward the remote socket "
        "(ssh -L /tmp/podman.sock:/run/podman/podman.sock HOST) and set CONTAINER_HOST=unix:///tmp/podman.sock"
    )
    printed = _debugbox(env, "shell", f"podman://{name}", "--print")
    assert printed.returncode == 1 and printed.stdout == ""
    assert printed.stderr.strip().splitlines() == [refusal]
    forwarded = _debugbox(env, "forward", f"podman://{name}", "8080", "--local", str(free_port()))
    assert forwarded.returncode == 1 and forwarded.stderr.strip().splitlines() == [refusal]


def test_an_unknown_host_key_gives_no_plan(started: list[str], sshd: SshServer, tmp_path: Path) -> None:
    """The terminal's podman (its own ssh client, 4.3) would add an unknown host key on first use without asking;
    debugbox plans only after its own `ssh` (BatchMode, strict) logged in, so it never hands podman such a host."""
    name = start(started, DISTROLESS)
    env = _terminal_env(sshd, _url(sshd))
    sshd.ssh_on_path(tmp_path / "bin", knows_the_host=False)
    env["PATH"] = f"{tmp_path / 'bin'}{os.pathsep}{env['PATH']}"
    (tmp_path / "home" / ".ssh").mkdir(parents=True)
    env["HOME"] = str(tmp_path / "home")  # podman's known hosts: empty

    printed = _debugbox(env, "shell", f"podman://{name}", "--print", "--image", TOOLBOX)
    assert printed.returncode == 1 and printed.stdout == ""
    [line] = printed.stderr.strip().splitlines()
    assert "Host key verification failed" in line and "connect once with `ssh`" in line
    assert not (tmp_path / "home" / ".ssh" / "known_hosts").exists()


def test_one_ssh_url_for_docker_and_podman_keeps_the_engines_apart(
    started: list[str], sshd: SshServer, in_process: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`DOCKER_HOST` and `CONTAINER_HOST` both `ssh://me@box` (a box with both engines): the same URL, two
    engines (`docker system dial-stdio` and `podman system dial-stdio` there). The kept connections were pooled
    by URL, so from the second listing on Podman's calls went to Docker's kept connections and Podman listed
    Docker's containers."""
    require(engine_ok(), "no Docker engine answers (scripts/start-docker.sh starts one)")
    build_test_images()
    on_docker = Containers()
    try:
        docker_name = on_docker.run(DOCKER_DISTROLESS)
        podman_name = start(started, DISTROLESS)
        url = _url(sshd, "")  # the far side's defaults: the machine's Docker and Podman sockets
        monkeypatch.setenv("DOCKER_HOST", url)
        monkeypatch.setenv("CONTAINER_HOST", url)
        for _ in range(2):  # the second listing reuses the kept connections
            listing = service.list_targets(SETTINGS, runtimes=["docker", "podman"])
            assert listing.errors == []
            names = {(t.runtime, t.name) for t in listing.targets}
            assert ("docker", docker_name) in names and ("podman", podman_name) in names
            assert ("podman", docker_name) not in names and ("docker", podman_name) not in names
    finally:
        for name in ("DOCKER_HOST", "CONTAINER_HOST"):  # the containers are removed on this machine
            monkeypatch.delenv(name, raising=False)
        on_docker.cleanup()
