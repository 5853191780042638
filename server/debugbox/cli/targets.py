"""`debugbox targets`: the running containers (and pods) debugbox can open a debug session into.

Exit codes: 0 listed (possibly none); 1 when an engine that is present could not be asked (the message says
which; targets from the other engines are still printed); 2 bad usage or a `--for` file it cannot use.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from debugbox.cli import UsageError, json_text
from debugbox.core.settings import Settings


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "targets", help="list running containers (and pods) and the way debugbox would get into each"
    )
    p.add_argument("--json", action="store_true", help="print {targets, errors} as JSON")
    p.add_argument(
        "--for",
        dest="document",
        metavar="DOCKERFILE",
        help="mark (and list first) the containers built from this Dockerfile, saying why",
    )
    p.add_argument(
        "--no-probe", action="store_true", help="skip the shell checks (faster; no strategy column)"
    )
    p.set_defaults(func=run)


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def _document(name: str) -> Path:
    """The `--for` file, read as every command reads its input (a missing file, a folder, non-UTF-8... is bad
    input, exit 2) and refused when it is none of the three kinds it can relate targets to: it used to be
    ignored silently, listing everything as unrelated."""
    from debugbox.cli.inspect import read_input
    from debugbox.core.documents import DocumentKind, kind_of

    path, text = read_input(name)
    if kind_of(str(path), text) is DocumentKind.OTHER:
        raise UsageError(
            f"{path}: not a Dockerfile, compose file or Kubernetes manifest by its name and content "
            "(Dockerfile, *.Dockerfile, compose.yaml, a .yaml/.json manifest)"
        )
    return path


def run(args: argparse.Namespace) -> int:
    from debugbox.core.targets.preflight import describe
    from debugbox.edge import service

    document = _document(args.document) if args.document else None
    listing = service.list_targets(Settings(), document=document, probe=not args.no_probe)
    if args.json:
        print(json_text(listing.to_json()))
    else:
        rows = [["RUNTIME", "NAME", "IMAGE", "STATUS", "WAY IN", "ID"]]
        for t in listing.targets:
            rows.append([t.runtime, t.name, t.image, t.status, t.recommended or "-", t.id])
        if len(rows) > 1:
            print(_table(rows))
            for t in listing.targets:
                if t.related:
                    print(f"{t.name}: related: {t.related_reason}")
            for t in listing.targets:
                ways = t.extra.get("ways")
                if ways:  # pods: the preflight's answer, which ways in are open and why the others are not
                    print(f"{t.name}: {describe(ways)}")
        else:
            print("no running targets")
    for error in listing.errors:
        print(f"debugbox: {error}", file=sys.stderr)
    return 1 if listing.errors else 0
