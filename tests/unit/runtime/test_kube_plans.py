"""The pure Kubernetes planning: selectors, workloads, strategy and profile choice, names and argv."""

from __future__ import annotations

from typing import Any

import pytest
from debugbox.core.errors import InvalidTarget, StrategyUnavailable, TargetNotFound, TargetNotRunning
from debugbox.core.targets import names
from debugbox.core.targets import pod_plans as kp
from debugbox.core.targets.model import PlanOptions
from debugbox.edge.kube_backend import parse_ref, target_id
from hypothesis import given
from hypothesis import strategies as st

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
    selector = kp.LabelSelector.from_json(raw)
    assert selector is not None
    assert selector.matches(labels) == labels_match(parse_label_selector(selector.to_query()), labels)


def test_selector_from_json_rejects_malformed_input() -> None:
    assert kp.LabelSelector.from_json(None) is None
    assert kp.LabelSelector.from_json({"matchExpressions": [{"key": "a", "operator": "Near"}]}) is None
    assert kp.LabelSelector.from_json({"matchLabels": ["a"]}) is None


# --- workloads ---


def _doc(kind: str, spec: dict[str, Any], **meta: str) -> dict[str, Any]:
    return {"kind": kind, "metadata": {"name": "w", **meta}, "spec": spec}


TEMPLATE = {"metadata": {"labels": {"app": "w"}}, "spec": {"containers": [{"name": "c"}, {"name": "d"}]}}


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"])
def test_controllers_use_their_selector(kind: str) -> None:
    w = kp.workload_of(
        _doc(kind, {"selector": {"matchLabels": {"app": "w"}}, "template": TEMPLATE}, namespace="ns")
    )
    assert w is not None and w.namespace == "ns" and w.containers == ("c", "d")
    assert kp.server_selector(w) == ("app=w", None)


def test_pod_is_found_by_name() -> None:
    w = kp.workload_of({"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}})
    assert w is not None and kp.server_selector(w) == (None, "metadata.name=p")
    assert w.owns(kp.PodFacts("default", "p", "Running", ())) and not w.owns(
        kp.PodFacts("default", "q", "Running", ())
    )


def test_replication_controller_selector_is_a_plain_map() -> None:
    w = kp.workload_of(_doc("ReplicationController", {"selector": {"app": "w"}, "template": TEMPLATE}))
    assert w is not None and kp.server_selector(w) == ("app=w", None)


def test_job_without_selector_uses_job_name() -> None:
    w = kp.workload_of(_doc("Job", {"template": TEMPLATE}))
    assert w is not None and kp.server_selector(w) == ("job-name=w", None)


def test_cronjob_without_labels_matches_job_name_prefix() -> None:
    template = {"spec": {"containers": [{"name": "c"}]}}
    w = kp.workload_of(_doc("CronJob", {"jobTemplate": {"spec": {"template": template}}}))
    assert w is not None and kp.server_selector(w) == ("job-name", None)
    pod = kp.PodFacts("default", "x", "Running", (), labels={"job-name": "w-2900"})
    other = kp.PodFacts("default", "y", "Running", (), labels={"job-name": "wx-2900"})
    assert w.owns(pod) and not w.owns(other)


@pytest.mark.parametrize(
    "doc", [None, [], {"kind": "Service", "metadata": {"name": "s"}}, {"kind": "Deployment", "metadata": {}}]
)
def test_not_workloads(doc: Any) -> None:
    assert kp.workload_of(doc) is None


def test_namespace_precedence() -> None:
    assert kp.effective_namespace("m", "s", "c") == "m"
    assert kp.effective_namespace(None, "s", "c") == "s"
    assert kp.effective_namespace(None, "", "c") == "c"
    assert kp.effective_namespace(None, "", "") == "default"


# --- strategy and profile ---


def _pod(phase: str = "Running", state: str = "running", reason: str = "", **kw: Any) -> kp.PodFacts:
    return kp.PodFacts("ns", "web", phase, (kp.ContainerState("app", "img", state, reason),), **kw)


def _ours(state: str = "running", target: str = "app", name: str = "debugbox-app") -> kp.ContainerState:
    return kp.ContainerState(name, "busybox", state, target=target)


SHELL = kp.ClusterFacts(image_has_shell=True)
NO_SHELL = kp.ClusterFacts(image_has_shell=False)


@pytest.mark.parametrize(
    ("pod", "cluster", "expected"),
    [
        (_pod(), SHELL, ("exec", "ephemeral", "copy")),
        (_pod(), NO_SHELL, ("ephemeral", "copy")),
        (_pod(ephemeral=(_ours(),)), NO_SHELL, ("reattach", "ephemeral", "copy")),
        (_pod(ephemeral=(_ours("terminated"),)), NO_SHELL, ("ephemeral", "copy")),
        (_pod(ephemeral=(_ours(target="other"),)), NO_SHELL, ("ephemeral", "copy")),
        (_pod(ephemeral=(_ours(name="debugger-x1y2z"),)), NO_SHELL, ("ephemeral", "copy")),
        (_pod(state="waiting", reason="CrashLoopBackOff"), SHELL, ("copy",)),
        (_pod(annotations={kp.MIRROR_ANNOTATION: "x"}), NO_SHELL, ("copy",)),
        (_pod(), kp.ClusterFacts(ephemeral="disabled"), ("copy",)),
        (_pod(), kp.ClusterFacts(ephemeral="forbidden"), ("copy",)),
        (_pod("Pending", "waiting"), SHELL, ()),
        (_pod("Failed", "terminated"), SHELL, ("copy",)),
    ],
)
def test_available_strategies(pod: kp.PodFacts, cluster: kp.ClusterFacts, expected: tuple[str, ...]) -> None:
    assert kp.available_strategies(pod, pod.containers[0], cluster) == expected


def test_explicit_strategies_that_cannot_work_say_why() -> None:
    pod = _pod()
    c = pod.containers[0]
    with pytest.raises(StrategyUnavailable, match="not known to have a shell"):
        kp.choose_strategy(pod, c, NO_SHELL, "exec")
    with pytest.raises(StrategyUnavailable, match="no debug container of debugbox runs"):
        kp.choose_strategy(pod, c, NO_SHELL, "reattach")
    with pytest.raises(StrategyUnavailable, match="crash-looping"):
        crash = _pod(state="waiting", reason="CrashLoopBackOff")
        kp.choose_strategy(crash, crash.containers[0], NO_SHELL, "ephemeral")
    with pytest.raises(TargetNotRunning, match="Pending"):
        kp.choose_strategy(_pod("Pending"), c, NO_SHELL)


@pytest.mark.parametrize(
    ("setting", "psa", "expected"),
    [("auto", None, "general"), ("auto", "restricted", "restricted"), ("auto", "baseline", "baseline"),
     ("auto", "privileged", "general"), ("netadmin", "restricted", "netadmin"), ("general", None, "general")],
)  # fmt: skip
def test_profile(setting: str, psa: str | None, expected: str) -> None:
    assert kp.choose_profile(setting, psa) == expected


def test_privileged_profile_needs_the_setting() -> None:
    with pytest.raises(StrategyUnavailable, match="allowPrivileged"):
        kp.choose_profile("sysadmin", None)
    assert kp.choose_profile("sysadmin", None, allow_privileged=True) == "sysadmin"
    with pytest.raises(StrategyUnavailable, match="unknown kubectl debug profile"):
        kp.choose_profile("legacy", None)


# --- names and argv ---


def test_debug_container_names_are_predictable_and_fit() -> None:
    assert kp.unique_name("debugbox-app", {"app"}) == "debugbox-app"
    assert kp.unique_name("debugbox-app", {"debugbox-app", "debugbox-app-2"}) == "debugbox-app-3"
    long = kp.debug_container_base("c" * 63)
    assert len(long) == 63 and long.startswith("debugbox-")
    taken = kp.unique_name(long, {long})
    assert len(taken) == 63 and taken.endswith("-2")
    names.validate_label(taken, "container")


def test_copy_names_skip_existing_pods() -> None:
    pod = _pod()
    assert kp.copy_name_for(pod, set()) == "web-debugbox"
    assert kp.copy_name_for(pod, {"web-debugbox"}) == "web-debugbox-2"


@pytest.mark.parametrize("image", ["-it", "busybox; rm -rf /", "a b", ""])
def test_images_that_could_change_the_argv_are_refused(image: str) -> None:
    with pytest.raises(InvalidTarget):
        kp.ephemeral_argv(_pod(), "app", "debugbox-app", image, "general", kp.ClusterFacts(), PlanOptions())


@pytest.mark.parametrize("context", ["-n", "--kubeconfig=/tmp/x", "a\nb"])
def test_contexts_that_could_change_the_argv_are_refused(context: str) -> None:
    with pytest.raises(InvalidTarget):
        kp.exec_argv(_pod(), "app", kp.ClusterFacts(context=context), PlanOptions())


def test_eks_style_context_names_are_fine_and_round_trip_in_ids() -> None:
    ctx = "arn:aws:eks:eu-west-1:123456789012:cluster/prod"
    argv = kp.attach_argv(_pod(), "debugbox-app", kp.ClusterFacts(context=ctx), PlanOptions())
    assert argv[-2:] == ("--context", ctx)
    assert parse_ref(target_id(ctx, "ns", "web", "app")[len("k8s://") :]) == (ctx, "ns", "web", "app")


def test_io_flags_follow_the_options() -> None:
    for stdin, tty, flags in ((True, True, ["-it"]), (True, False, ["-i"]), (False, False, [])):
        argv = kp.exec_argv(_pod(), "app", kp.ClusterFacts(), PlanOptions(stdin=stdin, tty=tty))
        assert list(argv[2 : 2 + len(flags)]) == flags and argv[2 + len(flags)] == "web"


def test_container_lookup() -> None:
    containers = (kp.ContainerState("a", "i", "running"), kp.ContainerState("b", "i", "running"))
    annotations = {kp.DEFAULT_CONTAINER_ANNOTATION: "b"}
    pod = kp.PodFacts("ns", "web", "Running", containers, ephemeral=(_ours(),), annotations=annotations)
    assert pod.container(None).name == "b"
    with pytest.raises(TargetNotFound, match="ephemeral"):
        pod.container("debugbox-app")
    with pytest.raises(TargetNotFound, match=r"it has: a, b"):
        pod.container("z")


def test_pod_facts_from_api_json() -> None:
    pod = kp.PodFacts.from_json(
        {
            "metadata": {
                "name": "web",
                "namespace": "ns",
                "ownerReferences": [{"kind": "ReplicaSet", "name": "rs", "controller": True}],
            },
            "spec": {
                "containers": [{"name": "app", "image": "img"}],
                "initContainers": [{"name": "init"}],
                "ephemeralContainers": [
                    {"name": "debugbox-app", "image": "busybox", "targetContainerName": "app"}
                ],
            },
            "status": {
                "phase": "Running",
                "containerStatuses": [
                    {"name": "app", "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
                ],
                "ephemeralContainerStatuses": [{"name": "debugbox-app", "state": {"running": {}}}],
            },
        }
    )
    assert pod.owner == "ReplicaSet/rs" and pod.crash_looping("app")
    assert pod.containers[0].restarts == 3 and pod.ephemeral[0].state == "running"
    assert pod.names_taken == {"app", "init", "debugbox-app"}
