"""`debugbox lsp --tcp`: loopback only unless `--allow-remote`, and it says where it listens.

The real console script is started; where it listens is read from the kernel (`/proc/net/tcp`), and a real
`initialize` over the socket shows it serves there."""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli.test_cli_manifest import debugbox_exe

LISTEN = "0A"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def listeners(port: int) -> set[str]:
    """Local IPv4 addresses (hex, as the kernel prints them) listening on `port`."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        address, port_hex = fields[1].split(":")
        if fields[3] == LISTEN and int(port_hex, 16) == port:
            found.add(address)
    return found


def initialize(port: int) -> dict[str, object]:
    """Send `initialize` and return its response (skipping the server's notifications)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(b"Content-Length: %d\r\n\r\n%s" % (len(body), body.encode()))
        data = b""
        while True:
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, data = data.partition(b"\r\n\r\n")
            headers = dict(h.split(b":", 1) for h in head.split(b"\r\n"))
            length = int(headers[b"Content-Length"])
            while len(data) < length:
                data += conn.recv(65536)
            message: dict[str, object] = json.loads(data[:length])
            data = data[length:]
            if message.get("id") == 1:
                return message


@pytest.mark.parametrize("spec", ["{port}", "127.0.0.1:{port}", "localhost:{port}"])
def test_tcp_listens_on_loopback_and_says_so(spec: str) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [*debugbox_exe(), "lsp", "--tcp", spec.format(port=port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if not k.startswith("DEBUGBOX_")},
    )
    try:
        assert proc.stderr is not None
        ready, _, _ = select.select([proc.stderr], [], [], 30)
        assert ready, "nothing said on stderr about where it listens"
        said = proc.stderr.readline().decode()
        assert f"listening on 127.0.0.1:{port} (loopback only)" in said, said
        for _ in range(300):
            if listeners(port):
                break
            time.sleep(0.05)
        assert listeners(port) == {"0100007F"}  # 127.0.0.1, and nothing else
        assert "result" in initialize(port)
    finally:
        proc.kill()
        proc.wait()


def refused(spec: str) -> subprocess.CompletedProcess[str]:
    """`debugbox lsp --tcp SPEC` run to its end (it is expected to refuse)."""
    return subprocess.run(
        [*debugbox_exe(), "lsp", "--tcp", spec],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1", "example.com"])
def test_a_remote_host_needs_allow_remote(host: str) -> None:
    result = refused(f"{host}:{free_port()}")
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert "not a loopback address" in line and "--allow-remote" in line


def test_a_port_in_use_is_one_sentence_without_claiming_to_listen() -> None:
    # It printed "listening on 127.0.0.1:PORT", then asyncio's OSError as a traceback.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = refused(f"127.0.0.1:{port}")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"debugbox: cannot listen on 127.0.0.1:{port}: Address already in use; pick another port"
    ]
