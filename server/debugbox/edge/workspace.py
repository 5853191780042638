"""Facts about the files around a Dockerfile (edge module: reads the disk, never writes).

`find_app_image`: the image name users build from a Dockerfile, so that Dockerfile.debug can default
`ARG APP_IMAGE` to it: the `debugbox.debugImage.appImage` setting, else the `image:` of the compose
service whose `build` points at this Dockerfile (compose files in its folder and up to 3 parents).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml

from debugbox.core import safe_yaml
from debugbox.core.images import is_valid_reference
from debugbox.core.settings import Settings
from debugbox.edge import files

log = logging.getLogger(__name__)

#: Compose files looked for in a Dockerfile's folder and up to `PARENT_LEVELS` parents (also `edge/compose.py`).
COMPOSE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
PARENT_LEVELS = 3
#: A compose file larger than this is not read (compose files are small; this bounds a stray huge file).
MAX_COMPOSE_BYTES = 1024 * 1024


def load_compose(path: Path) -> Any:
    """The data of the compose file `path`, or None when it is missing, odd or not valid YAML (logged)."""
    try:
        if not path.is_file():
            return None
        return safe_yaml.load(files.read_text(path, MAX_COMPOSE_BYTES, errors="replace"))
    except (files.FileRefused, yaml.YAMLError) as exc:
        log.info("ignoring compose file %s: %s", path, exc)
        return None


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def compose_build_dockerfile(compose_dir: Path, build: Any) -> Path | None:
    """The Dockerfile a compose service `build:` entry uses (string context or mapping), not resolved; None for
    a git or URL context or an odd entry. `compose_dir` is the compose file's folder."""
    if isinstance(build, str):
        return compose_dir / build / "Dockerfile"
    if isinstance(build, dict):
        context = build.get("context", ".")
        dockerfile = build.get("dockerfile", "Dockerfile")
        if not isinstance(context, str) or not isinstance(dockerfile, str):
            return None
        if "://" in context:  # a git or URL context is not this file
            return None
        return compose_dir / context / dockerfile
    return None


def image_from_compose(compose: Path, dockerfile: Path) -> str | None:
    data = load_compose(compose)
    services = data.get("services") if isinstance(data, dict) else None
    if not isinstance(services, dict):
        return None
    for service in services.values():
        if not isinstance(service, dict):
            continue
        image = service.get("image")
        target = compose_build_dockerfile(compose.parent, service.get("build"))
        if isinstance(image, str) and image.strip() and target is not None and _same(target, dockerfile):
            if is_valid_reference(image.strip()):
                return image.strip()
            # e.g. `${REGISTRY}/app:${TAG}`: compose interpolates it, a Dockerfile ARG default would not.
            log.info("compose image %r of %s is not a plain image reference; not using it", image, compose)
    return None


def find_app_image(dockerfile_path: Path, settings: Settings) -> str | None:
    """The application image for `dockerfile_path`, or None when neither a setting nor compose says."""
    if settings.debug_image.app_image and is_valid_reference(settings.debug_image.app_image):
        return settings.debug_image.app_image
    folder = dockerfile_path.parent
    for _ in range(PARENT_LEVELS + 1):
        for name in COMPOSE_NAMES:
            image = image_from_compose(folder / name, dockerfile_path)
            if image is not None:
                return image
        if folder.parent == folder:
            break
        folder = folder.parent
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
