"""The Engine API over ssh: `DOCKER_HOST=ssh://[user@]host[:port][/socket]`, reached the way the docker CLI
reaches it, and Podman's `CONTAINER_HOST=ssh://[user@]host[:port][/socket]` the same way with `podman` on the
far side.

The docker CLI runs `ssh -o ConnectTimeout=30 -T [-l user] [-p port] -- host docker system dial-stdio` and
speaks HTTP over the process's stdin/stdout (docker/cli `cli/connhelper/connhelper.go`); with a path in the URL
the far side runs `docker --host=unix://PATH system dial-stdio`. For Podman the far side runs `podman
--url=unix://PATH system dial-stdio` (without a path, `podman system dial-stdio`: the remote user's default
service); which CLI runs there is a parameter (`FarSide`), the transport is one. debugbox runs the same `ssh`
program with the same arguments, so the user's ssh configuration, agent, keys and known hosts decide for
debugbox exactly as they do for the terminal's `docker --host ssh://…`. Two additions: `BatchMode=yes` (no
password or host-key prompt can wait on a terminal nobody sees; the failure becomes a sentence instead) and a
`ConnectTimeout` just beyond the engine timeout. The podman CLI has an ssh client of its own (Go's: its key from
CONTAINER_SSHKEY or the agent, known hosts from `$HOME/.ssh/known_hosts`), so for Podman debugbox and the
terminal's `podman` may decide differently (docs/live-containers.md, "Remote engines").

Connecting costs a process and a handshake (about half a second), so a connection is kept open between
calls for a while (`engine_api._IdlePool`); a listing's shell probes reuse them. The process's stdin and
stdout are one end of a socket pair, so the client holds a real socket: per-read
timeouts and the overall deadline (a `shutdown` ends a blocked read at once) work exactly as over a unix
socket, and so do streamed archives. ssh's stderr is kept to explain a failure in its own words ("Permission
denied (publickey)", "Connection refused", "Host key verification failed").
"""

from __future__ import annotations

import http.client
import math
import re
import shlex
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from typing import IO
from urllib.parse import unquote, urlparse

from debugbox.core.errors import RuntimeUnavailable
from debugbox.edge.cli_tools import resolve_program

#: A host name, IPv4 or bracket-less IPv6 address as ssh takes it; nothing that could read as an option.
_HOST = re.compile(r"[A-Za-z0-9_.:%\[\]-]+")
_USER = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.@-]*")
_MAX_STDERR = 4096


@dataclass(frozen=True)
class FarSide:
    """The CLI that runs `system dial-stdio` on the far side, and the words a failure is explained in."""

    program: str
    """`docker` or `podman`."""
    socket_flag: str
    """How that CLI is told the engine's socket: `--host` (docker) or `--url` (podman)."""
    variable: str
    """The environment variable that holds such a URL, for messages: `DOCKER_HOST`, `CONTAINER_HOST`."""


DOCKER = FarSide("docker", "--host", "DOCKER_HOST")
PODMAN = FarSide("podman", "--url", "CONTAINER_HOST")


def far_side(product: str) -> FarSide:
    """The far side for an engine product ("Docker", "Podman")."""
    return PODMAN if product == "Podman" else DOCKER


@dataclass(frozen=True)
class SshHost:
    host: str
    user: str | None = None
    port: int | None = None
    socket_path: str | None = None
    """The engine's socket on the far side, when the URL names one."""


def parse_ssh_url(url: str) -> SshHost:
    """`ssh://[user@]host[:port][/path]`; ValueError with a reason for anything else."""
    parsed = urlparse(url)
    if parsed.scheme != "ssh":
        raise ValueError(f"{url} is not an ssh:// URL")
    if parsed.password is not None:
        raise ValueError("a password in an ssh:// URL is not supported (use a key or ssh-agent)")
    host = parsed.hostname or ""
    if not host or host.startswith("-") or not _HOST.fullmatch(host):
        raise ValueError(f"{url} names no valid host")
    user = unquote(parsed.username) if parsed.username else None
    if user is not None and not _USER.fullmatch(user):
        raise ValueError(f"{url} names no valid user")
    try:
        port = parsed.port
    except ValueError as exc:
        raise ValueError(f"{url} has an invalid port") from exc
    # Decoded, as the docker and podman CLIs do (Go's `url.URL.Path`): `%20` is a space in the socket's name.
    path = unquote(parsed.path) if parsed.path.strip("/") else None
    return SshHost(host, user, port, path)


def ssh_argv(target: SshHost, timeout: float, far: FarSide = DOCKER) -> list[str]:
    """The ssh command the docker CLI would run for this host (with `far`'s CLI on the other side), made
    non-interactive and bounded."""
    # ssh's own connect timeout is a second beyond the call's, so a silent host gets debugbox's sentence (with
    # the setting to raise) rather than a race between the two.
    argv = ["ssh", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={math.ceil(timeout) + 1}", "-T"]
    if target.user:
        argv += ["-l", target.user]
    if target.port:
        argv += ["-p", str(target.port)]
    remote = [far.program, "system", "dial-stdio"]
    if target.socket_path:
        # ssh hands the words to the remote user's shell: a path with a space or a `$` is one word there too.
        flag = shlex.quote(f"{far.socket_flag}=unix://{target.socket_path}")
        remote = [far.program, flag, "system", "dial-stdio"]
    return [*argv, "--", target.host, *remote]


class SshConnection(http.client.HTTPConnection):
    """An HTTP connection whose socket is one end of a pair whose other end is `ssh … dial-stdio`."""

    keep_alive = True
    """Kept open between calls (`engine_api._IdlePool`): a new one costs a process and an ssh handshake."""

    def __init__(self, target: SshHost, timeout: float, far: FarSide = DOCKER) -> None:
        super().__init__("docker", timeout=timeout)
        self._target = target
        self._far = far
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._code: int | None = None
        self._said = ""
        self._ended_by_us = False

    def connect(self) -> None:
        ours, theirs = socket.socketpair()
        self._stderr = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(
                resolve_program(ssh_argv(self._target, self.timeout or 5.0, self._far)),
                stdin=theirs.fileno(),
                stdout=theirs.fileno(),
                stderr=self._stderr,
                start_new_session=True,  # a Ctrl-C in the CLI's terminal is debugbox's to handle, not ssh's
            )
        except (FileNotFoundError, RuntimeUnavailable) as exc:
            ours.close()
            raise RuntimeUnavailable(
                f"{self._far.variable} is an ssh:// URL but the ssh program is not installed "
                "(install OpenSSH's client: debugbox reaches the remote engine through it)"
            ) from exc
        finally:
            theirs.close()
        ours.settimeout(self.timeout)
        self.sock = ours

    def _reap(self, wait: float) -> bool:
        """Collect ssh's exit code and last words once it has ended (waiting up to `wait` s); False if it runs.

        http.client closes the connection itself when a call fails, so this keeps what `explain` needs.
        """
        proc = self._proc
        if proc is None:
            return True
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            return False
        self._proc, self._code = None, proc.returncode
        if self._stderr is not None:
            self._stderr.seek(0)
            text = self._stderr.read(_MAX_STDERR).decode("utf-8", "replace")
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            self._said = lines[-1] if lines else ""
            self._stderr.close()
            self._stderr = None
        return True

    def explain(self) -> str | None:
        """Why ssh failed, in its own last words, when it exited with an error; None while it still runs."""
        # When the stream ended, ssh is exiting: a moment to collect it.
        if not self._reap(0.3) or not self._code or self._ended_by_us:
            return None
        return self._said or f"ssh exited with code {self._code}"

    def close(self) -> None:
        super().close()  # closing our end is EOF for ssh, which then ends the remote dial-stdio and exits
        # It ends within milliseconds once its session is up; one still connecting (a host that does not
        # answer) would wait for ConnectTimeout, longer than the call may take.
        proc = self._proc
        if proc is not None and not self._reap(0.5):
            self._ended_by_us = True  # its exit code is ours then, not a reason to report
            proc.terminate()
            if not self._reap(2):
                proc.kill()
                self._reap(5)


def ssh_hint(said: str, far: FarSide = DOCKER) -> str:
    """What to do about ssh's complaint (or the far side's CLI's), as the end of a sentence."""
    lowered = said.lower()
    if far is PODMAN:
        hint = _podman_hint(lowered)
        if hint:
            return hint
    elif "docker daemon" in lowered:
        return "the docker CLI on the remote host cannot reach its engine (running? the user in the docker group?)"
    if "permission denied" in lowered:
        return "the login was refused; `ssh` to that host must work without a prompt (key or ssh-agent)"
    if "host key verification failed" in lowered or "host key" in lowered:
        return "the host key is unknown or changed; connect once with `ssh` to check and accept it"
    if "not found" in lowered and "docker" in lowered:
        return "the docker CLI must be installed on the remote host for `docker system dial-stdio`"
    if "connection refused" in lowered or "timed out" in lowered or "could not resolve" in lowered:
        return "is the host reachable and its ssh server running?"
    return "check that `ssh` to that host works without a prompt"


def _podman_hint(lowered: str) -> str | None:
    """What to do when `podman system dial-stdio` on the far side failed; None when ssh itself did."""
    # Before "permission denied": podman says "dial unix …: connect: permission denied" for a socket the login
    # user may not use, which is not a refused login.
    if "podman socket" in lowered or "cannot connect to podman" in lowered:
        return (
            "Podman's service is not running for that user on the remote host, or not at that socket; start it "
            "there: `systemctl --user enable --now podman.socket`, for root `systemctl enable --now podman.socket`, "
            "or `podman system service`"
        )
    if "not found" in lowered and "podman" in lowered:
        return "podman must be installed on the remote host for `podman system dial-stdio`"
    if "unrecognized command" in lowered and "dial-stdio" in lowered:
        return (
            "the podman on the remote host has no `system dial-stdio` (too old for it: upgrade podman there)"
        )
    return None
