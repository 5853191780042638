"""The container strategy ladder and the argv of each strategy: pure functions over facts."""

from __future__ import annotations

import dataclasses

import pytest
from debugbox.core.errors import InvalidTarget, StrategyUnavailable, TargetNotRunning
from debugbox.core.targets.container_strategy import (
    ContainerFacts,
    available_strategies,
    build_plan,
    choose_strategy,
    own_user_namespace,
    validate_image,
)
from debugbox.core.targets.model import PlanOptions, foreign_strategy

CID = "3f2a9c1b7e4d" + "0" * 52
RUNNING = ContainerFacts(runtime="docker", cli=("docker",), id=CID, name="web", status="running")
WITH_SHELL = dataclasses.replace(RUNNING, shells=("/bin/bash",))


def test_ladder_order() -> None:
    assert available_strategies(RUNNING) == ("sidecar",)
    assert available_strategies(WITH_SHELL) == ("exec", "sidecar")
    both = dataclasses.replace(WITH_SHELL, docker_debug=True)
    assert available_strategies(both) == ("exec", "docker-debug", "sidecar")
    assert choose_strategy(both) == "exec"
    assert choose_strategy(dataclasses.replace(RUNNING, docker_debug=True)) == "docker-debug"


def test_image_knowledge_decides_when_paths_cannot_be_checked() -> None:
    nerdctl = dataclasses.replace(RUNNING, runtime="nerdctl", cli=("nerdctl",), shells_probed=False)
    assert available_strategies(nerdctl) == ("sidecar",)
    known = dataclasses.replace(nerdctl, image_has_shell=True, image_shell="/bin/ash")
    assert available_strategies(known) == ("exec", "sidecar")
    plan = build_plan(known, PlanOptions(), "busybox:musl", "nerdctl://x")
    assert plan.argv == ("nerdctl", "exec", "-i", "-t", CID, "/bin/ash")


@pytest.mark.parametrize("status", ["exited", "created", "dead", "paused", "restarting"])
def test_not_running_targets_are_refused_unless_docker_debug_can(status: str) -> None:
    """nerdctl has no snapshot sessions: a stopped container is refused with the way out."""
    facts = dataclasses.replace(WITH_SHELL, status=status, runtime="nerdctl", cli=("nerdctl",))
    assert available_strategies(facts) == ()
    with pytest.raises(TargetNotRunning) as caught:
        choose_strategy(facts)
    message = str(caught.value)
    assert "web" in message
    if status == "paused":
        assert "nerdctl unpause web" in message
    elif status == "restarting":
        assert "nerdctl logs web" in message
    else:
        assert "nerdctl start web" in message and "docker debug" in message
    docker = dataclasses.replace(WITH_SHELL, status=status)
    with_plugin = dataclasses.replace(docker, docker_debug=True)
    snapshot = ("snapshot",) if status != "paused" else ()
    assert available_strategies(docker) == snapshot
    debug = ("docker-debug",) if status in {"exited", "created", "paused"} else ()
    assert available_strategies(with_plugin) == debug + snapshot


def test_stopped_docker_and_podman_containers_open_as_snapshots_paused_ones_are_refused() -> None:
    for runtime in ("docker", "podman"):
        exited = dataclasses.replace(RUNNING, status="exited", runtime=runtime, cli=(runtime,))
        assert choose_strategy(exited) == "snapshot"
        with pytest.raises(
            TargetNotRunning, match=rf"start it first \({runtime} start web\)\. Or open a snapshot"
        ):
            choose_strategy(exited, "sidecar")
        with pytest.raises(TargetNotRunning, match=rf"unpause it first \({runtime} unpause web\)"):
            choose_strategy(dataclasses.replace(exited, status="paused"))
    with pytest.raises(StrategyUnavailable, match="a snapshot is for stopped containers"):
        choose_strategy(RUNNING, "snapshot")


def test_explicit_strategies_are_checked() -> None:
    with pytest.raises(StrategyUnavailable, match="no shell to exec"):
        choose_strategy(RUNNING, "exec")
    with pytest.raises(StrategyUnavailable, match="not installed"):
        choose_strategy(RUNNING, "docker-debug")
    with pytest.raises(StrategyUnavailable, match="Kubernetes"):
        choose_strategy(RUNNING, "ephemeral")
    assert choose_strategy(WITH_SHELL, "sidecar") == "sidecar"
    podman = dataclasses.replace(RUNNING, runtime="podman", cli=("podman",))
    with pytest.raises(StrategyUnavailable, match="Docker only"):
        choose_strategy(podman, "docker-debug")


def test_preferred_strategy_from_settings_applies_only_when_it_works() -> None:
    prefer_sidecar = PlanOptions(preferred="sidecar")
    assert build_plan(WITH_SHELL, prefer_sidecar, "tb", "t").strategy == "sidecar"
    prefer_exec = PlanOptions(preferred="exec")
    assert build_plan(RUNNING, prefer_exec, "tb", "t").strategy == "sidecar"  # no shell: the ladder decides
    assert build_plan(RUNNING, PlanOptions(preferred="ephemeral"), "tb", "t").strategy == "sidecar"


def test_raw_sidecar_argv() -> None:
    plan = build_plan(RUNNING, PlanOptions(raw=True), "nicolaka/netshoot", "docker://3f2a9c1b7e4d")
    assert plan.argv == (
        "docker",
        "run",
        "-i",
        "-t",
        "--rm",
        f"--pid=container:{CID}",
        f"--net=container:{CID}",
        "--cap-add=SYS_PTRACE",
        "--label",
        f"io.debugbox.sidecar-for={CID}",
        "nicolaka/netshoot",
    )
    assert "/proc/1/root" in plan.title and any("/proc/1/root" in n for n in plan.notes)
    assert not any("--privileged" in a or "SYS_ADMIN" in a for a in plan.argv)


@pytest.mark.parametrize(
    ("runtime", "mode", "own"),
    [
        ("podman", "private", True),  # `--uidmap` / `--gidmap`
        ("podman", "auto", True),
        ("podman", "keep-id", True),
        ("podman", "ns:/proc/7/ns/user", True),
        ("podman", "", False),  # a rootful engine's default: the host's namespace
        ("podman", "host", False),
        (
            "docker",
            "private",
            False,
        ),  # Docker: every container of a daemon in one namespace; no container: mode
        ("docker", "", False),
    ],
)
def test_which_targets_have_a_user_namespace_of_their_own(runtime: str, mode: str, own: bool) -> None:
    assert own_user_namespace(runtime, mode) is own


def test_a_sidecar_joins_a_targets_own_user_namespace_as_its_uid() -> None:
    podman = dataclasses.replace(RUNNING, runtime="podman", cli=("podman",), user="65532", ids=(65532, 0))
    joined = build_plan(dataclasses.replace(podman, own_userns=True), PlanOptions(), "tb", "t")
    plain = build_plan(podman, PlanOptions(), "tb", "t")

    assert f"--userns=container:{CID}" in joined.argv and "--user=65532:0" in joined.argv
    assert "--cap-add=SYS_PTRACE" not in joined.argv
    assert not any(a.startswith("--userns") for a in plain.argv)
    assert any("user namespace of its own" in n and CID[:12] in n for n in joined.notes)
    assert "in the target's own user namespace" in " ".join(joined.argv)  # the banner's identity line
    root = build_plan(
        dataclasses.replace(podman, user="", ids=None, own_userns=True), PlanOptions(), "tb", "t"
    )
    assert f"--userns=container:{CID}" in root.argv and "--cap-add=SYS_PTRACE" in root.argv


def test_a_docker_userns_remap_is_said_in_the_notes_and_adds_no_flag() -> None:
    """Docker joins the sidecar to the remap's namespace itself (it shares the target's PID namespace): the
    plan only says so; `--userns` would be refused (`docker run` has no `--userns=container:`)."""
    facts = dataclasses.replace(RUNNING, user="65532", ids=(65532, 0))
    remapped = build_plan(dataclasses.replace(facts, remap_root=(100000, 100000)), PlanOptions(), "tb", "t")
    plain = build_plan(facts, PlanOptions(), "tb", "t")

    assert remapped.argv == plain.argv and "--user=65532:0" in remapped.argv
    assert not any(a.startswith("--userns") for a in remapped.argv)
    assert [n for n in remapped.notes if n not in plain.notes] == [
        "The engine runs its containers in a user namespace (userns-remap; uid 0 there is 100000 on the host): "
        "the sidecar shares it with the target, so the IDs in the session are the container's, and root in it "
        "has no rights over the host's files."
    ]


def test_privileged_only_when_asked_and_nonroot_note() -> None:
    nonroot = dataclasses.replace(RUNNING, user="65532:65532")
    plan = build_plan(nonroot, PlanOptions(privileged=True), "tb", "t")
    assert "--privileged" in plan.argv
    assert any("65532" in n and "SYS_PTRACE" in n for n in plan.notes)
    assert any("--privileged" in n for n in plan.notes)
    assert "--cap-add=SYS_PTRACE" in plan.argv and not any(a.startswith("--user") for a in plan.argv)


def test_commands_replace_the_shell_without_a_tty() -> None:
    options = PlanOptions(command=("sh", "-c", "ps; ls /proc/1/root"), tty=False, stdin=False)
    sidecar = build_plan(RUNNING, dataclasses.replace(options, raw=True), "toolbox:test", "t")
    assert sidecar.argv[-4:] == ("--entrypoint=sh", "toolbox:test", "-c", "ps; ls /proc/1/root")
    assert "-t" not in sidecar.argv and "-i" not in sidecar.argv
    exec_plan = build_plan(WITH_SHELL, dataclasses.replace(options, stdin=True), "tb", "t")
    assert exec_plan.argv == ("docker", "exec", "-i", CID, "sh", "-c", "ps; ls /proc/1/root")
    dd = dataclasses.replace(RUNNING, docker_debug=True)
    debug = build_plan(dd, dataclasses.replace(options, strategy="docker-debug"), "tb", "t")
    assert debug.argv == ("docker", "debug", "-c", "sh -c 'ps; ls /proc/1/root'", CID)


def test_cli_global_options_lead_every_argv() -> None:
    remote = dataclasses.replace(WITH_SHELL, cli=("docker", "--context", "prod"))
    assert build_plan(remote, PlanOptions(), "tb", "t").argv[:4] == ("docker", "--context", "prod", "exec")


@pytest.mark.parametrize("image", ["-v", "--privileged", "a b", "x;rm", "", "img\n"])
def test_toolbox_images_that_could_read_as_options_are_refused(image: str) -> None:
    with pytest.raises(InvalidTarget):
        validate_image(image)
    with pytest.raises(InvalidTarget):
        build_plan(RUNNING, PlanOptions(), image, "t")


@pytest.mark.parametrize("image", ["nicolaka/netshoot", "busybox:musl", "ghcr.io/o/t:1.2@sha256:" + "a" * 64])
def test_ordinary_images_pass(image: str) -> None:
    assert validate_image(image) == image


def test_a_strategy_that_does_not_exist_is_not_called_the_other_kinds() -> None:
    """`--strategy bogus` used to be "for Kubernetes targets" on a container (and "for containers" on a pod)."""
    with pytest.raises(StrategyUnavailable) as bogus:
        choose_strategy(RUNNING, "bogus")
    with pytest.raises(StrategyUnavailable) as kube:
        choose_strategy(RUNNING, "ephemeral")

    assert str(bogus.value) == (
        "there is no strategy 'bogus'; containers take one of exec, docker-debug, sidecar, snapshot"
    )
    assert str(kube.value).startswith(
        "strategy 'ephemeral' is for Kubernetes targets; containers take one of"
    )
    assert foreign_strategy("bogus", pods=True) == (
        "there is no strategy 'bogus'; pods take one of exec, reattach, ephemeral, copy"
    )
    assert foreign_strategy("sidecar", pods=True).startswith(
        "strategy 'sidecar' is for containers; pods take"
    )
