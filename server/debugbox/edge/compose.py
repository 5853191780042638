"""Find the compose services that build a given Dockerfile, from compose files near it (reads the disk).

Looks in the Dockerfile's folder and up to `workspace.PARENT_LEVELS` parents (not above `stop_at`, the
workspace folder, when given, nor through a link leaving it) for `compose.yaml`, `compose.yml`,
`docker-compose.yaml`, `docker-compose.yml` (`workspace.compose_files_near`, which `find_app_image` walks too),
their `extends:` followed and included services added (`workspace.load_compose_followed`). A service counts
when its `build:` (a context string, or `context` + `dockerfile`; `workspace.compose_build_dockerfile`)
resolves to the Dockerfile. Unreadable or odd compose files are skipped: this only ever adds evidence.

`installed_engines` says which compose implementations are installed (for `debugbox.compose.engine` = auto):
Docker Compose (`docker-compose`, or the `docker compose` CLI plugin), podman-compose, nerdctl;
`docker_compose_program` which of Docker Compose's two spellings runs here. Programs are
looked up as everywhere (`cli_tools.resolve_program`: PATH's absolute folders, workspace folders never); only
their presence counts, nothing is run.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Sequence
from pathlib import Path

from debugbox.core.compose.model import ComposeFile, interpolate_unset
from debugbox.core.errors import InvalidTarget, RuntimeUnavailable
from debugbox.core.targets.names import validate_container_ref
from debugbox.core.targets.related import ComposeService
from debugbox.edge.workspace import compose_build_dockerfile, compose_files_near, load_compose_followed

log = logging.getLogger(__name__)

_CACHE_SECONDS = 30.0
_cache: dict[tuple[str, ...], tuple[float, frozenset[str]]] = {}
#: Each compose implementation and the programs any one of which means it is installed.
_ENGINE_PROGRAMS = (("docker", "docker-compose"), ("podman", "podman-compose"), ("nerdctl", "nerdctl"))


def _installed(program: str, path: str | None, exclude: Sequence[Path]) -> bool:
    from debugbox.edge.cli_tools import resolve_program

    try:
        resolve_program([program], path=path, exclude=exclude)
    except RuntimeUnavailable:
        return False
    return True


def installed_engines(
    exclude: Sequence[Path] = (), path: str | None = None, home: Path | None = None
) -> frozenset[str]:
    """The compose implementations installed here (`exclude`: the workspace folders; `path`: the PATH to
    search, else the environment's; `home`: where the docker CLI's plugins are looked for, else the user's).
    The environment's answer is kept `_CACHE_SECONDS` (the analysis asks on every edit of a compose file)."""
    from debugbox.edge.cli_tools import plugin_dirs

    key = tuple(str(e) for e in exclude)
    if path is None and home is None:
        cached = _cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < _CACHE_SECONDS:
            return cached[1]

    found = {engine for engine, program in _ENGINE_PROGRAMS if _installed(program, path, exclude)}
    if "docker" not in found:
        folders = plugin_dirs(os.environ, home or Path.home())
        if any(os.access(folder / "docker-compose", os.X_OK) for folder in folders):
            found.add("docker")
    if path is None and home is None:
        _cache[key] = (time.monotonic(), frozenset(found))
    return frozenset(found)


def docker_compose_program(path: str | None = None, home: Path | None = None) -> str:
    """How Docker Compose is run here: `docker compose` when the docker CLI's plugin is installed, else
    `docker-compose` when that program is (Compose v1, or v2 on its own; `docker compose` fails there:
    "unknown command"), else `docker compose` (what the docs name)."""
    from debugbox.edge.cli_tools import plugin_dirs

    folders = plugin_dirs(os.environ, home or Path.home())
    if any(os.access(folder / "docker-compose", os.X_OK) for folder in folders):
        return "docker compose"
    return "docker-compose" if _installed("docker-compose", path, ()) else "docker compose"


def project_name(compose: ComposeFile, folder: Path) -> str:
    """Compose's project name: top-level `name:` (interpolated as if its variables were unset: compose
    interpolates it, `${PROJECT:-shop}` is `shop`), else the folder name lower-cased, odd characters dropped."""
    name = interpolate_unset(compose.name).text if compose.name else None
    if name:
        return name
    return re.sub(r"[^a-z0-9_-]", "", folder.name.lower())


def _usable(service: object, project: str, path: Path) -> bool:
    """Compose names follow Docker's container-name rule; anything else in a workspace file is not used."""
    try:
        validate_container_ref(str(service))
        validate_container_ref(project)
    except InvalidTarget as exc:
        log.info("ignoring a service of %s: %s", path, exc)
        return False
    return True


def services_building(dockerfile: Path, stop_at: Path | None = None) -> list[ComposeService]:
    target = dockerfile.resolve()
    found: list[ComposeService] = []
    stop = stop_at.resolve() if stop_at else None
    for path in compose_files_near(target.parent, stop):
        compose = load_compose_followed(path, stop)
        if compose is None:
            continue
        folder = path.parent
        project = project_name(compose, folder)
        for service in (*compose.services, *compose.included):
            if not _usable(service.name, project, path):
                continue
            built = compose_build_dockerfile(folder, service.build)
            if built is None or built.resolve() != target:
                continue
            image = service.image.value if service.image else ""
            found.append(ComposeService(service.name, project, str(folder), str(path), image))
    return found
