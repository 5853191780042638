"""`debugbox targets --for FILE` when FILE is not a file: a FIFO named like a manifest (a read would wait for a
writer forever) or a link to `/dev/zero` (a read never ends). The manifest is refused at once, as bad input (one
line, exit 2), as every command refuses such an input file (docs/cli.md)."""

from __future__ import annotations

import os

import pytest

from tests.integration.kubernetes.conftest import KubeEnv

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
    assert out.returncode == 2 and not out.stdout, out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and ("FIFO" in lines[0] or "device" in lines[0]), lines
