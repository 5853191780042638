"""Never wait blind (#13 §3): after `kubectl debug` asked for a debug container, debugbox watches it and ends the
session with one sentence and exit status 3 when it cannot start — through the real CLI, real kubectl and the
fake's simulated kubelet (its image table decides pull failures, run errors and the image's user).
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from debugbox.core.targets.debug_failures import EXIT_NOT_STARTED

from tests.fakes.kube import ImageSpec
from tests.fakes.kube.admission import RESTRICTED_CONTAINER_SECURITY
from tests.integration.kubernetes.conftest import KUBECTL, KubeEnv

pytestmark = pytest.mark.kubernetes

#: The per-call API timeout the tests give the CLI; the start deadline is six of them.
API_TIMEOUT = 1.0
START_DEADLINE = 6 * API_TIMEOUT


def shell(kube: KubeEnv, image: str, *extra: str) -> subprocess.CompletedProcess[str]:
    flags = ["--image", image, "--timeout", str(API_TIMEOUT), "--strategy", "ephemeral"]
    return kube.debugbox("shell", "pod/web/app", *flags, *extra)


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("debugbox:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("interactive", [False, True], ids=["command", "interactive"])
def test_unpullable_toolbox_ends_with_the_fix(kube: KubeEnv, interactive: bool) -> None:
    kube.fake.store.add_pod("web")
    kube.fake.images["registry.invalid/tools:1"] = ImageSpec(pullable=False)
    # Without a command the session is interactive (-i): kubectl itself would wait for the container forever.
    out = shell(kube, "registry.invalid/tools:1", *([] if interactive else ["--", "true"]))
    assert out.returncode == EXIT_NOT_STARTED, out.stderr
    line = _one_line(out.stderr)
    assert "cannot pull registry.invalid/tools:1" in line and "debugbox.toolboxImage" in line
    assert "ErrImagePull" in line or "ImagePullBackOff" in line
    # kubectl really asked for it (the watch is on a container that exists in the pod).
    patches = kube.fake.requests_to("PATCH", "/ephemeralcontainers")
    (patch,) = [p for p in patches if "kubectl" in p.user_agent]
    assert patch.decoded["spec"]["ephemeralContainers"][0]["image"] == "registry.invalid/tools:1"


def test_runtime_error_is_explained(kube: KubeEnv) -> None:
    kube.fake.store.add_pod("web")
    kube.fake.images["tools:broken"] = ImageSpec(
        run_error="failed to create shim task: OCI runtime create failed"
    )
    out = shell(kube, "tools:broken", "--", "true")
    assert out.returncode == EXIT_NOT_STARTED, out.stderr
    line = _one_line(out.stderr)
    assert "RunContainerError" in line and "OCI runtime create failed" in line


def test_a_container_that_never_starts_times_out(kube: KubeEnv) -> None:
    kube.fake.store.add_pod("web")
    kube.fake.lifecycle.start_seconds = 3600  # stays in ContainerCreating
    started = time.monotonic()
    out = shell(kube, "busybox:1.36")  # interactive: kubectl waits, debugbox ends it
    took = time.monotonic() - started
    assert out.returncode == EXIT_NOT_STARTED, out.stderr
    line = _one_line(out.stderr)
    assert f"did not start within {START_DEADLINE:g} s" in line and "ContainerCreating" in line
    assert took >= START_DEADLINE  # the deadline fired, not something earlier


def test_a_pod_deleted_while_the_debug_container_starts_is_said_in_one_sentence(kube: KubeEnv) -> None:
    """The pod goes away (a rollout, someone's `kubectl delete`) while its debug container is being created:
    one sentence saying so, at once — not kubectl's `pods "" not found`, nor a wait for the start deadline."""
    import threading

    kube.fake.store.add_pod("web")
    kube.fake.lifecycle.start_seconds = 3600  # stays in ContainerCreating until it is deleted
    kube.fake.lifecycle.delete_seconds = 0.2

    def delete_once_patched() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if [
                r for r in kube.fake.requests_to("PATCH", "/ephemeralcontainers") if "kubectl" in r.user_agent
            ]:
                kube.kubectl(["delete", "pod", "web", "--wait=false"])
                return
            time.sleep(0.1)

    deleter = threading.Thread(target=delete_once_patched, daemon=True)
    deleter.start()
    started = time.monotonic()
    flags = ["--image", "busybox:1.36", "--timeout", "5", "--strategy", "ephemeral"]
    out = kube.debugbox("shell", "pod/web/app", *flags)  # interactive: kubectl waits for the container
    took = time.monotonic() - started
    deleter.join(5)

    assert out.returncode == EXIT_NOT_STARTED, out.stderr
    line = _one_line(out.stderr)
    assert line.startswith("debugbox: pod default/web was deleted while debug container debugbox-app"), line
    assert took < 6 * 5  # said as soon as the watch saw it, not at the start deadline


def test_a_container_that_starts_is_not_interrupted(kube: KubeEnv) -> None:
    kube.fake.store.add_pod("web")
    out = shell(kube, "busybox:1.36", "--", "true")
    assert out.returncode == 0, out.stderr
    assert "debugbox:" not in out.stderr
    pod = kube.fake.store.get("default", "web")
    (status,) = pod["status"]["ephemeralContainerStatuses"]
    assert "running" in status["state"]


def test_session_explains_run_as_non_root_without_custom(kube: KubeEnv) -> None:
    """kubectl's own restricted profile with a root image (what debugbox did before identity): the kubelet
    refuses it, kubectl would wait forever, `debugbox session` (what editor terminals run) says why."""
    kube.fake.store.add_namespace("shop", {"pod-security.kubernetes.io/enforce": "restricted"})
    app = {"name": "app", "image": "app:1", "securityContext": RESTRICTED_CONTAINER_SECURITY}
    kube.fake.store.add_pod("web", "shop", [app])
    argv = [
        str(KUBECTL), "debug", "web", "-i", "-n", "shop", "--target=app", "--image=nicolaka/netshoot",
        "--profile=restricted", "-c", "dbg",
    ]  # fmt: skip
    watch = {"context": "fake", "namespace": "shop", "pod": "web", "container": "dbg", "ephemeral": True,
             "image": "nicolaka/netshoot"}  # fmt: skip
    out = kube.debugbox("session", "--watch", json.dumps(watch), "--timeout", str(API_TIMEOUT), "--", *argv)
    assert out.returncode == EXIT_NOT_STARTED, out.stderr
    line = _one_line(out.stderr)
    assert "runs as root but the pod requires non-root" in line and "CreateContainerConfigError" in line


def test_hold_keeps_the_sentence_on_a_terminal_until_enter(kube: KubeEnv) -> None:
    """`debugbox session --hold` (what editor terminals run): editors close a terminal when its process ends, so on a
    terminal the failure waits for Enter, and says so; without a terminal it ends at once (the test above)."""
    import os
    import pty
    import select
    import sys

    from tests.deadlines import within

    kube.fake.store.add_pod("web")
    kube.fake.images["registry.invalid/tools:1"] = ImageSpec(pullable=False)
    argv = [
        str(KUBECTL),
        "debug",
        "web",
        "-i",
        "--target=app",
        "--image=registry.invalid/tools:1",
        "-c",
        "dbg",
    ]
    watch = {"context": "fake", "namespace": "default", "pod": "web", "container": "dbg", "ephemeral": True,
             "image": "registry.invalid/tools:1"}  # fmt: skip
    controller, terminal = pty.openpty()
    env = {
        **kube.env,
        "DOCKER_HOST": f"unix://{kube.tmp}/no-docker.sock",
        "XDG_CACHE_HOME": str(kube.tmp / "c"),
    }
    cli = [sys.executable, "-m", "debugbox", "session", "--hold", "--watch", json.dumps(watch)]
    proc = subprocess.Popen(
        [*cli, "--timeout", str(API_TIMEOUT), "--", *argv],
        stdin=terminal, stdout=terminal, stderr=terminal, env=env, close_fds=True,
    )  # fmt: skip
    os.close(terminal)
    shown = b""
    try:
        deadline = time.monotonic() + within(START_DEADLINE)
        while b"press Enter to close this terminal" not in shown and time.monotonic() < deadline:
            if select.select([controller], [], [], 0.2)[0]:
                shown += os.read(controller, 4096)
        text = shown.decode(errors="replace")
        assert (
            "cannot pull registry.invalid/tools:1" in text and "press Enter to close this terminal" in text
        ), text
        assert proc.poll() is None  # held: the sentence stays on screen
        os.write(controller, b"\r")  # Enter, as a raw-mode terminal sends it
        assert proc.wait(timeout=within(API_TIMEOUT)) == EXIT_NOT_STARTED
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(controller)
