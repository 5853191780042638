"""Remote Docker engines for the tests, made on this machine and removed afterwards.

- `Pki`: a CA made for the test, the daemon's serving certificate (127.0.0.1, localhost), a client certificate,
  written as the docker CLI wants them (`ca.pem`, `cert.pem`, `key.pem`), plus the CA of a stranger.
- `SecondEngine`: a second real `dockerd` (vfs, no iptables, its own bridge: the flags that work on these machines)
  with its own data and exec roots, listening on its own unix socket and, given a `Pki`, on
  `tcp://127.0.0.1:PORT` with `--tlsverify` (client certificates required); with `userns_remap` it runs
  `--userns-remap=default` (dockerd makes the `dockremap` user and its /etc/subuid and /etc/subgid ranges itself).
  The test images are copied in with `docker save | load`.
- `SshServer`: Debian's OpenSSH server on a high port of 127.0.0.1, run by the test as root with a throw-away
  host key and user key; its sessions get the environment the test gives (`DOCKER_HOST` pointing at the second
  engine's socket, so `docker system dial-stdio` on the far side reaches it; Podman's `CONTAINERS_CONF`), and
  with `bare_port` a second port whose sessions find no program on PATH (a host without the engine's CLI).
  `ssh_on_path` puts an `ssh` first on PATH that is OpenSSH's own with that client configuration (`-F`), so
  debugbox and the docker CLI in the terminal use the same one (OpenSSH reads `~/.ssh` from the passwd entry,
  not `$HOME`, so the user's own files cannot be swapped).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from tests.fakes.kube.tls import CertificateAuthority
from tests.integration.docker.engine import unique_name

SSHD = Path("/usr/sbin/sshd")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(ok: object, what: str, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(ok) and ok():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not come up within {seconds:g} s: {log.read_text()[-2000:]}")


class Pki:
    def __init__(self, folder: Path) -> None:
        ca = CertificateAuthority("dbx-docker-ca")
        self.server = folder / "server"
        self.client = folder / "client"
        self.stranger = folder / "stranger"  # a client folder whose ca.pem is another CA's
        for d in (self.server, self.client, self.stranger):
            d.mkdir(parents=True)
        serving, user = ca.server(), ca.client("dbx-user")
        (self.server / "ca.pem").write_bytes(ca.cert_pem)
        (self.server / "cert.pem").write_bytes(serving.cert_pem)
        (self.server / "key.pem").write_bytes(serving.key_pem)
        for d, ca_pem in (
            (self.client, ca.cert_pem),
            (self.stranger, CertificateAuthority("other").cert_pem),
        ):
            (d / "ca.pem").write_bytes(ca_pem)
            (d / "cert.pem").write_bytes(user.cert_pem)
            (d / "key.pem").write_bytes(user.key_pem)
            (d / "key.pem").chmod(0o600)


class SecondEngine:
    """A second dockerd; `stop()` removes what the tests made, stops it (and its containerd) by pid."""

    def __init__(
        self, folder: Path, pki: Pki | None, images: tuple[str, ...], *, userns_remap: bool = False
    ) -> None:
        self.folder = folder
        self.socket = folder / "docker.sock"
        self.port = free_port()
        self.tcp = f"tcp://127.0.0.1:{self.port}"
        self.log = folder / "dockerd.log"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "daemon.json").write_text("{}")  # not the machine's /etc/docker/daemon.json
        # Its own bridge: `--bridge=none` would make this dockerd delete the machine's docker0 at start-up
        # (moby daemon_unix.go, removeDefaultBridgeInterface), which breaks every other container on the host.
        self.bridge = f"dbxre{self.port}"
        subnet = f"10.{223 if userns_remap else 222}.{self.port % 250}.1/24"
        for ip in (
            ["link", "add", self.bridge, "type", "bridge"],
            ["addr", "add", subnet, "dev", self.bridge],
        ):
            subprocess.run(["ip", *ip], capture_output=True, timeout=10, check=True)
        argv = [
            "dockerd",
            f"--config-file={folder / 'daemon.json'}",
            f"--data-root={folder / 'data'}",
            f"--exec-root={folder / 'exec'}",
            f"--pidfile={folder / 'docker.pid'}",
            f"--host=unix://{self.socket}",
            *(
                [
                    f"--host={self.tcp}",
                    "--tlsverify",
                    f"--tlscacert={pki.server / 'ca.pem'}",
                    f"--tlscert={pki.server / 'cert.pem'}",
                    f"--tlskey={pki.server / 'key.pem'}",
                ]
                if pki
                else []
            ),
            *(["--userns-remap=default"] if userns_remap else []),
            "--iptables=false",
            "--ip-forward=false",
            "--ip-masq=false",
            f"--bridge={self.bridge}",
            "--storage-driver=vfs",
        ]
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        self.names: list[str] = []
        try:
            _wait(
                lambda: self.docker("info", check=False, timeout=10) is not None,
                "the second dockerd",
                self.log,
            )
            saved = subprocess.run(
                ["docker", "save", *images], capture_output=True, timeout=120, check=True
            ).stdout
            subprocess.run(
                ["docker", "--host", f"unix://{self.socket}", "load"],
                input=saved,
                capture_output=True,
                timeout=120,
                check=True,
            )
        except BaseException:
            self.stop()
            raise

    def docker(self, *args: str, check: bool = True, timeout: float = 60) -> str | None:
        """The docker CLI on this engine's unix socket; None when it fails and `check` is False."""
        if self.proc.poll() is not None:
            raise AssertionError(f"the second dockerd exited: {self.log.read_text()[-2000:]}")
        if not self.socket.is_socket():
            return None
        proc = subprocess.run(
            ["docker", "--host", f"unix://{self.socket}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            if check:
                raise AssertionError(f"docker {' '.join(args)} failed: {proc.stderr.strip()}")
            return None
        return proc.stdout

    def run(self, image: str, *options: str, args: tuple[str, ...] = ()) -> str:
        """Start a container of `image`: `options` before the image, `args` after it."""
        name = unique_name("dbx-remote")
        self.names.append(name)
        self.docker("run", "-d", "--name", name, *options, image, *args)
        return name

    def stop(self) -> None:
        if self.names and self.proc.poll() is None:
            self.docker("rm", "-f", *self.names, check=False, timeout=120)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # dockerd stops its own containerd on the way out
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        containerd_pid = self.folder / "exec" / "containerd" / "containerd.pid"
        if containerd_pid.is_file():  # only if dockerd could not stop it: its pid, not a name
            try:
                os.kill(int(containerd_pid.read_text().strip()), signal.SIGTERM)
            except (ValueError, OSError):
                pass
        subprocess.run(["ip", "link", "delete", self.bridge], capture_output=True, timeout=10, check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def sshd_ok() -> bool:
    return SSHD.is_file() and shutil.which("ssh") is not None and shutil.which("ssh-keygen") is not None


class SshServer:
    """OpenSSH's server on 127.0.0.1:PORT for root with one authorised throw-away key; `environment` is set in
    its sessions. With `bare_port`, also on `self.bare_port`, where a session's command runs with a PATH that
    holds nothing (`sh: 1: docker: not found`)."""

    def __init__(self, folder: Path, environment: Mapping[str, str], *, bare_port: bool = False) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.bare_port = 0
        while bare_port and self.bare_port in (0, self.port):
            self.bare_port = free_port()
        for name in ("host_key", "user_key"):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / name)],
                check=True,
                timeout=30,
            )
        shutil.copy(folder / "user_key.pub", folder / "authorized_keys")
        settings = "".join(f"SetEnv {key}={value}\n" for key, value in environment.items())
        if self.bare_port:
            # A forced command, not a SetEnv: the login shell's own profile may set PATH again.
            settings += (
                f"Match LocalPort {self.bare_port}\n"
                '  ForceCommand env PATH=/nonexistent /bin/sh -c "$SSH_ORIGINAL_COMMAND"\n'
            )
        ports = "".join(f"Port {port}\n" for port in (self.port, self.bare_port) if port)
        (folder / "sshd_config").write_text(
            f"{ports}ListenAddress 127.0.0.1\n"  # the ports first: ListenAddress takes those before it
            f"HostKey {folder / 'host_key'}\n"
            f"PidFile {folder / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {folder / 'authorized_keys'}\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "PermitRootLogin prohibit-password\nUsePAM no\n"
            "StrictModes no\n"  # the key files live under /tmp, which is world-writable
            f"{settings}"  # last: a Match block runs to the end of the file
        )
        host_key = (folder / "host_key.pub").read_text().split()
        (folder / "known_hosts").write_text(
            "".join(
                f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n"
                for port in (self.port, self.bare_port)
                if port
            )
        )
        (folder / "ssh_config").write_text(
            "Host *\n"
            f"  IdentityFile {folder / 'user_key'}\n"
            "  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {folder / 'known_hosts'}\n"
            "  GlobalKnownHostsFile /dev/null\n"
            "  StrictHostKeyChecking yes\n"
        )
        # sshd wants its privilege separation folder, which Debian's service unit would create.
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        self.log = folder / "sshd.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [str(SSHD), "-D", "-e", "-f", str(folder / "sshd_config")],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

        def listening() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"sshd exited: {self.log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            except OSError:
                return False
            return True

        _wait(listening, "sshd", self.log, 20)

    def ssh_on_path(self, bin_dir: Path, *, knows_the_host: bool = True) -> None:
        """An `ssh` in `bin_dir` that is OpenSSH's with this server's client configuration (without its host
        key in the known hosts when not `knows_the_host`)."""
        real = shutil.which("ssh")
        assert real is not None
        config = self.folder / "ssh_config"
        if not knows_the_host:
            config = self.folder / "ssh_config_stranger"
            text = (self.folder / "ssh_config").read_text()
            config.write_text(text.replace(str(self.folder / "known_hosts"), "/dev/null"))
        bin_dir.mkdir(parents=True, exist_ok=True)
        wrapper = bin_dir / "ssh"
        wrapper.write_text(f'#!/bin/sh\nexec {real} -F {config} "$@"\n')
        wrapper.chmod(0o755)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)
