"""Field selectors, pod validation and Pod Security admission of the fake, through real kubectl and the real
Python client: accepted where a real server accepts, refused with the real Status where it refuses.

Sources (cited in the fake's modules): `pkg/apis/core/v1/conversion.go` (pod field labels) and
`pkg/registry/core/pod/strategy.go` `ToSelectableFields`; `pkg/apis/core/validation/validation.go`
`ValidatePodCreate`; `staging/src/k8s.io/pod-security-admission` (`admission/admission.go`, `policy/check_*.go`).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fakes.kube.admission import RESTRICTED_CONTAINER_SECURITY
from tests.fakes.kube.selectors import POD_FIELD_LABELS
from tests.fakes.kube.validation import DNS1123_LABEL_MESSAGE, DNS1123_SUBDOMAIN_MESSAGE
from tests.integration.kubernetes.conftest import KubeEnv

pytestmark = pytest.mark.kubernetes


@pytest.fixture
def core(kube: KubeEnv) -> Any:
    from kubernetes import client, config

    cfg = client.Configuration()
    config.load_kube_config(config_file=str(kube.kubeconfig), client_configuration=cfg, persist_config=False)
    return client.CoreV1Api(client.ApiClient(cfg))


def _status(err: Any) -> dict[str, Any]:
    return dict(json.loads(err.value.body))


# --- field selectors ---

SUPPORTED = [
    "metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
    "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs",
    "status.nominatedNodeName",
]  # fmt: skip


def test_the_supported_field_labels_are_the_sources_list() -> None:
    assert sorted(POD_FIELD_LABELS) == sorted(SUPPORTED)


@pytest.mark.parametrize("label", SUPPORTED)
def test_every_supported_pod_field_selector_is_accepted(kube: KubeEnv, label: str) -> None:
    out = kube.kubectl(["get", "pods", "--field-selector", f"{label}=x", "-o", "name"])
    assert out.returncode == 0, out.stderr


def test_field_selectors_filter_on_the_pods_fields(kube: KubeEnv) -> None:
    kube.fake.store.add_pod("always")
    kube.fake.store.add_pod("never", spec={"restartPolicy": "Never"})
    kube.fake.store.add_pod("host", spec={"hostNetwork": True})
    cases = {
        "spec.restartPolicy=Never": ["pod/never"],
        "spec.restartPolicy!=Never": ["pod/always", "pod/host"],
        "spec.hostNetwork=true": ["pod/host"],
        "spec.host=fake-node,metadata.name=always": ["pod/always"],  # the old name of spec.nodeName
        "status.phase=Running,spec.schedulerName=default-scheduler": ["pod/always", "pod/host", "pod/never"],
        "status.podIPs=10.1.0.2": [],  # accepted, but not a selectable field: it only ever matches ""
    }
    for selector, expected in cases.items():
        out = kube.kubectl(["get", "pods", "--field-selector", selector, "-o", "name"])
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == expected, selector


def test_an_unsupported_field_selector_is_400_with_the_real_message(kube: KubeEnv, core: Any) -> None:
    from kubernetes.client.exceptions import ApiException

    with pytest.raises(ApiException) as err:
        core.list_namespaced_pod("default", field_selector="spec.containers=x")
    assert _status(err) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "field label not supported: spec.containers", "reason": "BadRequest", "code": 400,
    }  # fmt: skip
    out = kube.kubectl(["get", "pods", "--field-selector", "spec.containers=x"])
    assert out.returncode == 1 and "field label not supported: spec.containers" in out.stderr


# --- pod creation ---


def _pod(name: str = "p", **spec: Any) -> dict[str, Any]:
    spec.setdefault("containers", [{"name": "c", "image": "busybox"}])
    return {"metadata": {"name": name}, "spec": spec}


@pytest.mark.parametrize(
    ("body", "causes"),
    [
        (_pod("Bad_Name"),
         [("FieldValueInvalid", "metadata.name", f'Invalid value: "Bad_Name": {DNS1123_SUBDOMAIN_MESSAGE}')]),
        ({"metadata": {}, "spec": _pod()["spec"]},
         [("FieldValueRequired", "metadata.name", "Required value: name or generateName is required")]),
        (_pod(containers=[]), [("FieldValueRequired", "spec.containers", "Required value")]),
        (_pod(containers=[{"name": "App", "image": "busybox"}]),
         [("FieldValueInvalid", "spec.containers[0].name", f'Invalid value: "App": {DNS1123_LABEL_MESSAGE}')]),
        (_pod(containers=[{"name": "c"}]), [("FieldValueRequired", "spec.containers[0].image", "Required value")]),
        (_pod(containers=[{"name": "c", "image": "a"}, {"name": "c", "image": "b"}]),
         [("FieldValueDuplicate", "spec.containers[1].name", 'Duplicate value: "c"')]),
        (_pod(initContainers=[{"name": "c", "image": "a"}]),
         [("FieldValueDuplicate", "spec.initContainers[0].name", 'Duplicate value: "c"')]),
        (_pod(restartPolicy="Sometimes"),
         [("FieldValueNotSupported", "spec.restartPolicy",
           'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"')]),
        (_pod(containers=[{"name": "c", "image": "busybox", "imagePullPolicy": "Maybe"}]),
         [("FieldValueNotSupported", "spec.containers[0].imagePullPolicy",
           'Unsupported value: "Maybe": supported values: "Always", "IfNotPresent", "Never"')]),
    ],
)  # fmt: skip
def test_invalid_pods_are_422_with_the_real_causes(
    kube: KubeEnv, core: Any, body: dict[str, Any], causes: list[tuple[str, str, str]]
) -> None:
    from kubernetes.client.exceptions import ApiException

    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod("default", body)
    status = _status(err)
    assert status["code"] == 422 and status["reason"] == "Invalid"
    assert [(c["reason"], c["field"], c["message"]) for c in status["details"]["causes"]] == causes
    name = body["metadata"].get("name", "")
    assert status["message"] == f'Pod "{name}" is invalid: {causes[0][1]}: {causes[0][2]}'
    assert not kube.fake.store.pods


def test_a_copy_with_an_invalid_name_is_refused_through_kubectls_protobuf_post(kube: KubeEnv) -> None:
    kube.fake.store.add_pod("web")
    out = kube.kubectl(["debug", "web", "--copy-to=Web.Copy", "--image=busybox", "-c", "dbg"])
    assert out.returncode == 1
    assert (
        f'The Pod "Web.Copy" is invalid: metadata.name: Invalid value: "Web.Copy": {DNS1123_SUBDOMAIN_MESSAGE}'
        in (out.stderr)
    )


def test_a_pod_in_a_missing_namespace_is_404_and_generate_name_makes_a_name(kube: KubeEnv, core: Any) -> None:
    from kubernetes.client.exceptions import ApiException

    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod("ghost", _pod())
    assert err.value.status == 404 and _status(err)["message"] == 'namespaces "ghost" not found'
    created = core.create_namespaced_pod(
        "default", {"metadata": {"generateName": "web-copy-"}, "spec": _pod()["spec"]}
    )
    assert (
        created.metadata.name.startswith("web-copy-") and len(created.metadata.name) == len("web-copy-") + 5
    )
    assert set(created.metadata.name[9:]) <= set("bcdfghjklmnpqrstvwxz2456789")


# --- Pod Security admission ---


def _ns(kube: KubeEnv, level: str) -> None:
    kube.fake.store.add_namespace("shop", {"pod-security.kubernetes.io/enforce": level})
    app: dict[str, Any] = {"name": "app", "image": "gcr.io/distroless/static"}
    if level == "restricted":
        app["securityContext"] = RESTRICTED_CONTAINER_SECURITY
    kube.fake.store.add_pod("web", "shop", [app])


def _debug(kube: KubeEnv, profile: str, name: str = "dbg") -> Any:
    argv = [
        "debug",
        "web",
        "-n",
        "shop",
        "--image=busybox",
        "--target=app",
        "-c",
        name,
        f"--profile={profile}",
    ]
    return kube.kubectl(argv)


def test_restricted_accepts_kubectls_restricted_profile_and_refuses_general_with_the_real_message(
    kube: KubeEnv,
) -> None:
    _ns(kube, "restricted")
    out = _debug(kube, "restricted")
    assert out.returncode == 0, out.stderr
    out = _debug(kube, "general", "dbg2")
    assert out.returncode == 1
    assert (
        'Error from server (Forbidden): pods "web" is forbidden: violates PodSecurity "restricted:latest": '
        'allowPrivilegeEscalation != false (container "dbg2" must set securityContext.allowPrivilegeEscalation=false), '
        'unrestricted capabilities (container "dbg2" must set securityContext.capabilities.drop=["ALL"]; '
        'container "dbg2" must not include "SYS_PTRACE" in securityContext.capabilities.add), '
        'runAsNonRoot != true (pod or container "dbg2" must set securityContext.runAsNonRoot=true), '
        'seccompProfile (pod or container "dbg2" must set securityContext.seccompProfile.type to "RuntimeDefault" '
        'or "Localhost")'
    ) in out.stderr
    names = [c["name"] for c in kube.fake.store.get("shop", "web")["spec"]["ephemeralContainers"]]
    assert names == ["dbg"]


@pytest.mark.parametrize(
    ("profile", "refusal"),
    [
        ("baseline", None),
        ("restricted", None),
        ("general", 'non-default capabilities (container "dbg" must not include "SYS_PTRACE" in '
                    "securityContext.capabilities.add)"),
        ("netadmin", 'non-default capabilities (container "dbg" must not include "NET_ADMIN", "NET_RAW" in '
                     "securityContext.capabilities.add)"),
        ("sysadmin", 'privileged (container "dbg" must not set securityContext.privileged=true)'),
    ],
)  # fmt: skip
def test_what_baseline_allows(kube: KubeEnv, profile: str, refusal: str | None) -> None:
    _ns(kube, "baseline")
    out = _debug(kube, profile)
    if refusal is None:
        assert out.returncode == 0, out.stderr
    else:
        assert out.returncode == 1
        assert f'pods "web" is forbidden: violates PodSecurity "baseline:latest": {refusal}' in out.stderr


def test_pod_security_applies_to_pod_creation_and_to_the_whole_pod(kube: KubeEnv, core: Any) -> None:
    from kubernetes.client.exceptions import ApiException

    kube.fake.store.add_namespace("locked", {"pod-security.kubernetes.io/enforce": "baseline"})
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod(
            "locked", _pod(hostPID=True, volumes=[{"name": "root", "hostPath": {"path": "/"}}])
        )
    assert _status(err)["message"] == (
        'pods "p" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostPID), '
        'hostPath volumes (volume "root")'
    )
    assert _status(err)["details"] == {"name": "p", "kind": "pods"}
    # An existing container that breaks the level (the label came later) fails an ephemeral container too.
    kube.fake.store.add_namespace("late", {"pod-security.kubernetes.io/enforce": "restricted"})
    kube.fake.store.add_pod("old", "late")
    argv = ["debug", "old", "-n", "late", "--image=busybox", "-c", "dbg", "--profile=restricted"]
    out = kube.kubectl(argv)
    assert (
        out.returncode == 1
        and 'container "app" must set securityContext.allowPrivilegeEscalation=false' in (out.stderr)
    )
    # kubectl's protobuf copy is checked too
    kube.fake.store.add_namespace("shop", {"pod-security.kubernetes.io/enforce": "baseline"})
    kube.fake.store.add_pod("web", "shop")
    out = kube.kubectl(["debug", "web", "-n", "shop", "--copy-to=web-copy", "--image=busybox", "-c", "dbg"])
    assert out.returncode == 1
    assert (
        'pods "web-copy" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities'
        in (out.stderr)
    )
