"""The debug sidecar service per compose implementation (core/compose/edits.py): which forms are offered
(`debugbox.compose.engine`, else what is installed), podman-compose's container names, the nerdctl terminal
action, and the edge's detection of what is installed. The podman form is started on the real Podman by
tests/integration/podman/test_podman_compose.py."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml
from debugbox.core.analysis import ActionContext
from debugbox.core.compose.analysis import TERMINAL_TITLE, analyze
from debugbox.core.compose.edits import (
    NERDCTL_NOTE,
    engine_forms,
    plan_sidecar,
    podman_container,
    sidecar_value,
)
from debugbox.core.compose.model import read_compose
from debugbox.core.kubernetes.edits import Refused
from debugbox.core.settings import ComposeSettings, Settings
from debugbox.core.wire import Command
from debugbox.edge.compose import docker_compose_program, installed_engines
from debugbox.edge.workspace import compose_inputs
from lsprotocol import types as lsp

from tests.unit.compose.compose_support import compose_config

TOOLBOX = "nicolaka/netshoot"
BLOCK = "services:\n  api:\n    image: busybox\n  db:\n    image: postgres:16\n"


@pytest.mark.parametrize(
    ("setting", "installed", "forms"),
    [
        ("auto", set(), ("docker",)),
        ("auto", {"docker"}, ("docker",)),
        ("auto", {"podman"}, ("podman",)),
        ("auto", {"nerdctl"}, ("nerdctl",)),
        ("auto", {"podman", "docker"}, ("docker", "podman")),
        ("auto", {"nerdctl", "docker", "podman"}, ("docker", "podman", "nerdctl")),
        ("podman", {"docker"}, ("podman",)),
        ("docker", {"podman", "nerdctl"}, ("docker",)),
        ("nerdctl", set(), ("nerdctl",)),
    ],
)
def test_engine_forms(setting: str, installed: set[str], forms: tuple[str, ...]) -> None:
    assert engine_forms(setting, installed) == forms


@pytest.mark.parametrize(
    ("text", "folder", "name"),
    [
        (BLOCK, "My Shop", "myshop_api_1"),  # the folder, lower-cased, [-_a-z0-9] kept
        ("name: Shop.Prod\n" + BLOCK, "x", "hoprod_api_1"),  # `name:` is not lower-cased, only filtered
        ("x-podman:\n  name_separator_compat: true\n" + BLOCK, "shop", "shop-api-1"),
        ("x-podman:\n  docker_compose_compat: true\n" + BLOCK, "shop", "shop-api-1"),
        ("services:\n  api:\n    image: busybox\n    container_name: the-api\n", "shop", "the-api"),
        # podman-compose interpolates `name:` (a variable unset here: its default), then filters it.
        ("name: ${SHOP_NAME:-shop}\n" + BLOCK, "x", "shop_api_1"),
        ("name: ${SHOP_NAME:-${OTHER}}$$x\n" + BLOCK, "x", "x_api_1"),
    ],
)
def test_podman_container_names(text: str, folder: str, name: str) -> None:
    assert podman_container(read_compose(text), "api", folder) == name


def test_podman_without_a_project_name_is_refused() -> None:
    with pytest.raises(Refused, match="no project name"):
        plan_sidecar(read_compose(BLOCK), "api", TOOLBOX, "podman", "Ωμέγα")
    with pytest.raises(Refused, match="no project name"):  # podman-compose: "normalized to empty"
        plan_sidecar(read_compose("name: ${UNSET_NAME}\n" + BLOCK), "api", TOOLBOX, "podman", "shop")
    with pytest.raises(Refused, match=r"comes from variables.*container_name"):
        plan_sidecar(read_compose("name: ${NAME:?set NAME}\n" + BLOCK), "api", TOOLBOX, "podman", "shop")


def test_an_interpolated_project_name_is_said_on_the_pid_line() -> None:
    planned = plan_sidecar(read_compose("name: ${SHOP_NAME:-shop}\n" + BLOCK), "api", TOOLBOX, "podman", "x")
    assert (
        '    pid: "container:shop_api_1"  # podman-compose\'s name for it with SHOP_NAME unset; another with -p, '
        "COMPOSE_PROJECT_NAME or SHOP_NAME\n"
    ) in planned.text


def test_podman_form_is_one_verified_insertion_that_docker_compose_config_accepts(tmp_path: Path) -> None:
    planned = plan_sidecar(read_compose(BLOCK), "api", TOOLBOX, "podman", "shop")
    assert planned.text == BLOCK + (
        "  debug-api:\n"
        "    image: nicolaka/netshoot\n"
        '    pid: "container:shop_api_1"  # podman-compose\'s name for it; another with -p or COMPOSE_PROJECT_NAME\n'
        '    network_mode: "service:api"\n'
        "    cap_add: [SYS_PTRACE]\n"
        "    stdin_open: true\n"
        "    tty: true\n"
        "    profiles: [debug]\n"
    )
    loaded = yaml.safe_load(planned.text)
    assert loaded["services"]["debug-api"] == sidecar_value("api", TOOLBOX, "container:shop_api_1")
    (tmp_path / "compose.yaml").write_text(planned.text)
    sidecar = compose_config(tmp_path, "compose.yaml", "debug")["services"]["debug-api"]
    assert sidecar["pid"] == "container:shop_api_1" and sidecar["network_mode"] == "service:api"


def test_nerdctl_has_no_edit() -> None:
    with pytest.raises(Refused, match="no `service:` namespaces"):
        plan_sidecar(read_compose(BLOCK), "api", TOOLBOX, "nerdctl")


def _actions(engine: str, installed: set[str], line: int = 2) -> list[tuple[str, str | None, str, object]]:
    settings = Settings(compose=ComposeSettings(engine=engine))
    analysis = analyze("file:///w/shop/compose.yaml", BLOCK, settings, None, None, installed)
    pos = lsp.Position(line=line, character=4)
    found = analysis.actions(lsp.Range(start=pos, end=pos), ActionContext(settings, lambda _uri: False))
    return [
        (a.title, a.disabled_reason, "".join(e.new_text for e in a.edits), a.command and a.arguments)
        for a in found
    ]


def test_actions_follow_the_setting_and_offer_both_when_ambiguous() -> None:
    (title, reason, text, command), *rest = _actions("auto", {"docker"})
    assert rest == [] and reason is None and command is None
    assert title == "Add a debug sidecar service (profile debug): debug-api" and '"service:api"' in text
    [(title, _, text, _)] = _actions("podman", {"docker"})
    assert title == "Add a debug sidecar service (profile debug) for podman-compose: debug-api"
    assert 'pid: "container:shop_api_1"' in text
    both = _actions("auto", {"docker", "podman"})
    assert [t for t, *_ in both] == [
        "Add a debug sidecar service (profile debug) for Docker Compose: debug-api",
        "Add a debug sidecar service (profile debug) for podman-compose: debug-api",
    ]
    assert 'pid: "service:api"' in both[0][2] and 'pid: "container:shop_api_1"' in both[1][2]


def test_nerdctl_offers_the_debug_terminal_of_the_service_instead() -> None:
    settings = Settings(compose=ComposeSettings(engine="nerdctl"))
    analysis = analyze("file:///w/shop/compose.yaml", BLOCK, settings, None, None, ())
    pos = lsp.Position(line=4, character=4)  # inside db
    [action] = analysis.actions(lsp.Range(start=pos, end=pos), ActionContext(settings, lambda _uri: False))
    assert action.title == TERMINAL_TITLE.format(service="db") and not action.edits
    assert action.command == Command.OPEN_DEBUG_TERMINAL.value
    assert action.arguments == ({"uri": "file:///w/shop/compose.yaml", "service": "db"},)
    assert "no `service:` namespaces" in NERDCTL_NOTE


def _program(folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("#!/bin/sh\nexit 0\n")
    (folder / name).chmod(stat.S_IRWXU)


def test_installed_engines_are_found_on_path_never_in_the_workspace(tmp_path: Path) -> None:
    home, bin_dir, workspace = tmp_path / "home", tmp_path / "bin", tmp_path / "ws"
    home.mkdir()
    assert installed_engines(path=str(bin_dir), home=home) == frozenset()
    _program(bin_dir, "podman-compose")
    _program(workspace / "bin", "nerdctl")
    _program(workspace / "bin", "docker-compose")
    path = os.pathsep.join((str(bin_dir), str(workspace / "bin"), "bin"))
    assert installed_engines([workspace], path=path, home=home) == {"podman"}
    assert installed_engines(path=path, home=home) == {"podman", "nerdctl", "docker"}
    # The `docker compose` CLI plugin counts as Docker Compose.
    _program(home / ".docker" / "cli-plugins", "docker-compose")
    assert installed_engines([workspace], path=str(bin_dir), home=home) == {"podman", "docker"}


def test_a_container_name_needs_no_note() -> None:
    text = "services:\n  api:\n    image: busybox\n    container_name: the-api\n"
    planned = plan_sidecar(read_compose(text), "api", TOOLBOX, "podman", "shop")
    assert '    pid: "container:the-api"\n' in planned.text


def test_the_docker_compose_spelling_that_runs_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, bin_dir = tmp_path / "home", tmp_path / "bin"
    home.mkdir()
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    assert docker_compose_program(path=str(bin_dir), home=home) == "docker compose"  # neither: what docs say
    _program(bin_dir, "docker-compose")
    assert docker_compose_program(path=str(bin_dir), home=home) == "docker-compose"  # `docker compose` fails
    _program(home / ".docker" / "cli-plugins", "docker-compose")
    assert docker_compose_program(path=str(bin_dir), home=home) == "docker compose"


def test_an_override_takes_the_project_settings_of_its_base(tmp_path: Path) -> None:
    # podman-compose merges the files: the base's `name:` and `x-podman:` name the containers of an override's
    # service too (`shop-api-1`, not `<folder>_api_1`).
    (tmp_path / "compose.yaml").write_text("name: shop\nx-podman:\n  name_separator_compat: true\n" + BLOCK)
    text = "services:\n  api:\n    environment: {A: b}\n"
    (tmp_path / "compose.override.yaml").write_text(text)
    read = compose_inputs(text, tmp_path / "compose.override.yaml", tmp_path)
    analysis = analyze(
        (tmp_path / "compose.override.yaml").as_uri(),
        text,
        Settings(),
        None,
        read.dockerfiles,
        (),
        read.related,
    )
    planned = plan_sidecar(analysis.compose, "api", TOOLBOX, "podman", analysis.folder_name)
    assert '    pid: "container:shop-api-1"' in planned.text
