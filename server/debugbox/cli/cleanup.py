"""`debugbox cleanup`: list the pod copies debugbox made (label `debugbox.dev/created-by=debugbox`) and delete
them after a confirmation.

Ephemeral containers cannot be removed (the API only adds them); copies are whole pods that keep running, so
this is how they go away again. Without `--yes` a terminal is asked; with no terminal the copies are listed and
nothing is deleted.

Exit codes: 0 deleted (or none found); 1 not confirmed, or the cluster could not be asked (one line says why).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


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
    from debugbox.core.targets import names
    from debugbox.core.targets.consent import COPY_LABEL
    from debugbox.edge.kube_backend import KubeBackend

    backend = KubeBackend(Settings())
    try:
        context = backend.context(args.context)
        namespace = names.validate_label(args.namespace or backend.namespace_for(context), "namespace")
        client = backend.client(context)
        copies = [
            str((p.get("metadata") or {}).get("name") or "")
            for p in client.list_pods(namespace, label_selector=COPY_LABEL)
        ]
        if not copies:
            print(f"no debug copies in namespace {namespace} (context {context.name})")
            return 0
        print(f"debug copies in namespace {namespace} (context {context.name}): {', '.join(copies)}")
        if not args.yes:
            if not sys.stdin.isatty():
                print("debugbox: nothing deleted; pass --yes to delete them", file=sys.stderr)
                return 1
            if input(f"Delete {len(copies)} pod(s)? [y/N] ").strip().lower() not in ("y", "yes"):
                print("debugbox: nothing deleted", file=sys.stderr)
                return 1
        for name in copies:
            client.delete_pod(namespace, names.validate_pod_name(name))
            print(f"deleted pod {name}")
    except RuntimeProblem as exc:
        print(f"debugbox: {exc}", file=sys.stderr)
        return 1
    return 0
