"""The project as people pick it up: `python -m build` makes a wheel and an sdist, and the wheel installs into a
fresh virtual environment (with its dependencies, through pip) and through pipx, where `debugbox --version` and
`--help` run."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from debugbox import __version__

from tests.conftest import ROOT, require


def _run(argv: list[str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, cwd=ROOT)


def test_build_then_install_the_wheel_into_a_fresh_venv(tmp_path: Path) -> None:
    require(_run([sys.executable, "-c", "import build"]).returncode == 0, "the `build` package (test extras)")
    dist = tmp_path / "dist"
    built = _run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)])
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = dist.glob("debugbox-*.whl")
    (sdist,) = dist.glob("debugbox-*.tar.gz")
    names = zipfile.ZipFile(wheel).namelist()
    assert "debugbox/lsp/server.py" in names and "debugbox/core/kubernetes/workloads.py" in names
    assert any(n.endswith("licenses/LICENSE") for n in names), "the wheel carries the LICENSE"
    with tarfile.open(sdist) as tar:
        members = tar.getnames()
    assert any(m.endswith("/LICENSE") for m in members) and any(
        m.endswith("/pyproject.toml") for m in members
    )

    venv = tmp_path / "venv"
    assert _run([sys.executable, "-m", "venv", str(venv)]).returncode == 0
    installed = _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)])
    assert installed.returncode == 0, installed.stderr[-3000:]
    version = _run([str(venv / "bin" / "debugbox"), "--version"], timeout=60)
    assert version.returncode == 0 and __version__ in version.stdout, version.stdout + version.stderr
    helped = _run([str(venv / "bin" / "debugbox"), "--help"], timeout=60)
    assert helped.returncode == 0 and "share-pid" in helped.stdout, helped.stderr

    # The way the README suggests for a command-line tool: pipx, with its homes in the test's folder.
    env = {**os.environ, "PIPX_HOME": str(tmp_path / "pipx"), "PIPX_BIN_DIR": str(tmp_path / "bin")}
    env["PIPX_MAN_DIR"] = str(tmp_path / "man")
    piped = subprocess.run(
        [sys.executable, "-m", "pipx", "install", str(wheel)],
        capture_output=True, text=True, timeout=600, check=False, env=env,
    )  # fmt: skip
    assert piped.returncode == 0, piped.stderr[-3000:]
    helped = _run([str(tmp_path / "bin" / "debugbox"), "--help"], timeout=60)
    assert helped.returncode == 0 and "share-pid" in helped.stdout, helped.stderr
