"""`extends:` and `include:` of a compose file: which other files it names, and its services once those are
followed (pure: the caller reads the files, `edge/workspace.compose_related`, and hands their texts in).

- `extends: base` / `extends: {service: base, file: common.yaml}` (compose spec, 05-services.md `extends`;
  Docker Compose 1.29 follows it too): the service gets what it does not set itself from the base service,
  which may extend another in turn. The keys debugbox reads are each taken whole from the base when the
  service has none (`image`, `build`, `pid`, `network_mode`, `container_name`, `profiles`, and `command`,
  `entrypoint` and `healthcheck` each as a unit: compose overrides those rather than merging them). A base's
  `build:` context stays relative to the base's file (`Build.folder`). What was inherited is located at the
  service's `extends:` value, so a diagnostic about it points there.
- `include: [path, …]` or `- path: …` (compose spec, 14-include.md; Docker Compose 2.20+, not 1.29): each
  file's services are added to the model, its relative paths resolved against its own folder; includes apply
  recursively. Included services (`ComposeFile.included`) are located at their `include:` entry: another
  service may name them (`pid: service:x`, no DBX302), and hovers and lenses show them there.
- An override or variant file (`compose.override.yaml`, `docker-compose.prod.yml`; compose merges it over a
  base file: the override it reads by itself, `-f base -f variant` for the others) is read with its base
  files (`base_files`). When compose merges it (an override; a variant with a service that cannot run alone,
  which cannot be used otherwise): a service of the same name there gives it the keys it does not set
  (compose merges them; debugbox takes each key whole, as for `extends:`), the base's services are known to
  `pid: service:x`, and the base's `name:` is the project's unless the override sets one (its `x-podman:`
  settings too, each unless the override sets it). A variant whose services can all run alone may be used
  alone: it is read alone, and the base's services are named apart (`ComposeFile.base_only`: a reference to
  one is found only with `-f base -f variant`). A base file is read with the override files beside it
  (`Bases.overrides`): the services only they define are named apart (`ComposeFile.override_only`: compose has
  them when it merges the override by itself, not with `-f base` alone).

Bounds, whatever the files say: chains at most `MAX_DEPTH` deep (a cycle ends there), at most `MAX_FILES`
other files per compose file, remote includes (`oci://`, git URLs) not followed. Which files may be read at
all (under the workspace, no links out, size) is the edge's decision; a file it did not read is simply absent
from `texts` and what it would have given is not there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath

from debugbox.core.compose.model import Command, ComposeFile, Located, Service, normal_path, read_compose
from debugbox.core.documents import is_compose_name

MAX_DEPTH = 5
MAX_FILES = 16
#: The files compose reads by itself, in its order; an override or variant file is used with one of them.
BASE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
#: The override files compose merges over a base file by itself (`docker compose` without `-f`).
OVERRIDE_NAMES = (
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
)
_INHERITED = ("image", "build", "pid", "network_mode", "container_name", "profiles")


def _local(written: str) -> bool:
    return bool(written) and "://" not in written and not written.startswith("git@")


def references(compose: ComposeFile, folder: PurePath) -> list[PurePath]:
    """The other files `compose` (in `folder`) names: its includes, then its services' `extends: {file}`,
    as lexically normalised paths, each once, local files only."""
    written = [i.value for i in compose.includes]
    written += [s.extends.file for s in compose.services if s.extends is not None and s.extends.file]
    out: list[PurePath] = []
    for item in written:
        if _local(item):
            path = normal_path(folder / item)
            if path not in out:
                out.append(path)
    return out


class _Files:
    """The texts the caller read, parsed once each."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        self.texts = texts
        self.parsed: dict[str, ComposeFile] = {}

    def get(self, path: PurePath) -> ComposeFile | None:
        key = str(path)
        if key not in self.parsed:
            text = self.texts.get(key)
            if text is None or len(self.parsed) >= MAX_FILES:
                return None
            self.parsed[key] = read_compose(text)
        return self.parsed[key]


def _moved(where: Located, value: Located | None) -> Located | None:
    return None if value is None else Located(value.value, where.start, where.end)


def _relocated(service: Service, where: Located, keys: tuple[str, ...] = ()) -> Service:
    """`service` with the positions of `keys` (all of them when empty) moved to `where` (in this file)."""
    every = not keys
    changes: dict[str, object] = {}
    for key in ("image", "pid", "network_mode", "container_name"):
        if every or key in keys:
            changes[key] = _moved(where, getattr(service, key))
    if service.build is not None and (every or "build" in keys):
        build_where = service.build.where
        changes["build"] = dataclasses.replace(
            service.build, where=Located(build_where.value, where.start, where.end)
        )
    changes["commands"] = tuple(
        dataclasses.replace(c, where=Located(c.where.value, where.start, where.end))
        if every or c.key in keys
        else c
        for c in service.commands
    )
    if every:
        changes.update(key=_moved(where, service.key), start=where.start, end=where.end)
    return dataclasses.replace(service, **changes)  # type: ignore[arg-type]


def _with_folder(service: Service, folder: PurePath) -> Service:
    """A service declared in another file: its build context is relative to that file's folder."""
    if service.build is None or service.build.folder is not None:
        return service
    return dataclasses.replace(service, build=dataclasses.replace(service.build, folder=str(folder)))


def _extended(
    service: Service, compose: ComposeFile, folder: PurePath, files: _Files, depth: int, seen: frozenset[str]
) -> Service:
    """`service` (of `compose`, in `folder`) with what its `extends:` chain gives it."""
    ext = service.extends
    if ext is None or depth >= MAX_DEPTH:
        return service
    base_file, base_folder = compose, folder
    if ext.file:
        if not _local(ext.file):
            return service
        path = normal_path(folder / ext.file)
        found = files.get(path)
        if found is None:
            return service
        base_file, base_folder = found, path.parent
    key = f"{base_folder}/{ext.file or ''}:{ext.service}"
    base = base_file.service(ext.service)
    if base is None or key in seen:
        return service
    base = _extended(base, base_file, base_folder, files, depth + 1, seen | {key})
    if base_file is not compose:
        base = _with_folder(base, base_folder)
    return _inherit(service, base, ext.where, inherited=_origin(ext.service, ext.file))


def _inherit(service: Service, base: Service, where: Located, **label: str) -> Service:
    """`service` with what `base` gives it (the keys it does not set), those located at `where`; `label` says
    where they came from (`inherited=` through `extends:`, `over=` from an override's base file)."""
    # A key the service sets at all is its own, whatever it says (`healthcheck: {disable: true}` turns the
    # base's health check off): only keys it does not set are inherited.
    taken: dict[str, object] = {}
    for name in _INHERITED:
        theirs = getattr(base, name)
        if name not in service.present and theirs not in (None, ()):
            taken[name] = theirs
    inherited_commands: tuple[Command, ...] = tuple(
        c for c in base.commands if c.key.split(".")[0] not in service.present
    )
    present = service.present | base.present
    if not taken and not inherited_commands:
        return dataclasses.replace(service, present=present, **label)  # type: ignore[arg-type]
    merged = dataclasses.replace(
        service,
        commands=service.commands + inherited_commands,
        present=present,
        **taken,  # type: ignore[arg-type]
        **label,  # type: ignore[arg-type]
    )
    moved = (*taken, *(c.key for c in inherited_commands))
    return _relocated(merged, where, moved) if moved else merged


def _origin(service: str, file: str | None) -> str:
    return f"{service} in {file}" if file else service


def _included(
    compose: ComposeFile, folder: PurePath, files: _Files, depth: int, where: Located | None
) -> list[Service]:
    """The services of `compose`'s includes (recursively), located at `where` (else at their own entry)."""
    out: list[Service] = []
    if depth >= MAX_DEPTH:
        return out
    for entry in compose.includes:
        if not _local(entry.value):
            continue
        path = normal_path(folder / entry.value)
        found = files.get(path)
        if found is None:
            continue
        at = where or entry
        for service in found.services:
            service = _with_folder(_extended(service, found, path.parent, files, 0, frozenset()), path.parent)
            out.append(dataclasses.replace(_relocated(service, at), origin=str(path)))
        out += _included(found, path.parent, files, depth + 1, at)
    return out


@dataclass(frozen=True, slots=True)
class Bases:
    """The base files an override or variant compose file is used with."""

    paths: tuple[PurePath, ...] = ()
    merged: bool = False
    """True for `(docker-)compose.override.y(a)ml`, which compose merges over its base by itself. A variant file
    (`compose.prod.yaml`) is merged only when named with its base (`-f compose.yaml -f compose.prod.yaml`), and
    may be used alone, unless one of its services cannot run alone (`can_run_alone`)."""
    overrides: tuple[PurePath, ...] = ()
    """For a base file, the override files compose merges over it by itself (`OVERRIDE_NAMES` beside it)."""


def can_run_alone(compose: ComposeFile) -> bool:
    """Whether compose can use `compose` by itself: each of its services sets `image`, `build` or `extends`
    (compose refuses a service with neither image nor build: "has neither an image nor a build context")."""
    return all({"image", "build", "extends"} & service.present for service in compose.services)


def base_files(path: PurePath) -> Bases:
    """The files an override or variant compose file (`compose.override.yaml`, `docker-compose.prod.yml`) is used
    with: each of `BASE_NAMES` in its folder (`docker compose -f compose.yaml -f compose.prod.yaml`, or the
    override compose reads by itself); none for a base file or another name."""
    name = path.name.lower()
    if name in BASE_NAMES:
        return Bases(overrides=tuple(path.parent / override for override in OVERRIDE_NAMES))
    if not is_compose_name(name):
        return Bases()
    merged = name.rsplit(".", 2)[-2] == "override"
    return Bases(tuple(path.parent / base for base in BASE_NAMES), merged)


def resolve(
    compose: ComposeFile, folder: PurePath, texts: Mapping[str, str], bases: Bases = Bases()
) -> ComposeFile:
    """`compose` (the file in `folder`) with `extends:` followed and the included services added; `texts` holds
    the other files the caller read, by `str()` of their normalised path (`references`). `bases`: for an
    override or variant file, its base files (`base_files`). When compose merges it over them (an override, or
    a variant that cannot run alone: `Bases.merged`, `can_run_alone`), a service of the same name there gives
    what this one does not set, their services are this file's project's (`base_services`), and the project's
    `name:` and `x-podman:` are theirs unless this file sets them. A variant that can be used alone is read
    alone; the base's services are named in `base_only` (it has them only with `-f base -f variant`)."""
    if not compose.includes and not any(s.extends for s in compose.services) and not bases.paths:
        return _with_overrides(compose, texts, bases.overrides) if bases.overrides else compose
    files = _Files(texts)
    services = [_extended(s, compose, folder, files, 0, frozenset()) for s in compose.services]
    merged = bases.merged or not can_run_alone(compose)
    name, known, x_podman = compose.name, dict[str, str](), dict(compose.x_podman)
    for path in bases.paths:
        text = texts.get(str(path))
        if text is None:
            continue
        base = resolve(read_compose(text), path.parent, texts)
        for service in (*base.services, *base.included):
            known.setdefault(service.name, path.name)
        if not merged:
            continue
        name = name or base.name
        x_podman = {**base.x_podman, **x_podman}  # podman-compose merges the files' top-level keys
        for i, service in enumerate(services):
            under = base.service(service.name)
            if under is not None and service.over is None:
                over = f"{service.name} in {path.name}"
                services[i] = _inherit(service, _with_folder(under, path.parent), service.key, over=over)
    if bases.paths:
        compose = dataclasses.replace(
            compose,
            name=name,
            base_services=known if merged else {},
            base_only={} if merged else known,
            x_podman=x_podman,
        )
    included = _included(compose, folder, files, 0, None)
    # A name is defined once: this file's own services win, then the first file that gives it (a file
    # included twice, or including itself, gives its services once).
    seen = {s.name for s in services}
    unique = []
    for service in included:
        if service.name not in seen:
            seen.add(service.name)
            unique.append(service)
    return _with_overrides(
        dataclasses.replace(compose, services=services, included=unique), texts, bases.overrides
    )


def _with_overrides(
    compose: ComposeFile, texts: Mapping[str, str], overrides: tuple[PurePath, ...]
) -> ComposeFile:
    """A base file with the services only the override files beside it define (`override_only`): the project
    has them when compose merges the override by itself, not with `-f` naming the base alone."""
    own = {s.name for s in (*compose.services, *compose.included)}
    found: dict[str, str] = {}
    for path in overrides:
        text = texts.get(str(path))
        if text is not None:
            for service in read_compose(text).services:
                if service.name not in own:
                    found.setdefault(service.name, path.name)
    return dataclasses.replace(compose, override_only=found) if found else compose
