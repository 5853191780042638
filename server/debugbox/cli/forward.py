"""`debugbox forward TARGET PORT`: reach a port that listens only inside a container, from this machine.

Works for ports bound to the container's `127.0.0.1` and ports never published, on distroless targets: a
labelled helper from the toolbox image joins the target's network namespace and each connection is piped
through it (`edge/forwarder.py`). Runs until Ctrl-C (or SIGTERM); the helper is removed on the way out.

Exit codes: 0 stopped by the user; 1 the forward could not be set up (one line says why); 2 bad usage.
"""

from __future__ import annotations

import argparse
import errno
import signal
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING, Any

from debugbox.cli import UsageError
from debugbox.cli.cp import add_timeout_option, timeout_settings

if TYPE_CHECKING:
    from debugbox.core.settings import Settings


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "forward",
        help="make a port inside a container reachable here (also one bound to its 127.0.0.1)",
        description="Forward LOCAL (default: PORT) on this machine to PORT in TARGET's network namespace. "
        "Nothing runs inside the target: a helper from the toolbox image shares its network namespace.",
    )
    p.add_argument("target", metavar="TARGET")
    p.add_argument("port", metavar="PORT")
    p.add_argument("--local", metavar="N", help="local port (default: PORT; 0 picks a free one)")
    p.add_argument("--address", default="127.0.0.1", help="local address to listen on (default 127.0.0.1)")
    p.add_argument("--image", metavar="TOOLBOX", help="toolbox image for the helper (needs nc)")
    add_timeout_option(p, "engine timeout")
    p.add_argument("-n", "--namespace", metavar="NS", help="Kubernetes namespace (pod targets)")
    p.add_argument("--context", metavar="CTX", help="Kubernetes context (pod targets)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from debugbox.core.errors import InvalidTarget, RuntimeProblem
    from debugbox.core.targets.port_forward import validate_port
    from debugbox.edge.forwarder import Forward, listen_failure
    from debugbox.edge.service import resolve_engine_container

    try:
        port = validate_port(args.port)
        local = (
            port if args.local is None else (0 if args.local == "0" else validate_port(args.local, "--local"))
        )
    except InvalidTarget as exc:
        raise UsageError(str(exc)) from exc
    settings = timeout_settings(args.timeout)
    from debugbox.edge.service import is_pod_ref

    if is_pod_ref(args.target):
        return _pod_forward(args, settings, port, local)
    try:
        backend, target = resolve_engine_container(settings, args.target, "forward")
        if target.status != "running":
            from debugbox.core.targets.container_strategy import wake_first

            wake = wake_first(" ".join(backend.cli), str(target.name), target.status)
            print(
                f"debugbox: {(target.name)} is {target.status}, not running: nothing listens; {wake}",
                file=sys.stderr,
            )
            return 1
        forward = Forward(
            cli=backend.cli,
            container_id=str(target.extra.get("container_id") or target.name),
            port=port,
            toolbox=args.image or settings.toolbox_image,
            address=args.address,
            local=local,
            engine=backend.client,
            report=_say,
        )
    except InvalidTarget as exc:
        raise UsageError(str(exc)) from exc
    except RuntimeProblem as exc:
        print(f"debugbox: {exc!s}", file=sys.stderr)
        return 1
    # The editor closing the terminal (SIGHUP) may come while the helper starts (a pull makes that long): killed
    # there, debugbox left the helper on the engine. So the handlers are in place first; a hang-up during the
    # start is acted on once it returned (closing in the middle of it would race the helper's creation).
    hung_up = threading.Event()
    serving = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        hung_up.set()
        if serving.is_set():
            threading.Thread(target=forward.close, daemon=True).start()

    for sig in (signal.SIGTERM, signal.SIGHUP):  # SIGHUP: the editor closed the terminal
        signal.signal(sig, stop)
    try:
        host, bound = forward.start()
    except OSError as exc:
        hint = (
            "; pass another --local port (--local 0 picks a free one)"
            if exc.errno == errno.EADDRINUSE
            else ""
        )
        print(f"debugbox: {listen_failure(args.address, local, exc)}{hint}", file=sys.stderr)
        forward.close()
        return 1
    except RuntimeProblem as exc:
        print(f"debugbox: {exc!s}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C while the helper starts: it may exist already
        forward.close()
        print("debugbox: stopped before the forward started; helper removed", file=sys.stderr)
        return 0
    serving.set()
    if hung_up.is_set():
        forward.close()
    print(
        f"debugbox: forwarding {host}:{bound} → {(target.name)}:{port} (helper {forward.helper}); "
        "Ctrl-C stops",
        file=sys.stderr,
        flush=True,
    )
    if forward.nothing_listens:
        _say(f"nothing listens on port {port} in {target.name} yet: connections get no answer until it does")
    try:
        forward.serve()
    except KeyboardInterrupt:
        pass
    finally:
        forward.close()
    why = f"{target.name} stopped, which ended the forward" if forward.target_stopped else "stopped"
    print(f"debugbox: {why}; {forward.connections} connection(s) forwarded, helper removed", file=sys.stderr)
    return 1 if forward.target_stopped else 0


def _say(line: str) -> None:
    print(f"debugbox: {line}", file=sys.stderr, flush=True)


def _pod_forward(args: argparse.Namespace, settings: Settings, port: int, local: int) -> int:
    """`kubectl port-forward` (the kubelet connects inside the pod's network namespace, loopback included)."""
    from debugbox.cli.cp import pod_settings
    from debugbox.core.errors import InvalidTarget, RuntimeProblem
    from debugbox.edge import kube_data

    def started(command: str) -> None:
        print(f"debugbox: forwarding with {command}; Ctrl-C stops", file=sys.stderr, flush=True)

    try:
        found = kube_data.resolve_pod(pod_settings(settings, args), args.target)
        return kube_data.port_forward(found, port, local, args.address, started)
    except InvalidTarget as exc:
        raise UsageError(str(exc)) from exc
    except RuntimeProblem as exc:
        print(f"debugbox: {exc!s}", file=sys.stderr)
        return 1
