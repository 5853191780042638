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
from pathlib import Path

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


def _yama_scope() -> int:
    try:
        return int(Path("/proc/sys/kernel/yama/ptrace_scope").read_text().strip())
    except (OSError, ValueError):
        return 0  # no Yama: the kernel's own check (same uid and gid) decides


def test_a_nonroot_targets_default_session_straces_it_as_the_hosts_ptrace_policy_allows(
    containers: Containers, debian_toolbox: str
) -> None:
    """Same uid *and* gid, no capability: the kernel's ptrace check passes, so `strace -p` attaches unless the
    host's Yama ptrace_scope (>= 1) refuses a non-descendant. (With the toolbox's GID 65532 against the target's
    0 it failed on every host: that was the GID bug, not the policy.) The banner says both cases."""
    target = containers.run(NONROOT)

    proc = session(target, debian_toolbox, command='strace -p "$TARGET_PID" -e trace=none & sleep 1; kill $!')

    assert (
        "allows a same-user attach (no Yama or ptrace_scope 0), else a root session (--ptrace)" in proc.stderr
    )
    if _yama_scope() == 0:
        assert "Process 1 attached" in proc.stderr, proc.stderr
    else:
        assert "Operation not permitted" in proc.stderr, proc.stderr


@pytest.mark.parametrize("user", ["65532", "65532:0"])
def test_a_target_run_as_a_bare_uid_gets_a_session_with_its_real_gid(
    containers: Containers, debian_toolbox: str, user: str
) -> None:
    """`--user 65532` on an image without a user database runs with GID 0; the Debian toolbox's own /etc/passwd
    would give a sidecar run as `--user=65532` GID 65532, and the kernel refuses /proc/<pid>/environ and /root
    across GIDs. The engine's process list gives the real GID: the session reads the target's environment and
    files, and the banner does not blame ptrace."""
    target = containers.run(
        DISTROLESS, options=("--user", user, "--workdir", "/www", "--env", "DBX_GID_PROBE=from-the-target")
    )

    proc = session(target, debian_toolbox, command='id -u; id -g; echo "$DBX_GID_PROBE"; pwd; ls /target/www')

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[:4] == ["65532", "0", "from-the-target", "/target/www"], proc.stdout
    assert "index.html" in proc.stdout.split()[4:]
    assert "target uid 65532 gid 0; this session uid 65532 gid 0" in proc.stderr
    assert "uid 65532 gid 0 like the target's main process" in proc.stderr
    assert "reopen with --ptrace" not in proc.stderr
    assert "note" not in proc.stderr and "not readable" not in proc.stderr, proc.stderr
