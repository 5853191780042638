"""Find the compose services that build a given Dockerfile, from compose files near it (reads the disk).

Looks in the Dockerfile's folder and up to `MAX_LEVELS` parents (not above `stop_at`, the workspace folder,
when given) for `compose.yaml`, `compose.yml`, `docker-compose.yaml`, `docker-compose.yml`. A service counts
when its `build:` (a context string, or `context` + `dockerfile`) resolves to the Dockerfile. Unreadable or
odd compose files are skipped: this only ever adds evidence.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from debugbox.runtime.related import ComposeService

COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
MAX_LEVELS = 3
_MAX_BYTES = 1024 * 1024


def project_name(compose: dict[str, Any], folder: Path) -> str:
    """Compose's project name: top-level `name:`, else the folder name lower-cased, odd characters dropped."""
    name = compose.get("name")
    if isinstance(name, str) and name:
        return name
    return re.sub(r"[^a-z0-9_-]", "", folder.name.lower())


def _dockerfile_of(build: Any, folder: Path) -> Path | None:
    if isinstance(build, str):
        return (folder / build / "Dockerfile").resolve()
    if isinstance(build, dict):
        context = build.get("context", ".")
        dockerfile = build.get("dockerfile", "Dockerfile")
        if not isinstance(context, str) or not isinstance(dockerfile, str) or "://" in context:
            return None
        return (folder / context / dockerfile).resolve()
    return None


def services_building(dockerfile: Path, stop_at: Path | None = None) -> list[ComposeService]:
    target = dockerfile.resolve()
    found: list[ComposeService] = []
    folder = target.parent
    stop = stop_at.resolve() if stop_at else None
    for _ in range(MAX_LEVELS + 1):
        for file_name in COMPOSE_FILES:
            path = folder / file_name
            try:
                if not path.is_file() or path.stat().st_size > _MAX_BYTES:
                    continue
                compose = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                continue
            if not isinstance(compose, dict) or not isinstance(compose.get("services"), dict):
                continue
            project = project_name(compose, folder)
            for name, spec in compose["services"].items():
                if not isinstance(spec, dict) or _dockerfile_of(spec.get("build"), folder) != target:
                    continue
                image = spec.get("image") if isinstance(spec.get("image"), str) else ""
                found.append(ComposeService(str(name), project, str(folder), str(path), image or ""))
        if (stop is not None and folder == stop) or folder.parent == folder:
            break
        folder = folder.parent
    return found
