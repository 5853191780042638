"""Real kubectl exec / attach / debug -i / logs against docker-backed pods of the fake: the websocket
remote-command protocol (v5.channel.k8s.io) to real processes, and what those processes print."""

from __future__ import annotations

import subprocess

import pytest

from tests.integration.kubernetes.conftest import KubeEnv

pytestmark = [pytest.mark.kubernetes, pytest.mark.docker]

SHELL_APP = "example.com/shell-app:1"
DISTROLESS = "example.com/distroless-app:1"


def _kubectl_input(
    kube: KubeEnv, argv: list[str], stdin: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    from tests.integration.kubernetes.conftest import KUBECTL

    return subprocess.run(
        [str(KUBECTL), *argv], env=kube.env, input=stdin, capture_output=True, text=True, timeout=timeout
    )


def test_exec_runs_a_real_process_over_websocket_and_returns_its_exit_code(kube_docker: KubeEnv) -> None:
    kube = kube_docker
    kube.fake.store.add_pod("web", containers=[{"name": "app", "image": SHELL_APP}], docker=True)

    out = kube.kubectl(["exec", "web", "-c", "app", "--", "sh", "-c", "echo out; echo err >&2; hostname"])
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["out", "web"] and "err" in out.stderr
    (request,) = kube.fake.requests_to("GET", "/pods/web/exec")
    assert request.query["command"] == ["sh", "-c", "echo out; echo err >&2; hostname"]

    out = kube.kubectl(["exec", "web", "--", "sh", "-c", "exit 3"])
    assert out.returncode == 3  # the NonZeroExitCode status on the error channel became kubectl's exit code
    assert "command terminated with exit code 3" in out.stderr

    out = _kubectl_input(kube, ["exec", "-i", "web", "--", "sh", "-c", "tr a-z A-Z"], "hello stdin\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "HELLO STDIN\n"  # stdin went in on channel 0 and was closed with [255, 0]


def test_debug_target_shares_the_process_namespace_only_when_the_runtime_supports_it(
    kube_docker: KubeEnv,
) -> None:
    kube = kube_docker
    kube.fake.store.add_pod("web", containers=[{"name": "app", "image": DISTROLESS}], docker=True)

    argv = ["debug", "web", "-i", "--image=busybox:1.36", "--target=app", "-c", "dbg", "--", "sh"]
    out = _kubectl_input(kube, argv, "ps -o pid,args\nexit\n", timeout=90)
    assert out.returncode == 0, out.stderr
    assert "/httpd -f -p 8080" in out.stdout  # the target's process, seen from the debug container
    attach = [r for r in kube.fake.requests if r.path.endswith("/pods/web/attach")]
    assert attach and attach[0].method == "GET" and attach[0].q("container") == "dbg"

    kube.fake.lifecycle.supports_target = False
    argv = ["debug", "web", "-i", "--image=busybox:1.36", "--target=app", "-c", "dbg2", "--", "sh"]
    out = _kubectl_input(kube, argv, "ps -o pid,args\nexit\n", timeout=90)
    assert out.returncode == 0, out.stderr
    assert "httpd" not in out.stdout and "    1 sh" in out.stdout  # only its own processes: sh is PID 1
    assert kube.fake.kubelet.pid_namespace_of("default", "web", "dbg2") == "dbg2"
    assert kube.fake.kubelet.pid_namespace_of("default", "web", "dbg") == "app"


def test_logs_of_a_docker_backed_container(kube_docker: KubeEnv) -> None:
    kube = kube_docker
    job = {
        "name": "job",
        "image": "busybox:1.36",
        "command": ["sh", "-c", "echo line-1; echo line-2; sleep 600"],
    }
    kube.fake.store.add_pod("batch", containers=[job], docker=True)
    kube.fake.wait_for("default", "batch", lambda p: p["status"].get("phase") == "Running")
    out = kube.kubectl(["logs", "batch"])
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["line-1", "line-2"]


def test_teardown_removes_every_container(kube_docker: KubeEnv) -> None:
    kube = kube_docker
    kube.fake.store.add_pod("web", containers=[{"name": "app", "image": DISTROLESS}], docker=True)
    label = f"label=io.debugbox.fake-kube={kube.fake.docker.id}"  # type: ignore[union-attr]
    listed = subprocess.run(
        ["docker", "ps", "-q", "--filter", label], capture_output=True, text=True, timeout=30
    )
    assert len(listed.stdout.split()) == 2  # the sandbox and app
    kube.fake.stop()
    listed = subprocess.run(
        ["docker", "ps", "-aq", "--filter", label], capture_output=True, text=True, timeout=30
    )
    assert listed.stdout.split() == []


def test_a_copy_with_shared_processes_runs_real_containers_and_delete_removes_them(
    kube_docker: KubeEnv,
) -> None:
    kube = kube_docker
    kube.fake.store.add_pod("web", containers=[{"name": "app", "image": DISTROLESS}], docker=True)
    argv = [
        "debug",
        "web",
        "-i",
        "--copy-to=web-copy",
        "--share-processes",
        "--image=busybox:1.36",
        "-c",
        "dbg",
    ]
    out = _kubectl_input(kube, [*argv, "--", "sh"], "ps -o pid,args\nexit\n", timeout=90)
    assert out.returncode == 0, out.stderr
    assert "/httpd -f -p 8080" in out.stdout  # the copy's app, seen through the pod's shared PID namespace
    assert kube.fake.kubelet.pid_namespace_of("default", "web-copy", "dbg") == "pod"
    label = "label=io.kubernetes.pod.name=web-copy"
    out = kube.kubectl(["delete", "pod", "web-copy"])
    assert out.returncode == 0, out.stderr
    ours = f"label=io.debugbox.fake-kube={kube.fake.docker.id}"  # type: ignore[union-attr]
    listed = subprocess.run(
        ["docker", "ps", "-aq", "--filter", ours, "--filter", label],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert listed.stdout.split() == []


def test_unmasking_follows_rfc_6455_for_every_length() -> None:
    import os

    from tests.fakes.kube.streaming import unmask

    mask = bytes([0x37, 0xFA, 0x21, 0x3D])
    for n in (0, 1, 3, 4, 5, 125, 126, 65536, 65537):
        payload = os.urandom(n)
        assert unmask(payload, mask) == bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
