"""Find the compose services that build a given Dockerfile, from compose files near it (reads the disk).

Looks in the Dockerfile's folder and up to `workspace.PARENT_LEVELS` parents (not above `stop_at`, the
workspace folder, when given) for `compose.yaml`, `compose.yml`, `docker-compose.yaml`, `docker-compose.yml`
(the files `workspace.find_app_image` reads too). A service counts when its `build:` (a context string, or
`context` + `dockerfile`; `workspace.compose_build_dockerfile`) resolves to the Dockerfile. Unreadable or odd
compose files are skipped: this only ever adds evidence.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from debugbox.core.compose.model import ComposeFile
from debugbox.core.errors import InvalidTarget
from debugbox.core.targets.names import validate_container_ref
from debugbox.core.targets.related import ComposeService
from debugbox.edge.workspace import COMPOSE_NAMES, PARENT_LEVELS, compose_build_dockerfile, load_compose

log = logging.getLogger(__name__)


def project_name(compose: ComposeFile, folder: Path) -> str:
    """Compose's project name: top-level `name:`, else the folder name lower-cased, odd characters dropped."""
    if compose.name:
        return compose.name
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
    folder = target.parent
    stop = stop_at.resolve() if stop_at else None
    for _ in range(PARENT_LEVELS + 1):
        for file_name in COMPOSE_NAMES:
            path = folder / file_name
            compose = load_compose(path)
            if compose is None:
                continue
            project = project_name(compose, folder)
            for service in compose.services:
                if not _usable(service.name, project, path):
                    continue
                built = compose_build_dockerfile(folder, service.build)
                if built is None or built.resolve() != target:
                    continue
                image = service.image.value if service.image else ""
                found.append(ComposeService(service.name, project, str(folder), str(path), image))
        if (stop is not None and folder == stop) or folder.parent == folder:
            break
        folder = folder.parent
    return found
