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
    return run_merged_config(folder, (name,), *profiles)


def run_merged_config(folder: Path, names: tuple[str, ...], *profiles: str) -> tuple[int, str]:
    """`docker-compose -f NAME1 -f NAME2 … [--profile P] config` (the files merged in that order)."""
    exe = shutil.which("docker-compose")
    require(exe is not None, "docker-compose (Debian's docker-compose package) is not installed")
    assert exe is not None
    for name in names:
        for service in read_compose((folder / name).read_text()).services:
            found = build_dockerfile(folder, service.build) if service.build is not None else None
            if found is not None:
                Path(found.dockerfile).parent.mkdir(parents=True, exist_ok=True)
    files = (a for name in names for a in ("-f", name))
    argv = [exe, *files, *(a for p in profiles for a in ("--profile", p)), "config"]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(folder)}
    done = subprocess.run(argv, cwd=folder, capture_output=True, text=True, timeout=60, env=env, check=False)
    return done.returncode, done.stdout if done.returncode == 0 else done.stderr
