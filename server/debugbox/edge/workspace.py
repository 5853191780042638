"""Facts about the files around a Dockerfile (edge module: reads the disk, never writes).

`find_app_image`: the image name users build from a Dockerfile, so that Dockerfile.debug can default
`ARG APP_IMAGE` to it: the `debugbox.debugImage.appImage` setting, else the `image:` of the compose
service whose `build` points at this Dockerfile (compose files in its folder and up to 3 parents, never above or
outside the workspace folder when one is given).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from debugbox.core.compose.includes import BASE_NAMES
from debugbox.core.compose.model import Build, ComposeFile, build_dockerfile, read_compose
from debugbox.core.images import is_valid_reference
from debugbox.core.settings import Settings
from debugbox.edge import files

log = logging.getLogger(__name__)

#: Compose files looked for in a Dockerfile's folder and up to `PARENT_LEVELS` parents (also `edge/compose.py`).
COMPOSE_NAMES = BASE_NAMES
PARENT_LEVELS = 3
#: A compose file larger than this is not read (compose files are small; this bounds a stray huge file).
MAX_COMPOSE_BYTES = 1024 * 1024
#: At most this many `build:` Dockerfiles, each at most this large, are read for one compose file (the editor
#: reads them on every analysis of the compose file: bounded, whatever a workspace holds).
MAX_BUILD_READS = 32
MAX_BUILD_DOCKERFILE_BYTES = 1024 * 1024


def load_compose(path: Path) -> ComposeFile | None:
    """The compose file `path` as the core reader reads it (`core/compose/model.py`), or None when it is
    missing, unreadable or not valid YAML (logged)."""
    try:
        if not path.is_file():
            return None
        compose = read_compose(files.read_text(path, MAX_COMPOSE_BYTES, errors="replace"))
    except (OSError, files.FileRefused) as exc:
        log.info("ignoring compose file %s: %s", path, exc)
        return None
    if compose.error is not None:
        log.info("ignoring compose file %s: %s", path, compose.error.message)
        return None
    return compose


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def compose_build_dockerfile(compose_dir: Path, build: Build | None) -> Path | None:
    """The Dockerfile a compose service's `build:` uses (`core.compose.model.build_dockerfile`), not
    resolved; None for a git or URL context, an inline Dockerfile or no build."""
    if build is None:
        return None
    found = build_dockerfile(compose_dir, build)
    return None if found is None else Path(found.dockerfile)


def image_from_compose(compose: Path, dockerfile: Path) -> str | None:
    data = load_compose(compose)
    if data is None:
        return None
    for service in data.services:
        image = service.image.value.strip() if service.image else ""
        target = compose_build_dockerfile(compose.parent, service.build)
        if image and target is not None and _same(target, dockerfile):
            if is_valid_reference(image):
                return image
            # e.g. `${REGISTRY}/app:${TAG}`: compose interpolates it, a Dockerfile ARG default would not.
            log.info("compose image %r of %s is not a plain image reference; not using it", image, compose)
    return None


@dataclass
class ComposeInputs:
    """What the compose analysis needs from disk, read under the workspace folder's rules."""

    related: dict[str, str] = field(default_factory=dict)
    """The files `include:` and `extends: {file}` name (recursively): text by normalised path."""
    dockerfiles: dict[str, tuple[str, str]] = field(default_factory=dict)
    """The `build:` Dockerfiles, by service: (path, text)."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Why a Dockerfile (by service) or a related file (by path) was not read."""
    folder_name: str | None = None
    """The name of the compose file's folder after following links: podman-compose's default project name
    (it takes `os.path.realpath` of the folder; a folder reached through a link has another name)."""


def compose_inputs(text: str, compose_path: Path, root: Path | None) -> ComposeInputs:
    """Read what the compose file `compose_path` (text `text`) refers to: the files it includes or extends,
    then the Dockerfiles of its services, own, inherited and included (`build_dockerfiles`)."""
    from debugbox.core.compose.includes import base_files, resolve

    compose = read_compose(text)
    related, skipped = compose_related(compose, compose_path, root)
    path = PurePath(os.path.abspath(compose_path))
    followed = resolve(compose, path.parent, related, base_files(path))
    dockerfiles, not_read = build_dockerfiles(followed, compose_path, root)
    real_folder = Path(os.path.realpath(path.parent)).name
    return ComposeInputs(related, dockerfiles, {**skipped, **not_read}, real_folder)


def load_compose_followed(path: Path, root: Path | None = None) -> ComposeFile | None:
    """`load_compose`, with its `extends:` followed and its included services added (`compose_related`)."""
    from debugbox.core.compose.includes import base_files, resolve

    compose = load_compose(path)
    if compose is None:
        return None
    related, _ = compose_related(compose, path, root)
    absolute = PurePath(os.path.abspath(path))
    return resolve(compose, absolute.parent, related, base_files(absolute))


def _inside(path: Path, lexical_root: Path, real_root: Path) -> bool:
    """`path` lies under the root both as written and after following links."""
    try:
        return path.is_relative_to(lexical_root) and path.resolve().is_relative_to(real_root)
    except (OSError, RuntimeError, ValueError):  # ValueError: a NUL in a name a workspace file wrote
        return False


def compose_related(
    compose: ComposeFile, compose_path: Path, root: Path | None
) -> tuple[dict[str, str], dict[str, str]]:
    """The texts of the files `compose` includes or extends, recursively, and of the base files it overrides
    that exist (`core/compose/includes.py` bounds: `MAX_DEPTH` levels, `MAX_FILES` files), by normalised path,
    and `{path: why not}` for those not read.
    Only regular files under `root` (the workspace folder; the compose file's folder when None), as written
    and after following links, at most `MAX_COMPOSE_BYTES` each."""
    from debugbox.core.compose.includes import MAX_DEPTH, MAX_FILES, base_files, references

    base = root or compose_path.parent
    lexical_root, real_root = Path(os.path.abspath(base)), base.resolve()
    start = PurePath(os.path.abspath(compose_path))
    texts: dict[str, str] = {}
    skipped: dict[str, str] = {}
    seen = {str(start)}
    beside = base_files(start)
    bases = [path for path in (*beside.paths, *beside.overrides) if os.path.lexists(path)]
    queue = [(path, 1) for path in (*references(compose, start.parent), *bases)]
    while queue and len(texts) < MAX_FILES:
        path, depth = queue.pop(0)
        if str(path) in seen:
            continue
        seen.add(str(path))
        if not _inside(Path(path), lexical_root, real_root):
            skipped[str(path)] = f"{path} is outside the workspace folder {real_root}; not read"
            continue
        try:
            text = files.read_text(Path(path), MAX_COMPOSE_BYTES, errors="replace")
        except files.FileRefused as exc:
            skipped[str(path)] = str(exc)
            continue
        texts[str(path)] = text
        if depth < MAX_DEPTH:
            queue += [(p, depth + 1) for p in references(read_compose(text), path.parent)]
    return texts, skipped


def build_dockerfiles(
    compose: ComposeFile, compose_path: Path, root: Path | None
) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """The Dockerfiles of the `build:` services of `compose` (read from disk): `{service: (path, text)}`, and
    `{service: why not}` for those not read. `root` (the workspace folder; the compose file's folder when
    None) bounds what is read: a Dockerfile outside it (after following symlinks) is named, not read."""
    boundary = (root or compose_path.parent).resolve()
    found: dict[str, tuple[str, str]] = {}
    skipped: dict[str, str] = {}
    for service in [*compose.services, *compose.included][:MAX_BUILD_READS]:
        if service.build is None:
            continue
        where = build_dockerfile(compose_path.parent, service.build, boundary)
        if where is None:
            skipped[service.name] = "its build context is a git repository or URL, or an inline Dockerfile"
            continue
        path = Path(where.dockerfile)
        try:
            real = path.resolve()
            outside = where.outside or not real.is_relative_to(boundary)
        except (OSError, RuntimeError, ValueError):  # ValueError: a NUL in the context the file wrote
            outside = True
        if outside:
            skipped[service.name] = f"{path} is outside the workspace folder {boundary}; not read"
            continue
        try:
            found[service.name] = (
                str(path),
                files.read_text(path, MAX_BUILD_DOCKERFILE_BYTES, errors="replace"),
            )
        except files.FileRefused as exc:
            skipped[service.name] = str(exc)
    return found, skipped


def compose_files_near(folder: Path, root: Path | None) -> Iterator[Path]:
    """The compose files to look at for a Dockerfile in `folder`: each of `COMPOSE_NAMES` that exists in it and
    up to `PARENT_LEVELS` parents. With `root` (the workspace folder) the walk stops at `root`, and a file that leaves
    it through a link is not offered (logged): what is read about a workspace comes from the workspace, as for
    the compose analysis' `include:`/`extends:` files (`compose_related`)."""
    real_root = root.resolve() if root is not None else None
    lexical_root = Path(os.path.abspath(root)) if root is not None else None
    for _ in range(PARENT_LEVELS + 1):
        for name in COMPOSE_NAMES:
            path = folder / name
            if not os.path.lexists(path):
                continue  # most of the 16 candidates: one lstat, not a resolve of every component
            try:
                leaves = real_root is not None and not path.resolve().is_relative_to(real_root)
            except (OSError, RuntimeError, ValueError):
                leaves = True
            if leaves:
                if path.is_symlink():
                    log.info("not reading %s: it leaves the workspace folder %s", path, real_root)
                continue
            yield path
        if (
            folder.parent == folder
            or Path(os.path.abspath(folder)) == lexical_root
            or folder.resolve() == real_root
        ):
            return
        folder = folder.parent


def find_app_image(dockerfile_path: Path, settings: Settings, root: Path | None = None) -> str | None:
    """The application image for `dockerfile_path`, or None when neither a setting nor compose says. `root`:
    the workspace folder (the server passes it; `compose_files_near`): the image lands in Dockerfile.debug, a
    file in the workspace."""
    if settings.debug_image.app_image and is_valid_reference(settings.debug_image.app_image):
        return settings.debug_image.app_image
    for compose in compose_files_near(dockerfile_path.parent, root):
        image = image_from_compose(compose, dockerfile_path)
        if image is not None:
            return image
    return None


class InputError(ValueError):
    """A file given on the command line cannot be analysed; the message is one line for the user."""


def read_text_file(path: Path) -> str:
    """The text of a Dockerfile or manifest given by the user, or InputError saying why not."""
    try:
        data = files.read_bytes(path, files.MAX_INPUT_BYTES)
    except files.FileRefused as exc:
        raise InputError(str(exc)) from None
    if b"\0" in data[:8192]:
        raise InputError(f"{path}: looks like a binary file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    if not text.strip():
        raise InputError(f"{path}: the file is empty")
    return text
