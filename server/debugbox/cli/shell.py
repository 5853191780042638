"""`debugbox shell TARGET`: open a debug session into a running container (or pod) in this terminal.

The strategy comes from the same ladder as the editor's (exec → docker debug → sidecar; Kubernetes targets
have their own). The session replaces this process (`exec`), so the terminal talks to docker/kubectl directly.
With `-- CMD ...` the command runs instead of an interactive shell, and a TTY is requested only when stdin is
one, so scripts can use it. `--print` prints the argv as a JSON array instead of running it.

Kubernetes sessions that add a debug container (ephemeral, copy) run kubectl as a child while debugbox watches
that container (`edge/kube_watch.py`): when it cannot start, kubectl is ended and one line says why. `exec` and
`reattach` into a pod run kubectl as a child too, the API watched while it connects (`DebugPlan.connect`,
`run_connected`).

Exit codes: the session's own when it runs; 1 when the target cannot be opened (not found, not running, engine
unreachable, strategy impossible: one line says why); 2 bad usage or an invalid target name; 3 the debug
container did not start (image pull, runAsNonRoot, runtime error, timeout: one line says why and what to do), or
the Kubernetes API stopped answering while kubectl waited for it or connected (`edge/kube_watch.py`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import stat
import sys
from collections.abc import Sequence
from typing import Any

from debugbox.cli import UsageError, engine_timeout
from debugbox.core.settings import Settings


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "shell",
        help="open a debug shell in a running container (or pod), even a distroless one",
        description="TARGET: a container name or ID, optionally prefixed docker://, podman:// or nerdctl://"
        " (or pod/NAME[/CONTAINER] for Kubernetes). After `--`, a command to run instead of a shell.",
        usage="debugbox shell TARGET [options] [-- CMD ...]",
    )
    p.add_argument("target", metavar="TARGET")
    p.add_argument(
        "--strategy",
        "-s",
        metavar="S",
        help="exec, docker-debug, sidecar, snapshot (stopped containers) (default: the ladder)",
    )
    p.add_argument("--image", metavar="TOOLBOX", help="toolbox image for sidecar/ephemeral sessions")
    p.add_argument(
        "--privileged", action="store_true", help="run the sidecar with --privileged (all capabilities)"
    )
    p.add_argument(
        "--raw",
        action="store_true",
        help="the toolbox's plain shell, without the session (target files at /proc/1/root, toolbox env)",
    )
    p.add_argument(
        "--ptrace",
        action="store_true",
        help="sidecar as root with SYS_PTRACE even for a non-root target (to strace it)",
    )
    p.add_argument(
        "--print", dest="print_only", action="store_true", help="print the argv as JSON, run nothing"
    )
    p.add_argument("-n", "--namespace", metavar="NS", help="Kubernetes namespace (pod targets)")
    p.add_argument("--context", metavar="CTX", help="Kubernetes context (pod targets)")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="per engine call (default 5)")
    p.set_defaults(func=run, command=[])
    # argparse cannot take options after TARGET and still hand over `-- CMD ...` verbatim; this parser can.
    p.__class__ = _CommandAfterDashDash


class _CommandAfterDashDash(argparse.ArgumentParser):
    """Everything after the first `--` becomes `command`, untouched; the rest is parsed as usual."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        words = list(sys.argv[1:] if args is None else args)
        command: list[str] = []
        if "--" in words:
            cut = words.index("--")
            words, command = words[:cut], words[cut + 1 :]
        parsed, extras = super().parse_known_args(words, namespace)
        parsed.command = command
        return parsed, extras


def stdin_has_data(fd: int = 0) -> bool:
    """Whether stdin is a pipe or a file (worth forwarding with `-i`); False for a TTY or /dev/null."""
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISREG(mode) or stat.S_ISSOCK(mode)


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings()
    kube = settings.kubernetes
    if args.namespace or args.context:
        kube = dataclasses.replace(
            kube, namespace=args.namespace or kube.namespace, context=args.context or kube.context
        )
    docker = settings.docker
    if engine_timeout(args.timeout) is not None:
        docker = dataclasses.replace(docker, timeout_seconds=args.timeout)
        kube = dataclasses.replace(kube, timeout_seconds=args.timeout)
    return dataclasses.replace(settings, kubernetes=kube, docker=docker)


def run(args: argparse.Namespace) -> int:
    from debugbox.core.errors import InvalidTarget, RuntimeProblem
    from debugbox.edge import service
    from debugbox.edge.cli_tools import resolve_program

    command = list(args.command)
    settings = _settings(args)
    # A printed interactive session is meant to be pasted into a terminal later: give it the terminal flags.
    is_tty = sys.stdin.isatty() or (args.print_only and not command)
    options = service.plan_options(
        settings,
        strategy=args.strategy,
        image=args.image,
        privileged=args.privileged,  # typed by the user here: the explicit choice the setting stands for
        command=command,
        tty=is_tty,
        stdin=is_tty or not command or stdin_has_data(),
        raw=args.raw,
        ptrace=args.ptrace,
    )
    try:
        plan = service.plan(settings, args.target, options)
    except InvalidTarget as exc:
        raise UsageError(str(exc)) from exc
    except RuntimeProblem as exc:
        print(f"debugbox: {exc}", file=sys.stderr)
        return 1
    if plan.warning:  # also with --print: e.g. the way RBAC closed, and the Role to ask for
        print(f"debugbox: {plan.warning}", file=sys.stderr)
    if args.print_only:
        if plan.watch.get("create"):  # a copy debugbox creates itself: the printed attach needs it first
            print(
                f"debugbox: create the copy first: kubectl create -f {plan.watch['create']}", file=sys.stderr
            )
        print(json.dumps(list(plan.argv)))
        return 0
    if plan.strategy == "snapshot":
        # Several engine calls and a cleanup: this process runs them, with the session in between.
        try:
            return service.open_snapshot(settings, args.target, options)
        except RuntimeProblem as exc:
            print(f"debugbox: {exc}", file=sys.stderr)
            return 1
    if sys.stderr.isatty():
        print(f"debugbox: {plan.title}", file=sys.stderr)
        for note in plan.notes:
            print(f"  {note}", file=sys.stderr)
    sys.stdout.flush()
    env = {**os.environ, **plan.env}
    try:
        # An absolute path from PATH's absolute folders: execvp would also try `./docker` (or `./kubectl`) for a
        # `.` in PATH.
        argv = resolve_program(plan.argv, path=env.get("PATH", os.defpath))
    except RuntimeProblem as exc:
        print(f"debugbox: {exc}", file=sys.stderr)
        return 1
    if plan.watch:
        # A Kubernetes debug container: run kubectl as a child and watch the container, so a container that
        # will never start ends the session with one sentence instead of a kubectl waiting forever.
        from debugbox.edge.kube_watch import run_watched

        return run_watched(argv, env, plan.watch, settings.kubernetes.timeout_seconds)
    if plan.connect:
        # kubectl's exec/attach dial has no deadline: a cluster that stops answering right after the checks left
        # the terminal waiting forever (in raw mode, where Ctrl-C is only a byte). Watched while it connects.
        from debugbox.edge.kube_watch import run_connected_to

        return run_connected_to(plan.connect, argv, env, settings.kubernetes.timeout_seconds)
    try:
        os.execve(argv[0], list(argv), env)  # noqa: S606 - an argv, never a shell string
    except OSError as exc:
        print(f"debugbox: cannot run {plan.argv[0]}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0  # not reached: exec replaced this process
