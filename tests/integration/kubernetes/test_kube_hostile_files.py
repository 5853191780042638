"""`debugbox targets --for FILE` when FILE is not a file: a FIFO named like a manifest (a read would wait for a
writer forever) or a link to `/dev/zero` (a read never ends). The manifest is refused at once and the
namespace's pods are listed instead, as for a manifest naming no workload."""

from __future__ import annotations

import json
import os

import pytest

from tests.integration.kubernetes.conftest import KubeEnv
from tests.integration.kubernetes.test_kube_cli import _kube_targets

pytestmark = pytest.mark.kubernetes


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_targets_for_a_fifo_or_device_manifest_does_not_hang(kube: KubeEnv, kind: str) -> None:
    kube.fake.store.add_pod("a", "default")
    manifest = kube.tmp / "deploy.yaml"
    if kind == "fifo":
        os.mkfifo(manifest)
    else:
        manifest.symlink_to("/dev/zero")
    out = kube.debugbox("targets", "--json", "--for", str(manifest))  # its timeout fails the test on a hang
    assert [t["name"] for t in _kube_targets(out)] == ["a/app"], out.stderr
    assert "Traceback" not in out.stderr
    json.loads(out.stdout)
