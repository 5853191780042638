"""Whether a text may be a Kubernetes manifest: the one cheap check, before anything is parsed.

Used per file by `core/documents.kind_of` (on the first 64 KiB, to pick the analyser) and per YAML document by
`pod_spec.scan_document` (documents without both keys are never parsed or reported). Both keys must be
mentioned somewhere: as a block key (optionally quoted, at any indentation, for `List` items) or as a JSON
member.
"""

from __future__ import annotations

import re

_API_VERSION = re.compile(r"""(?m)^\s*["']?apiVersion["']?\s*:|"apiVersion"\s*:""")
_KIND = re.compile(r"""(?m)^\s*["']?kind["']?\s*:|"kind"\s*:""")


def looks_like_manifest(text: str) -> bool:
    """True when `text` mentions both `apiVersion` and `kind` as keys (cheap; errs on the side of True)."""
    return bool(_API_VERSION.search(text) and _KIND.search(text))
