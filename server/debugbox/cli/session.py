"""`debugbox session --watch JSON -- ARGV...`: run a planned debug command and watch its debug container.

What the editors' terminals run for Kubernetes sessions that add a debug container (the language server
wraps the plan's argv in it, see `lsp/handlers/target_commands.py`): the command's output goes to the
terminal as usual, and when the debug container cannot start (image pull, runAsNonRoot, runtime error,
timeout) kubectl is ended and one line in the terminal says why and what to do (`edge/kube_watch.py`).
`--watch` is a plan's `watch` object (`debugbox.debugCommand`'s result carries it).

Exit codes: the command's own; 3 when the debug container did not start; 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from debugbox.cli import UsageError
from debugbox.cli.shell import _CommandAfterDashDash


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "session",
        help="run a planned debug command and watch its debug container (what editor terminals run)",
        usage="debugbox session --watch JSON [--timeout SECONDS] -- ARGV ...",
    )
    p.add_argument("--watch", required=True, metavar="JSON", help="the plan's watch object")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="per API call (default 10)")
    p.add_argument("--start-timeout", type=float, metavar="SECONDS", help="for the container to run")
    p.set_defaults(func=run, command=[])
    p.__class__ = _CommandAfterDashDash


def run(args: argparse.Namespace) -> int:
    from debugbox.core.settings import Settings
    from debugbox.edge.kube_watch import run_watched

    if not args.command:
        raise UsageError("session needs the command to run after --")
    try:
        watch = json.loads(args.watch)
        if not isinstance(watch, dict) or not watch.get("pod") or not watch.get("container"):
            raise ValueError
    except ValueError:
        raise UsageError('--watch must be a JSON object with "namespace", "pod" and "container"') from None
    for value in (args.timeout, args.start_timeout):
        if value is not None and not 0 < value < 86400:
            raise UsageError("timeouts must be positive seconds (under a day)")
    api_timeout = args.timeout or Settings().kubernetes.timeout_seconds
    return run_watched(args.command, dict(os.environ), watch, api_timeout, args.start_timeout)
