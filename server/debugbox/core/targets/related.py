"""Which running containers belong to a Dockerfile, and why: pure matching over targets and compose facts.

Evidence, strongest first (the first that matches is the reason given to the user):

1. compose labels: `com.docker.compose.service` names a service whose `build:` points at this Dockerfile, and
   `com.docker.compose.project.working_dir` is that compose file's folder (or `com.docker.compose.project` its
   project name, for engines that do not set the working dir);
2. the image name: `debugbox.debugImage.appImage`, a compose `image:` of such a service, or the name compose
   gives the image it builds (`<project>-<service>`, `<project>_<service>` before Compose v2);
3. a guess: the image's repository (last path part) equals the Dockerfile's folder name.

Reading compose files is the edge's job (`edge/compose.py`); this module only compares.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from debugbox.core.images import Reference, parse_reference
from debugbox.core.targets.model import Target

WORKING_DIR = "com.docker.compose.project.working_dir"
SERVICE = "com.docker.compose.service"
PROJECT = "com.docker.compose.project"


@dataclass(frozen=True)
class ComposeService:
    """A compose service whose `build:` resolves to the Dockerfile in question."""

    service: str
    project: str
    project_dir: str
    """Absolute folder of the compose file (what compose records as working_dir)."""
    compose_file: str
    image: str = ""
    """Its `image:` (the tag compose gives the built image), if any."""


@dataclass(frozen=True)
class RelationContext:
    dockerfile: str
    """Absolute path of the Dockerfile."""
    services: tuple[ComposeService, ...] = ()
    app_image: str = ""
    """`debugbox.debugImage.appImage`."""

    @property
    def folder_name(self) -> str:
        return posixpath.basename(posixpath.dirname(self.dockerfile.replace("\\", "/")))


def _same_dir(a: str, b: str) -> bool:
    def norm(p: str) -> str:
        return posixpath.normpath(p.replace("\\", "/")).rstrip("/").lower() if p else ""

    return bool(a) and norm(a) == norm(b)


def _repository(image: str) -> str:
    return parse_reference(image).repository if image else ""


def _local_repository(ref: Reference) -> str:
    """The repository, with Podman's `localhost/` dropped: Podman names an image built or tagged without a
    registry `localhost/NAME` (`podman build -t shop` runs as `localhost/shop:latest`) where Docker says `shop`."""
    return ref.repository[len("localhost/") :] if ref.registry == "localhost" else ref.repository


def _names_match(container_image: str, wanted: str) -> bool:
    """Same repository; a tag (or digest) on `wanted` must match too."""
    if not container_image or not wanted:
        return False
    have, want = parse_reference(container_image), parse_reference(wanted)
    if _local_repository(have) != _local_repository(want):
        return False
    return want.tag is None or have.tag == want.tag or (want.tag == "latest" and have.tag is None)


def relation(target: Target, ctx: RelationContext) -> str | None:
    """Why `target` belongs to the Dockerfile of `ctx`, or None."""
    labels = target.labels
    service = labels.get(SERVICE, "")
    for svc in ctx.services:
        if not service or service != svc.service:
            continue
        working_dir = labels.get(WORKING_DIR, "")
        if _same_dir(working_dir, svc.project_dir) or (
            not working_dir and labels.get(PROJECT) == svc.project
        ):
            return f"compose service '{svc.service}' of {svc.compose_file}, whose build uses this Dockerfile"
    if ctx.app_image and _names_match(target.image, ctx.app_image):
        return f"its image {target.image} is debugbox.debugImage.appImage"
    for svc in ctx.services:
        if svc.image and _names_match(target.image, svc.image):
            where = f"compose service '{svc.service}' ({svc.compose_file})"
            return f"its image {target.image} is the image: of {where}"
        for built in (f"{svc.project}-{svc.service}", f"{svc.project}_{svc.service}"):
            if _names_match(target.image, built):
                return f"its image {target.image} is the one compose builds for service '{svc.service}'"
    folder = ctx.folder_name.lower()
    repo = _repository(target.image)
    if folder and repo and repo.rsplit("/", 1)[-1] == folder:
        return f"a guess: its image name {repo} matches the Dockerfile's folder name '{ctx.folder_name}'"
    return None


def relate(targets: Sequence[Target], ctx: RelationContext) -> list[Target]:
    """The targets with `related`/`related_reason` set, related ones first (else in their given order)."""
    marked = []
    for target in targets:
        reason = relation(target, ctx)
        marked.append(dataclasses.replace(target, related=reason is not None, related_reason=reason))
    return [t for t in marked if t.related] + [t for t in marked if not t.related]


def compose_service_of(
    target: Target, project_dir: str, project: str, services: Collection[str]
) -> str | None:
    """The service of the compose file in `project_dir` (project `project`, services `services`) that
    `target` runs, from its compose labels (rule 1 above), or None."""
    labels = target.labels
    service = labels.get(SERVICE, "")
    if not service or service not in services:
        return None
    working_dir = labels.get(WORKING_DIR, "")
    if _same_dir(working_dir, project_dir) or (not working_dir and labels.get(PROJECT) == project):
        return service
    return None
