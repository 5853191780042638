"""Helpers for the compose tests: the real `docker-compose config` as the judge of an edited file."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml
from debugbox.core.compose.model import build_dockerfile, read_compose

from tests.conftest import require

DATA = Path(__file__).resolve().parents[2] / "data" / "compose"
REAL_FILES = sorted(p for p in DATA.rglob("*.y*ml"))


def compose_config(folder: Path, name: str, *profiles: str) -> dict[str, Any]:
    """`docker-compose -f NAME [--profile P] config` in `folder` (build contexts created first), loaded."""
    code, out = run_config(folder, name, *profiles)
    assert code == 0, out
    loaded = yaml.safe_load(out)
    assert isinstance(loaded, dict)
    return loaded


def run_config(folder: Path, name: str, *profiles: str) -> tuple[int, str]:
    """`docker-compose -f NAME [--profile P] config`: its exit code and output (stderr when it failed)."""
    exe = shutil.which("docker-compose")
    require(exe is not None, "docker-compose (Debian's docker-compose package) is not installed")
    assert exe is not None
    compose = read_compose((folder / name).read_text())
    for service in compose.services:
        if service.build is not None:
            found = build_dockerfile(folder, service.build)
            if found is not None:
                Path(found.dockerfile).parent.mkdir(parents=True, exist_ok=True)
    argv = [exe, "-f", name, *(a for p in profiles for a in ("--profile", p)), "config"]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(folder)}
    done = subprocess.run(argv, cwd=folder, capture_output=True, text=True, timeout=60, env=env, check=False)
    return done.returncode, done.stdout if done.returncode == 0 else done.stderr
