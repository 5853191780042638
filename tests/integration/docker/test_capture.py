# ruff: noqa: F811 - the fixture `debian_toolbox` is imported from test_toolbox_promises and named as a parameter
"""`debugbox capture` on a real Docker engine against the distroless-like target (no shell, no tcpdump inside),
with the real toolbox built from Debian's packages (tests/integration/toolbox_debs.py): while requests flow to
the target, the pcap written is one the host's own `tcpdump -r` reads, the summary counts what is in the file,
Ctrl-C stops the capture and still leaves a valid file, and no helper container is left.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from debugbox.core.targets.capture import CAPTURE_LABEL

from tests.conftest import require
from tests.integration.capture_checks import assert_valid_capture, capture_while_requested, requests_to
from tests.integration.docker.engine import DISTROLESS, TOOLBOX, Containers, container_id, docker
from tests.integration.docker.test_toolbox_promises import debian_toolbox  # noqa: F401 - a fixture

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def host_tcpdump() -> str:
    found = shutil.which("tcpdump")
    require(
        found is not None, "tcpdump is not installed on this machine (scripts/setup-system.sh installs it)"
    )
    assert found is not None
    return found


def address_of(name: str) -> str:
    return docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name).strip()


def helpers_of(name: str) -> str:
    return docker("ps", "-aq", "--filter", f"label={CAPTURE_LABEL}={container_id(name)}").strip()


def test_a_capture_of_requests_to_a_distroless_target_is_a_pcap_the_hosts_tcpdump_reads(
    containers: Containers, debian_toolbox: str, host_tcpdump: str, tmp_path: Path
) -> None:
    name = containers.run(DISTROLESS)
    ip = address_of(name)
    out = tmp_path / "web.pcap"
    proc, answered = capture_while_requested(name, f"http://{ip}:8080/", out, debian_toolbox)
    assert proc.returncode == 0, proc.stderr
    assert answered, "no request reached the target while the capture ran"
    assert_valid_capture(out, proc.stderr, host_tcpdump)
    assert helpers_of(name) == ""
    # The file is never replaced without --force, and the refusal says how.
    argv = [sys.executable, "-m", "debugbox", "capture", name, "--duration", "6", "-o", str(out)]
    again = subprocess.run([*argv, "--image", debian_toolbox], capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "--force" in again.stderr, again.stderr
    assert helpers_of(name) == ""


def test_ctrl_c_stops_the_capture_and_still_writes_a_valid_file(
    containers: Containers, debian_toolbox: str, host_tcpdump: str, tmp_path: Path
) -> None:
    name = containers.run(DISTROLESS)
    ip = address_of(name)
    out = tmp_path / "interrupted.pcap"
    with requests_to(f"http://{ip}:8080/"):
        # Its own session: the Ctrl-C below reaches only debugbox (not the docker CLI it started), as with
        # `kill -INT`; a terminal's Ctrl-C, which reaches the whole group, is the easier case.
        proc = subprocess.Popen(
            [sys.executable, "-m", "debugbox", "capture", name, "-o", str(out), "--image", debian_toolbox],
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            assert proc.stderr is not None
            assert "Ctrl-C stops" in proc.stderr.readline()
            deadline = time.monotonic() + 120
            while out.stat().st_size <= 24 and time.monotonic() < deadline:  # packets are being written
                time.sleep(0.2)
            assert out.stat().st_size > 24
        finally:
            os.kill(proc.pid, signal.SIGINT)
            _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert_valid_capture(out, err, host_tcpdump)
    assert helpers_of(name) == ""


def capture(name: str, out: str, *more: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "debugbox", "capture", name, "--duration", "3", "-o", out, *more]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize(
    ("output", "force", "said"),
    [
        ("folder", False, "is a folder: name a file for the capture"),
        ("folder", True, "is a folder: name a file for the capture"),
        ("no-such-folder/web.pcap", False, "is not an existing folder"),
        ("a-file/web.pcap", False, "is not an existing folder"),
        ("/proc/web.pcap", False, "cannot write /proc/web.pcap"),
    ],
)
def test_an_output_that_cannot_be_written_is_one_sentence_and_starts_no_helper(
    containers: Containers, tmp_path: Path, output: str, force: bool, said: str
) -> None:
    # These were tracebacks (IsADirectoryError, FileNotFoundError, OSError from the open), and a folder was
    # "exists: pass --force", which then gave the traceback.
    name = containers.run(DISTROLESS)
    (tmp_path / "folder").mkdir()
    (tmp_path / "a-file").write_text("")
    proc = capture(name, str(tmp_path / output), "--image", TOOLBOX, *(["--force"] if force else []))
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("debugbox: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert said in proc.stderr
    assert helpers_of(name) == ""


def test_a_toolbox_without_tcpdump_is_named_and_leaves_no_empty_file(
    containers: Containers, tmp_path: Path
) -> None:
    # The reason was hidden: "the capture failed:  Run 'docker run --help' for more information", and the empty
    # pcap left behind made the next try, with a toolbox that has tcpdump, ask for --force.
    name = containers.run(DISTROLESS)
    out = tmp_path / "web.pcap"
    proc = capture(name, str(out), "--image", TOOLBOX)
    assert proc.returncode == 1, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"debugbox: the toolbox image {TOOLBOX} has no tcpdump"), proc.stderr
    assert "--image" in last
    assert not out.exists()
    assert helpers_of(name) == ""


def test_a_target_not_running_is_named_with_what_to_do(containers: Containers, tmp_path: Path) -> None:
    # capture said only "web is paused, not running", forward "… not running: nothing listens": why, not what to do.
    paused = containers.run(DISTROLESS)
    docker("pause", paused)
    created = containers.run(DISTROLESS, create_only=True)
    try:
        wakes = {
            paused: f"unpause it first (docker unpause {paused})",
            created: f"start it first (docker start {created})",
        }
        for name, wake in wakes.items():
            for argv in (["capture", name, "-o", str(tmp_path / "x.pcap")], ["forward", name, "8080"]):
                proc = subprocess.run(
                    [sys.executable, "-m", "debugbox", *argv],
                    capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                )  # fmt: skip
                assert proc.returncode == 1, proc.stderr
                (line,) = proc.stderr.splitlines()
                assert line.endswith(wake) and ", not running" in line, line
    finally:
        docker("unpause", paused, check=False)
