"""The "inside the target" session on Kubernetes as the user sees it (#14 §6): the real `debugbox shell
pod/web/app` on a pseudo-terminal (`tests/integration/terminal.py`), real kubectl 1.37.1 running `kubectl
debug -it` against the docker-backed fake, whose ephemeral container (the Debian toolbox built from packages:
strace, tcpdump, curl, procps) gets a terminal and shares the target's process namespace (`--target`).

Typed at the prompt, as a user would: `ps` sees the target's process, `env` has its variables, the session
starts in its working directory under its files, `strace -p` prints its syscalls while it serves a request,
`tcpdump -i any -c 1 port 8080` captures that request. For a root target and a 65532 one, whose debug
container runs as 65532 (the identity of #13 §2): there tcpdump is refused (a non-root process has no
effective capability, on a kubelet as here), and strace works or not as the host's ptrace policy says
(`kernel.yama.ptrace_scope`: without Yama, or at 0, a process may trace another of its own UID).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.kubernetes.conftest import DEBIAN_TOOLBOX, KubeEnv
from tests.integration.terminal import Terminal

pytestmark = [pytest.mark.kubernetes, pytest.mark.docker]

#: Generous bounds for one step (the debug container's start, a command); not a speed claim.
STEP = 90.0
APP = {
    "name": "app",
    "image": "example.com/distroless-app:1",
    "workingDir": "/www",
    "env": [{"name": "APP_MODE", "value": "prod"}],
}
NONROOT = {
    **APP,
    "image": "example.com/distroless-nonroot:1",
    "securityContext": {"runAsUser": 65532, "runAsGroup": 65532},
}
#: The bootstrap's prompt once in the target's working directory (`$TARGET_ROOT/www`).
PROMPT = r"\[debug web/app\] \S*/target/www [#$] "
#: strace and tcpdump in the background while curl makes the request they see; then what each printed.
TRACE = (
    "strace -f -p $TARGET_PID -o /tmp/s.out & s=$!; tcpdump -i any -n -c 1 port 8080 >/tmp/t.out 2>&1 & d=$!; "
    "sleep 1; curl -s localhost:8080; wait $d; sleep 1; kill $s; wait $s; "
    "echo ==strace; cat /tmp/s.out; echo ==tcpdump; cat /tmp/t.out; echo ==end\n"
)


def _same_uid_ptrace_allowed() -> bool:
    """Whether the host lets a process without capabilities attach to another of its UID: Yama's
    `ptrace_scope` (absent when the kernel has no Yama) 0 does, 1-3 do not."""
    scope = Path("/proc/sys/kernel/yama/ptrace_scope")
    return not scope.exists() or scope.read_text().strip() == "0"


def _session_env(kube: KubeEnv) -> dict[str, str]:
    return {
        **kube.env,
        "TERM": "xterm",
        "DOCKER_HOST": f"unix://{kube.tmp}/no-docker.sock",  # only the cluster matters here
        "XDG_CACHE_HOME": str(kube.tmp / "cache"),
    }


def _shell_argv(image: str) -> list[str]:
    return [sys.executable, "-m", "debugbox", "shell", "pod/web/app", "--image", image]


def _session(kube: KubeEnv) -> Terminal:
    return Terminal(_shell_argv(DEBIAN_TOOLBOX), _session_env(kube), rows=40, cols=200)


def _section(text: str, name: str) -> str:
    return text.split(f"\n=={name}\n", 1)[1].split("\n==", 1)[0]


@pytest.mark.parametrize(("app", "uid"), [(APP, 0), (NONROOT, 65532)], ids=["root", "uid-65532"])
def test_the_session_in_a_terminal_shows_the_target_and_its_tools_work(
    kube_debian: KubeEnv, app: dict[str, Any], uid: int
) -> None:
    kube = kube_debian
    kube.fake.store.add_pod("web", containers=[app], docker=True)
    kube.fake.wait_for("default", "web", lambda p: p["status"].get("phase") == "Running")
    root = "/target" if uid == 0 else "/tmp/target"

    term = _session(kube)
    try:
        term.expect("try pressing enter", STEP)  # kubectl attached to the debug container's terminal
        term.type("\n")  # the Enter kubectl asks for: the bootstrap then shows its banner
        banner = term.expect(PROMPT, STEP)
        assert (
            "debugbox: inside web/app (kubernetes ephemeral container - toolbox " + DEBIAN_TOOLBOX in banner
        )
        assert "  target    PID 1: /httpd -f -p 8080 -h /www" in banner  # through --target's namespace
        assert f"  user      target uid {uid} gid {uid}; this session uid {uid} gid {uid}" in banner
        assert (
            f"  files     {root} (the target's /, volumes included; = /proc/1/root); you are in {root}/www"
            in (banner)
        )
        if uid:
            assert "allows a same-uid attach (no Yama or ptrace_scope 0); tcpdump needs root" in banner
        assert {"strace", "tcpdump", "curl", "ps"} <= set(
            banner.split("  tools     ", 1)[1].split("\n")[0].split()
        )

        term.type("ps -eo pid,user,args; env; pwd; ls $TARGET_ROOT\n")
        seen = term.expect(PROMPT, STEP).split("\n")
        user = "root" if uid == 0 else "nonroot"
        assert any(re.fullmatch(rf"\s*1 {user}\s+/httpd -f -p 8080 -h /www\s*", line) for line in seen), seen
        assert "APP_MODE=prod" in seen  # the target's variables
        assert f"{root}/www" in seen  # its working directory, under its files
        assert {"httpd", "www"} <= set(" ".join(seen[seen.index(f"{root}/www") + 1 :]).split())

        term.type(TRACE)
        out = term.expect(r"(?s)\n==end\n.*?" + PROMPT, STEP)  # after the shell's job notices
        assert f"hello from {app['image'].split('/')[1].split(':')[0]}" in out  # curl: the target's network
        strace, tcpdump = _section(out, "strace"), _section(out, "tcpdump")
        if uid == 0:
            assert ".8080" in tcpdump and "1 packet captured" in tcpdump, tcpdump
        else:
            # no CAP_NET_RAW without root: the kubelet, too, gives a non-root container no effective capability
            assert "Operation not permitted" in tcpdump, tcpdump
        if uid == 0 or _same_uid_ptrace_allowed():
            # the target's syscalls while it served that request: accepting it, its child reading it
            assert "accept" in strace and '"GET / HTTP/1.1' in strace, strace
        else:
            assert "Operation not permitted" in out, out

        term.type("exit\n")
        assert term.wait(STEP) == 0
    finally:
        term.close()


def test_a_session_without_a_terminal_does_not_join_a_debug_container_with_one(kube_docker: KubeEnv) -> None:
    """After a session in a terminal (its debug container has `tty: true`), a piped one gets a new debug
    container: kubectl cannot attach to a TTY without a terminal (the runtime refuses tty with stderr)."""
    kube = kube_docker
    kube.fake.store.add_pod("web", containers=[APP], docker=True)
    kube.fake.wait_for("default", "web", lambda p: p["status"].get("phase") == "Running")
    term = Terminal(_shell_argv("busybox:1.36"), _session_env(kube))
    try:
        term.expect("try pressing enter", STEP)
        term.type("\n")
        term.expect(PROMPT, STEP)
    finally:
        term.close()  # the terminal goes away; its debug container stays in the pod

    piped = kube.debugbox(
        "shell", "pod/web/app", "--image", "busybox:1.36", stdin="\necho piped-$((6*7))\nexit\n"
    )

    assert piped.returncode == 0, piped.stderr
    assert "piped-42" in piped.stdout  # a new debug container ran it (below), not a refused attach
    spec = kube.fake.store.get("default", "web")["spec"]["ephemeralContainers"]
    assert [(e["name"], e.get("tty", False)) for e in spec] == [
        ("debugbox-app", True),
        ("debugbox-app-2", False),
    ]


def test_a_second_terminal_reattaches_and_gets_the_banner(kube_docker: KubeEnv) -> None:
    """The first terminal goes away before anything was typed: `debugbox shell` from another terminal joins the
    same debug container through real `kubectl attach -it`, and the bootstrap's banner shows there."""
    kube = kube_docker
    kube.fake.store.add_pod("web", containers=[APP], docker=True)
    kube.fake.wait_for("default", "web", lambda p: p["status"].get("phase") == "Running")
    first = Terminal(_shell_argv("busybox:1.36"), _session_env(kube))
    try:
        first.expect("try pressing enter", STEP)
    finally:
        first.close()

    again = Terminal(_shell_argv("busybox:1.36"), _session_env(kube), rows=30, cols=120)
    try:
        plan = again.expect("try pressing enter", STEP)
        assert "(attach debugbox-app)" in plan  # reattach: no second debug container
        again.type("\n")
        banner = again.expect(PROMPT, STEP)
        assert "debugbox: inside web/app (kubernetes ephemeral container - toolbox busybox:1.36)" in banner
        again.type("stty size; echo mode=$APP_MODE\n")
        seen = again.expect(PROMPT, STEP)
        assert "30 120" in seen and "mode=prod" in seen
        again.type("exit\n")
        assert again.wait(STEP) == 0
    finally:
        again.close()
    assert [e["name"] for e in kube.fake.store.get("default", "web")["spec"]["ephemeralContainers"]] == [
        "debugbox-app"
    ]
