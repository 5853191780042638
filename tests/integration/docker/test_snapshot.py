"""Snapshot sessions into stopped containers on a real Docker engine: offered in the listing, the container's
filesystem, environment and working directory as it stopped, its last log lines in the banner, and nothing left
behind (image, volume, containers), also when the terminal is closed mid-session.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import pytest
from debugbox.core.settings import Settings
from debugbox.edge import service

from tests.integration.docker.engine import DISTROLESS, SHELL_APP, TOOLBOX, Containers, container_id, docker

pytestmark = pytest.mark.docker

SETTINGS = Settings(toolbox_image=TOOLBOX)
CRASH_LINE = "httpd: can't change directory to '/nonexistent'"


def exited(containers: Containers, image: str, *args: str, options: Sequence[str] = ()) -> str:
    """A container of `image` run with `args`, once it has exited."""
    name = containers.run(image, *args, options=options)
    for _ in range(300):
        if docker("inspect", "-f", "{{.State.Status}}", name).strip() == "exited":
            return name
        time.sleep(0.1)
    raise AssertionError(f"{name} did not exit")


def crashed(containers: Containers) -> str:
    """A distroless-like container that exited with an error (its server could not find its folder)."""
    return exited(
        containers, DISTROLESS, "-h", "/nonexistent", options=("--workdir", "/www", "--env", "APP_MODE=prod")
    )


def leftovers(cid: str) -> list[str]:
    label = f"label=io.debugbox.snapshot-of={cid}"
    return (
        docker("images", "-q", "--filter", label).split()
        + docker("volume", "ls", "-q", "--filter", label).split()
        + docker("ps", "-aq", "--filter", label).split()
    )


def commits(cid: str, since: str) -> int:
    """How many commits of `cid` the engine has finished since `since` (its own clock)."""
    until = docker("system", "info", "-f", "{{.SystemTime}}").strip()
    events = docker("events", "--since", since, "--until", until, "--filter", f"container={cid}",
                    "--filter", "event=commit", "--format", "{{.Action}}")  # fmt: skip
    return len(events.split())


def test_an_exited_container_is_offered_as_a_snapshot_and_opens_as_it_stopped(containers: Containers) -> None:
    name = crashed(containers)
    cid = container_id(name)

    listed = next(t for t in service.list_targets(SETTINGS, runtimes=["docker"]).targets if t.name == name)
    plan = service.plan(SETTINGS, name, service.plan_options(SETTINGS))
    proc = subprocess.run(
        [sys.executable, "-m", "debugbox", "shell", name, "--image", TOOLBOX, "--", "sh", "-c",
         "pwd; ls; echo $APP_MODE; ls /.debugbox"],
        capture_output=True, text=True, timeout=300, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip

    assert (
        listed.status == "exited" and listed.strategies == ("snapshot",) and listed.recommended == "snapshot"
    )
    assert plan.strategy == "snapshot" and plan.argv[1:5] == ("-P", "-m", "debugbox", "shell")
    assert plan.argv[-4:] == ("--strategy", "snapshot", "--image", TOOLBOX)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["/www", "index.html", "prod", "busybox", "sh"]
    assert f"debugbox: inside {name} (docker snapshot of the exited container" in proc.stderr
    assert f"    | {CRASH_LINE}" in proc.stderr  # its last log lines, in the banner
    assert leftovers(cid) == []
    assert docker("inspect", "-f", "{{.State.Status}}", name).strip() == "exited"  # the original is untouched


def test_closing_the_terminal_mid_session_still_cleans_up(containers: Containers) -> None:
    name = crashed(containers)
    cid = container_id(name)
    session = subprocess.Popen(
        [sys.executable, "-m", "debugbox", "shell", name, "--image", TOOLBOX],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert session.stderr is not None
        seen = ""
        while "debugbox: inside" not in seen:  # the banner: the snapshot container is up
            line = session.stderr.readline()
            assert line, f"the session ended early: {seen}"
            seen += line
        assert leftovers(cid) != []  # the snapshot image, the volume and the session's container exist now
        session.send_signal(signal.SIGHUP)  # what closing the terminal does
        _, rest = session.communicate(timeout=120)
    finally:
        if session.poll() is None:
            session.kill()
    assert leftovers(cid) == []
    assert "debugbox: could not" not in rest  # the clean-up waited for the container, nothing was refused


def test_escape_sequences_in_the_last_log_lines_never_reach_the_terminal(containers: Containers) -> None:
    """The banner prints the stopped container's last log lines from inside the snapshot, straight to the
    user's terminal (not through the CLI's filter). A target that logged an OSC 52 clipboard write and a
    screen clear had them played by the terminal; they are shown as escapes."""
    hostile = r"printf 'boot \033]52;c;cm0gLXJmIH4=\007 \033[2J done\n'; exit 3"
    name = exited(containers, TOOLBOX, "-c", hostile, options=("--entrypoint", "sh"))
    cid = container_id(name)
    proc = subprocess.run(
        [sys.executable, "-m", "debugbox", "shell", name, "--image", TOOLBOX, "--", "true"],
        capture_output=True, timeout=300, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    err = proc.stderr.decode("utf-8", "replace")

    assert proc.returncode == 0, err
    assert "    | boot " in err  # the log line is in the banner
    assert b"\x1b" not in proc.stderr and b"\x07" not in proc.stderr
    assert r"\x1b]52;c;cm0gLXJmIH4=\x07" in err and r"\x1b[2J done" in err
    assert leftovers(cid) == []


def test_ctrl_c_while_committing_lets_the_commit_finish_then_leaves_nothing_behind(
    containers: Containers,
) -> None:
    """Ctrl-C reaches the terminal's whole process group. It used to kill `docker commit` mid-request: the daemon
    finished the commit after the clean-up had looked, and the snapshot image stayed. (A 200 MB layer: the
    commit takes over a second on vfs, so the Ctrl-C lands while the daemon commits.)"""
    script = "dd if=/dev/zero of=/big bs=1M count=200 2>/dev/null; exit 3"
    name = exited(containers, SHELL_APP, "-c", script, options=("--entrypoint", "sh"))
    cid = container_id(name)
    since = docker("system", "info", "-f", "{{.SystemTime}}").strip()
    session = subprocess.Popen(
        [sys.executable, "-m", "debugbox", "shell", name, "--image", TOOLBOX],
        stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert session.stderr is not None
        assert "snapshotting" in session.stderr.readline()
        for _ in range(100):  # the docker CLI has sent the commit (it takes over a second on the daemon)
            if subprocess.run(["pgrep", "-f", f"docker commit .*{cid}"], capture_output=True).returncode == 0:
                break
            time.sleep(0.05)
        time.sleep(0.5)
        os.killpg(session.pid, signal.SIGINT)  # Ctrl-C: the terminal signals its foreground process group
        rest = session.communicate(timeout=120)[1]
    finally:
        if session.poll() is None:
            session.kill()
    for _ in range(300):  # the old code's orphaned commit ended on the daemon's time, after the clean-up
        if commits(cid, since) or leftovers(cid):
            break
        time.sleep(0.1)

    assert commits(cid, since) == 1, "the Ctrl-C came before the commit started: nothing was tested"
    assert leftovers(cid) == []
    assert session.returncode == 130
    assert "stopping after this step, then cleaning up" in rest


def test_a_snapshot_shows_the_containers_volumes_read_only(containers: Containers) -> None:
    """A commit holds the container's layer only: its volume's folder used to look empty in the snapshot (a
    database's data "gone"), under a banner saying / is the filesystem as it stopped. The original's volumes
    are mounted read-only: the data is there and the session cannot change it."""
    volume = f"dbx-vol-{uuid.uuid4().hex[:10]}"
    docker("volume", "create", volume)
    try:
        script = "echo precious > /data/state.db; exit 4"
        name = exited(
            containers, SHELL_APP, "-c", script, options=("--entrypoint", "sh", "-v", f"{volume}:/data")
        )
        cid = container_id(name)

        proc = subprocess.run(
            [sys.executable, "-m", "debugbox", "shell", name, "--image", TOOLBOX, "--", "sh", "-c",
             "cat /data/state.db; echo changed > /data/state.db"],
            capture_output=True, text=True, timeout=300, check=False, stdin=subprocess.DEVNULL,
        )  # fmt: skip

        assert proc.stdout == "precious\n", proc.stderr
        assert proc.returncode != 0 and "Read-only file system" in proc.stderr
        assert "its volumes and bind mounts are the original's, read-only" in proc.stderr
        assert leftovers(cid) == []
        # The volume, read through the stopped original (`cp` streams a tar of the one file): unchanged.
        assert "precious\n" in docker("cp", f"{name}:/data/state.db", "-")
    finally:
        containers.cleanup()
        docker("volume", "rm", volume, check=False)


def test_the_editors_snapshot_terminal_never_runs_the_workspaces_code(
    containers: Containers, tmp_path: Path
) -> None:
    """The editor runs the plan's argv (`python -m debugbox shell …`) in a terminal whose folder is the
    workspace. Without `-P` that folder came first on sys.path: a repository's `debugbox/` package (or a
    `subprocess.py`) ran instead of debugbox, with the user's rights."""
    name = crashed(containers)
    planted = tmp_path / "debugbox"
    planted.mkdir()
    (planted / "__init__.py").write_text("")
    (planted / "__main__.py").write_text("print('the workspace ran')\n")
    (tmp_path / "subprocess.py").write_text("print('the workspace ran')\n")
    options = service.plan_options(SETTINGS, command=("sh", "-c", "echo $APP_MODE"), tty=False, stdin=False)
    plan = service.plan(SETTINGS, name, options)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the terminal's: not the server's

    proc = subprocess.run(
        list(plan.argv), cwd=tmp_path, env={**env, **plan.env},
        capture_output=True, text=True, timeout=300, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip

    assert "the workspace ran" not in proc.stdout + proc.stderr
    assert proc.returncode == 0 and proc.stdout == "prod\n", proc.stderr
    assert leftovers(container_id(name)) == []


def test_a_snapshots_shell_does_not_run_the_containers_startup_file(containers: Containers) -> None:
    """`ENV` names a file the interactive `sh` runs as it starts; in a container it may be one the (compromised)
    app could write. The snapshot's shell, root in the copy, used to run it; it is kept as TARGET_ENV."""
    script = "mkdir -p /tmp; echo 'echo the startup file ran as $(id -u)' > /tmp/rc.sh; exit 1"
    name = exited(
        containers, SHELL_APP, "-c", script, options=("--entrypoint", "sh", "--env", "ENV=/tmp/rc.sh")
    )

    proc = subprocess.run(
        [sys.executable, "-m", "debugbox", "shell", name, "--image", TOOLBOX],
        input='echo "[$TARGET_ENV] [${ENV-unset}]"; exit\n', capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip

    assert proc.returncode == 0, proc.stderr
    assert "the startup file ran" not in proc.stdout + proc.stderr
    assert "[/tmp/rc.sh] [unset]" in proc.stdout
    assert leftovers(container_id(name)) == []


def test_a_toolbox_whose_busybox_is_not_static_is_said_before_the_container_is_committed(
    containers: Containers, tmp_path: Path
) -> None:
    """An Alpine-based toolbox (netshoot, the default) has a busybox linked to musl: lent to the snapshot, which
    has no musl loader, it could not start, and the session only ended with exit 127 after the commit. Here the
    toolbox's shell is a static busybox and its `busybox` a real dynamically linked program (this machine's
    `true`)."""
    name = crashed(containers)
    cid = container_id(name)
    context = tmp_path / "toolbox"
    context.mkdir()
    docker("create", "--name", f"{name}-src", TOOLBOX)
    try:
        docker("cp", f"{name}-src:/bin/busybox", str(context / "busybox-static"))
    finally:
        docker("rm", "-f", f"{name}-src")
    shutil.copy2("/bin/true", context / "busybox")  # a dynamically linked ELF (Debian's coreutils)
    (context / "Dockerfile").write_text(
        "FROM scratch\nCOPY busybox-static /bin/sh\nCOPY busybox /bin/busybox\n"
    )
    tag = f"debugbox-test/dynamic-busybox:{uuid.uuid4().hex[:8]}"
    docker("build", "-q", "-t", tag, str(context), timeout=300)
    since = docker("system", "info", "-f", "{{.SystemTime}}").strip()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "debugbox", "shell", name, "--image", tag, "--", "true"],
            capture_output=True, text=True, timeout=300, check=False, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    finally:
        docker("rmi", "-f", tag, check=False)

    assert proc.returncode == 1, proc.stderr
    (line,) = [line for line in proc.stderr.splitlines() if line.startswith("debugbox: snapshot session")]
    assert "busybox (/bin/busybox) is not a static binary" in line, proc.stderr
    assert "debugbox toolbox build, then use --image debugbox/toolbox:local" in line
    assert commits(cid, since) == 0
    assert leftovers(cid) == []


def test_a_toolbox_that_cannot_be_pulled_fails_before_the_container_is_committed(
    containers: Containers,
) -> None:
    """The commit copies the container's whole layer (seconds for hundreds of MB on vfs); it used to come first,
    and a toolbox the engine could not pull failed only after it."""
    name = crashed(containers)
    cid = container_id(name)
    since = docker("system", "info", "-f", "{{.SystemTime}}").strip()

    proc = subprocess.run(
        [sys.executable, "-m", "debugbox", "shell", name, "--image", "debugbox-test/no-such-toolbox:1", "--",
         "true"],
        capture_output=True, text=True, timeout=300, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip

    assert proc.returncode == 1
    assert "copying the static busybox out of debugbox-test/no-such-toolbox:1 failed" in proc.stderr
    assert commits(cid, since) == 0
    assert leftovers(cid) == []
