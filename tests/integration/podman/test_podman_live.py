"""Live containers on a real Podman (its Docker-compatible service on the root socket, started by
scripts/start-podman.sh): listing through debugbox, the strategy ladder, and running the argv debugbox produced
(sidecar, exec, and the `docker --host` fallback on the same socket), non-interactively.

Images are built with `podman build` FROM scratch from the contexts of `tests/fixtures/images/` (the machine's static
busybox copied in). Whether anything was exec'd inside a container is read from Podman's event log: unlike
Docker, Podman drops finished exec sessions from `ExecIDs`, but logs an `exec` event for each.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from debugbox.core.errors import RuntimeUnavailable, TargetNotRunning
from debugbox.core.settings import Settings
from debugbox.core.targets.model import Target
from debugbox.edge import service
from debugbox.edge.engine_api import Endpoint, EngineClient

from tests.conftest import FIXTURES, require
from tests.integration.toolbox_debs import PROMISES, check_promises, ensure_toolbox

pytestmark = pytest.mark.podman

SOCKET = Path("/run/podman/podman.sock")
CONTAINERS_CONF = FIXTURES / "podman" / "containers.conf"
BUSYBOX = Path("/bin/busybox")
TOOLBOX = "localhost/toolbox:test"
DISTROLESS = "localhost/distroless-app:test"
NONROOT = "localhost/distroless-nonroot:test"
SHELL_APP = "localhost/shell-app:test"
IMAGES = {
    TOOLBOX: "toolbox",
    DISTROLESS: "distroless-app",
    NONROOT: "distroless-nonroot",
    SHELL_APP: "shell-app",
}
SETTINGS = Settings(toolbox_image=TOOLBOX)
PODMAN = shutil.which("podman") or "podman"
_PATH = os.environ.get("PATH", os.defpath)
PROBE = "ps; echo ---; wget -qO- localhost:8080; echo ---; ls /proc/1/root/"


def _env() -> dict[str, str]:
    # The root socket only (a rootless one under XDG_RUNTIME_DIR would be asked first), and the settings the
    # service runs with, so that the CLI's containers get the same limits.
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    env["CONTAINERS_CONF"] = str(CONTAINERS_CONF)
    env["PATH"] = _PATH  # podman finds its helpers (netavark, conmon...) on PATH
    return env


def podman(*args: str, timeout: float = 120, check: bool = True) -> str:
    # By absolute path: one test takes podman off PATH (to get debugbox's docker CLI fallback).
    proc = subprocess.run(
        [PODMAN, *args], capture_output=True, text=True, timeout=timeout, check=False, env=_env()
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def _service_answers() -> bool:
    try:
        EngineClient(Endpoint(f"unix://{SOCKET}", "podman socket"), 10, "Podman").ping()
    except RuntimeUnavailable:
        return False
    return True


@pytest.fixture(scope="session")
def podman_images() -> None:
    require(BUSYBOX.is_file(), "/bin/busybox (Debian's busybox-static) is needed to build the test images")
    require(
        shutil.which("podman") is not None, "podman is not installed (scripts/setup-system.sh installs it)"
    )
    require(_service_answers(), f"no Podman service answers on {SOCKET} (scripts/start-podman.sh starts one)")
    with tempfile.TemporaryDirectory(prefix="dbx-podman-images-") as work:
        for tag, folder in IMAGES.items():
            context = Path(work) / folder
            shutil.copytree(FIXTURES / "images" / folder, context)
            shutil.copy2(BUSYBOX, context / "busybox")
            podman("build", "-q", "-t", tag, str(context), timeout=300)


@pytest.fixture
def started(podman_images: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Names of the containers this test starts (`dbx-<random>`); exactly those are removed afterwards."""
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    names: list[str] = []
    try:
        yield names
    finally:
        # A container whose network namespace a helper still uses (forward, capture) cannot be removed until
        # that helper is gone: retry, bounded, so nothing this test started outlives it.
        for _ in range(20):
            left = [n for n in names if podman("ps", "-aq", "--filter", f"name=^{n}$", check=False).strip()]
            if not left:
                break
            podman("rm", "-f", "-t", "0", *left, check=False)
            time.sleep(0.5)


def start(names: list[str], image: str, *, create_only: bool = False) -> str:
    name = f"dbx-{uuid.uuid4().hex[:10]}"
    names.append(name)
    podman(*(["create"] if create_only else ["run", "-d"]), "--name", name, image)
    return name


def exec_events(name: str) -> list[str]:
    """Podman's logged exec events for the container (one per `podman exec` or exec API call, ever)."""
    out = podman("events", "--stream=false", "--filter", f"container={name}", "--filter", "event=exec")
    return out.splitlines()


def listed(name: str) -> Target:
    listing = service.list_targets(SETTINGS, runtimes=["podman"])
    assert listing.errors == []
    found = [t for t in listing.targets if t.name == name]
    assert len(found) == 1, [t.name for t in listing.targets]
    return found[0]


def debugbox_shell(ref: str, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "debugbox", "shell", ref, *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, env=_env())


def _sections(stdout: str) -> tuple[str, str, list[str]]:
    ps, http, files = stdout.split("---\n")
    return ps, http.strip(), files.split()


def test_a_distroless_podman_target_gets_a_sidecar_that_sees_its_processes_network_and_files(
    started: list[str],
) -> None:
    name = start(started, DISTROLESS)
    cid = podman("inspect", "-f", "{{.Id}}", name).strip()

    target = listed(name)
    printed = debugbox_shell(f"podman://{name}", "--image", TOOLBOX, "--print", "--", "sh", "-c", PROBE)
    ran = debugbox_shell(f"podman://{name}", "--image", TOOLBOX, "--", "sh", "-c", PROBE)

    assert target.runtime == "podman" and target.id == f"podman://{cid[:12]}" and target.image == DISTROLESS
    assert target.strategies == ("sidecar",) and target.recommended == "sidecar"
    assert target.to_json()["shell"] is None
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.startswith(
        f'["podman", "run", "--rm", "--pid=container:{cid}", "--net=container:{cid}"'
    )
    assert ran.returncode == 0, ran.stderr
    ps, http, files = _sections(ran.stdout)
    pid1 = [line.split(None, 2) for line in ps.splitlines() if line.split()[:1] == ["1"]]
    assert pid1 and pid1[0][2].startswith("/httpd -f -p 8080")
    assert http == "hello from distroless-app"
    assert {"httpd", "www"} <= set(files) and "bin" not in files  # the target's root, not the toolbox's
    assert exec_events(name) == []  # listing and the sidecar ran nothing inside the target
    assert podman("ps", "-a", "-q", "--filter", f"label=io.debugbox.sidecar-for={cid}").strip() == ""


def test_a_podman_target_with_a_shell_gets_exec_and_the_exec_is_logged(started: list[str]) -> None:
    name = start(started, SHELL_APP)

    target = listed(name)
    before = exec_events(name)
    ran = debugbox_shell(f"podman://{name}", "--", "sh", "-c", "ps; echo ---; wget -qO- localhost:8080")

    assert target.runtime == "podman" and target.recommended == "exec"
    assert target.strategies == ("exec", "sidecar") and target.to_json()["shell"] == "/bin/sh"
    assert before == []  # the shell was found without running anything inside
    assert ran.returncode == 0, ran.stderr
    ps, http = ran.stdout.split("---\n")
    assert any(line.split()[:1] == ["1"] and "/bin/httpd -f -p 8080" in line for line in ps.splitlines())
    assert http.strip() == "hello from shell-app"
    assert len(exec_events(name)) == 1  # the check above would have seen an exec into the distroless target


def test_a_non_root_podman_target_is_readable_from_the_sidecar(started: list[str]) -> None:
    name = start(started, NONROOT)

    options = service.plan_options(SETTINGS, command=("sh", "-c", PROBE), tty=False, stdin=False)
    plan = service.plan(SETTINGS, f"podman://{name}", options)
    proc = subprocess.run(
        list(plan.argv), capture_output=True, text=True, timeout=120, check=False, env=_env()
    )

    # Run as the target's UID and GID (from Podman's `top`): its files are readable without any added capability.
    assert (
        plan.strategy == "sidecar"
        and "--user=65532:0" in plan.argv
        and "--cap-add=SYS_PTRACE" not in plan.argv
    )
    assert any("65532" in note for note in plan.notes)
    assert proc.returncode == 0, proc.stderr
    _, http, files = _sections(proc.stdout)
    assert http == "hello from distroless-nonroot" and {"httpd", "www"} <= set(files)


def test_the_docker_cli_fallback_reaches_podman_on_its_socket(
    started: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    docker = shutil.which("docker")
    require(docker is not None, "the docker CLI is needed for the fallback argv")
    assert docker is not None
    # A PATH with docker and without podman, as on a machine without the podman CLI.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").symlink_to(docker)
    monkeypatch.setenv("PATH", str(bin_dir))
    name = start(started, DISTROLESS)

    options = service.plan_options(SETTINGS, command=("sh", "-c", PROBE), tty=False, stdin=False)
    plan = service.plan(SETTINGS, f"podman://{name}", options)
    proc = subprocess.run(list(plan.argv), capture_output=True, text=True, timeout=120, check=False)

    assert list(plan.argv[:4]) == ["docker", "--host", f"unix://{SOCKET}", "run"]
    assert proc.returncode == 0, proc.stderr
    _, http, files = _sections(proc.stdout)
    assert http == "hello from distroless-app" and {"httpd", "www"} <= set(files)
    assert exec_events(name) == []


def test_a_stopped_podman_target_gets_debugboxs_message(started: list[str]) -> None:
    name = start(started, DISTROLESS, create_only=True)

    listing = service.list_targets(SETTINGS, runtimes=["podman"])
    with pytest.raises(TargetNotRunning) as caught:
        service.plan(SETTINGS, f"podman://{name}", service.plan_options(SETTINGS, strategy="sidecar"))
    auto = service.plan(SETTINGS, f"podman://{name}", service.plan_options(SETTINGS))

    assert name not in [t.name for t in listing.targets]  # created, never run: not offered
    assert f"container {name} (podman) is created" in str(caught.value)
    assert f"podman start {name}" in str(caught.value) and "snapshot" in str(caught.value)
    assert auto.strategy == "snapshot"


def test_an_exited_podman_container_opens_as_a_snapshot_and_nothing_is_left(started: list[str]) -> None:
    name = f"dbx-{uuid.uuid4().hex[:10]}"
    started.append(name)
    podman(
        "run",
        "--name",
        name,
        "--workdir",
        "/www",
        "--env",
        "APP_MODE=prod",
        DISTROLESS,
        "-h",
        "/nope",
        check=False,
    )
    cid = podman("inspect", "-f", "{{.Id}}", name).strip()

    listed_target = listed(name)
    ran = debugbox_shell(f"podman://{name}", "--image", TOOLBOX, "--", "sh", "-c", "pwd; ls; echo $APP_MODE")

    assert listed_target.status == "exited" and listed_target.recommended == "snapshot"
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["/www", "index.html", "prod"]
    assert f"debugbox: inside {name} (podman snapshot of the exited container" in ran.stderr
    assert "| httpd: can't change directory to '/nope'" in ran.stderr
    label = f"label=io.debugbox.snapshot-of={cid}"
    assert podman("images", "-q", "--filter", label).split() == []
    assert podman("volume", "ls", "-q", "--filter", label).split() == []
    assert podman("ps", "-aq", "--filter", label).split() == []


def test_a_container_of_an_image_podman_built_is_related_to_its_dockerfile(
    started: list[str], tmp_path: Path
) -> None:
    # `podman build -t NAME` (here: `podman tag`) stores the image as localhost/NAME:latest.
    image = f"dbx-web-{uuid.uuid4().hex[:8]}"
    podman("tag", DISTROLESS, image)
    try:
        name = start(started, image)
        project = tmp_path / "shop"
        (project / "app").mkdir(parents=True)
        (project / "app" / "Dockerfile").write_text("FROM scratch\nCOPY busybox /httpd\n")
        (project / "compose.yaml").write_text(f"services:\n  web:\n    build: ./app\n    image: {image}\n")

        listing = service.list_targets(
            SETTINGS, document=project / "app" / "Dockerfile", workspace=project, runtimes=["podman"]
        )
    finally:
        podman("rm", "-f", "-t", "0", *started, check=False)
        podman("rmi", f"localhost/{image}:latest", check=False)

    mine = next(t for t in listing.targets if t.name == name)
    assert mine.image == f"localhost/{image}:latest"
    assert mine.related and mine.related_reason is not None
    assert "is the image: of compose service 'web'" in mine.related_reason


# -- the session bootstrap -------------------------------------------------------------------------------------

SESSION_PROBE = "id -u; echo ---; pwd; echo ---; ls /target; echo ---; env"


#: `podman run` options giving a target a user namespace of its own: uid 0 inside is 100000 on the host.
OWN_USERNS = ("--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536")


@pytest.mark.parametrize(
    ("image", "uid", "userns"),
    [
        (DISTROLESS, "0", ()),
        (NONROOT, "65532", ()),
        (DISTROLESS, "0", OWN_USERNS),
        (NONROOT, "65532", OWN_USERNS),
    ],
    ids=["root", "nonroot", "root-own-userns", "nonroot-own-userns"],
)
def test_a_podman_session_starts_in_the_targets_workdir_with_its_files_and_environment(
    started: list[str], image: str, uid: str, userns: tuple[str, ...]
) -> None:
    """Also for a target in a user namespace of its own: the session joins it, so it reads the target's files
    as the target's uid without any capability (from the host's namespace, uid 65532 is refused)."""
    name = f"dbx-{uuid.uuid4().hex[:10]}"
    started.append(name)
    podman(
        "run", "-d", "--name", name, *userns, "--workdir", "/www", "--env", "APP_GREETING=hello there", image
    )

    proc = debugbox_shell(f"podman://{name}", "--image", TOOLBOX, "--", "sh", "-c", SESSION_PROBE)

    assert proc.returncode == 0, proc.stderr
    me, cwd, files, env_text = (part.split("\n") for part in proc.stdout.split("---\n"))
    env = dict(line.split("=", 1) for line in env_text if "=" in line)
    assert me[0] == uid and cwd[0] == "/target/www" and {"httpd", "www"} <= set(files)
    assert env["APP_GREETING"] == "hello there" and "TARGET_PATH" in env and env["TARGET_PID"] == "1"
    assert f"debugbox: inside {name} (podman sidecar, toolbox {TOOLBOX})" in proc.stderr
    assert f"target uid {uid} gid 0; this session uid {uid} gid 0" in proc.stderr
    assert "you are in /target/www" in proc.stderr
    assert ("in the target's own user namespace" in proc.stderr) == bool(userns)
    assert exec_events(name) == []


@pytest.fixture(scope="module")
def podman_debian_toolbox(podman_images: None) -> str:
    try:
        return "localhost/" + ensure_toolbox((PODMAN,), env=_env())
    except (subprocess.CalledProcessError, OSError) as exc:
        require(False, f"the Debian toolbox could not be built (scripts/download-toolbox-debs.sh): {exc}")
        raise


@pytest.mark.parametrize(
    ("image", "extra", "userns"),
    [(DISTROLESS, (), ()), (NONROOT, ("--ptrace",), ()), (NONROOT, ("--ptrace",), OWN_USERNS)],
    ids=["root", "nonroot-ptrace", "nonroot-ptrace-own-userns"],
)
def test_strace_tcpdump_curl_and_ps_work_from_a_podman_session(
    started: list[str],
    podman_debian_toolbox: str,
    image: str,
    extra: tuple[str, ...],
    userns: tuple[str, ...],
) -> None:
    """The seed's promises on Podman, with the toolbox built from Debian's packages (toolbox_debs.py); also
    from inside a target's own user namespace (root there, with SYS_PTRACE over that namespace only)."""
    name = f"dbx-{uuid.uuid4().hex[:10]}"
    started.append(name)
    podman("run", "-d", "--name", name, *userns, "--workdir", "/www", image)

    proc = debugbox_shell(
        f"podman://{name}", "--image", podman_debian_toolbox, *extra, "--", "sh", "-c", PROMISES
    )

    assert proc.returncode == 0, proc.stderr
    check_promises(proc.stdout, f"hello from {image.split(':')[0].split('/')[-1]}", "/target/www")


def test_a_podman_target_run_as_a_bare_uid_gets_a_session_with_its_real_gid(
    started: list[str], podman_debian_toolbox: str
) -> None:
    """As on Docker: `--user 65532` on an image without /etc/passwd runs with GID 0; Podman's `top`
    (`hpid,user,group`) says so, and the session next to it reads its environment and files."""
    name = f"dbx-{uuid.uuid4().hex[:10]}"
    started.append(name)
    podman("run", "-d", "--name", name, "--user", "65532", "--workdir", "/www", "--env", "DBX_GID_PROBE=seen",
           DISTROLESS)  # fmt: skip

    proc = debugbox_shell(
        f"podman://{name}",
        "--image",
        podman_debian_toolbox,
        "--",
        "sh",
        "-c",
        'id -u; id -g; echo "$DBX_GID_PROBE"; pwd',
    )

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["65532", "0", "seen", "/target/www"], (proc.stdout, proc.stderr)
    assert "target uid 65532 gid 0; this session uid 65532 gid 0" in proc.stderr
    assert "reopen with --ptrace" not in proc.stderr


def test_a_podman_target_sharing_another_containers_pid_namespace_is_found_by_its_cgroup(
    started: list[str],
) -> None:
    """`--pid=container:OTHER`: PID 1 is OTHER's process; the session finds the target's own (its `libpod-<id>`
    cgroup), with its uid, working directory and variables. `--pid=host`: the engine's `State.Pid`."""
    other = start(started, DISTROLESS)
    joiner, on_host = f"dbx-{uuid.uuid4().hex[:10]}", f"dbx-{uuid.uuid4().hex[:10]}"
    started[:0] = [joiner, on_host]  # removed before `other`, which Podman keeps while a container joins it
    common = ("--workdir", "/www", "--env", "WHO=it")
    podman(
        "run",
        "-d",
        "--name",
        joiner,
        "--pid",
        f"container:{other}",
        *common,
        NONROOT,
        "-f",
        "-p",
        "9090",
        "-h",
        "/www",
    )
    podman(
        "run", "-d", "--name", on_host, "--pid=host", *common, DISTROLESS, "-f", "-p", "18090", "-h", "/www"
    )
    host_pid = podman("inspect", "-f", "{{.State.Pid}}", on_host).strip()
    probe = 'echo "$TARGET_PID $PWD $WHO"; id -u'

    joined = debugbox_shell(f"podman://{joiner}", "--image", TOOLBOX, "--", "sh", "-c", probe)
    hosted = debugbox_shell(f"podman://{on_host}", "--image", TOOLBOX, "--", "sh", "-c", probe)

    assert joined.returncode == 0 and hosted.returncode == 0, joined.stderr + hosted.stderr
    pid, cwd, who, uid = joined.stdout.split()
    assert pid != "1" and (cwd, who, uid) == ("/target/www", "it", "65532")
    assert "-p 9090 -h /www" in joined.stderr and "note" not in joined.stderr
    assert hosted.stdout.split() == [host_pid, "/target/www", "it", "0"]
    assert "note" not in hosted.stderr


def test_an_id_prefix_of_several_containers_is_not_no_such_container(started: list[str]) -> None:
    # Podman answers 404 "more than one result for container ID": debugbox said "no such container".
    from tests.integration.docker.test_engine_failures import shared_id_prefix

    prefix = shared_id_prefix(
        lambda: start(started, DISTROLESS, create_only=True),
        lambda name: podman("inspect", "-f", "{{.Id}}", name).strip(),
    )
    proc = debugbox_shell(f"podman://{prefix}", "--print")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith(f"debugbox: {prefix!r} is the start of more than one container's ID")
    assert "no such container" not in proc.stderr


def test_container_host_is_where_podman_is_listed_and_asked(started: list[str], tmp_path: Path) -> None:
    """The podman CLI works remotely when CONTAINER_HOST is set: debugbox lists and asks that service too. It
    listed this machine's socket whatever CONTAINER_HOST said, so a session into a stopped container planned on
    one engine ran `podman commit` against another: with a CONTAINER_HOST where nothing listens, a minute's wait
    and "the session's container … was still there after 60 s; remove it with …" before the real error."""
    name = start(started, DISTROLESS, create_only=True)
    env = {**_env(), "CONTAINER_HOST": f"unix://{tmp_path}/nothing.sock"}
    argv = [sys.executable, "-m", "debugbox", "shell", f"podman://{name}", "--image", TOOLBOX, "--", "true"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False, env=env)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"debugbox: no Podman engine at unix://{tmp_path}/nothing.sock (CONTAINER_HOST): the socket does not "
        "exist (is the daemon running?)"
    ]
    # CONTAINER_HOST naming the service that runs: the session is made there.
    env["CONTAINER_HOST"] = f"unix://{SOCKET}"
    again = [*argv[:-1], "echo", "in the snapshot"]
    proc = subprocess.run(again, capture_output=True, text=True, timeout=120, check=False, env=env)
    assert proc.returncode == 0 and "in the snapshot" in proc.stdout, proc.stderr
