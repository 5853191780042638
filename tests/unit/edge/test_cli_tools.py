"""`docker debug` detection (never by exit code), nerdctl output parsing, and CLI calls with a timeout."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

import pytest
from debugbox.core.errors import RuntimeUnavailable, TargetNotFound
from debugbox.core.settings import Settings
from debugbox.core.targets.model import PlanOptions
from debugbox.edge import cli_tools
from debugbox.edge.cli_tools import docker_debug_available, help_names_docker_debug, run_cli
from debugbox.edge.nerdctl_backend import NerdctlBackend, parse_labels, parse_ps, status_word

TOP_LEVEL_USAGE = "\nUsage:  docker [OPTIONS] COMMAND\n\nA self-sufficient runtime for containers\n"
PLUGIN_USAGE = (
    "\nUsage:  docker debug [OPTIONS] {CONTAINER|IMAGE}\n\nGet a shell into any container or image.\n"
)


def test_help_text_decides_not_the_exit_code() -> None:
    assert not help_names_docker_debug(TOP_LEVEL_USAGE)
    assert help_names_docker_debug(PLUGIN_USAGE)


def _executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.mark.parametrize(
    ("plugin", "usage", "expected"),
    [(False, PLUGIN_USAGE, False), (True, TOP_LEVEL_USAGE, False), (True, PLUGIN_USAGE, True)],
)
def test_docker_debug_needs_the_plugin_file_and_its_own_usage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, plugin: bool, usage: str, expected: bool
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # A fake docker CLI that, like the real one, exits 0 for `docker debug --help` either way.
    _executable(bin_dir / "docker", f"#!/bin/sh\ncat <<'EOF'\n{usage}\nEOF\nexit 0\n")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    home = tmp_path / "home"
    plugins = home / ".docker" / "cli-plugins"
    plugins.mkdir(parents=True)
    if plugin:
        _executable(plugins / "docker-debug", "#!/bin/sh\nexit 0\n")
    monkeypatch.setattr(cli_tools, "_PLUGIN_DIRS", ())
    cli_tools._cache.clear()
    assert docker_debug_available(("docker",), 5.0, env={}, home=home) is expected


def test_run_cli_errors_are_runtime_unavailable(tmp_path: Path) -> None:
    with pytest.raises(RuntimeUnavailable, match="is not installed"):
        run_cli([str(tmp_path / "nope")], 1.0, "x")
    with pytest.raises(RuntimeUnavailable, match=r"did not finish within 0\.3 s"):
        run_cli(["sleep", "5"], 0.3, "x")
    with pytest.raises(RuntimeUnavailable, match="boom"):
        run_cli(["sh", "-c", "echo boom >&2; exit 3"], 5.0, "x")


PS = (
    '{"Command":"\\"/httpd -f\\"","CreatedAt":"2026-11-29 07:00:00 +0000 UTC","ID":"abc123def456",'
    '"Image":"gcr.io/distroless/static-debian12:nonroot","Names":"web","Status":"Up 3 minutes",'
    '"Labels":"app=web,tier=front"}\n'
    '{"ID":"0123456789ab","Image":"docker.io/library/alpine:3.20","Names":"tools","Status":"Up 1 second",'
    '"Labels":""}\n'
    '{"ID":"fedcba987654","Image":"busybox","Names":"side","Status":"Up","Labels":"io.debugbox.sidecar-for=abc"}\n'
    "not json\n"
)


def test_nerdctl_parsing() -> None:
    assert [r["ID"] for r in parse_ps(PS)] == ["abc123def456", "0123456789ab", "fedcba987654"]
    assert parse_labels("a=1,b=x=y") == {"a": "1", "b": "x=y"} and parse_labels({"k": 1}) == {"k": "1"}
    assert status_word("Up 3 minutes") == "running" and status_word("Exited (0) 2 hours ago") == "exited"


class FakeNerdctl:
    def __init__(self, inspect: str = "[]") -> None:
        self.calls: list[list[str]] = []
        self.inspect = inspect

    def __call__(self, argv: Sequence[str], timeout: float, what: str) -> str:
        self.calls.append(list(argv))
        if argv[1] == "ps":
            return PS
        if self.inspect == "missing":
            raise RuntimeUnavailable("nerdctl: no such container: web")
        return self.inspect


def test_nerdctl_targets_use_image_knowledge_for_the_ladder() -> None:
    backend = NerdctlBackend(Settings(), runner=FakeNerdctl())
    targets = {t.name: t for t in backend.list_targets()}
    assert set(targets) == {"web", "tools"}  # our own sidecars are left out
    assert targets["web"].recommended == "sidecar" and targets["web"].labels == {
        "app": "web",
        "tier": "front",
    }
    assert targets["tools"].recommended == "exec" and targets["tools"].id == "nerdctl://0123456789ab"


def test_nerdctl_plan_and_missing_target() -> None:
    inspect = (
        '[{"Id":"abc123def456","Name":"web","State":{"Status":"running"},'
        '"Config":{"Image":"gcr.io/distroless/static-debian12:nonroot","User":"65532"}}]'
    )
    runner = FakeNerdctl(inspect)
    backend = NerdctlBackend(Settings(toolbox_image="busybox:musl"), runner=runner)
    plan = backend.plan(backend.resolve("web"), PlanOptions())
    assert plan.argv[:2] == ("nerdctl", "run") and "--pid=container:abc123def456" in plan.argv
    assert any("65532" in note for note in plan.notes)
    with pytest.raises(TargetNotFound):
        NerdctlBackend(Settings(), runner=FakeNerdctl("missing")).resolve("web")
