"""The .vsix `scripts/build-vsix.sh` builds: what it carries; the bundled server runs on a plain Python.

Builds the package once (pip, esbuild, vsce), then checks its file list, that the only non-pure-Python file
is PyYAML's optional C module (the README says so), and that the server runs from the bundle on the system's
python3 with and without that module loadable.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, require

SYSTEM_PYTHON = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")
MANIFEST = ROOT / "tests" / "editors" / "workspace" / "k8s" / "deployment.yaml"


@pytest.fixture(scope="module")
def vsix(built_vsix: Path) -> Path:
    return built_vsix


def test_vsix_carries_client_bundle_server_and_deps_but_no_sources(vsix: Path) -> None:
    names = zipfile.ZipFile(vsix).namelist()
    assert "extension/package.json" in names
    assert "extension/readme.md" in names  # vsce lower-cases it
    assert "extension/dist/extension.js" in names
    assert "extension/images/icon.png" in names  # package.json `icon`
    for module in (
        "debugbox/__main__.py",
        "debugbox/lsp/server.py",
        "pygls/__init__.py",
        "lsprotocol/types.py",
    ):
        assert f"extension/bundled/libs/{module}" in names, module
    assert "extension/bundled/libs/yaml/__init__.py" in names
    forbidden = ("node_modules/", "/src/", ".ts", ".map", "__pycache__", ".pyc", "dist/out/")
    assert not [n for n in names if any(f in n for f in forbidden)]


def test_only_pyyaml_speedups_are_native(vsix: Path) -> None:
    names = zipfile.ZipFile(vsix).namelist()
    native = [n for n in names if n.endswith((".so", ".pyd", ".dylib"))]
    assert all(n.startswith("extension/bundled/libs/yaml/_yaml.") for n in native), native


def _bundled_run(libs: Path, *args: str) -> subprocess.CompletedProcess[str]:
    require(SYSTEM_PYTHON is not None, "no system python3")
    assert SYSTEM_PYTHON is not None
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONHOME"}}
    env.update(PYTHONPATH=str(libs), PYTHONNOUSERSITE="1")
    return subprocess.run(
        [SYSTEM_PYTHON, "-m", "debugbox", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_bundled_server_runs_on_system_python_with_and_without_libyaml(vsix: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(vsix) as z:
        z.extractall(tmp_path)
    libs = tmp_path / "extension" / "bundled" / "libs"
    version = _bundled_run(libs, "--version")
    assert version.returncode == 0 and version.stdout.startswith("debugbox "), version.stderr
    native = _bundled_run(libs, "share-pid", str(MANIFEST))
    assert native.returncode == 0, native.stderr
    assert "shareProcessNamespace: true" in native.stdout
    # As on another Python version or platform: the C module is there but cannot be loaded.
    for so in (libs / "yaml").glob("_yaml.*.so"):
        so.rename(so.with_name(so.name.replace("cpython-3", "cpython-2")))
    probe = _bundled_run(libs, "--version")
    assert probe.returncode == 0
    check = subprocess.run(
        [SYSTEM_PYTHON or "python3", "-c", "import yaml; print(yaml.__with_libyaml__)"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(libs), "PYTHONNOUSERSITE": "1"},
    )
    assert check.stdout.strip() == "False", check.stderr
    pure = _bundled_run(libs, "share-pid", str(MANIFEST))
    assert pure.returncode == 0, pure.stderr
    assert pure.stdout == native.stdout
