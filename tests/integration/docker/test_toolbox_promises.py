"""The seed's promises on a real Docker engine, with a real toolbox built from Debian's packages
(tests/integration/toolbox_debs.py): from a debugbox session next to a distroless-like target, `ps` sees its
process, `strace -p` prints its syscalls while it serves a request, `tcpdump -i any` captures that request,
`curl localhost:8080` answers, and the session starts in the target's working directory with `/target` holding its
files. For a root target and a USER 65532 one; the non-root target's default session (its UID, no capability)
cannot strace, and says so.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import require
from tests.integration.docker.engine import DISTROLESS, NONROOT, Containers
from tests.integration.toolbox_debs import PROMISES, check_promises, ensure_toolbox

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def debian_toolbox(images: None) -> str:
    try:
        return ensure_toolbox(("docker",))
    except (subprocess.CalledProcessError, OSError) as exc:
        require(False, f"the Debian toolbox could not be built (scripts/download-toolbox-debs.sh): {exc}")
        raise


def session(
    target: str, toolbox: str, *extra: str, command: str = PROMISES
) -> subprocess.CompletedProcess[str]:
    argv = [
        sys.executable,
        "-m",
        "debugbox",
        "shell",
        target,
        "--image",
        toolbox,
        *extra,
        "--",
        "sh",
        "-c",
        command,
    ]
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=180, check=False, stdin=subprocess.DEVNULL
    )


@pytest.mark.parametrize(("image", "extra"), [(DISTROLESS, ()), (NONROOT, ("--ptrace",))])
def test_strace_tcpdump_curl_and_ps_work_from_the_session(
    containers: Containers, debian_toolbox: str, image: str, extra: tuple[str, ...]
) -> None:
    target = containers.run(image, options=("--workdir", "/www"))

    proc = session(target, debian_toolbox, *extra)

    assert proc.returncode == 0, proc.stderr
    check_promises(proc.stdout, f"hello from {image.split(':')[0]}", "/target/www")
    tools = proc.stderr.split("tools", 1)[1].splitlines()[0].split()
    assert {"strace", "tcpdump", "curl", "ps"} <= set(tools)


def test_a_nonroot_targets_default_session_cannot_strace_and_says_so(
    containers: Containers, debian_toolbox: str
) -> None:
    target = containers.run(NONROOT)

    proc = session(target, debian_toolbox, command='strace -p "$TARGET_PID" -e trace=none & sleep 1; kill $!')

    assert "Operation not permitted" in proc.stderr
    assert "strace needs a root session (--ptrace)" in proc.stderr  # the banner said it before it was tried
