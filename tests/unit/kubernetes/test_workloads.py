"""The one workload model (`core/kubernetes/workloads.py`): selectors, every kind the editor knows, the wire
form, and every workload of the corpus from its lens anchor to a kubectl argv."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from debugbox.core.analysis import LensAnchor
from debugbox.core.errors import InvalidTarget
from debugbox.core.kubernetes.analysis import analyze
from debugbox.core.kubernetes.pod_spec import POD_SPEC_PATHS
from debugbox.core.kubernetes.workloads import LabelSelector, Workload, WorkloadError, workloads_in
from debugbox.core.settings import Settings
from debugbox.core.targets import pod_facts as pf
from debugbox.core.targets import pod_strategy as ps
from debugbox.core.targets.model import PlanOptions
from hypothesis import given
from hypothesis import strategies as st
from k8s_support import manifest_files, read

from tests.fakes.kube.status import ApiError
from tests.fakes.kube_apiserver import labels_match, parse_label_selector

# --- selectors: debugbox's query string means, on the server, what debugbox's matcher means ---

KEYS = st.sampled_from(["app", "tier", "app.kubernetes.io/name", "canary"])
VALUES = st.sampled_from(["web", "db", "a-1", "x.y"])
EXPRS = st.tuples(
    KEYS, st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]), st.lists(VALUES, min_size=1, max_size=3)
)


@given(
    match_labels=st.dictionaries(KEYS, VALUES, max_size=2),
    exprs=st.lists(EXPRS, max_size=3),
    labels=st.dictionaries(KEYS, VALUES, max_size=4),
)
def test_selector_query_round_trips_through_the_servers_grammar(
    match_labels: dict[str, str], exprs: list[Any], labels: dict[str, str]
) -> None:
    raw = {
        "matchLabels": match_labels,
        "matchExpressions": [
            {"key": k, "operator": op, **({"values": v} if op in ("In", "NotIn") else {})}
            for k, op, v in exprs
        ],
    }
    selector = LabelSelector.from_json(raw)
    assert selector is not None
    assert selector.matches(labels) == labels_match(parse_label_selector(selector.to_query()), labels)
    assert LabelSelector.from_json(selector.to_json()) == selector


def test_selector_from_json_rejects_malformed_input() -> None:
    assert LabelSelector.from_json(None) is None
    assert LabelSelector.from_json({"matchExpressions": [{"key": "a", "operator": "Near"}]}) is None
    assert LabelSelector.from_json({"matchLabels": ["a"]}) is None


# --- every kind the editor knows ---

TEMPLATE = """\
    metadata:
      labels: {app: w}
    spec:
      containers: [{name: c}, {name: d}]
      initContainers: [{name: i}]
"""


def _one(text: str) -> Workload:
    (w,) = workloads_in(text)
    return w


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"])
def test_controllers_use_their_selector(kind: str) -> None:
    w = _one(
        f"apiVersion: apps/v1\nkind: {kind}\nmetadata: {{name: w, namespace: ns}}\n"
        f"spec:\n  selector: {{matchLabels: {{app: w}}}}\n  template:\n{TEMPLATE}"
    )
    assert (w.kind, w.name, w.namespace, w.containers) == (kind, "w", "ns", ("c", "d"))
    assert w.server_selector() == ("app=w", None) and w.path == "spec.template.spec"
    assert w.owns("any", {"app": "w", "pod-template-hash": "1"}) and not w.owns("any", {"app": "x"})


def test_pod_is_found_by_name() -> None:
    w = _one("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}\n")
    assert w.server_selector() == (None, "metadata.name=p")
    assert w.owns("p", {}) and not w.owns("q", {})


def test_replication_controller_selector_is_a_plain_map() -> None:
    w = _one(f"apiVersion: v1\nkind: ReplicationController\nmetadata: {{name: w}}\nspec:\n"
             f"  selector: {{app: w}}\n  template:\n{TEMPLATE}")  # fmt: skip
    assert w.server_selector() == ("app=w", None)


def test_job_without_selector_uses_job_name() -> None:
    w = _one(f"apiVersion: batch/v1\nkind: Job\nmetadata: {{name: w}}\nspec:\n  template:\n{TEMPLATE}")
    assert w.server_selector() == ("job-name=w", None)


def test_cronjob_without_labels_matches_job_name_prefix() -> None:
    w = _one(
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: w}\nspec:\n  jobTemplate:\n    spec:\n"
        "      template:\n        spec: {containers: [{name: c}]}\n"
    )
    assert w.server_selector() == ("job-name", None) and w.path == "spec.jobTemplate.spec.template.spec"
    assert w.owns("x", {"job-name": "w-2900"}) and not w.owns("y", {"job-name": "wx-2900"})


def test_pod_template_owns_pods_with_its_template_labels() -> None:
    w = _one(
        f"apiVersion: v1\nkind: PodTemplate\nmetadata: {{name: w}}\ntemplate:\n{TEMPLATE.replace('    ', '  ')}"
    )
    assert w.kind == "PodTemplate" and w.server_selector() == ("app=w", None)


def test_a_deployment_inside_a_list_is_a_workload_of_its_own_kind_and_namespace() -> None:
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "  - apiVersion: v1\n    kind: Service\n    metadata: {name: s}\n"
        "  - apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: web, namespace: shop}\n"
        "    spec:\n      selector: {matchLabels: {app: web}}\n      template:\n"
        "        metadata: {labels: {app: web}}\n        spec: {containers: [{name: app}]}\n"
    )
    w = _one(text)
    assert (w.kind, w.name, w.namespace) == ("Deployment", "web", "shop")
    assert w.path == "items[1].spec.template.spec" and w.server_selector() == ("app=web", None)


@pytest.mark.parametrize(
    "text",
    [
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {}\nspec: {template: {spec: {containers: []}}}\n",
        "just: yaml\n",
    ],
)
def test_not_workloads(text: str) -> None:
    assert workloads_in(text) == []


# --- the wire form ---


def test_wire_form_round_trips_and_refuses_what_it_did_not_write() -> None:
    w = _one(f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: w}}\nspec:\n"
             f"  selector: {{matchLabels: {{app: w}}, matchExpressions: [{{key: t, operator: Exists}}]}}\n"
             f"  template:\n{TEMPLATE}")  # fmt: skip
    assert Workload.from_json(w.to_json()) == w
    for bad, field in [
        ("Deployment/w", "workload must be an object"),
        ({**w.to_json(), "kind": "Service"}, '"kind"'),
        ({**w.to_json(), "namespace": 3}, '"namespace"'),
        ({**w.to_json(), "selector": {"matchExpressions": [{"operator": "Near"}]}}, '"selector"'),
        ({**w.to_json(), "containers": "c"}, '"containers"'),
        ({**w.to_json(), "templateLabels": {"a": 1}}, '"templateLabels"'),
        ({**w.to_json(), "document": -1}, '"document"'),
    ]:
        with pytest.raises(WorkloadError, match=field):
            Workload.from_json(bad)


# --- every workload of the corpus, from its lens anchor to a kubectl argv ---


def _labels_for(w: Workload) -> dict[str, str]:
    """Labels a pod of `w` would carry."""
    labels = dict(w.template_labels)
    if w.selector is not None:
        labels.update(w.selector.match_labels)
        for key, op, values in w.selector.match_expressions:
            if op == "In":
                labels[key] = values[0]
            elif op == "Exists":
                labels.setdefault(key, "x")
            else:
                labels.pop(key, None)
    if w.job_prefix:
        labels["job-name"] = f"{w.job_prefix}29000000"
    return labels


def test_every_corpus_workload_goes_from_lens_to_argv(corpus: Path) -> None:
    settings = Settings()
    kinds: set[str] = set()
    in_lists = planned = 0
    for path in manifest_files(corpus):
        text = read(path)
        anchors: list[LensAnchor] = list(analyze(path.as_uri(), text, settings).lens_anchors())
        for anchor in anchors:
            w = Workload.from_json(anchor.data["workload"])
            kinds.add(w.kind)
            in_lists += w.path.startswith("items[")
            container = anchor.data["container"]
            labels = _labels_for(w)
            name = w.name if w.kind == "Pod" else f"{w.name[:40]}-x1"
            if w.server_selector() == (None, None):
                # No selector and no template labels: it can own no pod, and no LIST is sent for it.
                assert not w.owns(name, labels)
                continue
            assert w.owns(name, labels), (path.name, w.describe(), labels)
            label_query, _ = w.server_selector()
            if label_query is not None:  # what the server answers for that query holds this pod
                try:
                    parsed = parse_label_selector(label_query)
                except ApiError:
                    continue  # labels Kubernetes refuses (`app=<YOUR-APP>`): the LIST fails with its 400
                assert labels_match(parsed, labels), (path.name, label_query)
            if anchor.data["init"]:
                continue
            pod = pf.PodFacts(
                w.namespace or "default",
                name,
                "Running",
                tuple(pf.ContainerState(c, str(anchor.data["image"] or ""), "running") for c in w.containers),
                labels=labels,
            )
            try:
                plan = ps.build_plan(pod, container, pf.ClusterFacts(ephemeral="ok"), PlanOptions()).plan
            except InvalidTarget:
                continue  # a name Kubernetes itself would refuse (templates, upper case): never in argv
            assert plan.argv[:3] == ("kubectl", "debug", name) or plan.argv[1] == "exec", plan.argv
            assert f"--target={container}" in plan.argv or f"-c {container}" in " ".join(plan.argv)
            planned += 1
    # Every kind the editor knows that the corpus holds made it to an argv (List items as their own kind).
    assert {"Pod", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"} <= kinds <= set(POD_SPEC_PATHS)
    assert planned >= 50 and in_lists >= 1
