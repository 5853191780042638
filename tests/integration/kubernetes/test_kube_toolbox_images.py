"""Toolbox images per context and namespace (#13 §3), through real kubectl against the fake: the image table
makes the context's toolbox unpullable; a namespace entry of that context names one the cluster can pull, so a
session there starts, while elsewhere in the context the session ends with the sentence naming the setting to
change for that context and namespace. The settings go through `parse_settings`, as an editor sends them.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from debugbox.core.settings import Settings, parse_settings
from debugbox.core.targets.debug_failures import EXIT_NOT_STARTED
from debugbox.edge.kube_backend import ID_PREFIX, target_id

from tests.fakes.kube import ImageSpec
from tests.integration.kubernetes.conftest import KubeEnv, batch_options

pytestmark = pytest.mark.kubernetes

UNPULLABLE = "registry.invalid/tools:1"
PULLABLE = "mirror.example/tools:1"
API_TIMEOUT = 1.0


def _settings(kube: KubeEnv) -> Settings:
    raw = {
        "toolboxImage": "busybox:1.36",
        "strategy": "ephemeral",
        "kubernetes": {
            "timeoutSeconds": API_TIMEOUT,
            "toolboxImages": [
                {"context": "fake", "image": UNPULLABLE},
                {"context": "fake", "namespace": "shop", "image": PULLABLE},
            ],
        },
    }
    settings, problems = parse_settings(raw)
    assert problems == []
    return settings


def _session(kube: KubeEnv, namespace: str) -> tuple[Any, subprocess.CompletedProcess[str]]:
    """Plan a session for web/app in `namespace` and run it as an editor terminal does (`debugbox session`)."""
    settings = _settings(kube)
    backend = kube.backend(settings)
    target = backend.resolve(target_id("fake", namespace, "web", "app").removeprefix(ID_PREFIX))
    plan = backend.kube_plan(target, batch_options(settings, command=("true",))).plan
    assert plan.watch is not None
    out = kube.debugbox(
        "session", "--watch", json.dumps(plan.watch), "--timeout", str(API_TIMEOUT), "--", *plan.argv
    )
    return plan, out


def test_a_namespace_entry_of_the_context_overrides_its_unpullable_toolbox(kube: KubeEnv) -> None:
    kube.fake.store.add_namespace("shop")
    kube.fake.store.add_pod("web", "shop")
    kube.fake.images[UNPULLABLE] = ImageSpec(pullable=False)

    plan, out = _session(kube, "shop")

    assert out.returncode == 0, out.stderr
    assert f"--image={PULLABLE}" in plan.argv
    pod = kube.fake.store.get("shop", "web")
    (status,) = pod["status"]["ephemeralContainerStatuses"]
    assert status["image"] == PULLABLE and "running" in status["state"]


def test_elsewhere_in_the_context_the_failure_names_the_entry_to_change(kube: KubeEnv) -> None:
    kube.fake.store.add_pod("web")
    kube.fake.images[UNPULLABLE] = ImageSpec(pullable=False)

    plan, out = _session(kube, "default")

    assert f"--image={UNPULLABLE}" in plan.argv
    assert out.returncode == EXIT_NOT_STARTED, out.stderr
    (line,) = [x for x in out.stderr.splitlines() if x.startswith("debugbox:")]
    assert f"cannot pull {UNPULLABLE}" in line and "Traceback" not in out.stderr
    assert "change the debugbox.kubernetes.toolboxImages entry for context fake to an image" in line
