"""`debugbox inspect MANIFEST --json`: what debugbox sees in a manifest stream, as plain JSON-ready data.

Schema (docs/cli.md):

    {"kind": "kubernetes", "documents": N, "errors": [{"line", "message"}],
     "pod_specs": [{"document", "kind", "name", "namespace", "path", "line", "share_process_namespace",
                    "host_pid", "containers": [{"name", "image", "line", "init"}]}]}

`document` is the 0-based index in the stream, `line`s are 1-based, `path` is dotted with `[i]` for list
items. `errors` lists YAML syntax errors of any document (manifest or not; Helm templates included, since they
are not YAML until rendered).
"""

from __future__ import annotations

from typing import Any

from debugbox.core.kubernetes.pod_spec import Positions, public_pod, scan_document
from debugbox.core.kubernetes.yamlstream import check_syntax, split_documents


def inspect_manifest(text: str) -> dict[str, Any]:
    errors: list[dict[str, Any]] = []
    pod_specs: list[dict[str, Any]] = []
    documents = 0
    for chunk in split_documents(text):
        if chunk.index is None:
            continue
        documents += 1
        scan = scan_document(chunk.text)
        error = scan.error if scan.manifest or scan.error else check_syntax(chunk.text)
        pos = Positions(scan, chunk.line, chunk.start)
        if error is not None:
            errors.append({"line": pos.lsp_line(error.line) + 1, "message": error.message})
        for pod in scan.pods:
            spec = public_pod(pod, scan, chunk.index, pos)
            pod_specs.append(
                {
                    "document": spec.document,
                    "kind": spec.kind,
                    "name": spec.name,
                    "namespace": spec.namespace,
                    "path": spec.path,
                    "line": spec.line + 1,
                    "share_process_namespace": spec.share_process_namespace,
                    "host_pid": spec.host_pid,
                    "containers": [
                        {"name": c.name, "image": c.image, "line": c.line + 1, "init": c.init}
                        for c in spec.containers
                    ],
                }
            )
    return {"kind": "kubernetes", "documents": documents, "errors": errors, "pod_specs": pod_specs}
