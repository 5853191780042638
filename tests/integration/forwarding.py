"""`debugbox forward` run as a user runs it, shared by the Docker and Podman transfer tests: started on a free
local port, its first line read (where it listens, which helper it started), and stopped with Ctrl-C (SIGINT)
when the block ends, with what it said on the way out."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.integration.docker.remote_engine import free_port


@dataclass
class Forward:
    local: int
    """The local port it listens on (127.0.0.1)."""
    helper: str = ""
    """The helper container's name, from its first line."""
    err: str = ""
    """Everything it wrote to stderr after the first line, once stopped."""
    returncode: int | None = None
    proc: subprocess.Popen[str] | None = None

    def wait(self, timeout: float) -> None:
        """Wait for it to end by itself (the target stopped)."""
        assert self.proc is not None
        self.proc.wait(timeout=timeout)


@contextmanager
def forwarding(ref: str, port: int, toolbox: str, *, env: dict[str, str] | None = None) -> Iterator[Forward]:
    """`debugbox forward REF PORT --local FREE --image TOOLBOX`, running for the block."""
    forward = Forward(free_port())
    argv = [sys.executable, "-m", "debugbox", "forward", ref, str(port), "--local", str(forward.local)]
    proc = subprocess.Popen([*argv, "--image", toolbox], stderr=subprocess.PIPE, text=True, env=env)
    forward.proc = proc
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert f"forwarding 127.0.0.1:{forward.local} →" in line, line
        forward.helper = line.split("(helper ")[1].split(")")[0]
        yield forward
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        # Read through the same buffered stream as the first line (`communicate` with a timeout reads the pipe
        # itself, and would lose what that stream had buffered past the first line).
        assert proc.stderr is not None
        forward.err = proc.stderr.read()
        proc.wait(timeout=60)
        forward.returncode = proc.returncode
