"""Target references: validation against Docker's naming rules, prefixes, and the backend registry."""

from __future__ import annotations

import re

import pytest
from debugbox.core.errors import InvalidTarget
from debugbox.core.targets.model import Target
from debugbox.core.targets.names import validate_container_ref
from debugbox.edge.backends import default_runtimes, split_ref
from debugbox.edge.service import load_backends
from hypothesis import given
from hypothesis import strategies as st

SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@pytest.mark.parametrize("name", ["web", "/web", "my_app.1-2", "3f2a9c1b7e4d", "a" * 64])
def test_valid_names(name: str) -> None:
    assert validate_container_ref(name) == name.lstrip("/")


@pytest.mark.parametrize(
    "name",
    ["", "-v", "--privileged", "a b", "x;rm -rf /", "$(id)", "`id`", "a|b", "é", "web\n", "a" * 256, ".x"],
)
def test_invalid_names(name: str) -> None:
    with pytest.raises(InvalidTarget):
        validate_container_ref(name)


@given(st.text(max_size=80))
def test_whatever_passes_cannot_change_an_argvs_meaning(name: str) -> None:
    try:
        valid = validate_container_ref(name)
    except InvalidTarget:
        return
    assert SAFE.fullmatch(valid)  # no leading dash, no whitespace, no shell metacharacters, ASCII only


def test_prefixes_go_to_their_runtime() -> None:
    load_backends()
    assert split_ref("docker://web").runtime == "docker" and split_ref("docker://web").name == "web"
    assert split_ref("podman://web").runtime == "podman"
    assert split_ref("nerdctl://web").runtime == "nerdctl"
    assert split_ref("web").runtime is None
    assert "docker" in default_runtimes()
    with pytest.raises(InvalidTarget, match="unknown target prefix"):
        split_ref("lxc://web")
    with pytest.raises(InvalidTarget):
        split_ref("docker://")
    with pytest.raises(InvalidTarget):
        split_ref("  ")


def test_wire_form_merges_extra_without_overriding() -> None:
    t = Target("docker://1", "docker", "web", "img", "running", extra={"shell": "/bin/sh", "name": "x"})
    wire = t.to_json()
    assert wire["name"] == "web" and wire["shell"] == "/bin/sh"
    assert wire["strategies"] == [] and wire["related"] is False and wire["related_reason"] is None
