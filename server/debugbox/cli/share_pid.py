"""`debugbox share-pid MANIFEST [--document N] [--write]`: set `shareProcessNamespace: true` in pod specs.

The same minimal edit as the editor's code action (docs/kubernetes-manifests.md): every pod spec of the
stream, or only those of document N (0-based, as `debugbox inspect` counts). The edited text goes to stdout,
byte for byte (line endings kept), or with `--write` back into the file (atomically, its mode kept; a symbolic
link stays a link when its target is in the manifest's folder, and is refused otherwise: `edge/writes.py`).
Exit codes: 0 changed (pod specs refused alongside are reported on stderr), 1 nothing changed (all already
true, none there, or refused, e.g. `hostPID: true`; each reason on stderr), 2 bad input.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from debugbox.cli import UsageError
from debugbox.core.documents import DocumentKind, kind_of
from debugbox.core.kubernetes.edits import apply_edits, plan_share_pid
from debugbox.core.kubernetes.pod_spec import PodScan, Positions, scan_document
from debugbox.core.kubernetes.yamlstream import split_documents
from debugbox.edge.workspace import InputError, read_text_file
from debugbox.edge.writes import WriteRefused, write_file


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "share-pid",
        help="add shareProcessNamespace: true to the pod specs of a Kubernetes manifest (minimal edit)",
    )
    p.add_argument(
        "manifest", metavar="MANIFEST", help="a Kubernetes manifest (YAML or JSON, multi-document)"
    )
    p.add_argument("--document", type=int, metavar="N", help="only document N of the stream (0-based)")
    p.add_argument("--write", action="store_true", help="edit the file in place instead of printing it")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path = Path(args.manifest)
    try:
        text = read_text_file(path)
    except InputError as exc:
        raise UsageError(str(exc)) from exc
    if kind_of(str(path), text) is not DocumentKind.MANIFEST:
        raise UsageError(f"{path}: not a Kubernetes manifest (no apiVersion and kind)")
    chunks = [c for c in split_documents(text) if c.index is not None]
    if args.document is not None and not 0 <= args.document < len(chunks):
        raise UsageError(f"{path}: --document {args.document} is out of range (the stream has {len(chunks)})")
    docs = []
    pods: list[tuple[int, PodScan]] = []
    for chunk in chunks:
        if args.document is not None and chunk.index != args.document:
            continue
        scan = scan_document(chunk.text)
        if scan.error is not None and args.document is not None:
            line = Positions(scan, chunk.line, chunk.start).lsp_line(scan.error.line) + 1
            raise UsageError(f"{path}:{line}: document {chunk.index} is not valid YAML: {scan.error.message}")
        docs.append((chunk.start, chunk.index, scan))
        pods.extend((len(docs) - 1, pod) for pod in scan.pods)
    where = f" in document {args.document}" if args.document is not None else ""
    if not pods:
        print(f"debugbox: {path}: no pod spec{where}; nothing to change", file=sys.stderr)
        return 1
    plan = plan_share_pid(docs, pods)
    for note in plan.refused:
        print(f"debugbox: refused: {note}", file=sys.stderr)
    for note in plan.unchanged:
        print(f"debugbox: unchanged: {note}", file=sys.stderr)
    if not plan.edits:
        print(f"debugbox: {path}: nothing changed{where}", file=sys.stderr)
        return 1
    new_text = apply_edits(text, plan.absolute())
    if args.write:
        try:
            # In place, keeping the file's identity: a link stays a link (if it stays in the manifest's folder),
            # the mode is kept; anything else is refused.
            write_file(path, new_text.encode("utf-8"), Path(os.path.abspath(path)).parent, replace=True)
        except WriteRefused as exc:
            print(f"debugbox: {exc}", file=sys.stderr)
            return 1
        except OSError as exc:
            raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from exc
        for note in plan.changed:
            print(f"debugbox: shareProcessNamespace: true in {note}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(new_text.encode("utf-8"))
        sys.stdout.flush()
    return 0
