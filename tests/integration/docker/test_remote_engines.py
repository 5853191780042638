"""Remote engines, for real: a second `dockerd` serving TLS on TCP (certificates made here), reached through
`DOCKER_HOST=tcp://…` with `DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH` and through a named context with TLS files;
and the same engine through `ssh://` (OpenSSH's server on a high port, `docker system dial-stdio` on the far
side). Each way: the listing, shell detection without executing anything in the target, copies in and out
through the archive streams (`debugbox cp`), and the sidecar argv run for real by the docker CLI. Then the
faults: a wrong CA, a missing client certificate, an unreachable ssh host, a refused login and a silent
server, each one sentence within the timeout; and the kept ssh connections (replaced when ended, closed when
idle).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from debugbox.core.settings import DockerSettings, Settings
from debugbox.edge import engine_api, service
from debugbox.edge.endpoints import docker_endpoint
from debugbox.edge.engine_api import EngineClient
from debugbox.edge.transfer import copy_in, copy_out

from tests.conftest import require
from tests.deadlines import within
from tests.integration.docker.engine import DISTROLESS, SHELL_APP, TOOLBOX
from tests.integration.docker.remote_engine import Pki, SecondEngine, SshServer, free_port, sshd_ok

pytestmark = pytest.mark.docker

SETTINGS = Settings(toolbox_image=TOOLBOX)
#: The engine timeout of the fault tests; each asserts the sentence naming the deadline that fired, and a bound of
#: `within(TIMEOUT)` (tests/deadlines.py): 1.5 s beyond it was 0.7 s from failing with ssh's start on a loaded
#: machine.
TIMEOUT = 2.0
FAULTS = dataclasses.replace(SETTINGS, docker=DockerSettings(timeout_seconds=TIMEOUT))
TLS_VARIABLES = ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_TLS", "DOCKER_CERT_PATH", "DOCKER_CONTEXT")


@dataclasses.dataclass
class Remote:
    folder: Path
    pki: Pki
    engine: SecondEngine
    ssh: SshServer
    distroless: str
    shelled: str


@pytest.fixture(scope="module")
def remote(images: None) -> Iterator[Remote]:
    require(shutil.which("dockerd") is not None, "dockerd (Debian's docker.io) runs the second engine")
    require(sshd_ok(), "Debian's openssh-server (scripts/setup-system.sh installs it) runs the ssh engine")
    folder = Path(tempfile.mkdtemp(prefix="dbx-re-"))  # short: unix socket paths are limited to 107 bytes
    engine: SecondEngine | None = None
    ssh: SshServer | None = None
    try:
        pki = Pki(folder / "pki")
        engine = SecondEngine(folder / "e", pki, (TOOLBOX, DISTROLESS, SHELL_APP))
        ssh = SshServer(folder / "ssh", {"DOCKER_HOST": f"unix://{engine.socket}"})
        ssh.ssh_on_path(folder / "bin")
        yield Remote(folder, pki, engine, ssh, engine.run(DISTROLESS), engine.run(SHELL_APP))
    finally:
        if ssh is not None:
            ssh.stop()
        if engine is not None:
            engine.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No engine variables, no Podman, an empty docker config folder (yielded), and no ssh connection kept
    from another test (each test connects afresh; what it kept is closed after it)."""
    for name in (*TLS_VARIABLES, "XDG_RUNTIME_DIR"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "docker-config"
    config.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    pool = engine_api._IdlePool()
    monkeypatch.setattr(engine_api, "_idle_pool", pool)
    yield config
    pool.close_all()


def _exercise(remote: Remote, env: dict[str, str], tmp_path: Path) -> list[str]:
    """List, detect shells, copy a file out and run the sidecar argv with `env`; returns that argv."""
    listing = service.list_targets(SETTINGS, runtimes=["docker"])
    assert listing.errors == []
    by_name = {t.name: t for t in listing.targets}
    assert {remote.distroless, remote.shelled} <= set(by_name), "the remote engine's containers are listed"
    assert (
        by_name[remote.distroless].recommended == "sidecar"
        and by_name[remote.distroless].extra["shell"] is None
    )
    assert (
        by_name[remote.shelled].recommended == "exec" and by_name[remote.shelled].extra["shell"] == "/bin/sh"
    )
    for name in (remote.distroless, remote.shelled):  # the shells were found by stat, nothing ran inside
        assert remote.engine.docker("inspect", "-f", "{{json .ExecIDs}}", name) == "null\n"

    client = EngineClient(docker_endpoint().endpoint, SETTINGS.docker.timeout_seconds)
    cid = str(by_name[remote.distroless].extra["container_id"])
    copy_out(client, cid, "/www/index.html", tmp_path / "index.html")
    assert (tmp_path / "index.html").read_text().strip() == "hello from distroless-app"
    (tmp_path / "note.txt").write_text("sent over the remote transport\n")
    # a streamed (chunked) request body; each way of reaching the engine writes it again
    copy_in(client, cid, tmp_path / "note.txt", "/www/note.txt", force=True)

    options = service.plan_options(
        SETTINGS, command=("sh", "-c", "ps; wget -qO- localhost:8080"), tty=False, stdin=False
    )
    argv = list(service.plan(SETTINGS, remote.distroless, options).argv)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "/httpd -f -p 8080" in proc.stdout and proc.stdout.strip().endswith("hello from distroless-app")
    copy_out(client, cid, "/www/note.txt", tmp_path / "back.txt")
    assert (tmp_path / "back.txt").read_text() == "sent over the remote transport\n"
    return argv


def test_tcp_with_tls_from_the_environment(
    remote: Remote, clean_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", remote.engine.tcp)
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(remote.pki.client))
    # The terminal's environment has none of the variables: the argv alone must reach the engine.
    bare = {k: v for k, v in os.environ.items() if k not in TLS_VARIABLES}

    argv = _exercise(remote, bare, tmp_path)

    assert argv[:4] == ["docker", "--host", remote.engine.tcp, "--tlsverify"]
    assert f"--tlscacert={remote.pki.client / 'ca.pem'}" in argv


def test_a_named_context_with_tls_files(
    remote: Remote, clean_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    name = "dbx-remote-tls"
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = clean_env / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    endpoint = {"Host": remote.engine.tcp, "SkipTLSVerify": False}
    (meta / "meta.json").write_text(
        json.dumps({"Name": name, "Metadata": {}, "Endpoints": {"docker": endpoint}})
    )
    shutil.copytree(remote.pki.client, clean_env / "contexts" / "tls" / digest / "docker")
    (clean_env / "config.json").write_text(json.dumps({"currentContext": name}))

    argv = _exercise(remote, dict(os.environ), tmp_path)

    assert argv[:3] == ["docker", "--context", name]


def test_ssh(remote: Remote, clean_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    host = f"ssh://root@127.0.0.1:{remote.ssh.port}"
    monkeypatch.setenv("DOCKER_HOST", host)
    monkeypatch.setenv("PATH", f"{remote.folder / 'bin'}{os.pathsep}{os.environ['PATH']}")

    argv = _exercise(remote, {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}, tmp_path)

    assert argv[:3] == ["docker", "--host", host]


def _fault(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> tuple[str, float]:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    started = time.monotonic()
    listing = service.list_targets(FAULTS, runtimes=["docker"])
    took = time.monotonic() - started
    assert len(listing.errors) == 1 and listing.targets == []
    message = listing.errors[0]
    assert "\n" not in message and "Traceback" not in message
    return message, took


def test_a_wrong_ca_is_one_sentence(remote: Remote, clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    message, took = _fault(
        monkeypatch,
        {
            "DOCKER_HOST": remote.engine.tcp,
            "DOCKER_TLS_VERIFY": "1",
            "DOCKER_CERT_PATH": str(remote.pki.stranger),
        },
    )
    assert f"does not verify against the CA of DOCKER_CERT_PATH {remote.pki.stranger}" in message
    assert "unable to get local issuer certificate" in message and took < within(TIMEOUT)


def test_a_missing_client_certificate_is_one_sentence(
    remote: Remote, clean_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    only_ca = tmp_path / "only-ca"
    only_ca.mkdir()
    shutil.copy(remote.pki.client / "ca.pem", only_ca / "ca.pem")
    message, took = _fault(
        monkeypatch,
        {"DOCKER_HOST": remote.engine.tcp, "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(only_ca)},
    )
    assert "refused the client certificate" in message and took < within(TIMEOUT)


def test_ssh_unreachable_and_refused_logins_are_one_sentence(
    remote: Remote, clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{remote.folder / 'bin'}{os.pathsep}{os.environ['PATH']}")
    nobody = free_port()  # nothing listens there
    message, took = _fault(monkeypatch, {"DOCKER_HOST": f"ssh://root@127.0.0.1:{nobody}"})
    assert "over ssh" in message and "Connection refused" in message and took < within(TIMEOUT)

    message, took = _fault(monkeypatch, {"DOCKER_HOST": f"ssh://dbx-nobody@127.0.0.1:{remote.ssh.port}"})
    assert "Permission denied (publickey)" in message and "the login was refused" in message
    assert took < within(TIMEOUT)


def test_an_unknown_host_key_is_one_sentence_not_a_prompt(
    remote: Remote, clean_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    remote.ssh.ssh_on_path(tmp_path / "bin", knows_the_host=False)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    message, took = _fault(monkeypatch, {"DOCKER_HOST": f"ssh://root@127.0.0.1:{remote.ssh.port}"})
    assert "Host key verification failed" in message and "connect once with `ssh`" in message
    assert took < within(TIMEOUT)


def test_a_silent_ssh_server_is_cut_off_at_the_timeout(
    remote: Remote, clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that accepts the TCP connection and never speaks (a hung host, a wrong port behind NAT)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    monkeypatch.setenv("PATH", f"{remote.folder / 'bin'}{os.pathsep}{os.environ['PATH']}")
    try:
        message, took = _fault(
            monkeypatch, {"DOCKER_HOST": f"ssh://root@127.0.0.1:{server.getsockname()[1]}"}
        )
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in held:
            conn.close()
        server.close()
    assert f"did not answer within {TIMEOUT:g} s" in message
    assert TIMEOUT * 0.9 <= took < within(TIMEOUT)


def test_kept_ssh_connections_that_ended_are_replaced(
    remote: Remote, clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Connections are kept between calls (an ssh handshake each is slow); one whose ssh ended meanwhile (a
    dropped link, a server's idle limit) is replaced without an error."""
    monkeypatch.setenv("DOCKER_HOST", f"ssh://root@127.0.0.1:{remote.ssh.port}")
    monkeypatch.setenv("PATH", f"{remote.folder / 'bin'}{os.pathsep}{os.environ['PATH']}")
    client = EngineClient(docker_endpoint().endpoint, SETTINGS.docker.timeout_seconds)
    client.ping()
    kept = engine_api._idle_pool._idle.get(client.pool_key, [])
    assert kept, "the connection was kept for the next call"
    for _, conn in kept:
        conn._proc.kill()  # type: ignore[attr-defined]
        conn._proc.wait()  # type: ignore[attr-defined]

    assert {c["Id"] for c in client.containers()} >= {
        remote.engine.docker("inspect", "-f", "{{.Id}}", remote.distroless).strip()  # type: ignore[union-attr]
    }


def test_idle_ssh_connections_are_closed(
    remote: Remote, clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kept connection is an ssh process on both machines: it is ended once idle, not kept forever."""
    pool = engine_api._IdlePool()
    pool._MAX_IDLE = 0.5
    monkeypatch.setattr(engine_api, "_idle_pool", pool)
    monkeypatch.setenv("DOCKER_HOST", f"ssh://root@127.0.0.1:{remote.ssh.port}")
    monkeypatch.setenv("PATH", f"{remote.folder / 'bin'}{os.pathsep}{os.environ['PATH']}")
    client = EngineClient(docker_endpoint().endpoint, SETTINGS.docker.timeout_seconds)
    client.ping()
    [(_, conn)] = pool._idle[client.pool_key]
    process = conn._proc  # type: ignore[attr-defined]
    assert process is not None and process.poll() is None

    deadline = time.monotonic() + pool._MAX_IDLE * 2 + 5  # the janitor looks every _MAX_IDLE / 3
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process.poll() is not None and pool._idle == {}


async def test_the_language_server_reaches_the_ssh_engine_without_disturbing_its_stdio(
    remote: Remote, clean_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`debugbox lsp` speaks JSON-RPC on stdin/stdout; the ssh processes it starts get neither (a socket pair
    and a file for stderr), so the answers stay well-framed, also on a second call over kept connections."""
    from tests.lsp.rawrpc import RawPeer

    monkeypatch.setenv("DOCKER_HOST", f"ssh://root@127.0.0.1:{remote.ssh.port}")
    monkeypatch.setenv("PATH", f"{remote.folder / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    server = await RawPeer.start()
    try:
        await server.initialize(tmp_path.as_uri())
        for msg_id in (1, 2):
            answer = await server.request(
                msg_id, "workspace/executeCommand", {"command": "debugbox.listTargets", "arguments": [{}]}
            )
            result = answer["result"]
            by_name = {t["name"]: t for t in result["targets"] if t["runtime"] == "docker"}
            assert not [e for e in result["errors"] if e.startswith("docker")]
            assert by_name[remote.distroless]["recommended"] == "sidecar"
            assert by_name[remote.shelled]["recommended"] == "exec"
    finally:
        assert await server.stop() == 0
