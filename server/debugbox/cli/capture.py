"""`debugbox capture TARGET`: a packet capture of a container's traffic, written as a pcap Wireshark opens.

tcpdump runs in a labelled helper from the toolbox image that shares the target's network namespace (nothing
runs inside the target), with no TTY, so the file is byte-exact. Stops after `--duration` seconds, `--count`
packets, or on Ctrl-C; then prints a summary and, when Wireshark or termshark is installed and stdout is a
terminal, says the command that opens it.

Exit codes: 0 captured; 1 the capture could not be made (one line says why); 2 bad usage.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from debugbox.cli import UsageError, terminal_consent
from debugbox.cli.cp import add_pod_options, add_timeout_option, pod_settings, timeout_settings
from debugbox.edge.cli_tools import find_program


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "capture",
        help="capture a container's network traffic to a pcap file (distroless targets too)",
        description="Run tcpdump in the target's network namespace (a helper from the toolbox image) and "
        "write its pcap to OUTPUT.",
    )
    p.add_argument("target", metavar="TARGET")
    p.add_argument("--filter", default="", metavar="EXPR", help="a tcpdump filter, e.g. 'tcp port 8080'")
    p.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this many seconds")
    p.add_argument("--count", type=int, metavar="N", help="stop after N packets")
    p.add_argument("-o", "--output", metavar="FILE", help="pcap file (default: debugbox-NAME-TIME.pcap here)")
    p.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")
    p.add_argument("--image", metavar="TOOLBOX", help="toolbox image for the helper (needs tcpdump)")
    add_timeout_option(p, "engine timeout")
    add_pod_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from debugbox.core.errors import InvalidTarget, RuntimeProblem
    from debugbox.core.targets.transfer import human_size
    from debugbox.edge.capture import PcapRun
    from debugbox.edge.service import is_pod_ref

    if args.duration is not None and not 0 < args.duration <= 86400:
        raise UsageError("--duration must be more than 0 and at most 86400 seconds")
    settings = timeout_settings(args.timeout)
    capture: PcapRun
    try:
        if is_pod_ref(args.target):
            name, capture = _pod_capture(args, pod_settings(settings, args))
        else:
            name, capture = _engine_capture(args, settings)
        output = capture.output
        capture.start()
    except InvalidTarget as exc:
        raise UsageError(str(exc)) from exc
    except RuntimeProblem as exc:
        print(f"debugbox: {exc!s}", file=sys.stderr)
        return 1

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=capture.stop, daemon=True).start()

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)
    until = f" for {args.duration:g} s" if args.duration else ""
    print(
        f"debugbox: capturing {name}'s traffic{until} → {output!s}; Ctrl-C stops",
        file=sys.stderr,
        flush=True,
    )
    try:
        result = capture.wait(args.duration)  # Ctrl-C while waiting stops the capture and keeps the file
    except RuntimeProblem as exc:
        print(f"debugbox: {exc!s}", file=sys.stderr)
        return 1
    if capture.target_stopped:
        print(f"debugbox: {name} stopped, which ended the capture", file=sys.stderr)
    if result.summary is not None:
        s = result.summary
        cut = " (the last record is incomplete)" if s.truncated else ""
        print(
            f"debugbox: {s.packets} packet(s), {human_size(s.captured_bytes)} in {output!s}{cut}",
            file=sys.stderr,
        )
    elif result.tcpdump_said:
        print(f"debugbox: {(result.tcpdump_said)} ({output!s})", file=sys.stderr)
    viewer = find_program("wireshark") or find_program("termshark")
    if viewer:
        print(f"debugbox: open it with: {Path(viewer).name} -r {output!s}", file=sys.stderr)
    else:
        print(
            "debugbox: open it in Wireshark, or `tcpdump -r FILE` (termshark in a terminal)", file=sys.stderr
        )
    return 0


def _output(args: argparse.Namespace, name: str) -> Path:
    """The pcap's path, refused (RuntimeUnavailable) before anything is started or added when it cannot be
    written."""
    from debugbox.core.errors import RuntimeUnavailable
    from debugbox.edge.capture import output_refusal

    stamp = time.strftime("%Y%m%d-%H%M%S")
    output = Path(args.output or f"debugbox-{name.replace('/', '-')}-{stamp}.pcap")
    refusal = output_refusal(output, force=args.force)
    if refusal:
        raise RuntimeUnavailable(refusal)
    return output


def _engine_capture(args: argparse.Namespace, settings: Any) -> tuple[str, Any]:
    """tcpdump in a helper container sharing a Docker or Podman container's network namespace."""
    from debugbox.core.errors import TargetNotRunning
    from debugbox.core.targets.container_strategy import wake_first
    from debugbox.edge.capture import Capture
    from debugbox.edge.service import resolve_engine_container

    backend, target = resolve_engine_container(settings, args.target, "capture")
    if target.status != "running":
        wake = wake_first(" ".join(backend.cli), str(target.name), target.status)
        raise TargetNotRunning(f"{(target.name)} is {target.status}, not running: {wake}")
    output = _output(args, target.name)
    capture = Capture(
        backend.cli,
        str(target.extra.get("container_id") or target.name),
        args.image or settings.toolbox_image,
        output,
        expr=args.filter,
        count=args.count,
        force=args.force,
        engine=backend.client,
    )
    return str(target.name), capture


def _pod_capture(args: argparse.Namespace, settings: Any) -> tuple[str, Any]:
    """tcpdump in debugbox's debug container of the pod (it shares the pod's network namespace)."""
    from debugbox.core.targets.pod_data import capture_argv
    from debugbox.edge import kube_data
    from debugbox.edge.capture import KubeCapture

    found = kube_data.resolve_pod(settings, args.target)
    output = _output(args, found.pod)  # refused before a debug container is added: it cannot be removed
    ref = kube_data.debug_container(
        settings, found, args.image or settings.toolbox_image, terminal_consent(args.yes), capture=True
    )
    name = f"pod/{ref.pod}"
    argv = capture_argv(ref, args.filter, args.count)
    return name, KubeCapture(argv, output, force=args.force, ref=ref)
