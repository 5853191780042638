"""Which kind of document a URI and its text are: a Dockerfile, a compose file, a Kubernetes manifest, or
something else. Compose files are known by their name only (`is_compose_name`).

Cheap by design: called on every open and change, it looks at the file name and at most the first
`_SNIFF_BYTES` of text. The decision whether a YAML document is a manifest is refined per document by
`core/kubernetes/`, which stays silent on YAML that is not one.
"""

from __future__ import annotations

import posixpath
import re
from enum import Enum
from urllib.parse import unquote, urlparse


class DocumentKind(Enum):
    DOCKERFILE = "dockerfile"
    MANIFEST = "kubernetes"
    COMPOSE = "compose"
    OTHER = "other"


_SNIFF_BYTES = 64 * 1024
#: The start of a line as YAML reads lines (libyaml also breaks at a bare CR, NEL, U+2028 and U+2029; `re.M`'s
#: `^` knows only `\n`), optionally after the UTF-8 byte order mark kubectl accepts.
LINE_START = r"(?:^|(?<=[\r\n\x85\u2028\u2029]))\ufeff?"
_K8S_HINT = re.compile(rf"""{LINE_START}\s*["']?apiVersion["']?\s*:|"apiVersion"\s*:""")
_KIND_HINT = re.compile(rf"""{LINE_START}\s*["']?kind["']?\s*:|"kind"\s*:""")


def looks_like_manifest(text: str) -> bool:
    """Whether `text` mentions both an `apiVersion` and a `kind` key (block, flow or JSON): the one cheap test
    for "could be a Kubernetes manifest", used per file here and per YAML document by `core/kubernetes/`."""
    return bool(_K8S_HINT.search(text) and _KIND_HINT.search(text))


def file_name(uri: str) -> str:
    """The last path segment of a `file:` URI or a plain path."""
    path = unquote(urlparse(uri).path) if "://" in uri else uri
    return posixpath.basename(path.replace("\\", "/"))


def is_dockerfile_name(name: str) -> bool:
    """`Dockerfile`, `Containerfile`, `*.Dockerfile`, `Dockerfile.*` (generated `Dockerfile.debug` files included)."""
    lower = name.lower()
    if lower in {"dockerfile", "containerfile"}:
        return True
    if lower.endswith((".dockerfile", ".containerfile")):
        return True
    return lower.startswith(("dockerfile.", "containerfile."))


#: `compose.yaml`, `compose.yml`, `docker-compose.yml`/`.yaml`, and their variants and overrides
#: (`compose.override.yaml`, `docker-compose.prod.yml`, `docker-compose.override.yml`).
_COMPOSE_NAME = re.compile(r"(?:docker-)?compose(?:\.[A-Za-z0-9_-][A-Za-z0-9_.-]*)?\.ya?ml", re.IGNORECASE)


def is_compose_name(name: str) -> bool:
    """Whether a file name is one compose looks for (or an override/variant of one)."""
    return bool(_COMPOSE_NAME.fullmatch(name))


def kind_of(uri: str, text: str, language_id: str | None = None) -> DocumentKind:
    """Classify a document; `language_id` is what the editor said, if anything."""
    name = file_name(uri)
    if language_id == "dockerfile" or is_dockerfile_name(name):
        return DocumentKind.DOCKERFILE
    if language_id == "dockercompose" or is_compose_name(name):  # the Docker extension's language id
        return DocumentKind.COMPOSE
    lower = name.lower()
    if language_id in {"yaml", "json", "jsonc"} or lower.endswith((".yaml", ".yml", ".json")):
        if looks_like_manifest(text[:_SNIFF_BYTES]):
            return DocumentKind.MANIFEST
    return DocumentKind.OTHER
