"""The copy that keeps a failing container up (#13 §5), pure: what `copy_pod.keep_up_copy` builds from a pod."""

from __future__ import annotations

from debugbox.core.targets.copy_pod import (
    KEEP_UP_COMMAND,
    TOOLS_VOLUME,
    debug_container,
    keep_up_copy,
    keeps_up,
)

POD = {
    "metadata": {
        "name": "web",
        "namespace": "shop",
        "labels": {"app": "web"},
        "annotations": {"note": "kept"},
        "ownerReferences": [{"kind": "ReplicaSet", "name": "web-1"}],
    },
    "spec": {
        "nodeName": "node-1",
        "initContainers": [{"name": "migrate", "image": "app:1"}],
        "containers": [
            {"name": "app", "image": "app:1", "args": ["--serve"], "livenessProbe": {}, "readinessProbe": {}},
            {
                "name": "proxy",
                "image": "proxy:1",
                "startupProbe": {},
                "volumeMounts": [{"name": "data", "mountPath": "/d"}],
            },
        ],
        "ephemeralContainers": [{"name": "debugbox-app", "image": "busybox"}],
        "volumes": [{"name": "data", "emptyDir": {}}],
    },
    "status": {"phase": "Running"},
}


def test_the_copy_keeps_the_failing_container_up_and_drops_what_would_kill_or_route_to_it() -> None:
    debug = debug_container(
        "debugbox-app", "busybox:1.36", ["sh"], {"DEBUGBOX_IDENTITY": "root"}, tty=True, security_context=None
    )
    copy = keep_up_copy(POD, "app", "web-debugbox", debug, "busybox:1.36", None)
    meta, spec = copy["metadata"], copy["spec"]
    assert meta == {
        "name": "web-debugbox",
        "namespace": "shop",
        "labels": {"debugbox.dev/created-by": "debugbox"},  # no app=web: Services and controllers ignore it
        "annotations": {"note": "kept"},
    }
    assert (
        "nodeName" not in spec and "ephemeralContainers" not in spec and spec["shareProcessNamespace"] is True
    )
    app, proxy, added = spec["containers"]
    assert app["command"] == list(KEEP_UP_COMMAND) and "args" not in app and app["image"] == "app:1"
    assert {"name": TOOLS_VOLUME, "mountPath": "/.debugbox", "readOnly": True} in app["volumeMounts"]
    assert not any(k.endswith("Probe") for c in (app, proxy) for k in c)
    assert proxy["volumeMounts"] == [{"name": "data", "mountPath": "/d"}] and "command" not in proxy
    assert added == debug
    assert [c["name"] for c in spec["initContainers"]] == [TOOLS_VOLUME, "migrate"]  # ours first
    assert spec["volumes"] == [{"name": "data", "emptyDir": {}}, {"name": TOOLS_VOLUME, "emptyDir": {}}]
    assert POD["spec"]["containers"][0]["args"] == ["--serve"]  # the pod's JSON is not changed


def test_the_identity_goes_into_the_added_containers_only() -> None:
    restricted = {"runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}
    debug = debug_container(
        "debugbox-app",
        "busybox:1.36",
        ["sh"],
        {"DEBUGBOX_IDENTITY": "x"},
        tty=False,
        security_context=restricted,
    )
    custom = {"securityContext": {"runAsUser": 65532, "runAsGroup": 65532}}
    copy = keep_up_copy(POD, "app", "web-debugbox", debug, "busybox:1.36", restricted, custom, "uid 65532")
    tools = copy["spec"]["initContainers"][0]
    added = copy["spec"]["containers"][-1]
    for c in (tools, added):
        assert c["securityContext"] == {**restricted, "runAsUser": 65532, "runAsGroup": 65532}
    assert added["env"] == [{"name": "DEBUGBOX_IDENTITY", "value": "uid 65532"}]
    assert "securityContext" not in copy["spec"]["containers"][0]


def test_which_containers_need_keeping_up() -> None:
    assert (
        keeps_up("Running", "waiting")
        and keeps_up("Failed", "terminated")
        and keeps_up("Succeeded", "running")
    )
    assert not keeps_up("Running", "running")


def test_the_cleanup_question_counts_in_words_a_user_reads() -> None:
    from debugbox.core.targets.consent import delete_copies_question

    where = "namespace shop (context prod)"
    assert delete_copies_question(("web-debugbox",), where) == (
        "Delete the debug copy in namespace shop (context prod): web-debugbox?"
    )
    assert delete_copies_question(("a-debugbox", "b-debugbox"), where) == (
        "Delete 2 debug copies in namespace shop (context prod): a-debugbox, b-debugbox?"
    )
