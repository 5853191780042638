"""Helpers for the manifest tests: reading parsed documents back with PyYAML (the independent judge of what a
manifest means), walking dotted paths, and diffing texts line by line."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

import yaml
from debugbox.core.kubernetes.edits import Edit, apply_edits
from debugbox.core.kubernetes.pod_spec import DocumentScan, PodScan, scan_document
from debugbox.core.kubernetes.yamlstream import Chunk, split_documents

_PART = re.compile(r"[^.\[\]]+|\[\d+\]")


def manifest_files(corpus: Path) -> list[Path]:
    return sorted(p for p in (corpus / "k8s").iterdir() if p.suffix in {".yaml", ".yml", ".json"})


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def at_path(doc: Any, path: str) -> Any:
    for part in _PART.findall(path):
        doc = doc[int(part[1:-1])] if part.startswith("[") else doc[part]
    return doc


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_all(text: str) -> list[Any]:
    return list(yaml.load_all(text, Loader=_LOADER))


def pods_of(text: str) -> list[tuple[Chunk, DocumentScan, PodScan]]:
    out = []
    for chunk in split_documents(text):
        if chunk.index is None:
            continue
        scan = scan_document(chunk.text)
        out.extend((chunk, scan, pod) for pod in scan.pods)
    return out


def apply_in(text: str, chunk: Chunk, edits: list[Edit]) -> str:
    """Apply document-relative `edits` of `chunk` to the whole `text`."""
    return apply_edits(text, [e.shifted(chunk.start) for e in edits])


def changed_lines(old: str, new: str) -> tuple[list[str], list[str]]:
    """(removed lines, added lines), each with its line break."""
    removed, added = [], []
    for line in difflib.ndiff(old.splitlines(keepends=True), new.splitlines(keepends=True)):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added
