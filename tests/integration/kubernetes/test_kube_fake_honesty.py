"""The fake API server is honest about pods/ephemeralcontainers and the pod routes: it rejects what a real API
server rejects, the way it does (each rule cites its Kubernetes source in `tests/fakes/kube/`), shown here with
the real kubectl or the real Python client, and it accepts what they send. Authentication, RBAC, validation,
Pod Security, field selectors and the kubelet have their own files (`test_kube_fake_*.py`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.kube import MIRROR_ANNOTATION, ImageSpec
from tests.integration.kubernetes.conftest import KubeEnv

pytestmark = pytest.mark.kubernetes


@pytest.fixture
def core(kube: KubeEnv) -> Iterator[Any]:
    from kubernetes import client, config

    cfg = client.Configuration()
    config.load_kube_config(config_file=str(kube.kubeconfig), client_configuration=cfg, persist_config=False)
    api = client.ApiClient(cfg)
    yield client.CoreV1Api(api)
    api.close()


def _status(exc: Any) -> dict[str, Any]:
    body = json.loads(exc.body)
    assert body["kind"] == "Status" and body["apiVersion"] == "v1" and body["status"] == "Failure"
    assert body["code"] == exc.status
    return body


def _seed(kube: KubeEnv, **kw: Any) -> None:
    kube.fake.store.add_pod("web", containers=[{"name": "app", "image": "nginx:1.27"}], **kw)


DBG = [{"name": "dbg1", "image": "busybox", "targetContainerName": "app"}]


def test_unknown_target_container_is_invalid(kube: KubeEnv) -> None:
    _seed(kube)
    out = kube.kubectl(["debug", "web", "--image=busybox", "--target=nope", "-c", "dbg"])
    assert out.returncode == 1
    assert (
        'The Pod "web" is invalid: spec.ephemeralContainers[0].targetContainerName: Not found: "nope"'
        in out.stderr
    )


def test_name_clashing_with_a_container_is_invalid(kube: KubeEnv, core: Any) -> None:
    _seed(kube)
    out = kube.kubectl(["debug", "web", "--image=busybox", "--target=app", "-c", "app"])
    assert out.returncode == 1
    assert 'spec.ephemeralContainers[0].name: Duplicate value: "app"' in out.stderr
    from kubernetes.client.exceptions import ApiException

    with pytest.raises(ApiException) as err:
        core.patch_namespaced_pod_ephemeralcontainers(
            "web", "default", {"spec": {"ephemeralContainers": [{"name": "app", "image": "busybox"}]}}
        )
    body = _status(err.value)
    assert body["reason"] == "Invalid" and body["code"] == 422
    assert body["details"] == {
        "name": "web",
        "kind": "Pod",
        "causes": [
            {
                "reason": "FieldValueDuplicate",
                "message": 'Duplicate value: "app"',
                "field": "spec.ephemeralContainers[0].name",
            }
        ],
    }


def test_existing_ephemeral_containers_may_not_be_changed(kube: KubeEnv, core: Any) -> None:
    _seed(kube, ephemeral=DBG)
    out = kube.kubectl(["debug", "web", "--image=alpine", "--target=app", "-c", "dbg1"])
    assert out.returncode == 1
    assert 'existing ephemeral containers \\"dbg1\\" may not be changed' in out.stderr or (
        'existing ephemeral containers "dbg1" may not be changed' in out.stderr
    )
    from kubernetes.client.exceptions import ApiException

    with pytest.raises(ApiException) as err:  # JSON patch, as the Python client sends for a list body
        core.patch_namespaced_pod_ephemeralcontainers(
            "web",
            "default",
            [{"op": "replace", "path": "/spec/ephemeralContainers/0/image", "value": "alpine"}],
        )
    assert err.value.status == 422 and "may not be changed" in _status(err.value)["message"]
    assert kube.fake.requests[-1].content_type == "application/json-patch+json"


def test_existing_ephemeral_containers_may_not_be_removed(kube: KubeEnv, core: Any) -> None:
    _seed(kube, ephemeral=DBG)
    from kubernetes.client.exceptions import ApiException

    for body in (
        [{"op": "remove", "path": "/spec/ephemeralContainers/0"}],
        {"spec": {"ephemeralContainers": [{"name": "dbg1", "$patch": "delete"}]}},
    ):
        with pytest.raises(ApiException) as err:
            core.patch_namespaced_pod_ephemeralcontainers("web", "default", body)
        status = _status(err.value)
        assert status["code"] == 422
        assert 'existing ephemeral containers "dbg1" may not be removed' in status["message"]
    assert kube.fake.store.get("default", "web")["spec"]["ephemeralContainers"][0]["name"] == "dbg1"


def test_fields_ephemeral_containers_may_not_have(kube: KubeEnv, core: Any) -> None:
    _seed(kube)
    from kubernetes.client.exceptions import ApiException

    container = {
        "name": "dbg",
        "image": "busybox",
        "ports": [{"containerPort": 80}],
        "resources": {"limits": {"cpu": "1"}},
    }
    with pytest.raises(ApiException) as err:
        core.patch_namespaced_pod_ephemeralcontainers(
            "web", "default", {"spec": {"ephemeralContainers": [container]}}
        )
    fields = [c["field"] for c in _status(err.value)["details"]["causes"]]
    assert fields == ["spec.ephemeralContainers[0].ports", "spec.ephemeralContainers[0].resources"]


def test_static_pods_refuse_ephemeral_containers(kube: KubeEnv) -> None:
    _seed(kube, annotations={MIRROR_ANNOTATION: "hash"})
    out = kube.kubectl(["debug", "web", "--image=busybox", "--target=app", "-c", "dbg"])
    assert out.returncode == 1
    assert "static pods do not support ephemeral containers" in out.stderr


def test_disabled_ephemeral_containers_answer_404_without_a_name(kube: KubeEnv, core: Any) -> None:
    _seed(kube)
    kube.fake.faults.ephemeral_disabled = True
    out = kube.kubectl(["debug", "web", "--image=busybox", "--target=app", "-c", "dbg"])
    assert out.returncode == 1 and "the server could not find the requested resource" in out.stderr
    from kubernetes.client.exceptions import ApiException

    with pytest.raises(ApiException) as err:
        core.patch_namespaced_pod_ephemeralcontainers(
            "web", "default", {"spec": {"ephemeralContainers": DBG}}
        )
    assert err.value.status == 404 and not _status(err.value)["details"].get("name")


def test_missing_pod_is_404_with_its_name(kube: KubeEnv) -> None:
    out = kube.kubectl(["debug", "ghost", "--image=busybox", "-c", "dbg"])
    assert out.returncode == 1
    assert 'pods "ghost" not found' in out.stderr


def test_the_denied_switch_answers_like_the_authorizer(kube: KubeEnv) -> None:
    _seed(kube)
    kube.fake.faults.denied.add(("patch", "pods/ephemeralcontainers"))
    out = kube.kubectl(["debug", "web", "--image=busybox", "--target=app", "-c", "dbg"])
    assert out.returncode == 1
    assert (
        'pods "web" is forbidden: User "debugbox-admin" cannot patch resource "pods/ephemeralcontainers" '
        'in API group "" in the namespace "default"' in out.stderr
    )


def test_the_unauthorized_switch(kube: KubeEnv) -> None:
    kube.fake.faults.unauthorized = True
    out = kube.kubectl(["get", "pods"])
    assert out.returncode == 1 and "You must be logged in to the server" in out.stderr


def test_copy_to_an_existing_name_conflicts(kube: KubeEnv) -> None:
    _seed(kube)
    argv = ["debug", "web", "--copy-to=web-copy", "--share-processes", "--image=busybox", "-c", "dbg"]
    assert kube.kubectl(argv).returncode == 0
    out = kube.kubectl(argv)
    assert out.returncode == 1
    assert 'Error from server (AlreadyExists): pods "web-copy" already exists' in out.stderr


def test_unsupported_patch_content_type_is_415(kube: KubeEnv, core: Any) -> None:
    _seed(kube)
    api = core.api_client
    response = api.call_api(
        *api.param_serialize(
            method="PATCH",
            resource_path="/api/v1/namespaces/default/pods/web/ephemeralcontainers",
            header_params={"Content-Type": "application/xml", "Accept": "application/json"},
            body="<pod/>",
            auth_settings=["BearerToken"],
        )
    )
    response.read()
    assert response.status == 415
    body = json.loads(response.data)
    assert body["reason"] == "UnsupportedMediaType" and body["code"] == 415
    assert kube.fake.requests[-1].content_type == "application/xml"


def test_bad_label_selectors_are_400(kube: KubeEnv, core: Any) -> None:
    from kubernetes.client.exceptions import ApiException

    with pytest.raises(ApiException) as err:
        core.list_namespaced_pod("default", label_selector="app in web")
    assert err.value.status == 400 and _status(err.value)["reason"] == "BadRequest"


def test_dry_run_validates_without_storing(kube: KubeEnv, core: Any) -> None:
    _seed(kube)
    before = kube.fake.store.get("default", "web")
    core.patch_namespaced_pod_ephemeralcontainers(
        "web", "default", {"spec": {"ephemeralContainers": DBG}}, dry_run="All"
    )
    assert kube.fake.store.get("default", "web") == before
    from kubernetes.client.exceptions import ApiException

    with pytest.raises(ApiException) as err:
        core.patch_namespaced_pod_ephemeralcontainers(
            "web", "default", {"spec": {"ephemeralContainers": DBG}}, dry_run="Bogus"
        )
    assert 'dryRun: Unsupported value: "Bogus"' in _status(err.value)["message"]


def test_accepts_what_real_clients_send(kube: KubeEnv, core: Any) -> None:
    """Acceptance matters as much: kubectl's merge-by-name patches and the client's JSON patches pass."""
    _seed(kube)
    assert kube.kubectl(["debug", "web", "--image=busybox", "--target=app", "-c", "dbg1"]).returncode == 0
    assert kube.kubectl(["debug", "web", "--image=busybox", "--target=app", "-c", "dbg2"]).returncode == 0
    core.patch_namespaced_pod_ephemeralcontainers(
        "web",
        "default",
        [{"op": "add", "path": "/spec/ephemeralContainers/-", "value": {"name": "dbg3", "image": "busybox"}}],
    )
    kube.fake.wait_for(
        "default", "web", lambda p: len(p["status"].get("ephemeralContainerStatuses", [])) == 3
    )
    pod = core.read_namespaced_pod("web", "default")  # deserialised into V1Pod by the real client
    assert [c.name for c in pod.spec.ephemeral_containers] == ["dbg1", "dbg2", "dbg3"]
    assert {s.name for s in pod.status.ephemeral_container_statuses} == {"dbg1", "dbg2", "dbg3"}
    assert pod.spec.ephemeral_containers[0].termination_message_policy == "File"
    assert pod.spec.ephemeral_containers[0].image_pull_policy == "Always"  # defaulted: no tag means :latest
    # kubectl get with a set-based selector is filtered by the server
    kube.fake.store.add_pod("canary", labels={"app": "web", "track": "canary"})
    out = kube.kubectl(["get", "pods", "-l", "app=web,track notin (stable)", "-o", "name"])
    assert out.returncode == 0 and out.stdout.split() == ["pod/canary"]


def test_interactive_debug_waits_for_the_kubelet_then_falls_back_to_logs(kube: KubeEnv) -> None:
    """`-i` drives the watch: kubectl waits until a MODIFIED event shows the container running (the simulated
    kubelet's doing, not the PATCH's), then tries to attach (a simulated pod runs no process: 400) and streams
    the log the image table says the container wrote."""
    _seed(kube)
    kube.fake.images["busybox"] = ImageSpec(logs="hello from the debug container\n")
    out = kube.kubectl(["debug", "web", "-i", "--image=busybox", "--target=app", "-c", "dbg"], timeout=60)
    assert out.returncode == 0, out.stderr
    assert "falling back to streaming logs" in out.stderr and "not docker-backed" in out.stderr
    assert out.stdout.endswith("hello from the debug container\n")
    watch = [r for r in kube.fake.requests if r.q("watch") == "true"]
    assert watch and watch[0].q("fieldSelector") == "metadata.name=web"
    attach = [r for r in kube.fake.requests if r.path.endswith("/pods/web/attach")]
    assert attach and all(r.q("container") == "dbg" for r in attach)
    assert len(kube.fake.requests_to("PATCH", "/ephemeralcontainers")) == 1
    states = [
        next(iter(s["state"]))
        for rv, kind, pod in kube.fake.store.events
        for s in pod["status"].get("ephemeralContainerStatuses", [])
        if kind == "MODIFIED"
    ]
    assert states[:2] == ["waiting", "running"]  # ContainerCreating first, then running


def test_create_pod_in_json_then_conflict(kube: KubeEnv, core: Any) -> None:
    body = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    created = core.create_namespaced_pod("default", body)
    assert created.metadata.uid and created.spec.containers[0].termination_message_policy == "File"
    # PrepareForCreate: Pending, no node, no container statuses yet; the kubelet fills them in later
    assert created.spec.security_context is not None and created.status.phase == "Pending"
    assert created.status.container_statuses is None and created.spec.node_name is None
    assert kube.fake.requests[-1].content_type == ""  # the client sends none; a real server then reads JSON
    from kubernetes.client.exceptions import ApiException

    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod("default", body)
    status = _status(err.value)
    assert status["reason"] == "AlreadyExists" and status["details"] == {"name": "p", "kind": "pods"}
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod("default", {"metadata": {"name": "q"}, "spec": {"containers": []}})
    assert _status(err.value)["details"]["causes"][0]["field"] == "spec.containers"


@pytest.mark.parametrize(
    ("body", "code", "expected"),
    [
        ({"spec": {"ephemeralContainers": [{"name": "Dbg", "image": "busybox"}]}}, 422,
         'spec.ephemeralContainers[0].name: Invalid value: "Dbg": a lowercase RFC 1123 label'),
        ({"spec": {"ephemeralContainers": [{"name": "dbg"}]}}, 422,
         "spec.ephemeralContainers[0].image: Required value"),
        ({"metadata": {"name": "other"}}, 400, "does not match the name on the URL (web)"),
        ([{"op": "add", "path": "/spec/nothing/here", "value": 1}], 422, "doc is missing path"),
        ([{"op": "test", "path": "/metadata/name", "value": "x"}], 422, "test failed"),
    ],
)  # fmt: skip
def test_more_patch_rejections(kube: KubeEnv, core: Any, body: Any, code: int, expected: str) -> None:
    _seed(kube)
    from kubernetes.client.exceptions import ApiException

    with pytest.raises(ApiException) as err:
        core.patch_namespaced_pod_ephemeralcontainers("web", "default", body)
    assert err.value.status == code and expected in _status(err.value)["message"]


def test_post_rejections(kube: KubeEnv, core: Any) -> None:
    from kubernetes.client.exceptions import ApiException

    body = {
        "metadata": {"name": "p", "namespace": "other"},
        "spec": {"containers": [{"name": "c", "image": "i"}]},
    }
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod("default", body)
    assert err.value.status == 400 and "does not match the namespace sent on the request" in err.value.body
    api = core.api_client
    request = api.param_serialize(
        method="POST",
        resource_path="/api/v1/namespaces/default/pods",
        header_params={"Content-Type": "text/plain", "Accept": "application/json"},
        body="metadata: {name: p}",
        auth_settings=["BearerToken"],
    )
    response = api.call_api(*request)
    response.read()
    assert response.status == 415 and json.loads(response.data)["reason"] == "UnsupportedMediaType"


def test_unknown_paths_and_logs_of_unknown_containers(kube: KubeEnv) -> None:
    _seed(kube)
    out = kube.kubectl(["logs", "web", "-c", "nope"])
    assert out.returncode == 1 and "container nope is not valid for pod web" in out.stderr
    out = kube.kubectl(["get", "--raw", "/apis/apps/v1/deployments"])
    assert out.returncode == 1 and "the server could not find the requested resource" in out.stderr


def test_pod_patch_changes_labels_but_refuses_spec_changes_like_validate_pod_update(kube: KubeEnv) -> None:
    """PATCH pods/NAME (`ValidatePodUpdate`): real `kubectl label` (a JSON merge patch) works; a spec change
    other than images/activeDeadlineSeconds/tolerations is 422 with the real message; status stays."""
    kube.fake.store.add_pod("web")
    out = kube.kubectl(["label", "pod", "web", "debugbox.dev/created-by=debugbox"])
    assert out.returncode == 0, out.stderr
    (patch,) = kube.fake.requests_to("PATCH", "/pods/web")
    assert patch.content_type == "application/merge-patch+json"
    pod = kube.fake.store.get("default", "web")
    assert pod["metadata"]["labels"] == {"debugbox.dev/created-by": "debugbox"}
    assert pod["status"]["phase"] == "Running"

    out = kube.kubectl(["patch", "pod", "web", "-p", '{"spec":{"shareProcessNamespace":true}}'])
    assert out.returncode == 1
    assert (
        'The Pod "web" is invalid: spec: Forbidden: pod updates may not change fields other than'
        in out.stderr
    )
    out = kube.kubectl(["set", "image", "pod/web", "app=busybox:1.37"])
    assert out.returncode == 0, out.stderr
    assert kube.fake.store.get("default", "web")["spec"]["containers"][0]["image"] == "busybox:1.37"


# --- volumes and volume mounts (`ValidateVolumes` / `ValidateVolumeMounts`, validation.go): the copy debugbox
# builds (`core/targets/copy_pod.py`) brings an emptyDir volume and mounts ---

VOLUME = {"name": "tools", "emptyDir": {}}


def _refused(core: Any, volumes: list[Any], mounts: list[Any]) -> list[tuple[str, str]]:
    from kubernetes.client.exceptions import ApiException

    container = {"name": "app", "image": "busybox", "volumeMounts": mounts}
    body = {"metadata": {"name": "p"}, "spec": {"containers": [container], "volumes": volumes}}
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod("default", body)
    status = json.loads(err.value.body)
    assert err.value.status == 422 and status["reason"] == "Invalid"
    return [(c["field"], c["message"]) for c in status["details"]["causes"]]


def test_a_mount_must_name_a_volume_of_the_pod(core: Any) -> None:
    causes = _refused(core, [VOLUME], [{"name": "tool", "mountPath": "/t"}])
    assert causes == [("spec.containers[0].volumeMounts[0].name", 'Not found: "tool"')]


def test_volume_names_are_unique_dns_labels_with_a_source(core: Any) -> None:
    causes = _refused(core, [VOLUME, VOLUME, {"name": "Tools_"}], [])
    assert ("spec.volumes[1].name", 'Duplicate value: "tools"') in causes
    assert ("spec.volumes[2]", "Required value: must specify a volume type") in causes
    assert any(f == "spec.volumes[2].name" and "RFC 1123 label" in m for f, m in causes)


def test_mount_paths_are_required_and_unique_in_a_container(core: Any) -> None:
    causes = _refused(
        core, [VOLUME], [{"name": "tools", "mountPath": "/t"}, {"name": "tools", "mountPath": "/t"}]
    )
    assert causes == [("spec.containers[0].volumeMounts[1].mountPath", 'Invalid value: "/t": must be unique')]
    causes = _refused(core, [VOLUME], [{"name": "tools", "mountPath": ""}])
    assert causes == [("spec.containers[0].volumeMounts[0].mountPath", "Required value")]


def test_a_valid_empty_dir_and_mount_are_accepted(core: Any) -> None:
    container = {"name": "app", "image": "busybox", "volumeMounts": [{"name": "tools", "mountPath": "/t"}]}
    body = {"metadata": {"name": "p"}, "spec": {"containers": [container], "volumes": [VOLUME]}}
    created = core.create_namespaced_pod("default", body)
    assert created.spec.volumes[0].empty_dir is not None
