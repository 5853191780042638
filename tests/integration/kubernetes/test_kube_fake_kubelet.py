"""The simulated kubelet of the fake: a created pod is Pending, then the scheduler and kubelet move it on, and
watches carry each change; the image table decides what a container does (pull failure, runAsNonRoot against the
image's user, a runtime error, a crash loop). Seen through real kubectl and the real Python client.

Sources (cited in `tests/fakes/kube/kubelet.py`): `pkg/registry/core/pod/strategy.go` `PrepareForCreate`,
`pkg/kubelet/kubelet_pods.go` (statuses, `getPhase`, `validateContainerLogStatus`),
`pkg/kubelet/kuberuntime/security_context_others.go` `verifyRunAsNonRoot`, `pkg/kubelet/images/image_manager.go`,
`pkg/kubelet/kuberuntime/kuberuntime_manager.go` `doBackOff`.
"""

from __future__ import annotations

import subprocess
import time
from typing import Any

import pytest

from tests.fakes.kube import ImageSpec
from tests.fakes.kube.admission import RESTRICTED_CONTAINER_SECURITY
from tests.integration.kubernetes.conftest import KUBECTL, KubeEnv

#: How long real kubectl may take to start and open its watch on a loaded machine.
WATCH_START_SECONDS = 60

pytestmark = pytest.mark.kubernetes


@pytest.fixture
def core(kube: KubeEnv) -> Any:
    from kubernetes import client, config

    cfg = client.Configuration()
    config.load_kube_config(config_file=str(kube.kubeconfig), client_configuration=cfg, persist_config=False)
    return client.CoreV1Api(client.ApiClient(cfg))


def _state(pod: dict[str, Any], container: str, key: str = "containerStatuses") -> dict[str, Any]:
    for s in pod["status"].get(key) or []:
        if s["name"] == container:
            return dict(s)
    return {}


def _waiting_reason(container: str, reason: str, key: str = "containerStatuses") -> Any:
    return lambda p: _state(p, container, key).get("state", {}).get("waiting", {}).get("reason") == reason


def test_a_created_pod_goes_pending_scheduled_creating_running_and_watches_see_it(
    kube: KubeEnv, core: Any
) -> None:
    from kubernetes import watch

    created = core.create_namespaced_pod(
        "default", {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    )
    assert created.status.phase == "Pending" and created.status.container_statuses is None
    stream = watch.Watch().stream(
        core.list_namespaced_pod, "default", field_selector="metadata.name=p",
        resource_version=created.metadata.resource_version, timeout_seconds=10,
    )  # fmt: skip
    seen = []
    for event in stream:
        pod = event["object"]
        statuses = pod.status.container_statuses or []
        state = statuses[0].state if statuses else None
        shown = state and (state.waiting.reason if state.waiting else "running" if state.running else "")
        seen.append((event["type"], pod.status.phase, bool(pod.spec.node_name), shown))
        if pod.status.phase == "Running":
            break
    assert seen == [
        ("MODIFIED", "Pending", True, None),  # scheduled: nodeName, PodScheduled
        ("MODIFIED", "Pending", True, "ContainerCreating"),
        ("MODIFIED", "Running", True, "running"),
    ]
    out = kube.kubectl(["wait", "pod/p", "--for=condition=Ready", "--timeout=10s"])
    assert out.returncode == 0, out.stderr


def test_kubectl_get_watch_prints_the_transitions(kube: KubeEnv) -> None:
    # The watch is open before the pod exists (a list watch by name), so no transition can happen before kubectl
    # has started, however loaded the machine is.
    watch = subprocess.Popen(
        [
            str(KUBECTL),
            "get",
            "pods",
            "--watch",
            "--field-selector=metadata.name=web",
            "-o",
            "jsonpath={.status.phase}{'\\n'}",
        ],
        env=kube.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + WATCH_START_SECONDS
        while not any(r.query.get("watch") for r in kube.fake.requests_to("GET", "/namespaces/default/pods")):
            assert watch.poll() is None and time.monotonic() < deadline, "kubectl never opened its watch"
            time.sleep(0.05)
        kube.fake.store.add_pod("web", lifecycle=True)
        phases: list[str] = []
        assert watch.stdout is not None
        while "Running" not in phases:
            line = watch.stdout.readline()
            assert line, (
                f"the watch ended before Running: {phases}, {watch.stderr.read() if watch.stderr else ''}"
            )
            phases.append(line.strip())
    finally:
        watch.kill()
        watch.wait(timeout=30)
    assert phases[0] == "Pending" and phases[-1] == "Running", phases


def test_an_image_that_cannot_be_pulled(kube: KubeEnv) -> None:
    kube.fake.images["registry.example/private/app"] = ImageSpec(
        pullable=False, pull_error="pull access denied"
    )
    kube.fake.store.add_pod(
        "web", containers=[{"name": "app", "image": "registry.example/private/app:1"}], lifecycle=True
    )
    pod = kube.fake.wait_for("default", "web", _waiting_reason("app", "ErrImagePull"))
    assert _state(pod, "app")["state"]["waiting"]["message"] == "pull access denied"
    pod = kube.fake.wait_for("default", "web", _waiting_reason("app", "ImagePullBackOff"))
    assert (
        _state(pod, "app")["state"]["waiting"]["message"]
        == 'Back-off pulling image "registry.example/private/app:1"'
    )
    assert pod["status"]["phase"] == "Pending"
    out = kube.kubectl(["logs", "web"])
    assert 'container "app" in pod "web" is waiting to start: trying and failing to pull image' in out.stderr


@pytest.mark.parametrize(
    ("user", "message"),
    [
        ("", 'container has runAsNonRoot and image will run as root (pod: "web_default({uid})", container: dbg)'),
        ("0:0", 'container has runAsNonRoot and image will run as root (pod: "web_default({uid})", container: dbg)'),
        ("nonroot", "container has runAsNonRoot and image has non-numeric user (nonroot), cannot verify user is "
                    'non-root (pod: "web_default({uid})", container: dbg)'),
        ("65532", None),
    ],
)  # fmt: skip
def test_run_as_non_root_against_the_images_user(kube: KubeEnv, user: str, message: str | None) -> None:
    """kubectl's restricted profile sets runAsNonRoot; whether the kubelet starts the container depends on the
    user the debug image runs as."""
    kube.fake.images["toolbox.example/debug"] = ImageSpec(user=user)
    app = {"name": "app", "image": "distroless", "securityContext": RESTRICTED_CONTAINER_SECURITY}
    uid = kube.fake.store.add_pod("web", containers=[app])["metadata"]["uid"]
    argv = [
        "debug",
        "web",
        "--image=toolbox.example/debug:2",
        "--target=app",
        "-c",
        "dbg",
        "--profile=restricted",
    ]
    assert kube.kubectl(argv).returncode == 0
    key = "ephemeralContainerStatuses"
    if message is None:
        pod = kube.fake.wait_for(
            "default", "web", lambda p: "running" in _state(p, "dbg", key).get("state", {})
        )
        return
    pod = kube.fake.wait_for("default", "web", _waiting_reason("dbg", "CreateContainerConfigError", key))
    assert _state(pod, "dbg", key)["state"]["waiting"]["message"] == message.format(uid=uid)


def test_a_runtime_error(kube: KubeEnv) -> None:
    error = 'failed to create containerd task: exec: "/app": stat /app: no such file or directory: unknown'
    kube.fake.images["broken"] = ImageSpec(run_error=error)
    kube.fake.store.add_pod("web", containers=[{"name": "app", "image": "broken"}], lifecycle=True)
    pod = kube.fake.wait_for("default", "web", _waiting_reason("app", "RunContainerError"))
    assert _state(pod, "app")["state"]["waiting"]["message"] == error


def test_a_crash_loop(kube: KubeEnv) -> None:
    kube.fake.lifecycle.max_restarts = 2
    kube.fake.images["crashy"] = ImageSpec(exit_code=2, runs_for=0.05)
    uid = kube.fake.store.add_pod("web", containers=[{"name": "app", "image": "crashy"}], lifecycle=True)[
        "metadata"
    ]["uid"]
    pod = kube.fake.wait_for("default", "web", lambda p: _state(p, "app").get("restartCount") == 2)
    status = _state(pod, "app")
    assert status["state"]["waiting"] == {
        "reason": "CrashLoopBackOff",
        "message": f"back-off 20s restarting failed container=app pod=web_default({uid})",
    }
    assert (
        status["lastState"]["terminated"]["exitCode"] == 2
        and status["lastState"]["terminated"]["reason"] == "Error"
    )
    assert pod["status"]["phase"] == "Running"
    out = kube.kubectl(["get", "pod", "web", "-o", "jsonpath={.status.containerStatuses[0].restartCount}"])
    assert out.stdout == "2"


def test_an_ephemeral_container_that_exits_is_not_restarted(kube: KubeEnv) -> None:
    kube.fake.images["busybox"] = ImageSpec(exit_code=0, runs_for=0.05)
    kube.fake.store.add_pod("web")
    assert (
        kube.kubectl(
            ["debug", "web", "--image=busybox", "--target=app", "-c", "dbg", "--", "true"]
        ).returncode
        == 0
    )
    key = "ephemeralContainerStatuses"
    pod = kube.fake.wait_for(
        "default", "web", lambda p: "terminated" in _state(p, "dbg", key).get("state", {})
    )
    assert _state(pod, "dbg", key)["state"]["terminated"]["reason"] == "Completed"
    assert _state(pod, "dbg", key)["restartCount"] == 0


def test_graceful_deletion_then_gone(kube: KubeEnv) -> None:
    kube.fake.store.add_pod("web")
    out = kube.kubectl(["delete", "pod", "web"])  # waits for the DELETED event
    assert out.returncode == 0 and 'pod "web" deleted' in out.stdout
    kinds = [(kind, bool(pod["metadata"].get("deletionTimestamp"))) for _, kind, pod in kube.fake.store.events if
             pod["metadata"]["name"] == "web"]  # fmt: skip
    assert kinds == [("ADDED", False), ("MODIFIED", True), ("DELETED", True)]
