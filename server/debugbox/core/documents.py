"""Which kind of document a URI and its text are: a Dockerfile, a Kubernetes manifest, or something else.

Cheap by design: called on every open and change, it looks at the file name and at most the first
`_SNIFF_BYTES` of text. The decision whether a YAML document is a manifest is refined per document by
`core/kubernetes/`, which stays silent on YAML that is not one.
"""

from __future__ import annotations

import posixpath
from enum import Enum
from urllib.parse import unquote, urlparse

from debugbox.core.kubernetes.sniff import looks_like_manifest


class DocumentKind(Enum):
    DOCKERFILE = "dockerfile"
    MANIFEST = "kubernetes"
    OTHER = "other"


_SNIFF_BYTES = 64 * 1024


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


def kind_of(uri: str, text: str, language_id: str | None = None) -> DocumentKind:
    """Classify a document; `language_id` is what the editor said, if anything."""
    name = file_name(uri)
    if language_id == "dockerfile" or is_dockerfile_name(name):
        return DocumentKind.DOCKERFILE
    lower = name.lower()
    if language_id in {"yaml", "json", "jsonc"} or lower.endswith((".yaml", ".yml", ".json")):
        if looks_like_manifest(text[:_SNIFF_BYTES]):
            return DocumentKind.MANIFEST
    return DocumentKind.OTHER
