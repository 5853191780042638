"""The sidecar session: the bootstrap in the argv, the session's identity per target user, and the setting."""

from __future__ import annotations

import dataclasses

import pytest
from debugbox.core.settings import parse_settings
from debugbox.core.targets.container_strategy import BOOTSTRAP_SCRIPT, build_plan, sidecar_identity
from debugbox.core.targets.model import PlanOptions

from tests.unit.targets.test_container_strategy import RUNNING


def test_the_session_argv_runs_the_bootstrap_with_the_toolboxs_sh() -> None:
    plan = build_plan(RUNNING, PlanOptions(), "nicolaka/netshoot", "docker://3f2a9c1b7e4d")
    argv = plan.argv
    at = argv.index("nicolaka/netshoot")
    assert argv[at - 1] == "--entrypoint=sh"
    assert argv[at:] == ("nicolaka/netshoot", "-c", BOOTSTRAP_SCRIPT, "debugbox")
    assert "--env=DEBUGBOX_TARGET=web" in argv
    assert "--env=DEBUGBOX_HOW=docker sidecar, toolbox nicolaka/netshoot" in argv
    assert "--cap-add=SYS_PTRACE" in argv and not any(a.startswith("--user") for a in argv)
    assert plan.title == "Debug: web (sidecar, target files at /target)"
    assert any("/target" in n and "working directory" in n for n in plan.notes)
    # The script is plain POSIX sh that the toolbox runs: it sets up /target, the cwd and the environment.
    assert BOOTSTRAP_SCRIPT.lstrip().startswith("#") and "/proc/$dbx_pid/environ" in BOOTSTRAP_SCRIPT


@pytest.mark.parametrize(
    ("user", "options", "expected_user", "ptrace"),
    [
        ("", PlanOptions(), "", True),
        ("root", PlanOptions(), "", True),
        ("0:0", PlanOptions(), "", True),
        ("65532", PlanOptions(), "65532", False),
        ("65532:65532", PlanOptions(), "65532:65532", False),
        ("65532", PlanOptions(ptrace=True), "", True),
        ("65532", PlanOptions(raw=True), "", True),
        ("65532", PlanOptions(privileged=True), "", True),
        ("nonroot", PlanOptions(), "", True),  # a name: its UID is not known without reading the image
    ],
)
def test_the_sessions_identity_follows_the_target_user(
    user: str, options: PlanOptions, expected_user: str, ptrace: bool
) -> None:
    identity = sidecar_identity(user, options)
    assert (identity.user, identity.ptrace) == (expected_user, ptrace)
    argv = build_plan(dataclasses.replace(RUNNING, user=user), options, "tb", "t").argv
    assert ("--cap-add=SYS_PTRACE" in argv) == ptrace
    if expected_user:
        assert f"--user={expected_user}" in argv and "--tmpfs=/target:mode=1777" in argv
        assert "else a root session (--ptrace)" in identity.explanation
        # Without the engine's answer a bare UID leaves the GID to the toolbox: the banner says it is a guess.
        assert ("gid is the toolbox's guess" in identity.explanation) == (":" not in user)
    else:
        assert not any(a.startswith(("--user", "--tmpfs")) for a in argv)


@pytest.mark.parametrize(
    ("user", "ids", "options", "expected_user", "ptrace"),
    [
        ("65532", (65532, 0), PlanOptions(), "65532:0", False),  # no user database in the image: GID 0
        ("65532:65532", (65532, 65532), PlanOptions(), "65532:65532", False),
        ("nonroot", (65532, 65532), PlanOptions(), "65532:65532", False),  # a name the engine resolved
        ("65532", (0, 0), PlanOptions(), "", True),  # the engine's truth wins over the config
        ("65532", (65532, 0), PlanOptions(ptrace=True), "", True),
        ("", (0, 0), PlanOptions(), "", True),
    ],
)
def test_the_engines_process_ids_give_the_session_the_targets_exact_uid_and_gid(
    user: str, ids: tuple[int, int], options: PlanOptions, expected_user: str, ptrace: bool
) -> None:
    identity = sidecar_identity(user, options, ids)
    assert (identity.user, identity.ptrace) == (expected_user, ptrace)
    argv = build_plan(dataclasses.replace(RUNNING, user=user, ids=ids), options, "tb", "t").argv
    assert ("--cap-add=SYS_PTRACE" in argv) == ptrace
    assert (f"--user={expected_user}" in argv) == bool(expected_user)
    if expected_user:
        assert f"uid {ids[0]} gid {ids[1]} like the target's main process" in identity.explanation


def test_the_plan_says_why_the_gid_is_a_guess() -> None:
    facts = dataclasses.replace(
        RUNNING, user="65532", ids_note="The engine's process list could not be read."
    )
    plan = build_plan(facts, PlanOptions(), "tb", "t")
    assert "The engine's process list could not be read." in plan.notes
    assert "--user=65532" in plan.argv


def test_the_raw_setting_and_option_give_the_plain_shell() -> None:
    settings, problems = parse_settings({"session": {"raw": True}})
    assert problems == [] and settings.session.raw is True
    assert parse_settings({"debugbox.session.raw": False})[0].session.raw is False
    plan = build_plan(RUNNING, PlanOptions(raw=True), "tb", "t")
    assert plan.argv[-1] == "tb" and "/proc/1/root" in plan.title


def test_the_raw_setting_reaches_every_sessions_options() -> None:
    from debugbox.core.settings import SessionSettings, Settings
    from debugbox.edge.service import plan_options

    assert plan_options(Settings(session=SessionSettings(raw=True))).raw is True
    assert plan_options(Settings()).raw is False
    assert plan_options(Settings(), raw=True, ptrace=True).ptrace is True


def test_kubernetes_debug_containers_get_the_bootstrap_unless_raw() -> None:
    from debugbox.core.targets import pod_facts as pf
    from debugbox.core.targets.pod_strategy import kube_session, with_session_identity

    pod = pf.PodFacts("ns", "web", "Running", (pf.ContainerState("app", "img", "running", ""),))
    env, command = kube_session(pod, "app", "ephemeral", "busybox", "general", PlanOptions()) or ([], [])
    assert command == ["sh", "-c", BOOTSTRAP_SCRIPT, "debugbox"]
    assert "--env=DEBUGBOX_TARGET=web/app" in env and "--env=DEBUGBOX_ATTACH=1" in env
    assert not any("SANDBOX_PID1" in a for a in env)  # through --target the target's namespace has no sandbox
    copy_env, _ = kube_session(pod, "app", "copy", "busybox", "baseline", PlanOptions(command=("ps",))) or (
        [],
        [],
    )
    assert (
        "--env=DEBUGBOX_SANDBOX_PID1=1" in copy_env
    )  # a copy shares the pod's processes: PID 1 is the sandbox
    assert kube_session(pod, "app", "ephemeral", "busybox", "general", PlanOptions(raw=True)) is None
    # The identity line is replaced before `--` only; the bootstrap itself (after it) is untouched.
    argv = ("kubectl", "debug", *env, "--", *command)
    replaced = with_session_identity(argv, "uid 65532 (the UID of container app)")
    assert "--env=DEBUGBOX_IDENTITY=uid 65532 (the UID of container app)" in replaced
    assert replaced[replaced.index("--") :] == argv[argv.index("--") :]


def test_kubectl_env_values_cannot_carry_a_comma() -> None:
    from debugbox.core.targets.session import kube_env

    with pytest.raises(ValueError, match="comma"):
        kube_env({"DEBUGBOX_HOW": "a, b"})  # kubectl's --env would split it into a second variable


def test_a_target_sharing_a_pid_namespace_tells_the_bootstrap_which_process_is_its_own() -> None:
    """PID 1 of a shared namespace is the host's init or another container's process: the host's namespace
    gives the engine's `State.Pid`, another container's the target's ID to look for in cgroup paths."""
    on_host = dataclasses.replace(RUNNING, pid_mode="host", host_pid=4242)
    joined = dataclasses.replace(RUNNING, pid_mode=f"container:{'ab' * 32}", host_pid=4242)

    host_plan = build_plan(on_host, PlanOptions(), "tb", "t")
    joined_plan = build_plan(joined, PlanOptions(), "tb", "t")
    raw_plan = build_plan(on_host, PlanOptions(raw=True), "tb", "t")

    assert "--env=DEBUGBOX_TARGET_PID=4242" in host_plan.argv
    assert f"--env=DEBUGBOX_TARGET_CGROUP={RUNNING.id}" in joined_plan.argv
    assert "the host's PID namespace" in host_plan.notes[0] and "is not PID 1" in host_plan.notes[0]
    assert f"container {'ab' * 6}'s PID namespace" in joined_plan.notes[0]
    assert raw_plan.title == "Debug: web (sidecar, target files at /proc/4242/root)"
    for private in ("", "private"):  # Docker's and Podman's own namespace: PID 1 is the target
        plan = build_plan(
            dataclasses.replace(RUNNING, pid_mode=private, host_pid=4242), PlanOptions(), "tb", "t"
        )
        assert not any(
            a.startswith(("--env=DEBUGBOX_TARGET_PID", "--env=DEBUGBOX_TARGET_CGROUP")) for a in plan.argv
        )
        assert "the target's main process is PID 1" in plan.notes[0]
