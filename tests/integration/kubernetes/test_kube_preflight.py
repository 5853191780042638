"""#13 §1: the preflight. SelfSubjectAccessReviews for what the candidate ways need, before any write; the
ways in that are open and why the others are not (`debugbox targets`, plans); on an RBAC denial the Role and
RoleBinding to ask for — and that YAML, applied to the fake's RBAC, really lets the same command through.

Real CLI (`python -m debugbox`), real kubectl and the real Python client against the fake API server.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest
import yaml

from tests.integration.kubernetes.conftest import KubeEnv

pytestmark = pytest.mark.kubernetes

DISTROLESS = {"name": "app", "image": "gcr.io/distroless/static"}
WITH_SHELL = {"name": "app", "image": "python:3.12"}
#: What the `edit` ClusterRole of many clusters leaves out: pods/ephemeralcontainers (kubernetes PR 121217).
ALL_BUT_EPHEMERAL_OR_COPY = ((["get", "list", "watch"], ["pods"]), (["create"], ["pods/exec", "pods/attach"]))


def _as_alice(kube: KubeEnv, *grants: tuple[list[str], list[str]], container: dict = DISTROLESS) -> None:
    kube.fake.store.add_pod("web", containers=[container])
    for verbs, resources in grants:
        kube.fake.rbac.allow("alice", verbs, resources, namespaces=["default"])
    kube.login("alice")


def _role_yaml(stderr: str) -> list[dict]:
    """The Role and RoleBinding debugbox printed (everything from the first `apiVersion:` line)."""
    text = stderr[stderr.index("apiVersion: rbac.authorization.k8s.io/v1") :]
    return [d for d in yaml.safe_load_all(text) if d]


def _ssars(kube: KubeEnv) -> list[tuple[str, str]]:
    out = []
    for r in kube.fake.requests_to("POST", "/selfsubjectaccessreviews"):
        a = r.decoded["spec"]["resourceAttributes"]
        out.append((a["verb"], a["resource"] + (f"/{a['subresource']}" if a.get("subresource") else "")))
    return out


def _writes(kube: KubeEnv) -> list[str]:
    return [
        f"{r.method} {r.path}"
        for r in kube.fake.requests
        if r.method in ("PATCH", "DELETE") or (r.method == "POST" and "/apis/" not in r.path)
    ]


def test_targets_shows_which_ways_are_open_and_why_not(kube: KubeEnv) -> None:
    _as_alice(kube, *ALL_BUT_EPHEMERAL_OR_COPY, container=WITH_SHELL)

    out = kube.debugbox("targets", "--json")  # exit 1: the test's DOCKER_HOST has no engine, on purpose

    assert "kubernetes" not in out.stderr, out.stderr
    (target,) = [t for t in json.loads(out.stdout)["targets"] if t["runtime"] == "kubernetes"]
    ways = {w["strategy"]: w for w in target["ways"]}
    assert ways["exec"] == {"strategy": "exec", "open": True}
    assert ways["ephemeral"]["open"] is False
    assert ways["ephemeral"]["missing"] == ["patch pods/ephemeralcontainers"]
    assert "RBAC does not allow you to patch pods/ephemeralcontainers" in ways["ephemeral"]["whyNot"]
    assert ways["copy"]["open"] is False and "create pods" in ways["copy"]["missing"]
    assert target["strategies"] == ["exec"] and target["recommended"] == "exec"
    assert ("patch", "pods/ephemeralcontainers") in _ssars(kube)
    assert not _writes(kube)  # a listing asks, never writes

    table = kube.debugbox("targets")
    assert "web/app: exec: open · reattach: closed (" in table.stdout
    assert "ephemeral: closed (RBAC does not allow you to patch pods/ephemeralcontainers" in table.stdout


def test_without_ephemeral_rbac_a_preferred_ephemeral_falls_back_to_exec_and_says_why(kube: KubeEnv) -> None:
    _as_alice(kube, *ALL_BUT_EPHEMERAL_OR_COPY, container=WITH_SHELL)
    # The preferred way (the setting) is ephemeral; RBAC leaves out pods/ephemeralcontainers.
    backend = kube.backend(strategy="ephemeral")
    from tests.integration.kubernetes.conftest import batch_options

    plan = backend.plan(backend.resolve("web/app"), batch_options(backend.settings))

    assert plan.strategy == "exec"
    assert plan.warning.startswith(
        "ephemeral is closed: RBAC does not allow you to patch pods/ephemeralcontainers in namespace default; "
        "using exec."
    )
    assert not kube.fake.requests_to("PATCH")  # the preflight answered: no dry run was needed
    out = kube.kubectl(plan.argv)
    assert "is not docker-backed" in out.stderr  # kubectl exec was let through RBAC to the stream itself


def test_without_ephemeral_rbac_only_a_copy_is_left_and_the_message_says_why(kube: KubeEnv) -> None:
    _as_alice(
        kube,
        (["get", "list", "watch", "create", "patch", "delete"], ["pods"]),
        (["create"], ["pods/attach"]),
        (["get"], ["pods/log"]),
    )

    out = kube.debugbox("shell", "pod/web", "--image", "busybox:1.36", "--", "true")

    assert out.returncode == 1
    assert "only a copy of pod default/web would work because ephemeral is closed: RBAC does not allow" in (
        out.stderr
    )
    assert _role_yaml(out.stderr)[0]["rules"] == [
        {"apiGroups": [""], "resources": ["pods/ephemeralcontainers"], "verbs": ["patch"]}
    ]
    assert not _writes(kube)

    chosen = kube.debugbox("shell", "pod/web", "--strategy", "copy", "--image", "busybox:1.36", "--", "true")
    assert chosen.returncode == 0, chosen.stderr
    assert kube.fake.store.get("default", "web-debugbox")["metadata"]["labels"]


def _denied_then_granted(kube: KubeEnv, argv: list[str]) -> tuple[subprocess.CompletedProcess[str], list]:
    denied = kube.debugbox(*argv)
    assert denied.returncode == 1, denied.stdout
    assert not _writes(kube), "the preflight must refuse before anything is written"
    docs = _role_yaml(denied.stderr)
    kube.fake.rbac.apply(docs)
    kube.fake.clear_requests()
    return kube.debugbox(*argv), docs


def test_an_ephemeral_denial_prints_the_role_and_that_role_lets_it_through(kube: KubeEnv) -> None:
    _as_alice(kube, (["get"], ["pods"]))
    argv = ["shell", "pod/web", "--strategy", "ephemeral", "--image", "busybox:1.36", "--", "ps"]

    granted, (role, binding) = _denied_then_granted(kube, argv)

    assert role["kind"] == "Role" and role["metadata"]["namespace"] == "default"
    assert {r["resources"][0]: r["verbs"] for r in role["rules"]} == {
        "pods": ["list", "watch"],
        "pods/ephemeralcontainers": ["patch"],
        "pods/attach": ["create"],
        "pods/log": ["get"],  # kubectl reads the command's output there when it ended before the attach
    }  # least privilege: only what is missing (alice may already get pods)
    assert binding["subjects"] == [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"}]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    assert granted.returncode == 0, granted.stderr
    assert 'Targeting container "app"' in granted.stdout
    (patch,) = [r for r in kube.fake.requests_to("PATCH", "/ephemeralcontainers") if not r.q("dryRun")]
    assert patch.user_agent.startswith("kubectl/v1.37.1")


def test_when_rbac_closes_every_way_auto_says_so_and_the_role_lets_it_through(kube: KubeEnv) -> None:
    """A user who may only read pods, no strategy asked for: every way is closed by RBAC, not by the pod (which
    runs); the message says so, with the Role for the first way the ladder would take, and that Role works."""
    _as_alice(kube, (["get", "list", "watch"], ["pods"]))
    argv = ["shell", "pod/web", "--image", "busybox:1.36", "--", "ps"]

    denied = kube.debugbox(*argv)
    granted, (role, _) = _denied_then_granted(kube, argv)

    first = denied.stderr.splitlines()[0]
    assert first.startswith("debugbox: every way into pod default/web is closed by RBAC: ephemeral: "), first
    assert "copy: RBAC does not allow you to create pods" in first and "nothing to debug" not in first
    assert "To debug with ephemeral, ask your cluster admin" in denied.stderr
    assert {r["resources"][0]: r["verbs"] for r in role["rules"]} == {
        "pods/ephemeralcontainers": ["patch"],
        "pods/attach": ["create"],
        "pods/log": ["get"],
    }
    assert granted.returncode == 0, granted.stderr
    assert 'Targeting container "app"' in granted.stdout


def test_a_copy_denial_prints_the_role_and_that_role_lets_the_copy_and_its_cleanup_through(
    kube: KubeEnv,
) -> None:
    _as_alice(kube, (["get"], ["pods"]))
    argv = ["shell", "pod/web", "--strategy", "copy", "--image", "busybox:1.36", "--", "true"]

    granted, (role, _) = _denied_then_granted(kube, argv)

    assert {r["resources"][0]: r["verbs"] for r in role["rules"]} == {
        "pods": ["list", "watch", "create", "patch", "delete"],
        "pods/attach": ["create"],
        "pods/log": ["get"],
    }
    assert granted.returncode == 0, granted.stderr
    assert kube.fake.store.get("default", "web-debugbox")["metadata"]["labels"]  # labelled: patch pods
    done = kube.debugbox("cleanup", "--yes")
    assert done.returncode == 0, done.stderr  # list + delete pods: granted too
    # Deletion is graceful (the simulated kubelet stops the pod first), as on a real cluster: wait for it, bounded.
    deadline = time.monotonic() + 30
    while ("default", "web-debugbox") in kube.fake.store.pods and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ("default", "web-debugbox") not in kube.fake.store.pods, done.stdout + done.stderr


def test_a_service_account_gets_a_service_account_subject(kube: KubeEnv) -> None:
    kube.fake.store.add_pod("web", containers=[DISTROLESS])
    kube.fake.rbac.allow("system:serviceaccount:ci:runner", ["get"], ["pods"], namespaces=["default"])
    kube.login("system:serviceaccount:ci:runner")
    argv = ["shell", "pod/web", "--strategy", "ephemeral", "--image", "busybox:1.36", "--", "ps"]

    granted, (_, binding) = _denied_then_granted(kube, argv)

    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "runner", "namespace": "ci"}]
    assert granted.returncode == 0, granted.stderr


def test_an_interactive_session_runs_with_exactly_the_role_it_asked_for(kube_docker: KubeEnv) -> None:
    """The interactive path (`kubectl debug -i`: LIST + WATCH of the pod while it waits, then attach) on a
    docker-backed pod: denied with the Role, then, with that Role applied, a real shell in the debug container."""
    kube = kube_docker
    kube.fake.store.add_pod(
        "web", containers=[{"name": "app", "image": "example.com/distroless-app:1"}], docker=True
    )
    kube.fake.rbac.allow("alice", ["get"], ["pods"], namespaces=["default"])
    kube.login("alice")
    argv = ["shell", "pod/web", "--strategy", "ephemeral", "--image", "busybox:1.36", "--", "sh"]
    script = "echo from-the-debug-container\nexit\n"

    denied = kube.debugbox(*argv, stdin=script)
    assert denied.returncode == 1 and not _writes(kube)
    kube.fake.rbac.apply(_role_yaml(denied.stderr))
    kube.fake.clear_requests()
    granted = kube.debugbox(*argv, stdin=script)

    assert granted.returncode == 0, granted.stderr
    assert "from-the-debug-container" in granted.stdout
    by_kubectl = {
        (r.method, r.q("watch") == "true", r.path.rsplit("/", 1)[-1])
        for r in kube.fake.requests
        if r.user_agent.startswith("kubectl/")
    }
    # what the Role's watch pods and create pods/attach are for (kubectl 1.37 waits with a WATCH alone; the
    # guide's 1.33 sent a LIST first, hence list pods in the Role too)
    assert {("GET", True, "pods"), ("GET", False, "attach")} <= by_kubectl
