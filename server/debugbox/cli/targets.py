"""`debugbox targets`: the running containers (and pods) debugbox can open a debug session into.

Exit codes: 0 listed (possibly none); 1 when an engine that is present could not be asked (the message says
which; targets from the other engines are still printed); 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from debugbox.cli import json_text
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


def run(args: argparse.Namespace) -> int:
    from debugbox.core.targets.preflight import describe
    from debugbox.edge import service

    document = Path(args.document) if args.document else None
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
