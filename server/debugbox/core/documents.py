"""Which kind of document a URI and its text are: a Dockerfile, a Kubernetes manifest, or something else.

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
    OTHER = "other"


_SNIFF_BYTES = 64 * 1024
_API_VERSION = re.compile(r"""(?m)^\s*["']?apiVersion["']?\s*:|"apiVersion"\s*:""")
_KIND = re.compile(r"""(?m)^\s*["']?kind["']?\s*:|"kind"\s*:""")


def looks_like_manifest(text: str) -> bool:
    """Whether `text` mentions both `apiVersion` and `kind` as keys: a block key (optionally quoted, at any
    indentation, for `List` items) or a JSON member. Cheap, errs on the side of True. The one check, used per
    file here (on the first 64 KiB) and per YAML document by `core/kubernetes/pod_spec.scan_document`."""
    return bool(_API_VERSION.search(text) and _KIND.search(text))


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
