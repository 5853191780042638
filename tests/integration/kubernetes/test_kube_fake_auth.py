"""TLS, authentication and RBAC of the fake, through real kubectl, the real Python client and debugbox's own
kube code: what a real API server accepts it accepts, what it refuses it refuses with the same Status.

Sources (also cited in `tests/fakes/kube/rbac.py`, `tls.py`): the authentication filter's 401
(`staging/src/k8s.io/apiserver/pkg/endpoints/filters/authentication.go`), anonymous requests
(https://kubernetes.io/docs/reference/access-authn-authz/authentication/#anonymous-requests), the authorizer's
403 (`staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go` `forbiddenMessage`),
SelfSubjectAccessReview (`pkg/registry/authorization/selfsubjectaccessreview/rest.go`).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from debugbox.core.errors import RuntimeUnavailable, StrategyUnavailable
from debugbox.edge.kube_client import KubeForbidden

from tests.fakes.kube import ADMIN
from tests.integration.kubernetes.conftest import KubeEnv

pytestmark = pytest.mark.kubernetes


def _core(kube: KubeEnv) -> Any:
    from kubernetes import client, config

    cfg = client.Configuration()
    config.load_kube_config(config_file=str(kube.kubeconfig), client_configuration=cfg, persist_config=False)
    return client.CoreV1Api(client.ApiClient(cfg))


@pytest.mark.parametrize("credentials", ["token", "cert"])
def test_both_kinds_of_user_work_with_kubectl_the_client_and_debugbox(
    kube: KubeEnv, credentials: str
) -> None:
    kube.fake.store.add_pod("web")
    kube.login("dev", ("system:masters",), credentials=credentials)
    config = json.loads(kube.kubeconfig.read_text())
    assert config["clusters"][0]["cluster"]["server"].startswith("https://")
    assert "certificate-authority-data" in config["clusters"][0]["cluster"]
    user = config["users"][0]["user"]
    assert set(user) == (
        {"token"} if credentials == "token" else {"client-certificate-data", "client-key-data"}
    )

    out = kube.kubectl(["get", "pods", "-o", "name"])
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["pod/web"]
    assert [p.metadata.name for p in _core(kube).list_namespaced_pod("default").items] == ["web"]
    assert [t.name for t in kube.backend().list_targets()] == ["web/app"]

    seen = {(r.authorization, r.client_cert) for r in kube.fake.requests}
    assert seen == ({("Bearer", "")} if credentials == "token" else {("", "dev")})


def test_a_server_certificate_from_an_unknown_ca_is_refused(kube: KubeEnv) -> None:
    kube.fake.store.add_pod("web")
    kube.kubeconfig = kube.fake.write_kubeconfig(kube.kubeconfig, ca=False)  # trust only the system's CAs
    out = kube.kubectl(["get", "pods"])
    assert out.returncode == 1
    assert "x509: certificate signed by unknown authority" in out.stderr
    with pytest.raises(
        RuntimeUnavailable,
        match=r"cannot reach the Kubernetes API at https://127.0.0.1.*"
        r"TLS handshake failed \(.*certificate verify failed",
    ):
        kube.backend().list_targets()
    assert not [r for r in kube.fake.requests if r.path.startswith("/api")]  # nothing got past TLS


def test_no_credentials_is_401_with_the_real_status(kube: KubeEnv) -> None:
    # (kubectl itself cannot be made to send no credentials over https: it prompts for a username instead.)
    kube.kubeconfig = kube.fake.write_kubeconfig(kube.kubeconfig, credentials="none")
    from kubernetes.client.exceptions import ApiException

    with pytest.raises(ApiException) as err:
        _core(kube).list_namespaced_pod("default")
    assert json.loads(err.value.body) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "Unauthorized", "reason": "Unauthorized", "code": 401,
    }  # fmt: skip
    with pytest.raises(
        RuntimeUnavailable, match=r"rejected the credentials of context fake \(401 Unauthorized\)"
    ):
        kube.backend().list_targets()


def test_a_wrong_token_is_401_even_with_anonymous_auth(kube: KubeEnv) -> None:
    kube.fake.authenticator.anonymous = True
    config = json.loads(kube.kubeconfig.read_text())
    config["users"][0]["user"] = {"token": "not-a-known-token"}
    kube.kubeconfig.write_text(json.dumps(config))
    out = kube.kubectl(["get", "pods"])
    assert out.returncode == 1
    assert (
        "You must be logged in to the server (the server has asked for the client to provide credentials)"
        in (out.stderr)
    )


def test_a_client_certificate_from_another_ca_fails_the_handshake(kube: KubeEnv) -> None:
    import base64

    from tests.fakes.kube.tls import CertificateAuthority

    pair = CertificateAuthority("someone-elses-ca").client("mallory", ("system:masters",))
    config = json.loads(kube.kubeconfig.read_text())
    config["users"][0]["user"] = {
        "client-certificate-data": base64.b64encode(pair.cert_pem).decode(),
        "client-key-data": base64.b64encode(pair.key_pem).decode(),
    }
    kube.kubeconfig.write_text(json.dumps(config))
    out = kube.kubectl(["get", "pods"])
    assert out.returncode == 1 and "remote error: tls:" in out.stderr
    assert not [r for r in kube.fake.requests if r.client_cert == "mallory"]


def test_anonymous_requests_are_forbidden_not_unauthorized(kube: KubeEnv) -> None:
    kube.fake.authenticator.anonymous = True
    kube.kubeconfig = kube.fake.write_kubeconfig(kube.kubeconfig, credentials="none")
    from kubernetes.client.exceptions import ApiException

    core = _core(kube)
    with pytest.raises(ApiException) as err:
        core.list_namespaced_pod("default")
    assert err.value.status == 403
    assert json.loads(err.value.body) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" '
        'in the namespace "default"',
        "reason": "Forbidden", "details": {"kind": "pods"}, "code": 403,
    }  # fmt: skip
    api = core.api_client
    for path, code in (("/version", 200), ("/api", 403)):  # system:public-info-viewer covers /version only
        response = api.call_api(*api.param_serialize(method="GET", resource_path=path))
        response.read()
        assert response.status == code
    assert json.loads(response.data)["message"] == 'forbidden: User "system:anonymous" cannot get path "/api"'
    with pytest.raises(KubeForbidden, match='User "system:anonymous" cannot list resource "pods"'):
        kube.backend().list_targets()


def _alice(kube: KubeEnv, credentials: str = "token") -> None:
    kube.fake.store.add_pod("web", containers=[{"name": "app", "image": "gcr.io/distroless/static"}])
    kube.fake.rbac.allow("alice", ["get", "list", "watch"], ["pods"], namespaces=["default"])
    kube.login("alice", credentials=credentials)


@pytest.mark.parametrize("credentials", ["token", "cert"])
def test_rbac_denial_has_the_authorizers_message(kube: KubeEnv, credentials: str) -> None:
    _alice(kube, credentials)
    assert kube.kubectl(["get", "pod", "web"]).returncode == 0
    out = kube.kubectl(["debug", "web", "--image=busybox", "--target=app", "-c", "dbg"])
    assert out.returncode == 1
    assert (
        'Error from server (Forbidden): pods "web" is forbidden: User "alice" cannot patch resource '
        '"pods/ephemeralcontainers" in API group "" in the namespace "default"' in out.stderr
    )
    out = kube.kubectl(["get", "pods", "-n", "kube-system"])
    assert (
        'User "alice" cannot list resource "pods" in API group "" in the namespace "kube-system"'
        in out.stderr
    )
    out = kube.kubectl(["get", "namespace", "default"])
    assert (
        'namespaces "default" is forbidden: User "alice" cannot get resource "namespaces" in API group "" '
        'in the namespace "default"' in out.stderr
    )
    # debugbox's preflight (SelfSubjectAccessReviews) is told the same before anything is sent
    backend = kube.backend()
    target = backend.resolve("web/app")
    from tests.integration.kubernetes.conftest import batch_options

    kube.fake.clear_requests()
    with pytest.raises(StrategyUnavailable) as err:
        backend.plan(target, batch_options(backend.settings, strategy="ephemeral"))
    assert "RBAC does not allow you to patch pods/ephemeralcontainers" in str(err.value)
    assert 'name: "alice"' in str(err.value)  # the RoleBinding to ask for names who the API says you are
    assert not kube.fake.requests_to("PATCH")


def test_rbac_grants_subresources_separately_and_by_wildcard(kube: KubeEnv) -> None:
    _alice(kube)
    kube.fake.rbac.allow("alice", ["patch"], ["pods/*"], namespaces=["default"])
    out = kube.kubectl(["debug", "web", "--image=busybox", "--target=app", "-c", "dbg"])
    assert out.returncode == 0, out.stderr
    out = kube.kubectl(["delete", "pod", "web", "--wait=false"])
    assert 'cannot delete resource "pods" in API group ""' in out.stderr  # pods/* is not pods


def test_self_subject_access_review_answers_kubectl_auth_can_i(kube: KubeEnv) -> None:
    _alice(kube)
    kube.fake.rbac.allow("alice", ["create"], ["pods/attach"], namespaces=["default"], resource_names=["web"])
    cases = [
        (["get", "pods"], "yes"),
        (["patch", "pods", "--subresource=ephemeralcontainers"], "no"),  # what debugbox tells users to ask
        (["create", "pods/web", "--subresource=attach"], "yes"),
        (["create", "pods/other", "--subresource=attach"], "no"),
    ]
    for argv, expected in cases:
        out = kube.kubectl(["auth", "can-i", *argv])
        assert out.stdout.strip() == expected, (argv, out.stdout, out.stderr)
        assert out.returncode == (0 if expected == "yes" else 1)
    reviews = kube.fake.requests_to("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
    assert reviews[1].content_type == "application/vnd.kubernetes.protobuf"  # kubectl sends it in protobuf
    attrs = {k: v for k, v in reviews[1].decoded["spec"]["resourceAttributes"].items() if v}
    assert attrs == {
        "namespace": "default",
        "verb": "patch",
        "resource": "pods",
        "subresource": "ephemeralcontainers",
    }


def test_self_subject_access_review_with_the_python_client(kube: KubeEnv) -> None:
    _alice(kube)
    from kubernetes import client, config

    cfg = client.Configuration()
    config.load_kube_config(config_file=str(kube.kubeconfig), client_configuration=cfg, persist_config=False)
    authz = client.AuthorizationV1Api(client.ApiClient(cfg))
    body = client.V1SelfSubjectAccessReview(
        spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(
                namespace="default", verb="patch", resource="pods", subresource="ephemeralcontainers"
            )
        )
    )
    assert authz.create_self_subject_access_review(body).status.allowed is False
    body.spec.resource_attributes.verb, body.spec.resource_attributes.subresource = "list", None
    assert authz.create_self_subject_access_review(body).status.allowed is True


def test_the_fixtures_admin_is_a_system_master(kube: KubeEnv) -> None:
    assert ADMIN.groups == ("system:masters",)
    out = kube.kubectl(["auth", "can-i", "delete", "pods", "--all-namespaces"])
    assert out.stdout.strip() == "yes"
    kube.login("bob")  # no rules: everything but discovery and self-reviews is denied
    out = kube.kubectl(["auth", "can-i", "get", "pods"])
    assert out.stdout.strip() == "no" and out.returncode == 1
