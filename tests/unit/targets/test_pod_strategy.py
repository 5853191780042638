"""The pure pod planning (`core/targets/pod_strategy.py`, `kubectl_argv.py`, `pod_facts.py`): strategy and profile
choice, the facts a decision asks for, names and argv."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from debugbox.core.errors import InvalidTarget, StrategyUnavailable, TargetNotFound, TargetNotRunning
from debugbox.core.targets import kubectl_argv as ka
from debugbox.core.targets import names
from debugbox.core.targets import pod_facts as pf
from debugbox.core.targets import pod_strategy as ps
from debugbox.core.targets.model import PlanOptions
from debugbox.core.targets.preflight import Permission
from debugbox.edge.kube_backend import parse_ref, target_id


def test_namespace_precedence() -> None:
    assert pf.effective_namespace("m", "s", "c") == "m"
    assert pf.effective_namespace(None, "s", "c") == "s"
    assert pf.effective_namespace(None, "", "c") == "c"
    assert pf.effective_namespace(None, "", "") == "default"


# --- strategy and profile ---


def _pod(phase: str = "Running", state: str = "running", reason: str = "", **kw: Any) -> pf.PodFacts:
    return pf.PodFacts("ns", "web", phase, (pf.ContainerState("app", "img", state, reason),), **kw)


def _ours(state: str = "running", target: str = "app", name: str = "debugbox-app") -> pf.ContainerState:
    return pf.ContainerState(name, "busybox", state, target=target)


SHELL = pf.ClusterFacts(image_has_shell=True)
NO_SHELL = pf.ClusterFacts(image_has_shell=False)


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
        (_pod(annotations={pf.MIRROR_ANNOTATION: "x"}), NO_SHELL, ("copy",)),
        (_pod(), pf.ClusterFacts(ephemeral="disabled"), ("copy",)),
        (_pod(), pf.ClusterFacts(ephemeral="forbidden"), ("copy",)),
        (_pod("Pending", "waiting"), SHELL, ()),
        (_pod("Failed", "terminated"), SHELL, ("copy",)),
    ],
)
def test_available_strategies(pod: pf.PodFacts, cluster: pf.ClusterFacts, expected: tuple[str, ...]) -> None:
    assert ps.available_strategies(pod, pod.containers[0], cluster) == expected


def test_a_debug_container_with_a_tty_is_reattached_only_from_a_terminal() -> None:
    tty = pf.ContainerState("debugbox-app", "busybox", "running", target="app", tty=True)
    pod = _pod(ephemeral=(tty,))
    c = pod.containers[0]
    assert ps.available_strategies(pod, c, NO_SHELL) == ("reattach", "ephemeral", "copy")
    # without a terminal kubectl would ask for stderr, which the runtime refuses next to a TTY
    assert ps.available_strategies(pod, c, NO_SHELL, terminal=False) == ("ephemeral", "copy")
    assert "attaches to it only from a terminal" in ps.why_not(pod, c, NO_SHELL, "reattach", terminal=False)
    with pytest.raises(StrategyUnavailable, match="cannot reattach in pod ns/web: our debug container has a"):
        ps.choose_strategy(pod, c, NO_SHELL, "reattach", terminal=False)
    # one made without a TTY (a batch session) is joined either way
    plain = _pod(ephemeral=(_ours(),))
    assert ps.available_strategies(plain, plain.containers[0], NO_SHELL, terminal=False)[0] == "reattach"


def test_the_tty_of_an_ephemeral_container_is_read_from_its_spec() -> None:
    raw = {
        "metadata": {"namespace": "ns", "name": "web"},
        "spec": {
            "containers": [{"name": "app", "image": "img"}],
            "ephemeralContainers": [
                {"name": "debugbox-app", "image": "b", "targetContainerName": "app", "tty": True},
                {"name": "debugbox-app-2", "image": "b", "targetContainerName": "app", "tty": "yes"},
            ],
        },
        "status": {"phase": "Running"},
    }
    facts = pf.PodFacts.from_json(raw)
    assert [e.tty for e in facts.ephemeral] == [True, False]  # only a JSON true is one


def test_explicit_strategies_that_cannot_work_say_why() -> None:
    pod = _pod()
    c = pod.containers[0]
    with pytest.raises(StrategyUnavailable, match="not known to have a shell"):
        ps.choose_strategy(pod, c, NO_SHELL, "exec")
    with pytest.raises(StrategyUnavailable, match="no debug container of debugbox runs"):
        ps.choose_strategy(pod, c, NO_SHELL, "reattach")
    with pytest.raises(StrategyUnavailable, match="crash-looping"):
        crash = _pod(state="waiting", reason="CrashLoopBackOff")
        ps.choose_strategy(crash, crash.containers[0], NO_SHELL, "ephemeral")
    with pytest.raises(TargetNotRunning, match="Pending"):
        ps.choose_strategy(_pod("Pending"), c, NO_SHELL)


@pytest.mark.parametrize(
    ("setting", "psa", "expected"),
    [("auto", None, "general"), ("auto", "restricted", "restricted"), ("auto", "baseline", "baseline"),
     ("auto", "privileged", "general"), ("netadmin", "restricted", "netadmin"), ("general", None, "general")],
)  # fmt: skip
def test_profile(setting: str, psa: str | None, expected: str) -> None:
    assert ps.choose_profile(setting, psa) == expected


def test_privileged_profile_needs_the_setting() -> None:
    with pytest.raises(StrategyUnavailable, match="allowPrivileged"):
        ps.choose_profile("sysadmin", None)
    assert ps.choose_profile("sysadmin", None, allow_privileged=True) == "sysadmin"
    with pytest.raises(StrategyUnavailable, match="unknown kubectl debug profile"):
        ps.choose_profile("legacy", None)


# --- names and argv ---


def test_debug_container_names_are_predictable_and_fit() -> None:
    assert ps.unique_name("debugbox-app", {"app"}) == "debugbox-app"
    assert ps.unique_name("debugbox-app", {"debugbox-app", "debugbox-app-2"}) == "debugbox-app-3"
    long = ps.debug_container_base("c" * 63)
    assert len(long) == 63 and long.startswith("debugbox-")
    taken = ps.unique_name(long, {long})
    assert len(taken) == 63 and taken.endswith("-2")
    names.validate_label(taken, "container")


def test_copy_names_skip_existing_pods() -> None:
    pod = _pod()
    assert ps.copy_name_for(pod, set()) == "web-debugbox"
    assert ps.copy_name_for(pod, {"web-debugbox"}) == "web-debugbox-2"


@pytest.mark.parametrize("image", ["-it", "busybox; rm -rf /", "a b", ""])
def test_images_that_could_change_the_argv_are_refused(image: str) -> None:
    with pytest.raises(InvalidTarget):
        ka.debug_argv(
            _pod(), ka.target_mode("app"), "debugbox-app", image, "general", pf.ClusterFacts(), PlanOptions()
        )


@pytest.mark.parametrize("context", ["-n", "--kubeconfig=/tmp/x", "a\nb"])
def test_contexts_that_could_change_the_argv_are_refused(context: str) -> None:
    with pytest.raises(InvalidTarget):
        ka.exec_argv(_pod(), "app", pf.ClusterFacts(context=context), PlanOptions())


def test_eks_style_context_names_are_fine_and_round_trip_in_ids() -> None:
    ctx = "arn:aws:eks:eu-west-1:123456789012:cluster/prod"
    argv = ka.attach_argv(_pod(), "debugbox-app", pf.ClusterFacts(context=ctx), PlanOptions())
    assert argv[-2:] == ("--context", ctx)
    assert parse_ref(target_id(ctx, "ns", "web", "app")[len("k8s://") :]) == (ctx, "ns", "web", "app")


def test_io_flags_follow_the_options() -> None:
    for stdin, tty, flags in ((True, True, ["-it"]), (True, False, ["-i"]), (False, False, [])):
        argv = ka.exec_argv(_pod(), "app", pf.ClusterFacts(), PlanOptions(stdin=stdin, tty=tty))
        assert list(argv[2 : 2 + len(flags)]) == flags and argv[2 + len(flags)] == "web"


def test_container_lookup() -> None:
    containers = (pf.ContainerState("a", "i", "running"), pf.ContainerState("b", "i", "running"))
    annotations = {pf.DEFAULT_CONTAINER_ANNOTATION: "b"}
    pod = pf.PodFacts("ns", "web", "Running", containers, ephemeral=(_ours(),), annotations=annotations)
    assert pod.container(None).name == "b"
    with pytest.raises(TargetNotFound, match="ephemeral"):
        pod.container("debugbox-app")
    with pytest.raises(TargetNotFound, match=r"it has: a, b"):
        pod.container("z")


def test_pod_facts_from_api_json() -> None:
    pod = pf.PodFacts.from_json(
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


# --- the one decision, and the facts it asks for ---


@pytest.mark.parametrize(
    "options",
    [PlanOptions(strategy="ephemeral"), PlanOptions(preferred="ephemeral")],
    ids=["explicit", "preferred"],
)
def test_preferred_and_explicit_ask_for_the_same_facts(options: PlanOptions) -> None:
    pod, container = _pod(), _pod().containers[0]
    # the preflight comes first, for both
    assert ps.decide_strategy(pod, container, SHELL, options).needs == (ps.NEEDS_ACCESS,)
    asked = replace(SHELL, access={})  # RBAC denies nothing
    decision = ps.decide_strategy(pod, container, asked, options)  # exec would come first on the ladder
    assert decision == ps.StrategyDecision("ephemeral", (ps.NEEDS_ADMISSION,))
    answered = ps.decide_strategy(
        pod, container, pf.ClusterFacts(image_has_shell=True, ephemeral="ok", access={}), options
    )
    assert answered == ps.StrategyDecision("ephemeral")


def test_a_refused_ephemeral_falls_back_only_when_preferred() -> None:
    pod, container = _pod(), _pod().containers[0]
    refused = pf.ClusterFacts(image_has_shell=True, ephemeral="forbidden", ephemeral_message="RBAC said no")
    assert ps.decide_strategy(pod, container, refused, PlanOptions(preferred="ephemeral")).strategy == "exec"
    with pytest.raises(StrategyUnavailable, match="RBAC said no"):
        ps.decide_strategy(pod, container, refused, PlanOptions(strategy="ephemeral"))


def test_a_copy_asks_for_the_taken_names_first() -> None:
    pod, container = _pod(), _pod().containers[0]
    disabled = pf.ClusterFacts(ephemeral="disabled", access={})
    assert ps.decide_strategy(pod, container, disabled, PlanOptions()).needs == (ps.NEEDS_FREE_COPY_NAME,)
    known = pf.ClusterFacts(ephemeral="disabled", existing_pods=frozenset({"web-debugbox"}), access={})
    assert ps.decide_strategy(pod, container, known, PlanOptions()) == ps.StrategyDecision("copy")


PATCH_EPHEMERAL = Permission("patch", "pods/ephemeralcontainers")


def test_rbac_closes_ephemeral_before_any_dry_run_and_says_what_to_ask_for() -> None:
    pod, container = _pod(), _pod().containers[0]
    denied = pf.ClusterFacts(image_has_shell=False, access={PATCH_EPHEMERAL: False}, user="alice")
    assert "ephemeral" not in ps.available_strategies(pod, container, denied)
    # auto: the ladder goes on (to a copy, which then needs consent); no dry run is asked for
    assert ps.decide_strategy(pod, container, denied, PlanOptions()).strategy == "copy"
    why, ask = ps.rbac_fallback(pod, container, denied, "copy", PlanOptions()) or ("", "")
    assert why.startswith("ephemeral is closed: RBAC does not allow you to patch pods/ephemeralcontainers")
    assert 'name: "alice"' in ask and 'resources: ["pods/ephemeralcontainers"]' in ask
    # explicit: refused with the Role to ask for
    with pytest.raises(StrategyUnavailable, match="kind: RoleBinding"):
        ps.decide_strategy(pod, container, denied, PlanOptions(strategy="ephemeral"))
    ways = {w.strategy: w for w in ps.preflight_ways(pod, container, denied)}
    assert not ways["ephemeral"].open and ways["ephemeral"].missing == (PATCH_EPHEMERAL,)
    assert ways["exec"].why_not.endswith("is not known to have a shell")


def test_the_preflight_asks_only_what_the_candidate_ways_need() -> None:
    pod, container = _pod(), _pod().containers[0]
    explicit = ps.access_questions(pod, container, NO_SHELL, PlanOptions(strategy="exec"))
    assert explicit == (Permission("create", "pods/exec"), Permission("get", "pods"))
    auto = ps.access_questions(pod, container, NO_SHELL, PlanOptions())
    assert Permission("create", "pods/exec") not in auto  # exec is not a candidate without a known shell
    assert PATCH_EPHEMERAL in auto and Permission("create", "pods") in auto


@pytest.mark.parametrize(("toolbox", "noted"), [("busybox", False), ("mirror.example/tools:1", True)])
def test_reattach_says_when_the_running_debug_container_has_another_toolbox(
    toolbox: str, noted: bool
) -> None:
    """The toolbox setting for the namespace changed since the debug container was added: reattaching keeps
    the old image, so the note says so and how to get the new one."""
    pod = _pod(ephemeral=(_ours(),))
    plan = ps.build_plan(pod, "app", NO_SHELL, PlanOptions(toolbox_image=toolbox)).plan
    assert plan.strategy == "reattach"
    said = [n for n in plan.notes if "runs busybox, not" in n]
    assert bool(said) == noted
    if noted:
        assert f"not {toolbox} (the toolbox image for namespace ns now)" in said[0]
