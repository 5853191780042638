"""`debugbox cp` and `debugbox forward` on a real Podman (its Docker-compatible service): a binary file with a
non-ASCII name round-trips through the distroless-like target, and its loopback-only port is forwarded, with
the helper removed afterwards."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.integration.podman.test_podman_live import DISTROLESS, TOOLBOX, _env, podman

pytestmark = pytest.mark.podman


def debugbox(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "debugbox", *args], capture_output=True, text=True, timeout=180, env=_env()
    )


def test_a_binary_file_with_a_non_ascii_name_round_trips(started: list[str], tmp_path: Path) -> None:
    name = f"dbx-{uuid.uuid4().hex[:10]}"
    started.append(name)
    podman("run", "-d", "--name", name, DISTROLESS)
    src = tmp_path / "ünïcode name.bin"
    src.write_bytes(os.urandom(3 * 1024 * 1024 + 7))
    sent = debugbox("cp", str(src), f"podman://{name}:/www")
    assert sent.returncode == 0, sent.stderr
    back = tmp_path / "back"
    got = debugbox("cp", f"podman://{name}:/www/{src.name}", str(back))
    assert got.returncode == 0, got.stderr
    assert back.read_bytes() == src.read_bytes()


def test_a_loopback_only_port_is_forwarded_and_the_helper_removed(started: list[str]) -> None:
    name = f"dbx-{uuid.uuid4().hex[:10]}"
    started.append(name)
    podman(
        "run",
        "-d",
        "--name",
        name,
        "--entrypoint",
        "/httpd",
        DISTROLESS,
        "-f",
        "-p",
        "127.0.0.1:9090",
        "-h",
        "/www",
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        local = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "debugbox",
            "forward",
            f"podman://{name}",
            "9090",
            "--local",
            str(local),
            "--image",
            TOOLBOX,
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    helper = ""
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert f"forwarding 127.0.0.1:{local} →" in line, line
        helper = line.split("(helper ")[1].split(")")[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{local}/", timeout=30) as resp:
            assert resp.read() == b"hello from distroless-app\n"
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        if helper:
            started.append(helper)  # removed by the fixture should the product have failed to
    assert proc.returncode == 0, err
    assert "helper removed" in err
    assert not podman("ps", "-aq", "--filter", f"name={helper}").strip()
