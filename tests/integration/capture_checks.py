"""Checks shared by the Docker and Podman capture tests: requests flowing to a target while a capture runs, and
a pcap file proven valid by the host's own tcpdump and by the summary debugbox printed."""

from __future__ import annotations

import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from debugbox.core.targets.capture import summarize_pcap

PCAP_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")


@contextmanager
def requests_to(url: str) -> Iterator[list[int]]:
    """Requests to `url` in a loop until the block ends; yields the list of answered requests' statuses."""
    answered: list[int] = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    resp.read()
                    answered.append(resp.status)
            except OSError:
                pass
            stop.wait(0.2)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield answered
    finally:
        stop.set()
        thread.join(timeout=10)


def host_reads(tcpdump: str, pcap: Path) -> list[str]:
    """The packets the host's tcpdump reads from `pcap` (one line each); fails when it cannot read the file."""
    proc = subprocess.run(
        [tcpdump, "-n", "-r", str(pcap)], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def assert_valid_capture(pcap: Path, stderr: str, tcpdump: str) -> int:
    data = pcap.read_bytes()
    assert data[:4] in PCAP_MAGICS, data[:24]
    summary = summarize_pcap(data)
    assert not summary.truncated
    packets = host_reads(tcpdump, pcap)
    assert len(packets) == summary.packets > 0
    # The target's own traffic: its HTTP port, seen from inside its network namespace.
    assert any(".8080" in line for line in packets), packets[:5]
    assert f"debugbox: {summary.packets} packet(s)" in stderr, stderr
    assert "Traceback" not in stderr
    return summary.packets


def capture_while_requested(
    ref: str, url: str, out: Path, toolbox: str, *, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], list[int]]:
    """`debugbox capture REF` of `tcp port 8080` for 6 s into `out` while `url` is requested in a loop: its
    result, and the statuses of the requests answered meanwhile."""
    argv = [sys.executable, "-m", "debugbox", "capture", ref, "--duration", "6", "-o", str(out)]
    with requests_to(url) as answered:
        proc = subprocess.run(
            [*argv, "--filter", "tcp port 8080", "--image", toolbox],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
            env=env,
        )
    return proc, answered
