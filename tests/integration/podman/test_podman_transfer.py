# ruff: noqa: F811 - the fixture `podman_debian_toolbox` is imported from test_podman_live and named as a parameter
"""`debugbox cp`, `forward` and `capture` on a real Podman (its Docker-compatible service): a binary file with a
non-ASCII name round-trips through the distroless-like target, its loopback-only port is forwarded, and a capture
of its traffic is a valid pcap, with the helpers removed afterwards; each also for a target in a user namespace
of its own (`--uidmap`), whose namespaces the helpers join from the host's."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest
from debugbox.core.targets.capture import CAPTURE_LABEL

from tests.conftest import require
from tests.integration.capture_checks import assert_valid_capture, capture_while_requested
from tests.integration.forwarding import forwarding
from tests.integration.podman.test_podman_live import (  # noqa: F401 - a fixture
    DISTROLESS,
    OWN_USERNS,
    TOOLBOX,
    _env,
    podman,
    podman_debian_toolbox,
)

pytestmark = pytest.mark.podman

#: Each test's target: the host's user namespace, or one of its own.
USERNS = pytest.mark.parametrize("userns", [(), OWN_USERNS], ids=["host-userns", "own-userns"])


def debugbox(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "debugbox", *args], capture_output=True, text=True, timeout=180, env=_env()
    )


@USERNS
def test_a_binary_file_with_a_non_ascii_name_round_trips(
    started: list[str], tmp_path: Path, userns: tuple[str, ...]
) -> None:
    name = f"dbx-{uuid.uuid4().hex[:10]}"
    started.append(name)
    podman("run", "-d", "--name", name, *userns, DISTROLESS)
    src = tmp_path / "ünïcode name.bin"
    src.write_bytes(os.urandom(3 * 1024 * 1024 + 7))
    sent = debugbox("cp", str(src), f"podman://{name}:/www")
    assert sent.returncode == 0, sent.stderr
    back = tmp_path / "back"
    got = debugbox("cp", f"podman://{name}:/www/{src.name}", str(back))
    assert got.returncode == 0, got.stderr
    assert back.read_bytes() == src.read_bytes()


@USERNS
# Podman's namespaces have an IPv6 loopback: an app bound to `[::1]` only (Node's `localhost`) got empty replies.
@pytest.mark.parametrize("loopback", ["127.0.0.1", "[::1]"], ids=["ipv4", "ipv6"])
def test_a_loopback_only_port_is_forwarded_and_the_helper_removed(
    started: list[str], userns: tuple[str, ...], loopback: str
) -> None:
    name = f"dbx-{uuid.uuid4().hex[:10]}"
    started.append(name)
    podman(
        "run",
        "-d",
        "--name",
        name,
        *userns,
        "--entrypoint",
        "/httpd",
        DISTROLESS,
        "-f",
        "-p",
        f"{loopback}:9090",
        "-h",
        "/www",
    )
    forward = None
    try:
        with forwarding(f"podman://{name}", 9090, TOOLBOX, env=_env()) as forward:
            with urllib.request.urlopen(f"http://127.0.0.1:{forward.local}/", timeout=30) as resp:
                assert resp.read() == b"hello from distroless-app\n"
    finally:
        if forward is not None and forward.helper:
            started.append(forward.helper)  # removed by the fixture should the product have failed to
    helper, err = forward.helper, forward.err
    assert forward.returncode == 0, err
    assert "helper removed" in err
    assert not podman("ps", "-aq", "--filter", f"name={helper}").strip()


@USERNS
def test_a_capture_of_requests_to_a_distroless_podman_target_is_a_valid_pcap(
    started: list[str], podman_debian_toolbox: str, tmp_path: Path, userns: tuple[str, ...]
) -> None:
    """`debugbox capture` on Podman, with the toolbox built from Debian's packages: the host's tcpdump reads the
    file, the summary counts it, and the helper is gone."""
    tcpdump = shutil.which("tcpdump")
    require(
        tcpdump is not None, "tcpdump is not installed on this machine (scripts/setup-system.sh installs it)"
    )
    assert tcpdump is not None
    name = f"dbx-{uuid.uuid4().hex[:10]}"
    started.append(name)
    podman("run", "-d", "--name", name, *userns, DISTROLESS)
    ip = podman("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name).strip()
    out = tmp_path / "podman web.pcap"
    proc, answered = capture_while_requested(
        f"podman://{name}", f"http://{ip}:8080/", out, podman_debian_toolbox, env=_env()
    )
    assert proc.returncode == 0, proc.stderr
    assert answered, "no request reached the target while the capture ran"
    assert_valid_capture(out, proc.stderr, tcpdump)
    cid = podman("inspect", "-f", "{{.Id}}", name).strip()
    assert not podman("ps", "-aq", "--filter", f"label={CAPTURE_LABEL}={cid}").strip()


def test_the_file_view_reads_a_distroless_podman_target(started: list[str], tmp_path: Path) -> None:
    """Podman's Docker-compatible archive API serves the file view too: stat, a listing from tar headers only,
    a binary file with a non-ASCII name; nothing is exec'd in the target. (Podman's stat header is URL-safe
    base64: this name's stat read as standard base64 said the file did not exist.)"""
    from debugbox.core.settings import Settings
    from debugbox.edge import file_view
    from debugbox.edge.service import resolve_engine_container

    name = f"dbx-{uuid.uuid4().hex[:10]}"
    started.append(name)
    podman("run", "-d", "--name", name, DISTROLESS)
    src = tmp_path / "dir with space"
    src.mkdir()
    data = os.urandom(50_000) + b"\x00\xff"
    (src / "ünï.bin").write_bytes(data)
    podman("cp", str(src), f"{name}:/")
    backend, found = resolve_engine_container(Settings(), f"podman://{name}", "the file view")
    cid = str(found.extra.get("container_id") or found.name)
    root = file_view.read_directory(backend.client, cid, "/")
    kinds = {e.name: e.kind for e in root.entries}
    assert kinds["www"] == "directory" and kinds["dir with space"] == "directory" and not root.truncated
    entry, _ = file_view.stat(backend.client, cid, "/dir with space/ünï.bin")
    assert entry.kind == "file" and entry.size == len(data) and entry.name == "ünï.bin"
    back = tmp_path / "back.bin"  # `debugbox cp` stats the path first: the same header
    got = debugbox("cp", f"podman://{name}:/dir with space/ünï.bin", str(back))
    assert got.returncode == 0, got.stderr
    assert back.read_bytes() == data
    assert file_view.read_file(backend.client, cid, "/dir with space/ünï.bin") == data
    assert podman("events", "--stream=false", "--filter", f"container={name}", "--filter", "event=exec") == ""
