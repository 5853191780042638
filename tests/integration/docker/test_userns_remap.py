# ruff: noqa: F811 - the fixture `debian_toolbox` is imported from test_toolbox_promises and named as a parameter
"""Docker with `--userns-remap`, on a real second daemon: every container of that daemon runs in one user
namespace whose root is the `dockremap` range's first host uid (100000 for the range dockerd makes itself), so
its `top` (a `ps` on the host) shows a 65532 target as 165532.

The daemon (`SecondEngine(userns_remap=True)`: its own data and exec roots, pid file, unix socket and bridge,
vfs, no iptables) is started once for this module, the test images and the Debian toolbox are copied in with
`docker save | load`, and it is stopped and its data removed at the end. debugbox reaches it through
`DOCKER_HOST=unix://…`, as a user's shell would: sessions (the real CLI) into a root and a 65532 target, the
seed's promises from the Debian toolbox, `cp` both ways, `forward` and `capture`.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from debugbox.core.settings import Settings
from debugbox.core.targets.capture import CAPTURE_LABEL
from debugbox.core.targets.process_identity import may_remap, remapped_root
from debugbox.edge import service

from tests.conftest import require
from tests.integration.capture_checks import assert_valid_capture, capture_while_requested
from tests.integration.docker.engine import DISTROLESS, NONROOT, TOOLBOX
from tests.integration.docker.remote_engine import SecondEngine
from tests.integration.docker.test_toolbox_promises import debian_toolbox, session  # noqa: F401 - a fixture
from tests.integration.docker.test_transfer import debugbox
from tests.integration.forwarding import forwarding
from tests.integration.toolbox_debs import PROMISES, check_promises

pytestmark = pytest.mark.docker

#: Per target: its image, the uid it runs as inside, and that uid as the host sees it (the remap adds 100000).
TARGETS = pytest.mark.parametrize(
    ("image", "uid"), [(DISTROLESS, "0"), (NONROOT, "65532")], ids=["root", "nonroot"]
)


@pytest.fixture(scope="module")
def remapped(images: None, debian_toolbox: str) -> Iterator[SecondEngine]:
    """A second dockerd with `--userns-remap=default`; stopped, with its data removed, after the module."""
    require(
        shutil.which("dockerd") is not None, "dockerd is not installed (scripts/setup-system.sh installs it)"
    )
    require(shutil.which("ip") is not None, "iproute2's `ip` is needed to give the second dockerd its bridge")
    # Not under pytest's own temporary folder (mode 0700 for root): the remapped root (uid 100000) must reach
    # the data root, and dockerd refuses to start when a folder above it lacks o+x.
    folder = Path(tempfile.mkdtemp(prefix="dbx-userns-"))
    folder.chmod(0o711)
    started = time.monotonic()
    try:
        engine = SecondEngine(
            folder / "e", None, (TOOLBOX, DISTROLESS, NONROOT, debian_toolbox), userns_remap=True
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    print(f"userns-remap dockerd up with its images in {time.monotonic() - started:.1f} s")  # the CI cost
    try:
        yield engine
    finally:
        engine.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def on_remapped(remapped: SecondEngine, monkeypatch: pytest.MonkeyPatch) -> SecondEngine:
    """The remapped engine as debugbox's engine for this test (`DOCKER_HOST`, inherited by the CLI it runs)."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{remapped.socket}")
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    return remapped


def _docker(engine: SecondEngine, *args: str) -> str:
    out = engine.docker(*args)
    assert out is not None
    return out


def test_the_second_daemon_really_remaps_and_docker_host_reaches_it(on_remapped: SecondEngine) -> None:
    """The premise of every test below: the daemon says `name=userns`, the host sees the target's root as
    dockremap's first uid, and debugbox's listing (through `DOCKER_HOST`) is that daemon's, not the main one's."""
    name = on_remapped.run(DISTROLESS)
    info = json.loads(_docker(on_remapped, "info", "--format", "{{json .}}"))
    top = _docker(on_remapped, "top", name, "-o", "pid,uid").split()
    subuid = Path("/etc/subuid").read_text().splitlines()

    listing = service.list_targets(Settings(), runtimes=["docker"])

    assert "name=userns" in info["SecurityOptions"]
    start = next(int(line.split(":")[1]) for line in subuid if line.startswith("dockremap:"))
    assert info["DockerRootDir"].endswith(f"/{start}.{start}")  # the subuid range dockerd made for itself
    assert top[3:] == [str(start)]  # the target's root (its only process) is that uid on the host
    assert [t.name for t in listing.targets] == [name], listing.errors
    # The container's own paths leave the remap possible, so debugbox asks `GET /info`, which confirms it.
    inspect = json.loads(_docker(on_remapped, "inspect", name))[0]
    assert may_remap(inspect) is True, (inspect["HostsPath"], info["DockerRootDir"])
    assert remapped_root(info) == (start, start)


@TARGETS
def test_a_session_has_the_targets_files_environment_workdir_and_its_real_ids(
    on_remapped: SecondEngine, debian_toolbox: str, image: str, uid: str
) -> None:
    """With the Debian toolbox, whose /etc/passwd has `nonroot` 65532 with group 65532: a sidecar given only
    `--user=65532` would take gid 65532 against the target's 0, and the kernel's ptrace access check refuses
    /proc/<pid>/root and environ across gids. The engine's `top` gives the host's 165532:100000; mapped back
    through the remap it is the target's 65532:0, and the session reads everything without a capability."""
    name = on_remapped.run(image, "--workdir", "/www", "--env", "APP_GREETING=hello there")

    proc = session(
        name, debian_toolbox, command="id -u; id -g; echo ---; pwd; echo ---; ls /target; echo ---; env"
    )
    plan = service.plan(
        Settings(toolbox_image=debian_toolbox), name, service.plan_options(Settings(), tty=False, stdin=False)
    )

    assert proc.returncode == 0, proc.stderr
    ids, cwd, files, env_text = (part.split("\n") for part in proc.stdout.split("---\n"))
    env = dict(line.split("=", 1) for line in env_text if "=" in line)
    assert ids[:2] == [uid, "0"] and cwd[0] == "/target/www" and {"httpd", "www"} <= set(files)
    assert env["APP_GREETING"] == "hello there" and env["TARGET_PID"] == "1"
    assert f"target uid {uid} gid 0; this session uid {uid} gid 0" in proc.stderr
    assert "you are in /target/www" in proc.stderr
    assert "  note " not in proc.stderr and "not readable" not in proc.stderr, proc.stderr
    if uid == "0":
        assert "--cap-add=SYS_PTRACE" in plan.argv and not any(a.startswith("--user") for a in plan.argv)
    else:
        assert "--user=65532:0" in plan.argv and "--cap-add=SYS_PTRACE" not in plan.argv
        assert "identity  uid 65532 gid 0 like the target's main process" in proc.stderr
        assert not any("a user namespace?" in note for note in plan.notes), plan.notes
    # Root too: the session's root is the remap's (uid 100000 on the host), which the notes say.
    assert any("userns-remap; uid 0 there is 100000 on the host" in note for note in plan.notes), plan.notes


def test_a_target_run_as_a_user_name_gets_a_session_with_its_ids_inside_the_remap(
    on_remapped: SecondEngine, debian_toolbox: str
) -> None:
    """`--user nonroot` (a name: nothing to compare the engine's 165532 with): the daemon's remap maps it back
    to the target's 65532:65532 instead of giving the sidecar the host's IDs, which its namespace has not."""
    name = on_remapped.run(
        debian_toolbox, "--user", "nonroot", "--workdir", "/tmp", "--env", "DBX_PROBE=seen",
        "--entrypoint", "sleep", args=("600",),
    )  # fmt: skip

    proc = session(
        name, debian_toolbox, "--strategy", "sidecar", command='id -u; id -g; echo "$DBX_PROBE"; pwd'
    )

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["65532", "65532", "seen", "/target/tmp"], (proc.stdout, proc.stderr)
    assert "target uid 65532 gid 65532; this session uid 65532 gid 65532" in proc.stderr


@pytest.mark.parametrize(
    ("image", "extra"), [(DISTROLESS, ()), (NONROOT, ("--ptrace",))], ids=["root", "nonroot"]
)
def test_strace_tcpdump_curl_and_ps_work_from_a_session(
    on_remapped: SecondEngine, debian_toolbox: str, image: str, extra: tuple[str, ...]
) -> None:
    """Root in the remap's namespace (not the host's) has SYS_PTRACE and NET_RAW over the target's processes and
    network, which that namespace owns: strace and tcpdump work as on a daemon without the remap."""
    name = on_remapped.run(image, "--workdir", "/www")

    proc = session(name, debian_toolbox, *extra, command=PROMISES)

    assert proc.returncode == 0, proc.stderr
    check_promises(proc.stdout, f"hello from {image.split(':')[0]}", "/target/www")


def test_cp_out_and_in_round_trips_through_a_nonroot_target(
    on_remapped: SecondEngine, tmp_path: Path
) -> None:
    name = on_remapped.run(NONROOT)
    src = tmp_path / "ünïcode name.bin"
    src.write_bytes(bytes(range(256)) * 4099)

    sent = debugbox("cp", str(src), f"{name}:/www")
    back = tmp_path / "back.bin"
    got = debugbox("cp", f"{name}:/www/{src.name}", str(back))
    page = tmp_path / "index.html"
    own = debugbox("cp", f"{name}:/www/index.html", str(page))

    assert sent.returncode == 0, sent.stderr
    assert got.returncode == 0, got.stderr
    assert back.read_bytes() == src.read_bytes()
    assert own.returncode == 0, own.stderr
    assert page.read_text() == "hello from distroless-nonroot\n"


def test_a_loopback_only_port_is_forwarded_and_the_helper_removed(on_remapped: SecondEngine) -> None:
    name = on_remapped.run(
        DISTROLESS, "--entrypoint", "/httpd", args=("-f", "-p", "127.0.0.1:9090", "-h", "/www")
    )
    forward = None
    try:
        with forwarding(name, 9090, TOOLBOX) as forward:
            with urllib.request.urlopen(f"http://127.0.0.1:{forward.local}/", timeout=30) as resp:
                assert resp.read() == b"hello from distroless-app\n"
    finally:
        if forward is not None and forward.helper:
            on_remapped.names.append(forward.helper)  # removed at the end should the product have failed to
    helper, err = forward.helper, forward.err
    assert forward.returncode == 0, err
    assert "helper removed" in err
    assert not _docker(on_remapped, "ps", "-aq", "--filter", f"name={helper}").strip()


def test_a_capture_of_requests_to_a_target_is_a_valid_pcap(
    on_remapped: SecondEngine, debian_toolbox: str, tmp_path: Path
) -> None:
    tcpdump = shutil.which("tcpdump")
    require(
        tcpdump is not None, "tcpdump is not installed on this machine (scripts/setup-system.sh installs it)"
    )
    assert tcpdump is not None
    name = on_remapped.run(DISTROLESS)
    ip = _docker(
        on_remapped, "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name
    )
    cid = _docker(on_remapped, "inspect", "-f", "{{.Id}}", name).strip()
    out = tmp_path / "web.pcap"

    proc, answered = capture_while_requested(name, f"http://{ip.strip()}:8080/", out, debian_toolbox)

    assert proc.returncode == 0, proc.stderr
    assert answered, "no request reached the target while the capture ran"
    assert_valid_capture(out, proc.stderr, tcpdump)
    assert not _docker(on_remapped, "ps", "-aq", "--filter", f"label={CAPTURE_LABEL}={cid}").strip()
