"""Live containers on a real Docker engine: listing, relation to a Dockerfile, the strategy ladder, and
running the argv debugbox produced (sidecar and exec), non-interactively.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
from debugbox.core.errors import StrategyUnavailable, TargetNotFound, TargetNotRunning
from debugbox.core.settings import DebugImageSettings, Settings
from debugbox.core.targets.model import DebugPlan
from debugbox.edge import service

from tests.integration.docker.engine import (
    DISTROLESS,
    NONROOT,
    SHELL_APP,
    TOOLBOX,
    Containers,
    container_id,
    docker,
    exec_ids,
)

pytestmark = pytest.mark.docker

SETTINGS = Settings(toolbox_image=TOOLBOX)
PROBE = "ps; echo ---; wget -qO- localhost:8080; echo ---; ls /proc/1/root/"


def run_argv(argv: tuple[str, ...] | list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False)


def plan_for(name: str, *command: str, settings: Settings = SETTINGS, **kwargs: object) -> DebugPlan:
    interactive = not command
    options = service.plan_options(
        settings,
        command=command,
        tty=interactive,
        stdin=interactive,
        **kwargs,  # type: ignore[arg-type]
    )
    return service.plan(settings, name, options)


# -- listing and relation ----------------------------------------------------------------------


def test_listing_marks_compose_service_of_the_dockerfile_related(
    containers: Containers, tmp_path: Path
) -> None:
    app = tmp_path / "shop"
    app.mkdir()
    dockerfile = app / "Dockerfile"
    dockerfile.write_text("FROM scratch\nCOPY busybox /httpd\n")
    (app / "compose.yaml").write_text("services:\n  web:\n    build: .\n  db:\n    image: postgres:16\n")
    labels = {
        "com.docker.compose.project": "shop",
        "com.docker.compose.project.working_dir": str(app),
        "com.docker.compose.service": "web",
    }
    related = containers.run(DISTROLESS, labels=labels)
    other_service = containers.run(DISTROLESS, labels={**labels, "com.docker.compose.service": "db"})
    unrelated = containers.run(SHELL_APP)

    listing = service.list_targets(SETTINGS, document=dockerfile)

    assert listing.errors == []
    by_name = {t.name: t for t in listing.targets}
    assert {related, other_service, unrelated} <= set(by_name)
    assert listing.targets[0].name == related
    assert by_name[related].related
    assert "compose service 'web'" in (by_name[related].related_reason or "")
    assert not by_name[other_service].related and not by_name[unrelated].related
    wire = by_name[related].to_json()
    for key in ("id", "runtime", "name", "image", "status", "created", "related", "related_reason"):
        assert key in wire
    assert wire["id"].startswith("docker://") and wire["runtime"] == "docker" and wire["status"] == "running"


def test_listing_relates_by_app_image_setting(containers: Containers, tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM scratch\n")
    mine = containers.run(DISTROLESS)
    other = containers.run(SHELL_APP)
    settings = dataclasses.replace(SETTINGS, debug_image=DebugImageSettings(app_image=DISTROLESS))

    listing = service.list_targets(settings, document=dockerfile)

    by_name = {t.name: t for t in listing.targets}
    assert by_name[mine].related and "appImage" in (by_name[mine].related_reason or "")
    assert not by_name[other].related
    assert [t.related for t in listing.targets] == sorted((t.related for t in listing.targets), reverse=True)


# -- the ladder ----------------------------------------------------------------------


def test_exec_for_the_shell_target_sidecar_for_distroless_and_nothing_ran_inside(
    containers: Containers,
) -> None:
    shell_target = containers.run(SHELL_APP)
    distroless = containers.run(DISTROLESS)

    listing = service.list_targets(SETTINGS)
    by_name = {t.name: t for t in listing.targets}
    assert by_name[shell_target].recommended == "exec"
    assert by_name[distroless].recommended == "sidecar"
    assert by_name[distroless].strategies == ("sidecar",)

    exec_plan = plan_for(shell_target)
    sidecar_plan = plan_for(distroless)
    assert exec_plan.strategy == "exec"
    assert list(exec_plan.argv) == ["docker", "exec", "-i", "-t", container_id(shell_target), "/bin/sh"]
    assert sidecar_plan.strategy == "sidecar"
    cid = container_id(distroless)
    assert sidecar_plan.argv[:5] == ("docker", "run", "-i", "-t", "--rm")
    assert f"--pid=container:{cid}" in sidecar_plan.argv and f"--net=container:{cid}" in sidecar_plan.argv
    assert "--cap-add=SYS_PTRACE" in sidecar_plan.argv and "--privileged" not in sidecar_plan.argv
    assert sidecar_plan.argv[-4:-2] == (TOOLBOX, "-c") and sidecar_plan.argv[-1] == "debugbox"
    assert "/target" in sidecar_plan.title
    # The shell checks used the engine's archive/stat API: no exec was ever created in either container.
    assert exec_ids(distroless) == "null"
    assert exec_ids(shell_target) == "null"


def test_explicit_exec_on_distroless_is_refused_with_the_reason(containers: Containers) -> None:
    distroless = containers.run(DISTROLESS)
    with pytest.raises(StrategyUnavailable, match="no shell"):
        plan_for(distroless, strategy="exec")
    assert exec_ids(distroless) == "null"


def test_docker_debug_is_reported_unavailable_on_docker_engine(containers: Containers) -> None:
    distroless = containers.run(DISTROLESS)
    with pytest.raises(StrategyUnavailable, match="docker debug"):
        plan_for(distroless, strategy="docker-debug")


def test_stopped_target_is_refused_with_debugboxs_own_message(containers: Containers) -> None:
    """A sidecar cannot join a stopped container: debugbox says so (and offers the snapshot) before the engine."""
    stopped = containers.run(DISTROLESS, create_only=True)
    with pytest.raises(
        TargetNotRunning, match=r"is created: start it first \(docker start .*Or open a snapshot"
    ):
        plan_for(stopped, strategy="sidecar")
    assert plan_for(stopped).strategy == "snapshot"


def test_paused_target_is_refused_with_the_way_out(containers: Containers) -> None:
    paused = containers.run(DISTROLESS)
    docker("pause", paused)
    try:
        with pytest.raises(
            TargetNotRunning, match=rf"is paused: unpause it first \(docker unpause {paused}\)"
        ):
            plan_for(paused)
    finally:
        docker("unpause", paused, check=False)


# -- running what debugbox produced ----------------------------------------------------------------------


def _non_interactive_matches(interactive: DebugPlan, scripted: DebugPlan, command: tuple[str, ...]) -> None:
    """The scripted argv is the interactive one without -i/-t, with the command as the bootstrap's arguments."""
    base = [a for a in interactive.argv if a not in ("-i", "-t")]
    assert list(scripted.argv) == [*base, *command]
    assert base[-5:-3] == ["--entrypoint=sh", TOOLBOX] and base[-1] == "debugbox"


@pytest.mark.parametrize(("image", "page"), [(DISTROLESS, "distroless-app"), (NONROOT, "distroless-nonroot")])
def test_the_sidecar_argv_sees_pid1_the_port_and_the_filesystem(
    containers: Containers, image: str, page: str
) -> None:
    target = containers.run(image)
    interactive = plan_for(target)
    scripted = plan_for(target, "sh", "-c", PROBE)
    _non_interactive_matches(interactive, scripted, ("sh", "-c", PROBE))

    proc = run_argv(scripted.argv)

    assert proc.returncode == 0, proc.stderr
    processes, page_text, files = proc.stdout.split("---\n")
    pid1 = next(line for line in processes.splitlines() if line.split()[:1] == ["1"])
    assert "/httpd -f -p 8080" in pid1
    assert f"hello from {page}" in page_text
    assert {"httpd", "www"} <= set(files.split())
    if image == NONROOT:
        assert any("65532" in note for note in scripted.notes)
    assert exec_ids(target) == "null"


def test_without_sys_ptrace_a_nonroot_targets_filesystem_is_unreadable(containers: Containers) -> None:
    """Why a root (raw) sidecar carries SYS_PTRACE: drop it from debugbox's argv and /proc/1/root is closed."""
    target = containers.run(NONROOT)
    scripted = plan_for(target, "ls", "/proc/1/root/", raw=True)
    without = [a for a in scripted.argv if a != "--cap-add=SYS_PTRACE"]

    denied = run_argv(without)
    allowed = run_argv(scripted.argv)

    assert denied.returncode != 0 and "Permission denied" in denied.stderr
    assert allowed.returncode == 0 and "httpd" in allowed.stdout.split()


def test_a_nonroot_targets_session_runs_as_its_uid_and_reads_its_files_without_capabilities(
    containers: Containers,
) -> None:
    """The session's identity is what opens the files: without `--user` (root, no SYS_PTRACE) they are closed."""
    target = containers.run(NONROOT)
    scripted = plan_for(target, "sh", "-c", "id -u; ls /proc/1/root/")
    as_root = [a for a in scripted.argv if not a.startswith("--user=")]

    allowed = run_argv(scripted.argv)
    denied = run_argv(as_root)

    # Exactly the UID:GID the engine reports for the target (its image has no /etc/passwd: GID 0).
    assert "--cap-add=SYS_PTRACE" not in scripted.argv and "--user=65532:0" in scripted.argv
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.split()[0] == "65532" and "httpd" in allowed.stdout.split()
    assert denied.returncode != 0 and "Permission denied" in denied.stderr


def test_the_exec_argv_runs_in_the_shell_target(containers: Containers) -> None:
    target = containers.run(SHELL_APP)
    scripted = plan_for(target, "sh", "-c", "wget -qO- localhost:8080; ls /www")
    assert scripted.strategy == "exec"
    proc = run_argv(scripted.argv)
    assert proc.returncode == 0, proc.stderr
    assert "hello from shell-app" in proc.stdout and "index.html" in proc.stdout


def test_target_gone_between_list_and_open(containers: Containers) -> None:
    target = containers.run(DISTROLESS)
    listed = next(t for t in service.list_targets(SETTINGS).targets if t.name == target)
    containers.remove([target])
    with pytest.raises(TargetNotFound, match="no such container"):
        plan_for(listed.id)
    with pytest.raises(TargetNotFound, match=f"no running target named '{target}'"):
        plan_for(target)


# -- the CLI ----------------------------------------------------------------------


def debugbox(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "debugbox", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )


def test_cli_shell_runs_a_command_in_the_sidecar(containers: Containers) -> None:
    target = containers.run(DISTROLESS)
    proc = debugbox("shell", target, "--image", TOOLBOX, "--", "sh", "-c", "wget -qO- localhost:8080")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "hello from distroless-app"


def test_cli_shell_print_and_stdin(containers: Containers) -> None:
    import json

    target = containers.run(SHELL_APP)
    printed = debugbox("shell", f"docker://{target}", "--print", "--", "cat")
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout) == ["docker", "exec", container_id(target), "cat"]
    piped = debugbox("shell", target, "--", "cat", stdin="through stdin\n")
    assert piped.returncode == 0 and piped.stdout == "through stdin\n"


def test_cli_targets_json_and_refusals(containers: Containers) -> None:
    import json

    target = containers.run(DISTROLESS)
    stopped = containers.run(DISTROLESS, create_only=True)
    # debugbox's own helpers (`forward`, `capture`) hold the target's network namespace: not targets themselves.
    helpers = [
        containers.run(TOOLBOX, "-c", "sleep 600", labels={label: "0" * 64}, options=("--entrypoint", "sh"))
        for label in ("io.debugbox.forward-for", "io.debugbox.capture-for")
    ]
    listed = debugbox("targets", "--json")
    assert listed.returncode == 0, listed.stderr
    names = {t["name"]: t for t in json.loads(listed.stdout)["targets"]}
    assert names[target]["recommended"] == "sidecar" and stopped not in names
    assert not set(helpers) & set(names)

    # A stopped container opens as a snapshot; here the default toolbox cannot be pulled: said first, then why.
    refused = debugbox("shell", stopped)
    assert refused.returncode == 1
    assert "the toolbox image nicolaka/netshoot is not on this docker engine" in refused.stderr
    assert "debugbox toolbox build" in refused.stderr
    assert (
        "copying the static busybox out of nicolaka/netshoot failed: Unable to find image "
        "'nicolaka/netshoot:latest' locally; docker: Error response" in refused.stderr
    )
    assert "Traceback" not in refused.stderr
    for bad_name in ("x;rm -rf /", "docker://-v"):
        bad = debugbox("shell", "--print", bad_name)
        assert bad.returncode == 2 and "not a valid container name" in bad.stderr


def test_cli_targets_for_a_dockerfile_says_why(containers: Containers, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    build: .\n")
    labels = {"com.docker.compose.project.working_dir": str(tmp_path), "com.docker.compose.service": "web"}
    related = containers.run(DISTROLESS, labels=labels)

    proc = debugbox("targets", "--for", str(tmp_path / "Dockerfile"))

    assert proc.returncode == 0, proc.stderr
    table, _, reasons = proc.stdout.partition(f"{related}: related: ")
    assert table.splitlines()[0].split() == ["RUNTIME", "NAME", "IMAGE", "STATUS", "WAY", "IN", "ID"]
    assert table.splitlines()[1].split()[:2] == ["docker", related]  # related ones first
    assert reasons.startswith("compose service 'web'")


def test_cli_targets_for_an_override_marks_the_services_of_its_base(
    containers: Containers, tmp_path: Path
) -> None:
    """compose merges `compose.override.yaml` over `compose.yaml` by itself: the project's `db`, which only the
    base file defines, is the override's too, and the override's `tracer` the base file's (each was listed
    unrelated). A variant that can be used alone (`compose.prod.yaml`) has the base's services only with `-f`:
    not marked for it."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n  db:\n    image: postgres:16\n  api:\n    image: busybox\n"
    )
    (tmp_path / "compose.override.yaml").write_text(
        "services:\n  api:\n    environment: {A: b}\n  tracer:\n    image: busybox\n"
    )
    (tmp_path / "compose.prod.yaml").write_text("services:\n  web:\n    image: busybox\n")
    labels = {"com.docker.compose.project.working_dir": str(tmp_path), "com.docker.compose.service": "db"}
    db = containers.run(DISTROLESS, labels=labels)
    api = containers.run(DISTROLESS, labels={**labels, "com.docker.compose.service": "api"})
    tracer = containers.run(DISTROLESS, labels={**labels, "com.docker.compose.service": "tracer"})
    elsewhere = containers.run(
        DISTROLESS, labels={**labels, "com.docker.compose.project.working_dir": str(tmp_path / "other")}
    )

    def related(name: str) -> dict[str, str]:
        proc = debugbox("targets", "--json", "--no-probe", "--for", str(tmp_path / name))
        assert proc.returncode == 0, proc.stderr
        listed = json.loads(proc.stdout)["targets"]
        return {t["name"]: t["related_reason"] for t in listed if t["related"]}

    found = related("compose.override.yaml")
    assert elsewhere not in found
    assert found == {
        db: f"compose service 'db' of compose.yaml, which {tmp_path / 'compose.override.yaml'} is merged over",
        api: f"compose service 'api' of {tmp_path / 'compose.override.yaml'}",
        tracer: f"compose service 'tracer' of {tmp_path / 'compose.override.yaml'}",
    }
    assert related("compose.prod.yaml") == {}
    # And the base file's project has the services the override compose merges over it adds.
    assert related("compose.yaml") == {
        db: f"compose service 'db' of {tmp_path / 'compose.yaml'}",
        api: f"compose service 'api' of {tmp_path / 'compose.yaml'}",
        tracer: f"compose service 'tracer' of compose.override.yaml, which compose merges over "
        f"{tmp_path / 'compose.yaml'}",
    }
