"""Every failure a user will meet talking to a cluster gives one clear message, within the timeout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from debugbox.core.errors import InvalidTarget, RuntimeUnavailable, StrategyUnavailable, TargetNotFound
from debugbox.edge.kube_backend import KubeBackend
from debugbox.edge.kube_client import KubeForbidden

from tests.deadlines import outlasting, returns_within, within
from tests.integration.kubernetes.conftest import KubeEnv, batch_options

pytestmark = pytest.mark.kubernetes


def test_no_kubeconfig(kube: KubeEnv, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "config"
    backend = KubeBackend(kube.settings(), config_paths=[missing])
    assert not backend.present()
    with pytest.raises(RuntimeUnavailable, match=r"no kubeconfig found \(looked at .*nowhere/config\)"):
        backend.list_targets()


def test_a_kubeconfig_that_is_not_yaml_is_one_line(kube: KubeEnv) -> None:
    kube.kubeconfig.write_text("{{{: not yaml\n\t- x")
    out = kube.debugbox("shell", "pod/web", "--print")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    (line,) = out.stderr.splitlines()
    assert line.startswith(f"debugbox: kubeconfig {kube.kubeconfig} is not valid YAML: "), line
    assert "line 1, column" in line and "<unicode string>" not in line, line


def test_unknown_context_lists_the_known_ones(kube: KubeEnv) -> None:
    with pytest.raises(
        RuntimeUnavailable, match=r"context 'prod' is not in the kubeconfig .*known contexts: fake"
    ):
        kube.backend(context="prod").list_targets()


def test_unreachable_cluster(kube: KubeEnv) -> None:
    timeout = 30.0
    backend = kube.backend(timeout_seconds=timeout)
    kube.fake.stop()
    with pytest.raises(
        RuntimeUnavailable, match=r"cannot reach the Kubernetes API at https://127.0.0.1:\d+ \(context fake\)"
    ):
        # A refused connection is told at once, not after waiting out the timeout.
        returns_within(timeout / 2, backend.list_targets)


def test_slow_cluster_gives_up_after_the_timeout_once(kube: KubeEnv) -> None:
    timeout = 0.5
    kube.fake.faults.delay_seconds = outlasting(timeout)
    backend = kube.backend(timeout_seconds=timeout)
    with pytest.raises(RuntimeUnavailable, match=r"did not answer within 0.5 s \(listing pods\)"):
        returns_within(within(timeout), backend.list_targets)
    assert len(kube.fake.requests) == 1  # no retries behind the user's back


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("unauthorized", r"rejected the credentials of context fake \(401 Unauthorized\)"),
        ("internal_error", r"failed while listing pods \(500\): Internal error occurred: etcdserver"),
        ("malformed", "answered listing pods with malformed JSON"),
    ],
)
def test_server_failures(kube: KubeEnv, fault: str, message: str) -> None:
    setattr(kube.fake.faults, fault, True)
    with pytest.raises(RuntimeUnavailable, match=message):
        kube.backend().list_targets()


def test_forbidden_listing_names_the_verb(kube: KubeEnv) -> None:
    kube.fake.faults.denied.add(("list", "pods"))
    with pytest.raises(KubeForbidden) as err:
        kube.backend().list_targets()
    assert "`list pods` in namespace default" in str(err.value)
    assert 'cannot list resource "pods"' in str(err.value)  # the server's own words follow


def test_forbidden_ephemeral_when_asked_for_explicitly(kube: KubeEnv) -> None:
    kube.fake.store.add_pod("web", containers=[{"name": "app", "image": "gcr.io/distroless/static"}])
    kube.fake.faults.denied.add(("patch", "pods/ephemeralcontainers"))
    backend = kube.backend()
    target = backend.resolve("web/app")
    with pytest.raises(KubeForbidden) as err:
        backend.plan(target, batch_options(backend.settings, strategy="ephemeral"))
    assert err.value.verb == "patch" and err.value.resource == "pods/ephemeralcontainers"
    assert "kubectl auth can-i patch pods --subresource=ephemeralcontainers -n default" in str(err.value)


def test_pod_not_found(kube: KubeEnv) -> None:
    with pytest.raises(TargetNotFound, match='pods "ghost" not found in namespace default'):
        kube.backend().resolve("ghost")


def test_container_not_found_lists_the_real_ones(kube: KubeEnv) -> None:
    kube.fake.store.add_pod(
        "web", containers=[{"name": "app", "image": "x"}, {"name": "proxy", "image": "y"}]
    )
    with pytest.raises(TargetNotFound, match=r"pod default/web has no container 'db' \(it has: app, proxy\)"):
        kube.backend().resolve("web/db")


def test_default_container_follows_the_annotation(kube: KubeEnv) -> None:
    kube.fake.store.add_pod(
        "web",
        containers=[{"name": "istio-proxy", "image": "x"}, {"name": "app", "image": "y"}],
        annotations={"kubectl.kubernetes.io/default-container": "app"},
    )
    assert kube.backend().resolve("web").extra["container"] == "app"


@pytest.mark.parametrize("ref", ["-n", "web/App", "we b", "web/app;rm", "a/b/c", "x/y/z/-c"])
def test_names_that_could_change_the_argv_are_refused(kube: KubeEnv, ref: str) -> None:
    with pytest.raises(InvalidTarget):
        kube.backend().resolve(ref)
    assert not kube.fake.requests  # refused before anything was sent


def test_a_strategy_for_containers_is_refused_for_pods(kube: KubeEnv) -> None:
    kube.fake.store.add_pod("web")
    backend = kube.backend()
    target = backend.resolve("web")
    with pytest.raises(StrategyUnavailable, match="pods take one of exec, reattach, ephemeral, copy"):
        backend.plan(target, batch_options(backend.settings, strategy="sidecar"))


def test_a_kubeconfig_that_is_not_yaml_or_names_no_valid_address_is_one_line(kube: KubeEnv) -> None:
    # PyYAML's error spanned seven lines (the excerpt with its caret); a server port over 65535 "broke off
    # while reading pod web: Failed to parse: …", though nothing was sent.
    good = kube.kubeconfig.read_text()
    for text, said in (
        (
            "clusters: [unclosed\n",
            "is not valid YAML: while parsing a flow sequence: expected ',' or ']', but got '<stream end>' at line 2",
        ),
        (good.replace(kube.fake.url, "https://127.0.0.1:99999"), "is not a valid address ("),
    ):
        kube.kubeconfig.write_text(text)
        out = kube.debugbox("shell", "pod/web", "--print")
        assert out.returncode == 1 and not out.stdout, out.stderr
        (line,) = out.stderr.splitlines()
        assert said in line, line


def test_a_credential_plugin_that_is_not_installed_is_named(kube: KubeEnv) -> None:
    # The client logged "ERROR:root:[Errno 2] No such file or directory: 'gke-auth-dbx'" and went on without
    # credentials: the cluster's 401 then blamed credentials that were never fetched.
    config = json.loads(kube.kubeconfig.read_text())
    plugin = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": "gke-auth-dbx",
        "interactiveMode": "Never",
    }
    for user in config["users"]:
        user["user"] = {"exec": plugin}
    kube.kubeconfig.write_text(json.dumps(config))
    out = kube.debugbox("shell", "pod/web", "--print")
    assert out.returncode == 1 and not out.stdout, out.stderr
    assert out.stderr.splitlines() == [
        "debugbox: kubeconfig context 'fake' gets its credentials from gke-auth-dbx (the exec plugin of user "
        f"{config['users'][0]['name']!r}), which is not installed here (not on PATH); install it, or choose "
        "another context"
    ]
