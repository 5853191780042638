"""`debugbox check FILE... [--json]`: debugbox's diagnostics as lint output, for CI and terminals.

One line per finding, `path:line:col: severity CODE message` (1-based), or a JSON array with `--json`.
Exit codes: 0 no errors (warnings and information may be printed), 1 at least one error, 2 bad input.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from debugbox.cli import UsageError, json_text
from debugbox.cli.inspect import document_kind, load_dockerfile, read_input
from debugbox.core.documents import DocumentKind
from debugbox.core.settings import Settings

if TYPE_CHECKING:
    from lsprotocol import types as lsp

#: LSP DiagnosticSeverity values (lsprotocol is imported only when a check runs: it costs ~0.4 s to import).
SEVERITY_NAMES = {1: "error", 2: "warning", 3: "information", 4: "hint"}


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "check",
        help="print debugbox's diagnostics for Dockerfiles, compose files and manifests; exit 1 on errors",
    )
    p.add_argument(
        "files", metavar="FILE", nargs="+", help="Dockerfiles, compose files or Kubernetes manifests"
    )
    p.add_argument("--json", action="store_true", help="print a JSON array of findings")
    p.set_defaults(func=run)


def diagnostics_for(path: Path, text: str) -> Sequence[lsp.Diagnostic]:
    from debugbox.core.dockerfile.rules import check as check_dockerfile
    from debugbox.core.dockerfile.stages import analyze_text

    kind = document_kind(path, text)
    if kind is DocumentKind.DOCKERFILE:
        model = analyze_text(text)
        if model.stages or model.parsed.errors:
            # A file BuildKit rejects ("file with no instructions", …) is an error finding (exit 1).
            return [f.diagnostic for f in check_dockerfile(model)]
        load_dockerfile(path, text)  # no FROM and nothing BuildKit rejects: its usage error (exit 2)
    if kind is DocumentKind.COMPOSE:
        from debugbox.cli.compose_file import compose_analysis

        return compose_analysis(path, text, Settings())[0].diagnostics()
    if kind is DocumentKind.MANIFEST:
        from debugbox.core.kubernetes.analysis import analyze  # only when a manifest is checked

        diagnostics: Sequence[lsp.Diagnostic] = analyze(
            path.resolve().as_uri(), text, Settings()
        ).diagnostics()
        return diagnostics
    raise UsageError(f"{path}: no FROM instruction, not a compose file and not a Kubernetes manifest")


def run(args: argparse.Namespace) -> int:
    # Read and analyse everything first, so that bad input stops the run before any output.
    results = []
    for name in args.files:
        path, text = read_input(name)
        results.append((name, diagnostics_for(path, text)))
    findings: list[dict[str, Any]] = []
    for name, diagnostics in results:
        for d in sorted(diagnostics, key=lambda d: (d.range.start.line, d.range.start.character)):
            findings.append(
                {
                    "path": name,
                    "line": d.range.start.line + 1,
                    "column": d.range.start.character + 1,
                    "end_line": d.range.end.line + 1,
                    "end_column": d.range.end.character + 1,
                    "severity": SEVERITY_NAMES.get(int(d.severity or 1), "error"),
                    "code": d.code,
                    "message": d.message,
                }
            )
    if args.json:
        print(json_text(findings))
    else:
        for f in findings:
            print(f"{f['path']}:{f['line']}:{f['column']}: {f['severity']} {f['code']} {f['message']}")
    return 1 if any(f["severity"] == "error" for f in findings) else 0
