"""The pure rules behind the pod lenses' request budget (`poll_budget`) and the preflight (`preflight`)."""

from __future__ import annotations

import yaml
from debugbox.core.targets import poll_budget, preflight
from debugbox.core.targets.poll_budget import Backoff, plan_poll
from debugbox.core.targets.preflight import Permission


def _plan(wanted: list[str], *, trusted: bool = True, backoff: Backoff | None = None, now: float = 0.0):
    return plan_poll(wanted, "default", trusted=trusted, backoff=backoff or Backoff(), context="c", now=now)


def test_300_namespaces_are_capped_first_asked_first_and_the_rest_say_why() -> None:
    wanted = [f"ns-{i}" for i in range(300)] + ["ns-0"]  # a repeat costs nothing
    plan = _plan(wanted)
    assert plan.poll == tuple(f"ns-{i}" for i in range(poll_budget.MAX_NAMESPACES))
    assert len(plan.skipped) == 300 - poll_budget.MAX_NAMESPACES
    assert "more than 20 namespaces" in plan.skipped["ns-299"]


def test_an_untrusted_workspace_polls_only_the_contexts_namespace() -> None:
    plan = _plan(["kube-system", "default", "prod"], trusted=False)
    assert plan.poll == ("default",)
    assert "not trusted" in plan.skipped["kube-system"] and "(default)" in plan.skipped["prod"]


def test_a_failing_namespace_backs_off_exponentially_up_to_the_maximum() -> None:
    b = Backoff()
    waits = [b.failed(("c", "shop"), now=0.0, error="500") for _ in range(8)]
    assert waits == [10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0, 300.0]
    assert _plan(["shop", "default"], backoff=b, now=299.0).poll == ("default",)
    assert "backing off): 500" in _plan(["shop"], backoff=b, now=299.0).skipped["shop"]
    assert _plan(["shop"], backoff=b, now=300.0).poll == ("shop",)
    b.succeeded(("c", "shop"))
    assert b.failed(("c", "shop"), now=0.0) == 10.0  # a success starts over


def test_the_role_grants_exactly_the_missing_permissions_and_quotes_hostile_names() -> None:
    missing = (
        Permission("patch", "pods/ephemeralcontainers"),
        Permission("list", "pods"),
        Permission("watch", "pods"),
    )
    role, binding = yaml.safe_load_all(
        preflight.role_request("shop", "eve\nkind: ClusterRole", missing, "ephemeral")
    )
    assert role["kind"] == "Role" and role["metadata"] == {
        "name": "debugbox-ephemeral-e25128cb",
        "namespace": "shop",
    }
    assert binding["metadata"]["name"] == binding["roleRef"]["name"] == role["metadata"]["name"]
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["pods/ephemeralcontainers"], "verbs": ["patch"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "watch"]},
    ]
    assert binding["kind"] == "RoleBinding" and binding["subjects"][0]["name"] == "eve\nkind: ClusterRole"


def test_two_requests_for_one_way_have_two_names_so_the_second_does_not_replace_the_first() -> None:
    """Each request grants only what is missing: the shell's Role, then `debugbox cp`'s (an ephemeral container
    worked in through exec) or a command's extra `get pods/log`. Applied under one name, the second would replace
    the first and take back what it granted; the same permissions keep the same name (applying twice is a no-op)."""
    shell = preflight.needs("ephemeral")
    data = preflight.needs("ephemeral", attach=False)
    log = (preflight.LOG_FALLBACK,)
    names = {preflight.role_name("ephemeral", p) for p in (shell, data, log)}
    assert len(names) == 3 and all(n.startswith("debugbox-ephemeral-") for n in names)
    assert preflight.role_name("ephemeral", shell) == preflight.role_name("ephemeral", tuple(reversed(shell)))
    assert preflight.role_name("copy", log) != preflight.role_name("ephemeral", log)


def test_an_unknown_user_gets_a_placeholder() -> None:
    _, binding = yaml.safe_load_all(preflight.role_request("shop", "", (Permission("get", "pods"),), "exec"))
    assert binding["subjects"][0]["name"] == preflight.USER_PLACEHOLDER


def test_what_each_way_needs_is_asked_once() -> None:
    asked = preflight.permissions_to_ask(["ephemeral", "copy"])
    assert len(asked) == len(set(asked))
    assert Permission("patch", "pods/ephemeralcontainers") in asked and Permission("delete", "pods") in asked
    assert Permission("create", "pods/exec") not in asked  # exec was not a candidate
    review = Permission("patch", "pods/ephemeralcontainers").review("shop")
    assert review == {
        "namespace": "shop",
        "verb": "patch",
        "group": "",
        "resource": "pods",
        "subresource": "ephemeralcontainers",
    }
