"""Targets for manifests: which pods the real Python client finds on the fake API server, and what it sent."""

from __future__ import annotations

import pytest
from debugbox.core.errors import TargetNotFound
from debugbox.core.kubernetes.workloads import workloads_in

from tests.integration.kubernetes.conftest import KubeEnv

pytestmark = pytest.mark.kubernetes

DEPLOYMENT = """\
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector:
    matchLabels: {app: web}
    matchExpressions:
      - {key: tier, operator: In, values: [frontend, edge]}
      - {key: canary, operator: DoesNotExist}
  template:
    metadata:
      labels: {app: web, tier: frontend}
    spec:
      containers:
        - name: app
          image: gcr.io/distroless/static-debian12
        - name: proxy
          image: envoyproxy/envoy:v1.30
"""


def _lists(kube: KubeEnv) -> list:
    return [r for r in kube.fake.requests if r.method == "GET" and r.path.endswith("/pods")]


def test_deployment_pods_by_selector_in_the_manifest_namespace(kube: KubeEnv) -> None:
    store = kube.fake.store
    store.add_pod(
        "web-7d9f-abcde",
        "shop",
        [{"name": "app", "image": "gcr.io/distroless/static-debian12"}, {"name": "proxy", "image": "envoy"}],
        labels={"app": "web", "tier": "frontend", "pod-template-hash": "7d9f"},
        owner={"kind": "ReplicaSet", "name": "web-7d9f", "controller": True},
        ephemeral=[{"name": "debugbox-app", "image": "busybox", "targetContainerName": "app"}],
    )
    store.add_pod("web-canary", "shop", labels={"app": "web", "tier": "frontend", "canary": "yes"})
    store.add_pod("web-other-tier", "shop", labels={"app": "web", "tier": "backend"})
    store.add_pod("web-elsewhere", "default", labels={"app": "web", "tier": "frontend"})

    targets = kube.manifest_targets(DEPLOYMENT)

    assert [t.name for t in targets] == ["web-7d9f-abcde/app", "web-7d9f-abcde/proxy"]
    app = targets[0]
    assert app.related and app.runtime == "kubernetes" and app.status == "running"
    assert "Deployment web" in (app.related_reason or "") and "app.yaml" in (app.related_reason or "")
    assert app.id == "k8s://fake/shop/web-7d9f-abcde/app"
    assert app.extra["namespace"] == "shop" and app.extra["containers"] == ["app", "proxy"]
    assert app.extra["phase"] == "Running" and app.extra["restarts"] == 0
    assert app.extra["ephemeralContainers"][0]["name"] == "debugbox-app"
    assert app.extra["owner"] == "ReplicaSet/web-7d9f"
    # Our running debug container for app is there: reattach comes before a new ephemeral container.
    assert app.recommended == "reattach"
    (request,) = _lists(kube)
    assert request.path == "/api/v1/namespaces/shop/pods"
    assert request.q("labelSelector") == "app=web,tier in (frontend,edge),!canary"
    assert request.accept == "application/json"
    assert request.user_agent.startswith("OpenAPI-Generator/") and request.user_agent.endswith("/python")


def test_pod_manifest_by_name_in_the_context_namespace(kube: KubeEnv) -> None:
    kube.kubeconfig = kube.fake.write_kubeconfig(kube.kubeconfig, namespace="team")
    kube.fake.store.add_pod("debug-me", "team", [{"name": "main", "image": "nginx:1.27"}])
    kube.fake.store.add_pod("debug-me", "default")
    manifest = ("apiVersion: v1\nkind: Pod\nmetadata: {name: debug-me}\nspec:\n  containers:\n"
                "    - {name: main, image: nginx:1.27}\n")  # fmt: skip

    (target,) = kube.manifest_targets(manifest)

    assert target.id == "k8s://fake/team/debug-me/main"
    assert target.recommended == "exec"  # nginx is known to have a shell
    (request,) = _lists(kube)
    assert request.path == "/api/v1/namespaces/team/pods"
    assert request.q("fieldSelector") == "metadata.name=debug-me"


def test_namespace_setting_beats_the_context_namespace(kube: KubeEnv) -> None:
    kube.fake.store.add_pod("p", "ops")
    manifest = "kind: Pod\napiVersion: v1\nmetadata: {name: p}\nspec: {containers: [{name: app}]}\n"

    (target,) = kube.manifest_targets(manifest, kube.backend(namespace="ops"))

    assert target.extra["namespace"] == "ops"
    assert _lists(kube)[0].path == "/api/v1/namespaces/ops/pods"


CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: batch}
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        metadata:
          labels: {job: report}
        spec:
          restartPolicy: Never
          containers: [{name: run, image: python:3.12-slim}]
"""


def test_cronjob_pods_by_template_labels(kube: KubeEnv) -> None:
    kube.fake.store.add_pod(
        "report-29000000-x1", "batch", [{"name": "run", "image": "python:3.12-slim"}],
        labels={"job": "report", "job-name": "report-29000000"},
    )  # fmt: skip
    kube.fake.store.add_pod("other", "batch", labels={"job": "other"})

    targets = kube.manifest_targets(CRONJOB)

    assert [t.name for t in targets] == ["report-29000000-x1/run"]
    assert _lists(kube)[0].q("labelSelector") == "job=report"


def test_cronjob_without_template_labels_matches_its_jobs_by_name_prefix(kube: KubeEnv) -> None:
    kube.fake.store.add_pod("nightly-1-a", "batch", labels={"job-name": "nightly-29000000"})
    kube.fake.store.add_pod("nightlyx-1-a", "batch", labels={"job-name": "nightlyx-29000000"})
    manifest = CRONJOB.replace("name: report", "name: nightly").replace(
        "        metadata:\n          labels: {job: report}\n", ""
    )

    targets = kube.manifest_targets(manifest)

    assert [t.extra["pod"] for t in targets] == ["nightly-1-a"]
    assert _lists(kube)[0].q("labelSelector") == "job-name"


def test_without_a_manifest_lists_pods_of_the_current_namespace(kube: KubeEnv) -> None:
    kube.fake.store.add_pod("a", "default")
    kube.fake.store.add_pod(
        "b", "default", [{"name": "x", "image": "busybox"}, {"name": "y", "image": "busybox"}]
    )
    kube.fake.store.add_pod("c", "elsewhere")

    targets = kube.backend().list_targets()

    assert [t.name for t in targets] == ["a/app", "b/x", "b/y"]
    assert not any(t.related for t in targets)
    (request,) = _lists(kube)
    assert request.path == "/api/v1/namespaces/default/pods" and not request.query


def test_no_pods_match_the_selector(kube: KubeEnv) -> None:
    kube.fake.store.add_pod("web-1", "shop", labels={"app": "web", "tier": "backend"})

    with pytest.raises(TargetNotFound) as err:
        kube.manifest_targets(DEPLOYMENT)

    message = str(err.value)
    assert "no running pods match Deployment web" in message
    assert "app=web,tier in (frontend,edge),!canary" in message and "namespace shop" in message


def test_a_yaml_alias_bomb_is_not_expanded(kube: KubeEnv) -> None:
    kube.fake.store.add_pod("a", "default")
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    targets = kube.manifest_targets(bomb)
    assert [t.name for t in targets] == ["a/app"]  # not a manifest with workloads: the namespace's pods


def test_workloads_are_asked_for_in_parallel(kube: KubeEnv) -> None:
    docs = "---\n".join(
        f"kind: Deployment\napiVersion: apps/v1\nmetadata: {{name: w{i}, namespace: ns{i}}}\n"
        f"spec:\n  selector: {{matchLabels: {{app: w{i}}}}}\n"
        f"  template: {{metadata: {{labels: {{app: w{i}}}}}, spec: {{containers: [{{name: c}}]}}}}\n"
        for i in range(4)
    )
    for i in range(4):
        kube.fake.store.add_pod(f"w{i}-pod", f"ns{i}", labels={"app": f"w{i}"})
    delay = 3.0
    kube.fake.faults.delay_seconds = delay
    backend = kube.backend(timeout_seconds=10 * delay)
    # probe=False: the LISTs alone (a probed listing adds one round of access reviews, also in parallel)
    targets = backend.list_targets(probe=False, document=kube.manifest(docs), workloads=workloads_in(docs))
    assert sorted(t.extra["pod"] for t in targets) == ["w0-pod", "w1-pod", "w2-pod", "w3-pod"]
    # Asked all at once, the four are held by the server's delay together; asked one after the other, one at a
    # time. (The listing's duration also counts the client's own work, which a loaded 2-core machine under coverage
    # stretched past two delays: 6.5 s.)
    assert len(_lists(kube)) == 4 and kube.fake.most_delayed_at_once == 4
