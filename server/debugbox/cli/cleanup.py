"""`debugbox cleanup`: list the pod copies debugbox made (label `debugbox.dev/created-by=debugbox`) and delete
them after a confirmation (the listing and deleting are `edge/kube_cleanup.py`, shared with the editors'
`debugbox.cleanupCopies`).

Without `--yes` a terminal is asked; with no terminal the copies are listed and nothing is deleted.

Exit codes: 0 deleted (or none found); 1 not confirmed, or the cluster could not be asked (one line says why).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from debugbox.cli import terminal_consent


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "cleanup", help="delete the pod copies debugbox created (kubectl debug --copy-to), after confirming"
    )
    p.add_argument("-n", "--namespace", metavar="NS", help="namespace (default: the context's)")
    p.add_argument("--context", metavar="CTX", help="Kubernetes context")
    p.add_argument("--yes", "-y", action="store_true", help="delete without asking")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from debugbox.core.errors import RuntimeProblem
    from debugbox.core.settings import Settings
    from debugbox.edge.kube_cleanup import delete_copies, find_copies

    try:
        copies = find_copies(Settings(), args.context, args.namespace)
        if not copies.pods:
            print(f"no debug copies in {copies.where}")
            return 0
        print(f"debug copies in {copies.where}: {', '.join(copies.pods)}")
        if not terminal_consent(args.yes)(copies.question()):
            print("debugbox: nothing deleted; pass --yes to delete them", file=sys.stderr)
            return 1
        delete_copies(copies, lambda name: print(f"deleted pod {name}"))
    except RuntimeProblem as exc:
        print(f"debugbox: {exc}", file=sys.stderr)
        return 1
    return 0
