"""Fixtures shared by the real-editor tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, require

E2E = ROOT / ".e2e"


@pytest.fixture(scope="session")
def built_vsix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The extension package, built once per session by the one build command (scripts/build-vsix.sh)."""
    require((E2E / "tools" / "node_modules" / ".bin" / "vsce").exists(), "run scripts/setup-extension.sh")
    out = tmp_path_factory.mktemp("vsix") / "debugbox.vsix"
    build = subprocess.run(
        ["bash", str(ROOT / "scripts" / "build-vsix.sh"), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, f"scripts/build-vsix.sh failed:\n{build.stdout}\n{build.stderr}"
    assert build.stdout.strip().splitlines()[-1] == str(out)
    return out
