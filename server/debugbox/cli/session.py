"""`debugbox session --watch JSON -- ARGV...`: run a planned debug command and watch its debug container.

What the editors' terminals run for Kubernetes sessions (the language server wraps the plan's argv in it, see
`lsp/session_watch.py`): the command's output goes to the terminal as usual, and when the debug container
cannot start (image pull, runAsNonRoot, runtime error, timeout) kubectl is ended and one line in the terminal
says why and what to do (`edge/kube_watch.py`). `--watch` is a plan's `watch` object (`debugbox.debugCommand`'s
result carries it). `--connect TARGET` (a pod container's `k8s://` ID: a plan's `exec` or `reattach`, which adds
no container) instead watches the API while kubectl connects to that running container, as `debugbox shell`
does: kubectl's dial has no deadline.

`--hold` (the editors' terminals): editors close a terminal as soon as its process ends, which took the
sentence with it; when the debug container did not start (or the API stopped answering) and stdin is a
terminal, the sentence stays until the user presses Enter (the line says so; never a silent wait).

Exit codes: the command's own; 1 the command is not installed; 2 bad usage; 3 when the debug container did not
start, or the API stopped answering while kubectl waited for it, attached or connected; 4 when it started but
could not see the target's processes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from debugbox.cli import UsageError
from debugbox.cli.shell import _CommandAfterDashDash


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "session",
        help="run a planned debug command and watch its debug container (what editor terminals run)",
        usage="debugbox session (--watch JSON | --connect TARGET) [--timeout SECONDS] [--start-timeout SECONDS] "
        "[--hold] -- ARGV ...",
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--watch", metavar="JSON", help="the plan's watch object")
    which.add_argument(
        "--connect", metavar="TARGET", help="the k8s:// ID of the running container the command connects to"
    )
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="per API call (default 10)")
    p.add_argument("--start-timeout", type=float, metavar="SECONDS", help="for the container to run")
    p.add_argument(
        "--hold",
        action="store_true",
        help="when the debug container did not start or the API went silent, wait for Enter before ending "
        "(editor terminals)",
    )
    p.set_defaults(func=run, command=[])
    p.__class__ = _CommandAfterDashDash


def run(args: argparse.Namespace) -> int:
    from debugbox.core.errors import RuntimeProblem
    from debugbox.core.settings import Settings
    from debugbox.core.targets.debug_failures import EXIT_NOT_STARTED
    from debugbox.edge.cli_tools import resolve_program
    from debugbox.edge.kube_watch import run_connected_to, run_watched

    if not args.command:
        raise UsageError("session needs the command to run after --")
    watch = _watch(args.watch) if args.watch is not None else None
    if watch is None:
        _connect(args.connect)
    for value in (args.timeout, args.start_timeout):
        if value is not None and not 0 < value < 86400:
            raise UsageError("timeouts must be positive seconds (under a day)")
    api_timeout = args.timeout or Settings().kubernetes.timeout_seconds
    try:
        # The editor gives the command; what runs is found in PATH's absolute folders, never `./kubectl`.
        command = resolve_program(args.command)
    except RuntimeProblem as exc:
        print(f"debugbox: {exc}", file=sys.stderr)
        return 1
    if watch is not None:
        code = run_watched(command, dict(os.environ), watch, api_timeout, args.start_timeout)
    else:
        code = run_connected_to(args.connect, command, dict(os.environ), api_timeout)
    if code == EXIT_NOT_STARTED and args.hold:
        hold_until_enter(sys.stdin.fileno())
    return code


def _watch(text: str) -> dict[str, Any]:
    try:
        watch = json.loads(text)
        if not isinstance(watch, dict) or not watch.get("pod") or not watch.get("container"):
            raise ValueError
    except ValueError:
        raise UsageError('--watch must be a JSON object with "namespace", "pod" and "container"') from None
    return watch


def _connect(target: str) -> None:
    """`--connect` names one pod container by its ID (what `debugbox targets` lists)."""
    from debugbox.core.errors import InvalidTarget
    from debugbox.edge.kube_backend import ID_PREFIX, parse_ref

    try:
        if not target.startswith(ID_PREFIX) or parse_ref(target.removeprefix(ID_PREFIX))[3] is None:
            raise InvalidTarget("")
    except InvalidTarget:
        raise UsageError(
            f"--connect must be a container's {ID_PREFIX}CONTEXT/NAMESPACE/POD/CONTAINER id, got {target[:80]!r}"
        ) from None


def hold_until_enter(fd: int) -> None:
    """On a terminal, wait for Enter (or Ctrl-C / Ctrl-D) so the sentence above stays readable. Reads bytes, not
    lines: kubectl may have left the terminal in raw mode, where Enter is a lone carriage return."""
    if not os.isatty(fd):
        return
    print("debugbox: press Enter to close this terminal.", file=sys.stderr, flush=True)
    try:
        while True:
            data = os.read(fd, 1024)
            if not data or any(b in data for b in b"\r\n\x03\x04"):
                return
    except (OSError, KeyboardInterrupt):
        return
