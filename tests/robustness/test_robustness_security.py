"""Security checks: hostile names never change an argv's meaning, workspace files never run anything, and
debugbox never writes outside the workspace or over a user's file.

- Argv builders (core/targets/container_strategy.py, core/targets/kubectl_argv.py, core/targets/model.py):
  names with shell metacharacters, spaces, leading dashes, control characters and look-alike unicode are
  refused; whatever is accepted cannot read as an option or be split by a shell; commands stay one argv
  element per word; privileged modes appear only when asked for explicitly.
- Through the protocol (a real `debugbox lsp`): hostile targets in debugCommand/openDebugTerminal are answered
  with an error and no terminal is ever requested; `privileged` without `debugbox.allowPrivileged` is refused.
- Opening hostile workspace files (Dockerfile, compose file, manifest) and using every read-only feature runs
  no container CLI with anything taken from those files (fake `docker`/`kubectl`/… on PATH record calls).
- generateDebugDockerfile: the file lands beside the Dockerfile only; a Dockerfile outside the workspace is
  not written beside by the server itself; an existing Dockerfile.debug is never replaced without
  `regenerate`; a dangling symlink in its place is not followed.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from debugbox.core.errors import InvalidTarget, StrategyUnavailable
from debugbox.core.targets import container_strategy as strategy
from debugbox.core.targets import names, pod_strategy
from debugbox.core.targets.model import PlanOptions
from debugbox.core.targets.names import validate_container_ref
from hypothesis import given, settings
from hypothesis import strategies as st
from robust_server import ResponseError, Server

HOSTILE_NAMES = (
    "",
    "-v",
    "--privileged",
    "--help",
    "-it",
    "x; rm -rf /",
    "web && id",
    "web|id",
    "$(id)",
    "`id`",
    "${IFS}id",
    "web name",
    "web\tname",
    "web\nid",
    "web\x00",
    "web\r",
    "'web'",
    '"web"',
    "web>out",
    "web<in",
    "web*",
    "../web",
    "web/../../etc",
    "\uff57\uff45\uff42",  # fullwidth "web"
    "w\u0435b",  # Cyrillic small ie
    "web\u200b",  # zero-width space
    "\u202eweb",  # right-to-left override
    "wéb",
    "web#",
    "web~",
    "~root",
    "a" * 600,
)

VALIDATORS = {
    "container-ref": validate_container_ref,
    "docker-image": names.validate_image,
    "kube-image": names.validate_image,
    "kube-container": lambda n: names.validate_label(n, "container"),
    "kube-namespace": lambda n: names.validate_label(n, "namespace"),
    "kube-pod": names.validate_pod_name,
}

#: Characters that a POSIX shell or an option parser could give meaning to.
SPECIAL = set(" \t\n\r\x00;&|$`'\"<>*?()[]{}\\!#~")


#: Path-like image references are syntactically plausible (`library/web`); what matters for them is that they
#: can neither become an option nor be split, which the property test below checks for every input.
_PATH_LIKE = ("../web", "web/../../etc")


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        (k, n)
        for k in sorted(VALIDATORS)
        for n in HOSTILE_NAMES
        if not (k.endswith("image") and n in _PATH_LIKE)
    ],
    ids=lambda v: repr(v)[:30],
)
def test_hostile_names_are_refused(kind: str, name: str) -> None:
    with pytest.raises(InvalidTarget):
        VALIDATORS[kind](name)


def test_kube_context_names_never_read_as_options() -> None:
    for name in ("-v", "--kubeconfig=/tmp/x", "", "ctx\nx", "ctx\x00", "\x1b[31m"):
        with pytest.raises(InvalidTarget):
            names.validate_context(name)
    # Context names are free-form in kubeconfig files (spaces, unicode): accepted, but never as an option.
    assert names.validate_context("my ctx é") == "my ctx é"


@settings(derandomize=True, max_examples=400, deadline=None, database=None)
@given(name=st.text(max_size=80))
def test_accepted_names_cannot_change_argv_meaning(name: str) -> None:
    for kind, validate in VALIDATORS.items():
        try:
            accepted = validate(name)
        except InvalidTarget:
            continue
        assert accepted, kind
        assert not accepted.startswith("-"), (kind, accepted)
        assert not SPECIAL & set(accepted), (kind, accepted)
        assert accepted.isascii() and accepted.isprintable(), (kind, accepted)
        assert shlex.split(accepted) == [accepted], (kind, accepted)


def _facts(**over: Any) -> strategy.ContainerFacts:
    base: dict[str, Any] = {
        "runtime": "docker",
        "cli": ("docker",),
        "id": "3f2a9c1b7e4d",
        "name": "web",
        "status": "running",
        "shells": ("/bin/sh",),
    }
    base.update(over)
    return strategy.ContainerFacts(**base)


HOSTILE_COMMANDS = (
    ("sh", "-c", "echo $(id); rm -rf / #"),
    ("--privileged",),
    ("ls", "-la", "/proc/1/root; reboot"),
    ("printf", "%s\n", "a b", "`id`", "$HOME"),
)


@pytest.mark.parametrize("command", HOSTILE_COMMANDS, ids=lambda c: c[0])
def test_commands_stay_one_argv_element_per_word(command: tuple[str, ...]) -> None:
    options = PlanOptions(command=command)
    exec_argv = strategy.exec_argv(_facts(), options)
    assert exec_argv[-len(command) :] == command
    assert exec_argv[: -len(command)] == ("docker", "exec", "-i", "-t", "3f2a9c1b7e4d")
    debug_argv = strategy.docker_debug_argv(_facts(docker_debug=True), options)
    # docker debug takes one command line for its own shell: quoted so it splits back into the same words.
    assert debug_argv[:3] == ("docker", "debug", "-c")
    assert shlex.split(debug_argv[3]) == list(command)
    assert debug_argv[4:] == ("3f2a9c1b7e4d",)
    raw = strategy.sidecar_argv(_facts(), dataclasses.replace(options, raw=True), "nicolaka/netshoot")
    assert f"--entrypoint={command[0]}" in raw
    assert raw[-len(command) :][1:] == command[1:]
    assert "--privileged" not in raw[: raw.index("nicolaka/netshoot")]
    # The session: the bootstrap script is one word, `debugbox` its $0, the command its arguments, verbatim.
    session = strategy.sidecar_argv(_facts(), options, "nicolaka/netshoot")
    image_at = session.index("nicolaka/netshoot")
    assert session[image_at:] == ("nicolaka/netshoot", "-c", strategy.BOOTSTRAP_SCRIPT, "debugbox", *command)
    assert "--privileged" not in session[:image_at]


@pytest.mark.parametrize("image", ["-v", "--privileged", "img; id", "$(id)", "img name", "", "-"])
def test_hostile_toolbox_images_are_refused_by_the_sidecar_builder(image: str) -> None:
    with pytest.raises(InvalidTarget):
        strategy.sidecar_argv(_facts(), PlanOptions(), image)


def test_privileged_only_on_explicit_choice() -> None:
    plain = strategy.build_plan(
        _facts(shells=()), PlanOptions(), "nicolaka/netshoot", "docker://3f2a9c1b7e4d"
    )
    assert plain.strategy == "sidecar"
    assert "--privileged" not in plain.argv
    asked = strategy.build_plan(
        _facts(shells=()), PlanOptions(privileged=True), "nicolaka/netshoot", "docker://3f2a9c1b7e4d"
    )
    assert "--privileged" in asked.argv
    # Kubernetes: `auto` never picks sysadmin, and sysadmin needs allowPrivileged.
    for psa in (None, "privileged", "baseline", "restricted"):
        assert pod_strategy.choose_profile("auto", psa) != "sysadmin"
    with pytest.raises(StrategyUnavailable):
        pod_strategy.choose_profile("sysadmin", None)
    assert pod_strategy.choose_profile("sysadmin", None, allow_privileged=True) == "sysadmin"


# -- through the protocol ----------------------------------------------------------------------------------

SHIMS = ("docker", "podman", "nerdctl", "kubectl", "docker-compose", "ssh", "curl", "wget")
MARKER = "PWNED-debugbox-marker"


def _terminal_capabilities(apply_edit: bool = True) -> dict[str, Any]:
    from lsp_client import default_capabilities

    caps = default_capabilities()
    caps["experimental"] = {"debugbox": {"openTerminal": True}}
    if not apply_edit:
        caps["workspace"]["applyEdit"] = False
        caps["workspace"].pop("workspaceEdit", None)
    return caps


@pytest.fixture(scope="module")
def shim_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Fake container CLIs that only record how they were called."""
    bin_dir = tmp_path_factory.mktemp("shims")
    log = bin_dir / "calls.log"
    for name in SHIMS:
        shim = bin_dir / name
        shim.write_text(f'#!/bin/sh\nprintf "%s\\n" "{name} $*" >> "{log}"\nexit 1\n')
        shim.chmod(shim.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return bin_dir


@pytest.fixture(scope="module")
def hostile_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("hostile-ws")
    cmd = f"touch /tmp/{MARKER}"
    (ws / "Dockerfile").write_text(
        f"FROM $(touch /tmp/{MARKER}) AS x\n"
        f"FROM gcr.io/distroless/static:`{cmd}`\n"
        f"HEALTHCHECK CMD {cmd}\n"
        f'ENTRYPOINT ["/bin/sh", "-c", "{cmd}"]\n'
        f"CMD {cmd}\n"
    )
    (ws / "compose.yaml").write_text(
        "services:\n"
        "  app:\n"
        "    build: .\n"
        f'    image: "x; {cmd}"\n'
        f'    container_name: "-v {MARKER}"\n'
        f'    entrypoint: ["/bin/sh", "-c", "{cmd}"]\n'
    )
    (ws / "pod.yaml").write_text(
        "apiVersion: v1\n"
        "kind: Pod\n"
        f"metadata: {{name: '$(touch /tmp/{MARKER})', namespace: '-n {MARKER}'}}\n"
        "spec:\n"
        "  containers:\n"
        f"  - name: '--privileged {MARKER}'\n"
        f"    image: 'gcr.io/distroless/base; {cmd}'\n"
        f"    command: ['/bin/sh', '-c', '{cmd}']\n"
    )
    # A compose file that is a billion-laughs alias bomb beside a Dockerfile: read when relating containers.
    bomb = ws / "bomb"
    bomb.mkdir()
    (bomb / "Dockerfile").write_text("FROM gcr.io/distroless/static\n")
    levels = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    levels += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 14)]
    (bomb / "compose.yaml").write_text(
        "\n".join(levels) + "\nservices:\n  app:\n    build: .\n    image: *a13\n    environment: *a13\n"
    )
    return ws


@pytest.fixture(scope="module")
def guarded_server(
    tmp_path_factory: pytest.TempPathFactory, shim_dir: Path, hostile_workspace: Path
) -> Iterator[Server]:
    env = {
        "PATH": f"{shim_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "DOCKER_HOST": f"unix://{tmp_path_factory.mktemp('nodocker')}/docker.sock",
        "KUBECONFIG": str(tmp_path_factory.mktemp("nokube") / "config"),
        "HOME": str(tmp_path_factory.mktemp("home")),
    }
    srv = Server(
        hostile_workspace,
        tmp_path_factory.mktemp("security-logs"),
        env=env,
        capabilities=_terminal_capabilities(),
    )
    try:
        yield srv
    finally:
        srv.stop()


def _calls(shim_dir: Path) -> list[str]:
    log = shim_dir / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def test_workspace_files_never_reach_an_argv(
    guarded_server: Server, shim_dir: Path, hostile_workspace: Path
) -> None:
    srv = guarded_server
    docs = [("Dockerfile", "dockerfile"), ("compose.yaml", "yaml"), ("pod.yaml", "yaml")]
    for name, language_id in docs:
        path = hostile_workspace / name
        uri = path.as_uri()
        srv.open(uri, path.read_text(), language_id)
        n = path.read_text().count("\n")
        for line in range(n + 1):
            pos = {"line": line, "character": 2}
            srv.ask("textDocument/hover", {"textDocument": {"uri": uri}, "position": pos})
            actions = srv.ask(
                "textDocument/codeAction",
                {
                    "textDocument": {"uri": uri},
                    "range": {"start": pos, "end": pos},
                    "context": {"diagnostics": []},
                },
            )
            assert not isinstance(actions, ResponseError), actions
        srv.ask("textDocument/codeLens", {"textDocument": {"uri": uri}})
    # Listing targets for the Dockerfile reads the compose file (to relate containers); it must not run it.
    listing = srv.ask(
        "workspace/executeCommand",
        {
            "command": "debugbox.listTargets",
            "arguments": [{"uri": (hostile_workspace / "Dockerfile").as_uri()}],
        },
    )
    assert isinstance(listing, dict | ResponseError), listing
    bomb = srv.ask(
        "workspace/executeCommand",
        {
            "command": "debugbox.listTargets",
            "arguments": [{"uri": (hostile_workspace / "bomb/Dockerfile").as_uri()}],
        },
    )
    assert isinstance(bomb, dict | ResponseError), bomb
    calls = _calls(shim_dir)
    print("container CLI calls while serving the hostile workspace:", calls)
    leaked = [c for c in calls if MARKER in c or "touch" in c]
    assert not leaked, leaked
    assert not Path(f"/tmp/{MARKER}").exists()
    assert not [r for r in srv.client.server_requests if r.method == "debugbox/openTerminal"]
    srv.assert_healthy()


@pytest.mark.parametrize(
    "target", ["-v", "--privileged", "x; touch /tmp/" + MARKER, "$(id)", "web name", "\uff57eb", ""]
)
@pytest.mark.parametrize("command", ["debugbox.debugCommand", "debugbox.openDebugTerminal"])
def test_hostile_targets_are_refused_through_the_protocol(
    guarded_server: Server, shim_dir: Path, command: str, target: str
) -> None:
    srv = guarded_server
    before = len(srv.client.server_requests)
    result = srv.ask("workspace/executeCommand", {"command": command, "arguments": [{"target": target}]})
    assert isinstance(result, ResponseError), result
    assert result.code in (-32602, -32803), result.error
    assert not [r for r in srv.client.server_requests[before:] if r.method == "debugbox/openTerminal"]
    assert not [c for c in _calls(shim_dir) if target and target in c]
    assert not Path(f"/tmp/{MARKER}").exists()


def test_privileged_needs_the_setting(guarded_server: Server) -> None:
    for command in ("debugbox.debugCommand", "debugbox.openDebugTerminal"):
        result = guarded_server.ask(
            "workspace/executeCommand",
            {"command": command, "arguments": [{"target": "docker://3f2a9c1b7e4d", "privileged": True}]},
        )
        assert isinstance(result, ResponseError) and result.code == -32602, result
        assert "allowPrivileged" in result.message


# -- no writes outside the workspace, no silent overwrite -------------------------------------------------


def _generate(srv: Server, uri: str, **extra: Any) -> Any:
    return srv.ask(
        "workspace/executeCommand",
        {"command": "debugbox.generateDebugDockerfile", "arguments": [{"uri": uri, **extra}]},
    )


@pytest.fixture()
def layout(tmp_path: Path) -> dict[str, Path]:
    ws = tmp_path / "ws"
    outside = tmp_path / "outside"
    (ws / "app").mkdir(parents=True)
    outside.mkdir()
    dockerfile = 'FROM gcr.io/distroless/static-debian12\nCOPY app /app\nENTRYPOINT ["/app"]\n'
    (ws / "app" / "Dockerfile").write_text(dockerfile)
    (outside / "Dockerfile").write_text(dockerfile)
    return {"ws": ws, "outside": outside, "root": tmp_path}


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def test_generate_without_apply_edit_writes_inside_the_workspace_only(layout: dict[str, Path]) -> None:
    srv = Server(layout["ws"], layout["root"] / "logs", capabilities=_terminal_capabilities(apply_edit=False))
    try:
        before = _files(layout["outside"])
        outside = _generate(srv, (layout["outside"] / "Dockerfile").as_uri())
        assert isinstance(outside, ResponseError), outside
        assert "outside the workspace" in outside.message
        traversal = (layout["ws"] / "app").as_uri() + "/../../outside/Dockerfile"
        assert isinstance(_generate(srv, traversal), ResponseError)
        assert _files(layout["outside"]) == before
        inside = _generate(srv, (layout["ws"] / "app" / "Dockerfile").as_uri())
        assert inside == {"created": True, "uri": (layout["ws"] / "app" / "Dockerfile.debug").as_uri()}
        written = (layout["ws"] / "app" / "Dockerfile.debug").read_text()
        assert "FROM" in written
        # A second run never overwrites it: "exists", content untouched.
        (layout["ws"] / "app" / "Dockerfile.debug").write_text("# mine\n")
        again = _generate(srv, (layout["ws"] / "app" / "Dockerfile").as_uri())
        assert again["created"] is False and again["reason"] == "exists", again
        assert (layout["ws"] / "app" / "Dockerfile.debug").read_text() == "# mine\n"
        # Regenerating needs edits the editor can undo; without them it is refused, the file untouched.
        regen = _generate(srv, (layout["ws"] / "app" / "Dockerfile").as_uri(), regenerate=True)
        assert isinstance(regen, dict) and regen.get("regenerated") is False, regen
        assert (layout["ws"] / "app" / "Dockerfile.debug").read_text() == "# mine\n"
        srv.assert_healthy()
    finally:
        srv.stop()


def test_generate_does_not_follow_a_dangling_symlink(layout: dict[str, Path]) -> None:
    victim = layout["outside"] / "victim"
    (layout["ws"] / "app" / "Dockerfile.debug").symlink_to(victim)
    srv = Server(layout["ws"], layout["root"] / "logs", capabilities=_terminal_capabilities(apply_edit=False))
    try:
        result = _generate(srv, (layout["ws"] / "app" / "Dockerfile").as_uri())
        assert not victim.exists(), f"wrote through the symlink: {result}"
        assert isinstance(result, ResponseError) or result.get("created") is False, result
        srv.assert_healthy()
    finally:
        srv.stop()


def test_generate_with_apply_edit_creates_only_the_sibling_and_never_overwrites(
    layout: dict[str, Path],
) -> None:
    srv = Server(layout["ws"], layout["root"] / "logs", capabilities=_terminal_capabilities())
    try:
        before = _files(layout["root"] / "ws") | _files(layout["outside"])
        for dockerfile in (layout["ws"] / "app" / "Dockerfile", layout["outside"] / "Dockerfile"):
            mark = len(srv.client.server_requests)
            result = _generate(srv, dockerfile.as_uri())
            edits = [r for r in srv.client.server_requests[mark:] if r.method == "workspace/applyEdit"]
            assert len(edits) == 1, (result, edits)
            changes = edits[0].params["edit"]["documentChanges"]
            creates = [c for c in changes if c.get("kind") == "create"]
            assert [c["uri"] for c in creates] == [dockerfile.with_name("Dockerfile.debug").as_uri()]
            assert creates[0]["options"].get("overwrite") in (None, False)
            assert creates[0]["options"].get("ignoreIfExists") is True
            assert all(c.get("kind") in (None, "create") for c in changes), changes  # no delete, no rename
            # The test client applies nothing; the server reports that instead of writing itself.
            assert result["created"] is False and result["reason"] == "rejected", result
        assert (_files(layout["root"] / "ws") | _files(layout["outside"])) == before
        srv.assert_healthy()
    finally:
        srv.stop()


def test_startup_loads_no_analyser_runtime_or_sdk() -> None:
    """docs/security.md §8: `debugbox lsp` as editors start it loads the protocol layer and nothing more.

    The real entry point runs with `-X importtime` (every import is listed on stderr) and stdin closed, so the
    server starts, reads end-of-file and exits.
    """
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "debugbox", "lsp"],
        input="",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    imported = [
        line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time")
    ]
    assert "debugbox.lsp.server" in imported, proc.stderr[-2000:]
    heavy = [
        m
        for m in imported
        if m.split(".")[0] in ("yaml", "docker", "kubernetes")
        or m.startswith(("debugbox.core.dockerfile", "debugbox.core.kubernetes", "debugbox.edge"))
        or m == "debugbox.edge.workspace"
    ]
    assert not heavy, heavy
