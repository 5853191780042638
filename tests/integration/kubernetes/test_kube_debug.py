"""Plans for pod containers, then the argv debugbox produced, run with the pinned real kubectl on the fake.

Each test asserts on what kubectl actually sent (the PATCH of `pods/ephemeralcontainers`, the protobuf POST of
a copy, the attach/exec requests) — not on debugbox's own idea of it. Plans are built non-interactively (no
-i/-t) so kubectl returns instead of waiting for a terminal.
"""

from __future__ import annotations

from typing import Any

import pytest
from debugbox.core.errors import StrategyUnavailable
from debugbox.core.targets.consent import CopyNeedsConsent
from debugbox.core.targets.pod_strategy import PROFILE_SECURITY_CONTEXT
from debugbox.core.targets.session import BOOTSTRAP_SCRIPT
from debugbox.edge.kube_client import KubeForbidden

from tests.fakes.kube.admission import RESTRICTED_CONTAINER_SECURITY
from tests.fakes.kube_apiserver import MIRROR_ANNOTATION, RecordedRequest
from tests.integration.kubernetes.bootstrap_argv import split_session
from tests.integration.kubernetes.conftest import KUBECTL, KubeEnv, batch_options

pytestmark = pytest.mark.kubernetes

DISTROLESS = "gcr.io/distroless/static-debian12"


def _plan(kube: KubeEnv, ref: str = "web/app", **kw: Any) -> Any:
    settings_kw = {
        k: kw.pop(k) for k in ("profile", "allow_privileged", "namespace", "strategy_setting") if k in kw
    }
    if "strategy_setting" in settings_kw:
        settings_kw["strategy"] = settings_kw.pop("strategy_setting")
    backend = kube.backend(**settings_kw)
    target = backend.resolve(ref)
    return backend.kube_plan(target, batch_options(backend.settings, **kw))


def _patches(kube: KubeEnv, *, dry_run: bool) -> list[RecordedRequest]:
    return [
        r
        for r in kube.fake.requests_to("PATCH", "/ephemeralcontainers")
        if (r.q("dryRun") == "All") == dry_run
    ]


def _web(kube: KubeEnv, namespace: str = "default", **kw: Any) -> dict[str, Any]:
    return kube.fake.store.add_pod("web", namespace, [{"name": "app", "image": DISTROLESS}], **kw)


def test_ephemeral_for_a_distroless_container_and_kubectl_sends_that_patch(kube: KubeEnv) -> None:
    _web(kube)
    kp = _plan(kube)
    plan = kp.plan

    assert plan.strategy == "ephemeral"
    argv, env, command = split_session(plan.argv)  # the session bootstrap is the debug container's command
    assert argv == [
        str(KUBECTL), "debug", "web", "-n", "default", "--context", "fake",
        "--request-timeout=10s", "--target=app", "--image=busybox:1.36", "--profile=general", "-c", "debugbox-app",
    ]  # fmt: skip
    assert command == [] and env["DEBUGBOX_IDENTITY"].startswith("root with SYS_PTRACE (profile general)")
    assert any("stay in the pod until the pod is deleted" in n for n in plan.notes)
    # debugbox asked first, with a dry run of the same container, through the real Python client:
    (dry,) = _patches(kube, dry_run=True)
    assert dry.content_type == "application/strategic-merge-patch+json"
    assert dry.user_agent.startswith("OpenAPI-Generator/")
    assert "debugbox-app" not in str(
        kube.fake.store.get("default", "web")["spec"]
    )  # a dry run changes nothing

    out = kube.kubectl(plan.argv)

    assert out.returncode == 0, out.stderr
    assert 'Targeting container "app"' in out.stdout
    (patch,) = _patches(kube, dry_run=False)
    assert patch.user_agent.startswith("kubectl/v1.37.1")
    assert patch.content_type == "application/strategic-merge-patch+json"
    (sent,) = patch.decoded["spec"]["ephemeralContainers"]
    assert sent["name"] == "debugbox-app" and sent["image"] == "busybox:1.36"
    assert sent["targetContainerName"] == "app"
    assert sent["securityContext"] == {"capabilities": {"add": ["SYS_PTRACE"]}}
    assert sent["command"] == ["sh", "-c", BOOTSTRAP_SCRIPT, "debugbox"]  # the session bootstrap
    assert {"name": "DEBUGBOX_TARGET", "value": "web/app"} in sent["env"]
    # What debugbox dry-ran is what kubectl then sent (apart from the -it flags the batch run leaves out, and the
    # session's command and variables, which admission does not judge).
    dry_sent = dry.decoded["spec"]["ephemeralContainers"][0]
    assert {k: v for k, v in dry_sent.items() if k not in ("stdin", "tty")} == {
        k: v for k, v in sent.items() if k not in ("resources", "command", "env")
    }
    stored = kube.fake.store.get("default", "web")
    assert [c["name"] for c in stored["spec"]["ephemeralContainers"]] == ["debugbox-app"]


@pytest.mark.parametrize(
    ("setting", "psa", "expected"),
    [
        ("auto", None, "general"),
        ("auto", "privileged", "general"),
        ("auto", "baseline", "baseline"),
        ("auto", "restricted", "restricted"),
        ("netadmin", None, "netadmin"),
        ("sysadmin", None, "sysadmin"),
    ],
)
def test_profile_follows_pod_security_and_kubectl_sends_its_security_context(
    kube: KubeEnv, setting: str, psa: str | None, expected: str
) -> None:
    kube.fake.store.add_namespace("shop", {"pod-security.kubernetes.io/enforce": psa} if psa else {})
    app: dict[str, Any] = {"name": "app", "image": DISTROLESS}
    if psa == "restricted":  # a pod that runs there passes the level (Pod Security checks the whole pod)
        app["securityContext"] = RESTRICTED_CONTAINER_SECURITY
    kube.fake.store.add_pod("web", "shop", [app])

    plan = _plan(kube, profile=setting, namespace="shop", allow_privileged=setting == "sysadmin").plan

    assert f"--profile={expected}" in plan.argv
    out = kube.kubectl(plan.argv)
    assert out.returncode == 0, out.stderr
    (patch,) = _patches(kube, dry_run=False)
    sent = patch.decoded["spec"]["ephemeralContainers"][0]
    wanted = PROFILE_SECURITY_CONTEXT[expected]
    if expected == "restricted":  # and the identity a non-root pod needs (test_kube_identity.py)
        wanted = {**(wanted or {}), "runAsUser": 65532}
    assert sent.get("securityContext") == wanted
    (dry,) = _patches(kube, dry_run=True)
    assert dry.decoded["spec"]["ephemeralContainers"][0].get("securityContext") == sent.get("securityContext")


def test_sysadmin_needs_allow_privileged(kube: KubeEnv) -> None:
    _web(kube)
    with pytest.raises(StrategyUnavailable) as refused:
        _plan(kube, profile="sysadmin")
    assert str(refused.value) == (
        "the sysadmin profile runs the debug container privileged; set debugbox.allowPrivileged to use it"
    )
    assert _patches(kube, dry_run=True) == [] and _patches(kube, dry_run=False) == []  # nothing was tried


def test_a_taken_name_gets_a_suffix_and_ended_ones_are_mentioned(kube: KubeEnv) -> None:
    _web(
        kube,
        ephemeral=[{"name": "debugbox-app", "image": "busybox", "targetContainerName": "app"}],
        status={"phase": "Running", "ephemeralContainerStatuses": [
            {"name": "debugbox-app", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
        ]},
    )  # fmt: skip
    plan = _plan(kube).plan

    assert plan.strategy == "ephemeral" and "debugbox-app-2" in plan.argv
    assert any("debugbox-app" in n and "ended" in n for n in plan.notes)
    out = kube.kubectl([*plan.argv, "--", "sleep", "1"])
    assert out.returncode == 0, out.stderr
    names = [c["name"] for c in kube.fake.store.get("default", "web")["spec"]["ephemeralContainers"]]
    assert names == ["debugbox-app", "debugbox-app-2"]  # merged by name: the first one is kept


def test_reattach_when_our_debug_container_already_runs(kube: KubeEnv) -> None:
    _web(kube, ephemeral=[{"name": "debugbox-app", "image": "busybox", "targetContainerName": "app"}])
    plan = _plan(kube).plan

    assert plan.strategy == "reattach"
    assert list(plan.argv) == [
        str(KUBECTL),
        "attach",
        "web",
        "-c",
        "debugbox-app",
        "-n",
        "default",
        "--context",
        "fake",
        "--request-timeout=10s",
    ]
    assert not _patches(kube, dry_run=True)  # nothing new is added, so nothing is asked
    # Watched while kubectl connects, from the CLI and the editor's terminal (`debugbox session --connect`).
    assert plan.connect == "k8s://fake/default/web/app" and not plan.watch

    kube.kubectl(
        plan.argv, timeout=30
    )  # the fake can't stream: kubectl fails after asking for the right stream
    attach = kube.fake.requests_to("GET", "/pods/web/attach") + kube.fake.requests_to(
        "POST", "/pods/web/attach"
    )
    assert attach and attach[0].q("container") == "debugbox-app"


def test_not_reattach_when_a_command_is_given(kube: KubeEnv) -> None:
    _web(kube, ephemeral=[{"name": "debugbox-app", "image": "busybox", "targetContainerName": "app"}])
    plan = _plan(kube, command=["ps"]).plan
    argv, _, command = split_session(plan.argv)
    assert plan.strategy == "ephemeral" and argv[-1] == "debugbox-app-2" and command == ["ps"]


def test_exec_when_the_image_is_known_to_have_a_shell(kube: KubeEnv) -> None:
    kube.fake.store.add_pod("web", "default", [{"name": "app", "image": "nginx:1.27"}])
    plan = _plan(kube, command=["ls", "/"]).plan

    assert plan.strategy == "exec"
    assert list(plan.argv) == [
        str(KUBECTL), "exec", "web", "-c", "app", "-n", "default", "--context", "fake",
        "--request-timeout=10s", "--", "ls", "/",
    ]  # fmt: skip
    kube.kubectl(plan.argv, timeout=30)
    execs = kube.fake.requests_to("GET", "/pods/web/exec") + kube.fake.requests_to("POST", "/pods/web/exec")
    assert execs and execs[0].q("container") == "app" and execs[0].query["command"] == ["ls", "/"]


@pytest.mark.parametrize("how", ["preferred", "explicit"])
def test_preferred_and_explicit_ephemeral_ask_admission_the_same_way(kube: KubeEnv, how: str) -> None:
    """`debugbox.strategy: ephemeral` runs the same dry run as asking for it, even where exec would come first."""
    kube.fake.store.add_pod("web", "default", [{"name": "app", "image": "nginx:1.27"}])
    kw = {"strategy_setting": "ephemeral"} if how == "preferred" else {"strategy": "ephemeral"}
    plan = _plan(kube, **kw).plan
    assert plan.strategy == "ephemeral"
    (dry,) = _patches(kube, dry_run=True)
    assert dry.decoded["spec"]["ephemeralContainers"][0]["name"] == "debugbox-app"


def test_a_refused_preferred_ephemeral_falls_back_where_an_explicit_one_fails(kube: KubeEnv) -> None:
    kube.fake.store.add_pod("web", "default", [{"name": "app", "image": "nginx:1.27"}])
    kube.fake.faults.denied.add(("patch", "pods/ephemeralcontainers"))
    plan = _plan(kube, strategy_setting="ephemeral").plan
    assert plan.strategy == "exec"  # the ladder, after RBAC refused the asked-for dry run
    assert len(_patches(kube, dry_run=True)) == 1
    with pytest.raises(KubeForbidden):
        _plan(kube, strategy="ephemeral")
    assert len(_patches(kube, dry_run=True)) == 2 and not _patches(kube, dry_run=False)


def _copy_plan(kube: KubeEnv, copy_name: str) -> tuple[str, Any]:
    """#10 §5: the ladder reaches a copy but creates nothing unasked; asked for explicitly, it plans it."""
    with pytest.raises(CopyNeedsConsent) as refused:
        _plan(kube)
    message = str(refused.value)
    assert f"it creates pod {copy_name}" in message and "--strategy copy" in message
    assert f"kubectl delete pod {copy_name}" in message and "debugbox.dev/created-by=debugbox" in message
    assert not kube.fake.requests_to("POST", "/pods")
    return message, _plan(kube, strategy="copy")


def _copy_checks(kube: KubeEnv, plan: Any, copy_name: str) -> dict[str, Any]:
    assert plan.plan.strategy == "copy"
    assert f"--copy-to={copy_name}" in plan.plan.argv and "--share-processes" in plan.plan.argv
    assert any("no labels" in n and "kubectl delete pod" in n for n in plan.plan.notes)
    out = kube.kubectl(plan.plan.argv)
    assert out.returncode == 0, out.stderr
    (post,) = kube.fake.requests_to("POST", "/namespaces/default/pods")
    assert post.content_type == "application/vnd.kubernetes.protobuf"  # kubectl >= 1.32 creates in protobuf
    pod = post.decoded
    assert pod["metadata"]["name"] == copy_name and not pod["metadata"].get("labels")
    assert pod["spec"]["shareProcessNamespace"] is True
    debug = pod["spec"]["containers"][-1]
    assert debug["name"] == "debugbox-app" and debug["image"] == "busybox:1.36"
    assert [c["name"] for c in pod["spec"]["containers"]] == ["app", "debugbox-app"]
    # The offered clean-up works and removes exactly the copy.
    assert plan.cleanup == (str(KUBECTL), "delete", "pod", copy_name, "-n", "default", "--context", "fake")
    out = kube.kubectl(plan.cleanup)
    assert out.returncode == 0, out.stderr
    assert ("default", copy_name) not in kube.fake.store.pods and ("default", "web") in kube.fake.store.pods
    return pod


def test_copy_when_ephemeral_containers_are_disabled(kube: KubeEnv) -> None:
    _web(kube)
    kube.fake.faults.ephemeral_disabled = True
    why, plan = _copy_plan(kube, "web-debugbox")

    assert "does not serve pods/ephemeralcontainers" in why
    assert len(_patches(kube, dry_run=True)) == 1  # the dry run found out (the explicit copy needs none)
    _copy_checks(kube, plan, "web-debugbox")


def test_copy_for_a_static_pod_only_when_chosen(kube: KubeEnv) -> None:
    _web(kube, annotations={MIRROR_ANNOTATION: "abc123"})
    why, plan = _copy_plan(kube, "web-debugbox")
    assert "static pod" in why and any("static pod" in n for n in plan.plan.notes)
    assert not _patches(kube, dry_run=True)
    _copy_checks(kube, plan, "web-debugbox")


def test_copy_for_a_crash_looping_container_with_a_free_name(kube: KubeEnv) -> None:
    _web(kube, status={"phase": "Running", "containerStatuses": [
        {"name": "app", "restartCount": 7, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
    ]})  # fmt: skip
    kube.fake.store.add_pod("web-debugbox", "default")  # an earlier copy is still there
    why, plan = _copy_plan(kube, "web-debugbox-2")
    assert "crash-looping" in why and any("crash-looping" in n for n in plan.plan.notes)
    # #13 §5: debugbox builds this copy itself (the container kept up), and the terminal attaches to it.
    assert plan.plan.argv[1:4] == ("attach", "web-debugbox-2", "-c")
    assert plan.cleanup == (
        str(KUBECTL),
        "delete",
        "pod",
        "web-debugbox-2",
        "-n",
        "default",
        "--context",
        "fake",
    )
    spec_file = plan.plan.watch["create"]
    assert any("kubectl create -f creates the same pod" in n and spec_file in n for n in plan.plan.notes)
    # The spec is a pod the API server accepts (the fake serves no OpenAPI for kubectl's client-side check).
    out = kube.kubectl(["create", "--validate=false", "-f", spec_file])
    assert out.returncode == 0, out.stderr
    pod = kube.fake.store.get("default", "web-debugbox-2")
    assert pod["metadata"]["labels"] == {"debugbox.dev/created-by": "debugbox"}
    assert [c["name"] for c in pod["spec"]["containers"]] == ["app", "debugbox-app"]
    assert pod["spec"]["containers"][0]["command"] == ["/.debugbox/busybox", "sleep", "2147483647"]


def test_forbidden_ephemeral_falls_back_to_copy_and_names_the_verb(kube: KubeEnv) -> None:
    _web(kube)
    kube.fake.faults.denied.add(("patch", "pods/ephemeralcontainers"))
    why, kplan = _copy_plan(kube, "web-debugbox")
    assert kplan.plan.strategy == "copy"
    assert "`patch pods/ephemeralcontainers`" in why
