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
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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


@dataclass
class Running:
    proc: subprocess.Popen[str]
    err: str = ""
    """What it wrote to stderr after its first line, once it ended."""


@contextmanager
def capturing(name: str, out: Path, toolbox: str) -> Iterator[Running]:
    """`debugbox capture NAME -o OUT` while the target is requested, from the moment packets are in the file;
    Ctrl-C when the block ends if it still runs. Its own session: the Ctrl-C reaches only debugbox (not the
    docker CLI it started), as with `kill -INT`; a terminal's Ctrl-C, which reaches the whole group, is the
    easier case."""
    argv = [sys.executable, "-m", "debugbox", "capture", name, "-o", str(out), "--image", toolbox]
    with requests_to(f"http://{address_of(name)}:8080/"):
        proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, start_new_session=True)
        running = Running(proc)
        assert proc.stderr is not None
        try:
            assert "Ctrl-C stops" in proc.stderr.readline()
            deadline = time.monotonic() + 120
            while out.stat().st_size <= 24 and time.monotonic() < deadline:  # packets are being written
                time.sleep(0.2)
            assert out.stat().st_size > 24
            yield running
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGINT)
            running.err = (
                proc.stderr.read()
            )  # the stream that read the first line: nothing it buffered is lost
            proc.wait(timeout=120)


def test_ctrl_c_stops_the_capture_and_still_writes_a_valid_file(
    containers: Containers, debian_toolbox: str, host_tcpdump: str, tmp_path: Path
) -> None:
    name = containers.run(DISTROLESS)
    out = tmp_path / "interrupted.pcap"
    with capturing(name, out, debian_toolbox) as run:
        pass
    assert run.proc.returncode == 0, run.err
    assert_valid_capture(out, run.err, host_tcpdump)
    assert helpers_of(name) == ""


def test_a_stop_before_the_helper_exists_still_stops_it(
    containers: Containers, debian_toolbox: str, tmp_path: Path
) -> None:
    """Closing the capture's terminal (SIGHUP) or clicking Stop Capture right after the start, before the engine
    created the helper (a pull makes that window long): `docker stop` found no container, the helper then started
    and captured on, the CLI waited for it forever and ignored every later stop. Now the stop is asked again
    until the helper's run has ended, and nothing is left on the engine."""
    from debugbox.core.settings import Settings
    from debugbox.edge.capture import Capture
    from debugbox.edge.service import resolve_engine_container

    name = containers.run(DISTROLESS)
    backend, _ = resolve_engine_container(Settings(), name, "capture")
    capture = Capture(
        backend.cli, container_id(name), debian_toolbox, tmp_path / "early.pcap", engine=backend.client
    )
    capture.start()
    capture.stop()  # at once: the `docker run` has not created the helper yet
    ended: list[object] = []
    waiter = threading.Thread(target=lambda: ended.append(capture.wait()), daemon=True)
    waiter.start()
    waiter.join(90)
    try:
        assert ended, "the capture ran on after its stop"
        assert helpers_of(name) == ""
    finally:
        for helper in helpers_of(name).split():
            docker("rm", "-f", helper)


def test_a_target_that_stops_ends_the_capture_and_keeps_a_valid_file(
    containers: Containers, debian_toolbox: str, host_tcpdump: str, tmp_path: Path
) -> None:
    # The helper keeps the target's network namespace alive: the capture used to run on, empty, until Ctrl-C.
    name = containers.run(DISTROLESS)
    out = tmp_path / "stopped.pcap"
    with capturing(name, out, debian_toolbox) as run:
        docker("stop", "-t", "1", name)
        run.proc.wait(timeout=60)  # it ends by itself: no signal is sent to it
    assert run.proc.returncode == 0, run.err
    assert f"debugbox: {name} stopped, which ended the capture" in run.err, run.err
    assert_valid_capture(out, run.err, host_tcpdump)
    assert helpers_of(name) == ""


def test_a_bad_filter_or_output_is_one_sentence_and_leaves_no_file_and_no_helper(
    containers: Containers, debian_toolbox: str, tmp_path: Path
) -> None:
    name = containers.run(DISTROLESS)
    base = [sys.executable, "-m", "debugbox", "capture", name, "--duration", "5", "--image", debian_toolbox]

    def capture(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *args], capture_output=True, text=True, timeout=120, check=False)

    # tcpdump's refusal, without its start-up noise; the empty file it would have written is not left behind
    # (a second try was refused: "exists, pass --force").
    bad = capture("--filter", "tcp portt 80", "-o", str(tmp_path / "bad.pcap"))
    assert bad.returncode == 1, bad.stderr
    assert "the capture failed: tcpdump: can't parse filter expression: syntax error" in bad.stderr
    assert "data link type" not in bad.stderr
    assert not (tmp_path / "bad.pcap").exists()
    # Output paths that cannot be written: one sentence each (they were tracebacks).
    missing = capture("-o", str(tmp_path / "no" / "such" / "x.pcap"))
    assert (
        missing.returncode == 1 and f"{tmp_path / 'no' / 'such'} is not an existing folder" in missing.stderr
    )
    folder = capture("-o", str(tmp_path), "--force")
    assert folder.returncode == 1 and f"{tmp_path} is a folder: name a file for the capture" in folder.stderr
    # A toolbox without tcpdump (busybox): said as such, with what to do, not docker's "Run 'docker run --help'"
    # epilogue, which was all the message held.
    no_tcpdump = capture("-o", str(tmp_path / "x.pcap"), "--image", TOOLBOX)
    assert no_tcpdump.returncode == 1, no_tcpdump.stderr
    assert (
        f"the toolbox image {TOOLBOX} has no tcpdump" in no_tcpdump.stderr and "--image" in no_tcpdump.stderr
    )
    assert "docker run --help" not in no_tcpdump.stderr and not (tmp_path / "x.pcap").exists()
    for result in (bad, missing, folder, no_tcpdump):
        assert "Traceback" not in result.stderr
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
