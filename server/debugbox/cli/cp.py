"""`debugbox cp SRC DEST`: copy a file or folder out of or into a container, with nothing running inside it.

One side is `TARGET:/PATH` (a container name or ID, optionally `docker://` or `podman://`), the other a local
path; as with `docker cp`, a local name holding a colon is written `./name`. The engine's archive API does the
copy, so distroless and stopped containers work. An existing local or target file is replaced only with
`--force`; links are never written through. A pod (`pod/NAME[/CONTAINER]:/PATH`) goes through debugbox's debug
container (`edge/kube_transfer.py`): a file or a folder out or in (a folder only to a path that does not exist
yet in the pod, never merged into or replacing one).

Exit codes: 0 copied; 1 the copy could not be made (one line says why); 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from debugbox.cli import UsageError, engine_timeout, own_stream, stop_on_signals, terminal_consent


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "cp",
        help="copy files out of or into a container (distroless and stopped ones too)",
        description="Copy between a container and the local disk through the engine's archive API: "
        "nothing runs inside the target. One of SRC and DEST is TARGET:/PATH.",
    )
    p.add_argument("src", metavar="SRC")
    p.add_argument("dest", metavar="DEST")
    p.add_argument("--force", action="store_true", help="replace existing files")
    p.add_argument("--image", metavar="TOOLBOX", help="pods: the debug container's toolbox image")
    add_timeout_option(p, "engine idle timeout")
    add_pod_options(p)
    p.set_defaults(func=run)


def add_timeout_option(p: argparse.ArgumentParser, what: str) -> None:
    """`--timeout` of the data commands (`cp`, `capture`, `forward`): one number for either kind of target, as
    the editor passes the setting of the target's kind (`timeout_settings`)."""
    p.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help=f"{what} (default 5); pods: each API call's (default 10; a silent API ends it after two)",
    )


def add_pod_options(p: argparse.ArgumentParser) -> None:
    """`-n`, `--context`, `--yes` of the data commands on pods (`cp`, `capture`)."""
    p.add_argument("-n", "--namespace", metavar="NS", help="Kubernetes namespace (pod targets)")
    p.add_argument("--context", metavar="CTX", help="Kubernetes context (pod targets)")
    p.add_argument(
        "--yes",
        action="store_true",
        help="pods: agree to adding a debug container when none of debugbox's runs (it cannot be removed)",
    )


def pod_settings(settings: Any, args: argparse.Namespace) -> Any:
    """`settings` with `-n`/`--context` applied to the Kubernetes part."""
    import dataclasses

    kube = settings.kubernetes
    if args.namespace or args.context:
        kube = dataclasses.replace(
            kube, namespace=args.namespace or kube.namespace, context=args.context or kube.context
        )
    return dataclasses.replace(settings, kubernetes=kube)


def run(args: argparse.Namespace) -> int:
    from debugbox.core.errors import InvalidTarget, RuntimeProblem
    from debugbox.core.targets.transfer import human_size, split_target_path
    from debugbox.edge import transfer
    from debugbox.edge.service import is_pod_ref

    try:
        src, dest = split_target_path(args.src), split_target_path(args.dest)
    except InvalidTarget as exc:
        raise UsageError(str(exc)) from exc
    if (src is None) == (dest is None):
        raise UsageError("exactly one of SRC and DEST must be TARGET:/PATH (a local name with ':' is ./name)")
    remote = src or dest
    assert remote is not None
    settings = timeout_settings(args.timeout)
    progress = _Progress() if sys.stderr.isatty() else None
    try:
        with stop_on_signals():  # SIGTERM/SIGHUP clean up as Ctrl-C does: no partly written file stays
            if is_pod_ref(remote.target):
                what, summary = _pod_copy(args, settings, src, dest, progress)
            else:
                what, summary = _engine_copy(args, settings, src, dest, progress)
    except KeyboardInterrupt:
        _end(progress)
        print(f"debugbox: interrupted: {_left_behind(remote, src is not None)}", file=sys.stderr)
        raise
    except InvalidTarget as exc:
        raise UsageError(str(exc)) from exc
    except (RuntimeProblem, transfer.TransferRefused) as exc:
        _end(progress)
        print(f"debugbox: {exc!s}", file=sys.stderr)
        return 1
    except TimeoutError:
        _end(progress)
        print(
            "debugbox: the engine stopped sending within the timeout; the copy is incomplete", file=sys.stderr
        )
        return 1
    except OSError as exc:
        _end(progress)
        print(f"debugbox: {exc.filename or ''!s}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    _end(progress)
    counts = f"{summary.files} file(s), {summary.directories} folder(s), {human_size(summary.bytes)}"
    print(f"copied {what}: {counts}", file=sys.stderr)
    for why in summary.skipped or []:
        print(f"  skipped {(why)}", file=sys.stderr)
    return 0


def _left_behind(remote: Any, out: bool) -> str:
    """What an interrupted copy leaves, said truthfully: a local file is written whole or removed (`transfer`'s
    write rule, a pod's upload lands in a temporary folder its script removes), but the engine's archive API
    extracts straight into place and has no call to remove what it wrote."""
    from debugbox.edge.service import is_pod_ref

    if out or is_pod_ref(remote.target):
        return "the copy is incomplete; no partly written file was left"
    return f"what reached {remote.path} in the target may be incomplete; copy it again with --force"


def _engine_copy(
    args: argparse.Namespace, settings: Any, src: Any, dest: Any, progress: Any
) -> tuple[str, Any]:
    """A Docker or Podman container's files through the engine's archive API: (what was copied, summary)."""
    from debugbox.edge import transfer
    from debugbox.edge.service import resolve_engine_container

    backend, target = resolve_engine_container(settings, (src or dest).target, "cp")
    cid = str(target.extra.get("container_id") or target.name)
    if src is not None:
        summary = transfer.copy_out(
            backend.client, cid, src.path, Path(args.dest), force=args.force, progress=progress or _quiet
        )
        return f"{(target.name)}:{(src.path)} → {(args.dest)}", summary
    summary = transfer.copy_in(
        backend.client, cid, Path(args.src), dest.path, force=args.force, progress=progress or _quiet
    )
    return f"{(args.src)} → {(target.name)}:{(dest.path)}", summary


def _pod_copy(args: argparse.Namespace, settings: Any, src: Any, dest: Any, progress: Any) -> tuple[str, Any]:
    """A pod's file or folder through debugbox's debug container (`edge/kube_transfer.py`): (what was copied,
    summary)."""
    from debugbox.edge import kube_data, kube_transfer
    from debugbox.edge.kube_watch import start_deadline

    settings = pod_settings(settings, args)
    idle = start_deadline(settings.kubernetes.timeout_seconds)
    found = kube_data.resolve_pod(settings, (src or dest).target)
    kube_transfer.check_local(Path(args.dest if src is not None else args.src), out=src is not None)
    ref = kube_data.debug_container(
        settings, found, args.image or settings.toolbox_image, terminal_consent(args.yes)
    )
    where = f"pod/{ref.pod}/{ref.target}"
    via = f" (through debug container {ref.container})"
    if src is not None:
        summary = kube_transfer.copy_out(
            ref, src.path, Path(args.dest), idle=idle, force=args.force, progress=progress
        )
        return f"{where}:{src.path} → {args.dest}{via}", summary
    summary, landed = kube_transfer.copy_in(
        ref, Path(args.src), dest.path, idle=idle, force=args.force, progress=progress
    )
    return f"{args.src} → {where}:{landed}{via}", summary


def timeout_settings(timeout: float | None) -> Any:
    """The default settings with a data command's `--timeout` (checked) as the engine's and the cluster's."""
    import dataclasses

    from debugbox.core.settings import Settings

    settings = Settings()
    seconds = engine_timeout(timeout)
    if seconds is not None:
        # Pods: each API call's, as for `debugbox shell` (the idle deadline is six of them, a silent API two).
        settings = dataclasses.replace(
            settings,
            docker=dataclasses.replace(settings.docker, timeout_seconds=seconds),
            kubernetes=dataclasses.replace(settings.kubernetes, timeout_seconds=seconds),
        )
    return settings


def _quiet(_: int) -> None:
    return None


class _Progress:
    """A one-line byte counter on a terminal's stderr, redrawn at most every 8 MiB."""

    def __init__(self) -> None:
        self._shown = -1

    def __call__(self, done: int) -> None:
        step = done >> 23
        if step != self._shown:
            self._shown = step
            print(f"\r{done / 1048576:8.1f} MiB", end="", file=own_stream(sys.stderr), flush=True)

    def end(self) -> None:
        if self._shown >= 0:
            print("\r", end="", file=own_stream(sys.stderr))


def _end(progress: _Progress | None) -> None:
    if progress is not None:
        progress.end()
