"""Crash loops and never-started containers (#13 §5): the copy debugbox builds itself keeps the failing container
up with its image's files (`core/targets/copy_pod.py`), through the real CLI, real kubectl (`attach`) and the
docker-backed fake, where the copy's init container, `emptyDir` volume and shared process namespace are real.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from debugbox.core.targets.consent import COPY_LABEL_KEY, COPY_LABEL_VALUE
from debugbox.core.targets.copy_pod import KEEP_UP_COMMAND
from debugbox.core.targets.debug_failures import EXIT_NOT_STARTED

from tests.fakes.kube.admission import RESTRICTED_CONTAINER_SECURITY
from tests.integration.kubernetes.conftest import KubeEnv

pytestmark = [pytest.mark.kubernetes, pytest.mark.docker]

BASELINE = {"pod-security.kubernetes.io/enforce": "baseline"}
#: A distroless container that exits at once (its web root does not exist), with a probe that would kill it.
CRASHING = {
    "name": "app",
    "image": "example.com/distroless-app:1",
    "command": ["/httpd", "-f", "-h", "/no-such-dir"],
    "workingDir": "/www",
    "env": [{"name": "APP_MODE", "value": "prod"}],
    "livenessProbe": {"httpGet": {"path": "/", "port": 8080}},
}
SCRIPT = "\nls /target\necho mode=$APP_MODE\nexit\n"


def _backing_off(pod: dict[str, Any]) -> bool:
    (status,) = pod["status"]["containerStatuses"]
    return bool(status["state"].get("waiting", {}).get("reason") == "CrashLoopBackOff")


def test_a_crash_looping_container_stays_up_in_the_copy_and_cleanup_removes_it(kube_docker: KubeEnv) -> None:
    kube = kube_docker
    kube.fake.store.add_namespace("default", BASELINE)
    # A kubelet's back-off starts at 10 s: long enough that the container is still backing off when planned.
    kube.fake.lifecycle.backoff_seconds = 600
    kube.fake.store.add_pod("web", "default", [CRASHING], docker=True)
    kube.fake.wait_for("default", "web", _backing_off)

    printed = kube.debugbox(
        "shell", "pod/web/app", "--image", "busybox:1.36", "--strategy", "copy", "--print"
    )
    assert json.loads(printed.stdout)[1:3] == ["attach", "-it"] and "web-debugbox" in json.loads(
        printed.stdout
    )
    assert "debugbox: create the copy first: kubectl create -f " in printed.stderr
    assert not kube.fake.requests_to("POST", "/namespaces/default/pods")  # --print creates nothing

    out = kube.debugbox("shell", "pod/web/app", "--image", "busybox:1.36", "--strategy", "copy", stdin=SCRIPT)

    assert out.returncode == 0, out.stdout + out.stderr
    assert "debugbox: inside web/app (kubernetes pod copy - toolbox busybox:1.36)" in out.stderr
    assert "  target    PID " in out.stderr and " ".join(KEEP_UP_COMMAND) in out.stderr
    lines = out.stdout.split()
    assert (
        "httpd" in lines and "www" in lines
    )  # ls /target: the failing container's files as its image has them
    assert "mode=prod" in lines  # and its variables

    # debugbox created the copy itself (not kubectl), and Pod Security `baseline` admitted it.
    (create,) = [r for r in kube.fake.requests_to("POST", "/namespaces/default/pods")]
    assert "kubectl" not in create.user_agent
    copy = kube.fake.store.get("default", "web-debugbox")
    assert copy["metadata"]["labels"] == {COPY_LABEL_KEY: COPY_LABEL_VALUE}
    spec = copy["spec"]
    app = next(c for c in spec["containers"] if c["name"] == "app")
    assert app["command"] == list(KEEP_UP_COMMAND) and "livenessProbe" not in app
    assert app["image"] == "example.com/distroless-app:1" and spec["shareProcessNamespace"] is True
    assert [c["name"] for c in spec["initContainers"]] == ["debugbox-tools"]
    # The failing container runs, and keeps running: no restart in the copy (the kubelet checks every poll).
    time.sleep(3 * kube.fake.lifecycle.poll_seconds)
    status = next(
        s
        for s in kube.fake.store.get("default", "web-debugbox")["status"]["containerStatuses"]
        if s["name"] == "app"
    )
    assert "running" in status["state"] and status["restartCount"] == 0
    assert kube.fake.docker.running("default", "web-debugbox", "app")

    listed = kube.debugbox(
        "targets", "--json", "--no-probe"
    )  # exit 1 here: the test's Docker engine is absent
    assert "web-debugbox/app" in [t["name"] for t in json.loads(listed.stdout)["targets"]], listed.stderr

    cleaned = kube.debugbox("cleanup", "--yes")
    assert cleaned.returncode == 0, cleaned.stderr
    deadline = time.monotonic() + 30
    while ("default", "web-debugbox") in kube.fake.store.pods:
        assert time.monotonic() < deadline, "the copy was not removed"
        time.sleep(0.1)
    assert ("default", "web") in kube.fake.store.pods  # only the copy


def test_in_a_restricted_namespace_the_copy_runs_as_the_targets_user(kube_docker: KubeEnv) -> None:
    """The copy's added containers get the restricted profile and the target's UID: admitted, and the session
    reads the failing container's files as that user."""
    kube = kube_docker
    kube.fake.store.add_namespace("default", {"pod-security.kubernetes.io/enforce": "restricted"})
    kube.fake.lifecycle.backoff_seconds = 600
    security = {**RESTRICTED_CONTAINER_SECURITY, "runAsUser": 65532, "runAsGroup": 65532}
    app = {**CRASHING, "image": "example.com/distroless-nonroot:1", "securityContext": security}
    kube.fake.store.add_pod("web", "default", [app], docker=True)
    kube.fake.wait_for("default", "web", _backing_off)

    out = kube.debugbox(
        "shell", "pod/web/app", "--image", "busybox:1.36", "--strategy", "copy",
        stdin="\nid -u\nls $TARGET_ROOT/\nexit\n",
    )  # fmt: skip

    assert out.returncode == 0, out.stdout + out.stderr
    assert "user      target uid 65532 gid 65532; this session uid 65532 gid 65532" in out.stderr
    lines = out.stdout.split()
    assert "65532" in lines and "httpd" in lines and "www" in lines
    copy = kube.fake.store.get("default", "web-debugbox")
    for c in [*copy["spec"]["initContainers"], *copy["spec"]["containers"]]:
        assert c["securityContext"]["runAsNonRoot"] is True and c["securityContext"]["runAsUser"] == 65532


def test_a_toolbox_without_busybox_to_lend_is_explained_in_one_sentence(kube_docker: KubeEnv) -> None:
    kube = kube_docker
    kube.fake.lifecycle.backoff_seconds = 600
    kube.fake.store.add_pod("web", "default", [CRASHING], docker=True)
    kube.fake.wait_for("default", "web", _backing_off)

    # The distroless image as the toolbox: no shell, no busybox by that name.
    flags = ("--image", "example.com/distroless-app:1", "--strategy", "copy", "--timeout", "60")
    out = kube.debugbox("shell", "pod/web/app", *flags, stdin=SCRIPT)

    assert out.returncode == EXIT_NOT_STARTED, out.stdout + out.stderr
    (line,) = [x for x in out.stderr.splitlines() if x.startswith("debugbox:")]
    assert line.startswith(
        "debugbox: init container debugbox-tools of the copy pod default/web-debugbox could not copy busybox "
        "from example.com/distroless-app:1"
    )
    assert "busybox:1.36 has one" in line and "kubectl delete pod web-debugbox -n default" in line
    assert "Traceback" not in out.stderr
