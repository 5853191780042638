"""The session bootstrap in Kubernetes debug containers, through real kubectl against the docker-backed fake:
the argv debugbox plans (`kubectl debug -i` with the bootstrap as the debug container's command) run with
real processes, so the banner, `/target`, the target's working directory and variables come from the real
script in a real container that shares the target's process namespace.

kubectl attaches after the container started, so the bootstrap waits for the first line before its banner;
these tests send an empty line first, as a user presses Enter when kubectl says so.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tests.integration.kubernetes.conftest import (
    DEBIAN_TOOLBOX,
    KUBECTL,
    KubeEnv,
    batch_options,
    leave_once_running,
)

pytestmark = [pytest.mark.kubernetes, pytest.mark.docker]

DISTROLESS = "example.com/distroless-app:1"
NONROOT = "example.com/distroless-nonroot:1"
APP = {
    "name": "app",
    "image": DISTROLESS,
    "workingDir": "/www",
    "env": [{"name": "APP_MODE", "value": "prod"}, {"name": "LD_PRELOAD", "value": "/evil.so"}],
}
SCRIPT = (
    "\n"
    + "ls /target\npwd\necho mode=$APP_MODE pid=$TARGET_PID ld=$TARGET_LD_PRELOAD/${LD_PRELOAD:-}\nexit\n"
)


def _plan(kube: KubeEnv, ref: str, **kw: Any) -> Any:
    backend = kube.backend()
    return backend.kube_plan(backend.resolve(ref), batch_options(backend.settings, stdin=True, **kw))


def _run(kube: KubeEnv, argv: Any, text: str = SCRIPT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv), env=kube.env, input=text, capture_output=True, text=True, timeout=120, check=False
    )


def test_ephemeral_session_shows_the_banner_and_lands_in_the_targets_files(kube_docker: KubeEnv) -> None:
    kube = kube_docker
    kube.fake.store.add_pod("web", containers=[APP], docker=True)
    kube.fake.wait_for("default", "web", lambda p: p["status"].get("phase") == "Running")

    plan = _plan(kube, "web/app").plan
    out = _run(kube, plan.argv)

    assert plan.strategy == "ephemeral" and out.returncode == 0, out.stderr
    assert "debugbox: inside web/app (kubernetes ephemeral container - toolbox busybox:1.36)" in out.stderr
    assert "  target    PID 1: /httpd -f -p 8080 -h /www" in out.stderr  # found through --target's namespace
    assert "identity  root with SYS_PTRACE (profile general)" in out.stderr
    lines = out.stdout.split()
    assert "httpd" in lines and "www" in lines  # ls /target: the target's root filesystem
    assert "/target/www" in lines  # pwd: its working directory
    # its variables; LD_PRELOAD only as TARGET_LD_PRELOAD
    assert "mode=prod" in lines and "pid=1" in lines and "ld=/evil.so/" in lines


@pytest.mark.parametrize("strategy", ["ephemeral", "copy"])
def test_a_command_without_stdin_shows_its_output(kube_docker: KubeEnv, strategy: str) -> None:
    """`debugbox shell pod/… -- CMD` from a script, cron or CI job (stdin /dev/null): no `-i`, and without it
    `kubectl debug` only adds the container — the command's output must still reach the user."""
    kube = kube_docker
    kube.fake.store.add_pod("web", containers=[APP], docker=True)
    kube.fake.wait_for("default", "web", lambda p: p["status"].get("phase") == "Running")
    argv = ["shell", "pod/web", "--image", "busybox:1.36", "--strategy", strategy]

    out = kube.debugbox(*argv, "--", "sh", "-c", "sleep 1; ls /target/www; echo the-end")

    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-2:] == ["index.html", "the-end"], out.stdout + out.stderr
    if strategy == "copy":
        assert kube.debugbox("cleanup", "--yes").returncode == 0


def test_a_commands_exit_code_is_the_shells(kube_docker: KubeEnv) -> None:
    """`debugbox shell pod/… -- CMD` exits with CMD's status, as `debugbox shell CONTAINER -- CMD` does (kubectl
    debug itself exits 0 whatever the command did): with stdin a pipe (-i) and with none."""
    kube = kube_docker
    kube.fake.store.add_pod("web", containers=[APP], docker=True)
    kube.fake.wait_for("default", "web", lambda p: p["status"].get("phase") == "Running")
    argv = ["shell", "pod/web", "--image", "busybox:1.36", "--"]

    assert kube.debugbox(*argv, "sh", "-c", "test -f /target/www/index.html").returncode == 0
    assert kube.debugbox(*argv, "sh", "-c", "test -f /target/www/missing").returncode == 1
    piped = kube.debugbox(*argv, "sh", "-c", "read line; echo got-$line; exit 7", stdin="x\n")
    assert piped.returncode == 7 and "got-x" in piped.stdout, piped.stdout + piped.stderr


def test_raw_keeps_the_toolbox_shell(kube_docker: KubeEnv) -> None:
    kube = kube_docker
    kube.fake.store.add_pod("web", containers=[APP], docker=True)
    kube.fake.wait_for("default", "web", lambda p: p["status"].get("phase") == "Running")

    plan = _plan(kube, "web/app", raw=True).plan
    out = _run(kube, plan.argv, "pwd\nls /proc/1/root/www\nexit\n")

    assert "--" not in plan.argv and not any(a.startswith("--env=") for a in plan.argv)
    assert out.returncode == 0, out.stderr
    assert "debugbox: inside" not in out.stderr
    # kubectl's own lines first ("Targeting container ..."), then the toolbox's own / and the target's files
    assert out.stdout.split()[-2:] == ["/", "index.html"]


def test_copy_session_finds_the_target_behind_the_sandbox(kube_docker: KubeEnv) -> None:
    kube = kube_docker
    kube.fake.store.add_pod("web", containers=[APP], docker=True)
    kube.fake.wait_for("default", "web", lambda p: p["status"].get("phase") == "Running")

    kp = _plan(kube, "web/app", strategy="copy")
    try:
        out = _run(kube, kp.plan.argv)
    finally:
        kube.kubectl(kp.cleanup)

    assert kp.plan.strategy == "copy" and out.returncode == 0, out.stderr
    assert "(kubernetes pod copy - toolbox busybox:1.36)" in out.stderr
    # In the copy the processes are shared: PID 1 is the pod's sandbox, the target's process is another one.
    (line,) = [x for x in out.stderr.splitlines() if x.startswith("  target    PID ")]
    assert line.rstrip().endswith(": /httpd -f -p 8080 -h /www") and not line.startswith("  target    PID 1:")
    assert "/target/www" in out.stdout.split() and "mode=prod" in out.stdout.split()


def test_non_root_target_session_runs_as_its_uid(kube_docker: KubeEnv) -> None:
    kube = kube_docker
    app = {**APP, "image": NONROOT, "securityContext": {"runAsUser": 65532, "runAsGroup": 65532}}
    kube.fake.store.add_pod("web", containers=[app], docker=True)
    kube.fake.wait_for("default", "web", lambda p: p["status"].get("phase") == "Running")

    plan = _plan(kube, "web/app").plan
    out = _run(kube, plan.argv, "\nid -u\nls $TARGET_ROOT/www\nexit\n")

    assert out.returncode == 0, out.stderr
    assert "user      target uid 65532 gid 65532; this session uid 65532 gid 65532" in out.stderr
    assert "identity  uid 65532 gid 65532 (the UID of container app) without capabilities" in out.stderr
    # The busybox toolbox has no /tmp and a non-root session cannot write /: the banner says where files are.
    assert "this session (uid 65532) cannot write to the toolbox's / or /tmp" in out.stderr
    lines = out.stdout.split()  # the shell's prompts are among them (no TTY)
    assert "65532" in lines and "index.html" in lines


def test_reattach_shows_the_banner_to_the_first_terminal_that_attaches(kube_docker: KubeEnv) -> None:
    kube = kube_docker
    kube.fake.store.add_pod("web", containers=[APP], docker=True)
    kube.fake.wait_for("default", "web", lambda p: p["status"].get("phase") == "Running")
    plan = _plan(kube, "web/app").plan

    # The terminal that created the debug container goes away before anything was typed.
    leave_once_running(kube, plan.argv, "web", "debugbox-app", within=90)

    again = _plan(kube, "web/app").plan
    out = _run(kube, again.argv)

    assert again.strategy == "reattach" and again.argv[:2] == (str(KUBECTL), "attach")
    assert out.returncode == 0, out.stderr
    assert "debugbox: inside web/app" in out.stderr and "/target/www" in out.stdout.split()


def test_strace_of_the_target_from_an_ephemeral_session(kube_debian: KubeEnv) -> None:
    kube = kube_debian
    kube.fake.store.add_pod("web", containers=[APP], docker=True)
    kube.fake.wait_for("default", "web", lambda p: p["status"].get("phase") == "Running")

    plan = _plan(kube, "web/app", image=DEBIAN_TOOLBOX).plan
    out = _run(
        kube,
        plan.argv,
        "\nstrace -f -e trace=read,write -p $TARGET_PID 2>/tmp/strace.out & sleep 1; curl -s localhost:8080; "
        "sleep 1; kill $!; wait; cat /tmp/strace.out\nexit\n",
    )

    assert out.returncode == 0, out.stderr
    assert "tools     strace tcpdump curl" in out.stderr  # the banner names the toolbox's tools
    assert "hello from distroless-app" in out.stdout  # curl localhost:8080: the target's network
    assert (
        'read(0, "GET / HTTP/1.1' in out.stdout and 'write(1, "HTTP/1.1 200 OK' in out.stdout
    )  # its syscalls
