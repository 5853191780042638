"""`debugbox toolbox build` on a real Docker engine: a toolbox from this machine's static busybox and named host
tools, usable at once as a session's toolbox; and its refusals, one sentence each.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import ROOT, require
from tests.integration.docker.engine import DISTROLESS, Containers, docker

pytestmark = pytest.mark.docker


def debugbox(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "debugbox", *args],
        capture_output=True, text=True, timeout=300, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.fixture
def tag(images: None) -> Iterator[str]:
    name = f"debugbox-test/toolbox-build:{uuid.uuid4().hex[:10]}"
    try:
        yield name
    finally:
        docker("rmi", name, check=False)


def test_a_built_toolbox_brings_busybox_and_the_named_host_tool_into_a_session(
    containers: Containers, tag: str
) -> None:
    require(shutil.which("strace") is not None, "strace is needed on this machine (apt-get install strace)")
    target = containers.run(DISTROLESS, options=("--workdir", "/www"))

    built = debugbox("toolbox", "build", "--tool", "strace", "--tag", tag)
    session = debugbox(
        "shell", target, "--image", tag, "--", "sh", "-c", "strace -V; pwd; wget -qO- localhost:8080"
    )

    assert built.returncode == 0, built.stderr
    assert built.stdout.startswith(f"debugbox: built {tag} (busybox + strace) in ")
    assert (
        docker("image", "inspect", "-f", '{{index .Config.Labels "io.debugbox.toolbox"}}', tag).strip()
        == "local"
    )
    assert session.returncode == 0, session.stderr
    lines = session.stdout.splitlines()
    assert lines[0].startswith("strace -- version") and "/target/www" in lines
    assert lines[-1] == "hello from distroless-app"
    assert "is not on this docker engine" not in session.stderr  # it is: no pull warning


def test_building_refuses_with_one_sentence(images: None) -> None:
    missing = debugbox("toolbox", "build", "--tool", "no-such-tool-dbx", "--tag", "debugbox-test/never:x")
    dynamic = debugbox("toolbox", "build", "--busybox", sys.executable, "--tag", "debugbox-test/never:x")

    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        "debugbox: the toolbox could not be built: no tool named 'no-such-tool-dbx' on this machine's PATH"
    )
    assert dynamic.returncode == 1 and "is not a static binary" in dynamic.stderr
    assert "Traceback" not in missing.stderr + dynamic.stderr
    # A --busybox that is no file was "no busybox here: install a static one", as if none had been named.
    for path, what in (
        (str(ROOT), "a folder"),
        ("/nonexistent/busybox", "missing"),
        ("/dev/null", "not a file"),
    ):
        named = debugbox("toolbox", "build", "--busybox", path, "--tag", "debugbox-test/never:x")
        assert named.returncode == 1
        assert named.stderr.strip().endswith(f"--busybox {path} is {what}: name a static busybox binary")
    assert docker("images", "-q", "debugbox-test/never").strip() == ""
