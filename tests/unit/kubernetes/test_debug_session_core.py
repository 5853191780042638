"""The pure halves of #13 §2/§3: the verdict on a debug container's status, and the debug container's identity."""

from __future__ import annotations

from dataclasses import replace

import pytest
from debugbox.core.targets.debug_failures import (
    BOOTSTRAP_NO_TARGET,
    TARGET_NOT_VISIBLE,
    WatchSpec,
    command_exit,
    judge,
    timed_out,
)
from debugbox.core.targets.identity import (
    NONROOT_ID,
    custom_support,
    debug_identity,
    identity_notes,
    kubectl_minor,
    session_line,
    with_custom,
)

SPEC = WatchSpec("prod", "shop", "web", "debugbox-app", True, "nicolaka/netshoot")


def _pod(state: dict) -> dict:
    return {"status": {"ephemeralContainerStatuses": [{"name": "debugbox-app", "state": state}]}}


def test_verdicts() -> None:
    assert judge({"status": {}}, SPEC).state == "waiting"
    assert judge(_pod({"waiting": {"reason": "ContainerCreating"}}), SPEC).state == "waiting"
    assert judge(_pod({"running": {}}), SPEC).state == "running"
    assert judge(_pod({"terminated": {"reason": "Completed"}}), SPEC).state == "ended"
    non_root = 'container has runAsNonRoot and image will run as root (pod: "web_shop(1)", container: x)'
    v = judge(_pod({"waiting": {"reason": "CreateContainerConfigError", "message": non_root}}), SPEC)
    assert v.state == "failed" and "runs as root but the pod requires non-root" in v.message
    v = judge(_pod({"waiting": {"reason": "ImagePullBackOff", "message": "Back-off"}}), SPEC)
    assert "cannot pull nicolaka/netshoot" in v.message and "context prod" in v.message
    v = judge(
        _pod({"waiting": {"reason": "CreateContainerConfigError", "message": 'secret "s" not found'}}), SPEC
    )
    assert "cannot be created" in v.message and 'secret "s" not found' in v.message
    assert "\n" not in v.message


def test_the_bootstraps_missing_target_is_a_failure_offering_the_copy_command() -> None:
    """#13 §4: exit 97 of the bootstrap means no process of the target was visible; only with a target to check
    (a command of the user's may exit 97 in a --raw session)."""
    checked = replace(SPEC, context="arn:aws:eks:eu/x", target="app")
    ended = _pod({"terminated": {"reason": "Error", "exitCode": BOOTSTRAP_NO_TARGET}})
    v = judge(ended, checked)
    assert v.state == "failed" and v.reason == TARGET_NOT_VISIBLE and "\n" not in v.message
    assert v.message.endswith(
        "debugbox shell pod/web/app -n shop --context arn:aws:eks:eu/x --image nicolaka/netshoot --strategy copy"
    )
    assert judge(ended, SPEC).state == "ended"
    assert WatchSpec.from_json(checked.to_json()) == checked and "target" not in SPEC.to_json()


def test_the_target_check_run_in_the_debug_container_says_what_its_status_would() -> None:
    """The data commands run the bootstrap's check through `kubectl exec` (`target_check`) instead of watching the
    container for its own check: the same sentence as `judge` for its exit 97; an exec that failed otherwise
    leaves the verdict to the container's status."""
    from debugbox.core.targets.debug_failures import target_check

    checked = replace(SPEC, target="app")
    assert target_check(checked, 0).state == "running"
    ended = judge(_pod({"terminated": {"reason": "Error", "exitCode": BOOTSTRAP_NO_TARGET}}), checked)
    assert target_check(checked, BOOTSTRAP_NO_TARGET) == ended and ended.reason == TARGET_NOT_VISIBLE
    assert target_check(checked, 1).state == "waiting"  # e.g. "container is not running": read its status
    assert target_check(checked, 137).state == "waiting"
    assert target_check(SPEC, BOOTSTRAP_NO_TARGET).state == "waiting"  # nothing was asked to be checked


def test_in_a_copy_debugbox_made_the_init_and_kept_up_containers_are_judged_too() -> None:
    copy = replace(SPEC, pod="web-debugbox", ephemeral=False, create="/c.json", kept="app")
    running = {"name": "debugbox-app", "state": {"running": {}}}
    crashed = {
        "name": "app",
        "state": {"waiting": {"reason": "RunContainerError", "message": "exec: no such file"}},
    }
    v = judge({"status": {"containerStatuses": [crashed, running]}}, copy)
    assert v.state == "failed" and v.message.startswith(
        "container app in the copy pod shop/web-debugbox did not"
    )
    assert "RunContainerError: exec: no such file" in v.message and "static busybox" in v.message
    init = {"name": "debugbox-tools", "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}
    v = judge({"status": {"initContainerStatuses": [init]}}, copy)
    assert v.state == "failed" and "init container debugbox-tools" in v.message and "exit code 1" in v.message
    up = {"name": "app", "state": {"running": {}}}
    done = {"name": "debugbox-tools", "state": {"terminated": {"exitCode": 0}}}
    assert judge(
        {"status": {"initContainerStatuses": [done], "containerStatuses": [up, running]}}, copy
    ).state == ("running")
    assert WatchSpec.from_json(copy.to_json()) == copy


def test_timeout_sentence_names_the_last_state() -> None:
    from debugbox.core.targets.debug_failures import Verdict

    text = timed_out(SPEC, 60, Verdict("waiting", "ContainerCreating"))
    assert "within 60 s" in text and "still ContainerCreating" in text


def _pod_spec(psc: dict, csc: dict) -> dict:
    return {"spec": {"securityContext": psc, "containers": [{"name": "app", "securityContext": csc}]}}


def test_identity_follows_the_target() -> None:
    who = debug_identity(
        _pod_spec({"runAsUser": 1000, "runAsGroup": 2000}, {"runAsUser": 1001}), "app", "general"
    )
    assert who.custom == {"securityContext": {"runAsUser": 1001, "runAsGroup": 2000}}
    who = debug_identity(_pod_spec({}, {"runAsNonRoot": True}), "app", "restricted")
    assert who.custom == {"securityContext": {"runAsUser": NONROOT_ID}}
    who = debug_identity(_pod_spec({"runAsNonRoot": True}, {}), "app", "general")  # pod level applies to us
    assert who.custom == {"securityContext": {"runAsUser": NONROOT_ID}}
    assert debug_identity(_pod_spec({}, {}), "app", "baseline").custom is None
    assert debug_identity(_pod_spec({"runAsUser": 0}, {}), "app", "general").custom is None
    notes = identity_notes(debug_identity(_pod_spec({}, {}), "app", "restricted"), "app")
    assert "tcpdump" in notes[1]


def _reported(pod: dict, uid: int, gid: int) -> dict:
    user = {"linux": {"uid": uid, "gid": gid, "supplementalGroups": [gid]}}
    return {**pod, "status": {"containerStatuses": [{"name": "app", "user": user}]}}


def test_the_gid_is_runasgroup_else_the_kubelets_report_else_a_guess_said_so() -> None:
    bare = _pod_spec({}, {"runAsUser": 65532})
    # runAsGroup wins; the kubelet's report fills in a missing one; without either the notes say it is a guess.
    who = debug_identity(
        _reported(_pod_spec({"runAsGroup": 7}, {"runAsUser": 65532}), 65532, 0), "app", "general"
    )
    assert (
        who.custom == {"securityContext": {"runAsUser": 65532, "runAsGroup": 7}}
        and who.gid_from == "runAsGroup"
    )
    who = debug_identity(_reported(bare, 65532, 0), "app", "general")
    assert who.custom == {"securityContext": {"runAsUser": 65532, "runAsGroup": 0}}
    assert "GID 0 (from the kubelet's report)" in identity_notes(who, "app")[0]
    assert "gid 0 " in session_line(who)
    who = debug_identity(bare, "app", "general")
    assert who.custom == {"securityContext": {"runAsUser": 65532}} and who.gid is None
    assert "The GID is a guess" in identity_notes(who, "app")[-1]
    assert "runAsGroup" in identity_notes(who, "app")[-1]
    assert "a guess" in session_line(who) and "," not in session_line(who)  # kubectl --env splits on commas
    # A report for another UID (the spec's runAsUser differs) is not this identity's GID.
    assert debug_identity(_reported(bare, 1000, 0), "app", "general").gid is None
    # No runAsUser: the image's USER decided, and the report says which UID that became.
    who = debug_identity(_reported(_pod_spec({}, {}), 65532, 0), "app", "restricted")
    assert who.custom == {"securityContext": {"runAsUser": 65532, "runAsGroup": 0}}
    # A root target stays as it was.
    assert debug_identity(_reported(_pod_spec({}, {}), 0, 0), "app", "general").custom is None


def test_custom_needs_kubectl_1_31_or_the_variable_on_1_30() -> None:
    assert kubectl_minor({"clientVersion": {"major": "1", "minor": "37+"}}) == (1, 37)
    assert kubectl_minor({}) is None
    assert custom_support((1, 37)) == (True, {}, "")
    usable, env, _ = custom_support((1, 30))
    assert usable and env == {"KUBECTL_DEBUG_CUSTOM_PROFILE": "true"}
    usable, env, note = custom_support((1, 29))
    assert not usable and "1.29 has no --custom" in note
    assert not custom_support(None)[0]


def test_with_custom_goes_after_the_profile_and_before_the_command() -> None:
    argv = ("kubectl", "debug", "web", "--profile=restricted", "-c", "x", "--", "sh")
    assert with_custom(argv, "/c.json") == (
        "kubectl", "debug", "web", "--profile=restricted", "--custom=/c.json", "-c", "x", "--", "sh",
    )  # fmt: skip
    with pytest.raises(ValueError):
        with_custom(("kubectl", "debug", "web", "--", "--profile=x"), "/c.json")


def test_a_commands_exit_code_is_read_once_its_container_ended() -> None:
    """`debugbox shell pod/… -- CMD`: kubectl exits 0 whatever CMD did; the container's status has CMD's code."""
    runs = replace(SPEC, command=True)
    assert command_exit(_pod({"terminated": {"reason": "Error", "exitCode": 3}}), runs) == 3
    assert command_exit(_pod({"terminated": {"reason": "Completed", "exitCode": 0}}), runs) == 0
    assert command_exit(_pod({"running": {}}), runs) is None
    assert command_exit({"status": {}}, runs) is None
    assert command_exit(_pod({"terminated": {"exitCode": 3}}), SPEC) is None  # a session without a command
    assert WatchSpec.from_json(runs.to_json()) == runs and "command" not in SPEC.to_json()
