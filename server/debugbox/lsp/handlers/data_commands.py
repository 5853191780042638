"""`debugbox.copyFromTarget`, `debugbox.copyToTarget`, `debugbox.forwardPort`, `debugbox.captureTraffic`: data
in and out of a live container, over LSP.

Arguments (one object each, see docs/commands.md):
- copyFromTarget `{"target", "path", "dest", "force"?}` → copies `path` in the target to the local file URI
  `dest` (which the user chose, e.g. in a save dialog) → `{"files", "directories", "bytes", "skipped"}`.
- copyToTarget `{"target", "src", "path", "force"?}` → the local file URI `src` to `path` in the target.
- forwardPort `{"target", "port", "local"?}` → opens a terminal running `debugbox forward` (closing it stops
  the forward and removes the helper) → `{"argv", "opened", "local", "url"}`.
- captureTraffic `{"target", "output", "filter"?, "duration"?}` → opens a terminal running `debugbox capture -o
  output` → `{"argv", "opened", "output"}`.

`target` may be a pod (`pod/NAME[/CONTAINER]` or a listing's `k8s://` ID): copies then go through debugbox's debug
container of the pod (`edge/kube_transfer.py`); when none runs, the editor is asked first (`ADD_DEBUG_CONTAINER`,
the same confirmation helper as the other offers), because an ephemeral container cannot be removed again.
A failed copy is shown once by the server (`shown_failure`), except two the editor handles itself: the user's
Cancel (`CANCELLED`) and a path that exists in the target (`EXISTS`, answered with a "Replace?" question).
Forward and capture on a pod run the same CLI in the terminal (`kubectl port-forward`; the capture's own y/N
question on the terminal).

Copies run in a worker thread (the archive is streamed; a 100 MB file takes seconds, so the deadline is the
engine timeout per read, not per copy). A copy out stops when the editor cancels its request (`$/cancelRequest`,
`lsp/cancellation.py`): the partial file is removed, a pod's kubectl ended, and the answer is a failure marked
`CANCELLED` once that is done. Long-running work (forward, capture) runs in the editor's terminal as the
same CLI a user would type, so it is visible, stoppable and identical to the documented command.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from debugbox.core.wire import Command
from debugbox.lsp.handlers.arguments import (
    CommandFailed,
    invalid,
    object_argument,
    optional_bool,
    optional_str,
    required_str,
    shown_failure,
)
from debugbox.lsp.handlers.target_commands import open_terminal
from debugbox.lsp.server import DebugboxLanguageServer

if TYPE_CHECKING:
    from debugbox.core.targets.pod_data import DebugContainerRef
    from debugbox.edge.transfer import Summary

#: `ResponseError.data` of a copy refused because the path exists and `force` was not given.
EXISTS = {"exists": True}
#: `ResponseError.data` of a pod's data command the user cancelled (the question to add a debug container):
#: nothing to show, the user knows.
CANCELLED = {"cancelled": True}

COPY_FROM = Command.COPY_FROM_TARGET.value
COPY_TO = Command.COPY_TO_TARGET.value
FORWARD = Command.FORWARD_PORT.value
CAPTURE = Command.CAPTURE_TRAFFIC.value


def _local_path(
    ls: DebugboxLanguageServer, command: str, obj: Mapping[str, Any], key: str, *, written: bool = False
) -> Path:
    """The local file `obj[key]` names. A place debugbox writes to (`written`) follows the workspace's one link
    rule (`edge/writes.link_refusal` through `edit_refusal`): a folder on the way, or the file itself, that is a
    link leaving its workspace folder is refused, naming the link — the copy's and the capture's own checks
    look at the last name only, so `ws/captures -> ~/.config/autostart` would land the file there."""
    from debugbox.lsp.handlers.workspace_edits import edit_refusal

    uri = required_str(command, obj, key)
    path = ls.path_of(uri)
    if path is None:
        raise invalid(command, f'"{key}" must be a file:// URI, got {uri[:80]!r}')
    refusal = edit_refusal(ls, uri) if written else None
    if refusal is not None:
        raise shown_failure(ls, command, refusal)
    return path


def _port(command: str, obj: Mapping[str, Any], key: str, required: bool = True) -> int | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise invalid(command, f'"{key}" must be a port number 1-65535, got {value!r}')
    return value


async def _copy(ls: DebugboxLanguageServer, command: str, args: tuple[Any, ...], out: bool) -> dict[str, Any]:
    from debugbox.core.errors import InvalidTarget, RuntimeProblem
    from debugbox.core.targets.transfer import split_target_path
    from debugbox.edge import transfer
    from debugbox.edge.kube_data import ConsentRefused
    from debugbox.edge.service import is_pod_ref, resolve_engine_container

    example = '{"target": "docker://web", "path": "/var/log/app.log", "dest": "file:///…"}'
    obj = object_argument(command, args, example)
    target = required_str(command, obj, "target")
    try:
        where = split_target_path(f"{target}:{required_str(command, obj, 'path')}", listed=True)
    except InvalidTarget as exc:
        raise invalid(command, str(exc)) from exc
    assert where is not None
    local = _local_path(ls, command, obj, "dest" if out else "src", written=out)
    force = optional_bool(command, obj, "force")
    settings = ls.settings
    loop = asyncio.get_running_loop()

    def work(stop: threading.Event) -> transfer.Summary:
        # A copy out stops between two chunks when the editor cancels it, removing what it wrote; a copy in is
        # not stopped halfway (the engine keeps what reached the target: the copy would be incomplete there).
        if is_pod_ref(target):
            return _pod_copy(ls, loop, target, where.path, local, out=out, force=force, stop=stop)
        backend, found = resolve_engine_container(settings, target, "copying files")
        cid = str(found.extra.get("container_id") or found.name)
        if out:
            progress = transfer.stopping_when(stop)
            return transfer.copy_out(backend.client, cid, where.path, local, force=force, progress=progress)
        return transfer.copy_in(backend.client, cid, local, where.path, force=force)

    try:
        with ls.cancellable() as stop:
            summary = await asyncio.to_thread(work, stop)
    except transfer.Cancelled as exc:
        raise CommandFailed(f"{command}: {exc}; nothing was written", data=CANCELLED) from exc
    except ConsentRefused as exc:
        raise CommandFailed(f"{command}: {exc}", data=CANCELLED) from exc
    except transfer.ExistsInTarget as exc:
        # Not shown: the editor asks "Replace?" and copies again with `force` (a script reads the message).
        raise CommandFailed(f"{command}: {exc}", data=EXISTS) from exc
    except (RuntimeProblem, transfer.TransferRefused, OSError) as exc:
        why = (exc.strerror or str(exc)) if isinstance(exc, OSError) else str(exc)
        raise shown_failure(ls, command, why) from exc
    return {
        "files": summary.files,
        "directories": summary.directories,
        "bytes": summary.bytes,
        "skipped": list(summary.skipped or []),
    }


#: The button that agrees to adding a debug container to a pod for a data command.
ADD_DEBUG_CONTAINER = "Add the debug container"


def pod_debug_container(
    ls: DebugboxLanguageServer,
    loop: asyncio.AbstractEventLoop,
    target: str,
    stop: threading.Event | None = None,
) -> tuple[DebugContainerRef, float]:
    """debugbox's debug container of the pod `target` and the idle deadline for kubectl (in a worker thread):
    a running one, or one added after the editor's confirmation (the helper every offer uses). A request
    cancelled (`stop`) while the question was open adds nothing, whatever the answer."""
    from debugbox.edge import kube_data
    from debugbox.edge.kube_watch import start_deadline
    from debugbox.lsp.handlers.target_commands import _confirmed
    from debugbox.lsp.handlers.workspace_edits import CLIENT_TIMEOUT_SECONDS

    def consent(question: str) -> bool:
        asked = asyncio.run_coroutine_threadsafe(
            _confirmed(ls, f"debugbox: {question}", ADD_DEBUG_CONTAINER), loop
        )
        agreed = bool(asked.result(timeout=CLIENT_TIMEOUT_SECONDS + 5))
        return agreed and not (stop is not None and stop.is_set())

    settings = ls.settings
    found = kube_data.resolve_pod(settings, target)
    ref = kube_data.debug_container(settings, found, settings.toolbox_image, consent)
    return ref, start_deadline(settings.kubernetes.timeout_seconds)


def _pod_copy(
    ls: DebugboxLanguageServer,
    loop: asyncio.AbstractEventLoop,
    target: str,
    path: str,
    local: Path,
    *,
    out: bool,
    force: bool,
    stop: threading.Event | None = None,
) -> Summary:
    """A pod's file or folder through debugbox's debug container (runs in the worker thread; the consent
    question goes to the editor through the event loop, with the same confirmation helper as the other offers).
    The local side is checked first: a refusal there never adds a debug container; nor does a copy cancelled
    (`stop`) while the question was open, and a copy out stops when `stop` is set."""
    from debugbox.edge import kube_transfer
    from debugbox.edge.transfer import stopping_when

    kube_transfer.check_local(local, out=out)
    ref, idle = pod_debug_container(ls, loop, target, stop)
    if out:
        progress = stopping_when(stop) if stop is not None else None
        return kube_transfer.copy_out(ref, path, local, idle=idle, force=force, progress=progress)
    return kube_transfer.copy_in(ref, local, path, idle=idle, force=force)[0]


def _timeout(ls: DebugboxLanguageServer, target: str) -> list[str]:
    """The editor's timeout for the target's kind, for the CLI its terminal runs: the CLI reads no settings, and
    on its default a pod whose cluster the user gave 30 s was cut after two silent 10 s calls."""
    from debugbox.edge.service import is_pod_ref

    kind = ls.settings.kubernetes if is_pod_ref(target) else ls.settings.docker
    return ["--timeout", f"{kind.timeout_seconds:g}"]


async def forward_port(ls: DebugboxLanguageServer, args: tuple[Any, ...]) -> dict[str, Any]:
    from debugbox.edge.forwarder import local_port_refusal
    from debugbox.edge.service import self_command

    obj = object_argument(FORWARD, args, '{"target": "docker://web", "port": 8080}')
    target = required_str(FORWARD, obj, "target")
    port = _port(FORWARD, obj, "port")
    local = _port(FORWARD, obj, "local", required=False) or port
    assert local is not None  # `port` is required
    refusal = local_port_refusal("127.0.0.1", local)
    if refusal is not None:
        # Refused here, before a terminal opens: the editor then offers no "Open in Browser" of another program.
        raise shown_failure(ls, FORWARD, f"{refusal}: choose another local port")
    prefix, env = self_command()
    argv = [
        *prefix,
        "forward",
        target,
        str(port),
        "--local",
        str(local),
        "--image",
        ls.settings.toolbox_image,
        *_timeout(ls, target),
    ]
    result = await open_terminal(ls, f"debugbox: forward {local} → {target}:{port}", argv, env)
    return {**result, "local": local, "url": f"http://localhost:{local}"}


async def capture_traffic(ls: DebugboxLanguageServer, args: tuple[Any, ...]) -> dict[str, Any]:
    from debugbox.core.errors import InvalidTarget
    from debugbox.core.targets.capture import validate_filter
    from debugbox.edge.service import self_command

    obj = object_argument(CAPTURE, args, '{"target": "docker://web", "output": "file:///…/web.pcap"}')
    target = required_str(CAPTURE, obj, "target")
    output = _local_path(ls, CAPTURE, obj, "output", written=True)
    expr = optional_str(CAPTURE, obj, "filter") or ""
    try:
        validate_filter(expr)
    except InvalidTarget as exc:
        raise invalid(CAPTURE, str(exc)) from exc
    duration = obj.get("duration")
    if duration is not None and (isinstance(duration, bool) or not isinstance(duration, int | float)):
        raise invalid(CAPTURE, f'"duration" must be a number of seconds, got {duration!r}')
    prefix, env = self_command()
    argv = [*prefix, "capture", target, "-o", str(output), "--image", ls.settings.toolbox_image]
    argv += _timeout(ls, target)
    if expr:
        argv += ["--filter", expr]
    if duration is not None:
        argv += ["--duration", f"{float(duration):g}"]
    result = await open_terminal(ls, f"debugbox: capture {target}", argv, env)
    return {**result, "output": output.as_uri()}


def register(server: DebugboxLanguageServer) -> None:
    @server.command(COPY_FROM)
    async def _copy_from(ls: DebugboxLanguageServer, *args: Any) -> dict[str, Any]:
        return await _copy(ls, COPY_FROM, args, out=True)

    @server.command(COPY_TO)
    async def _copy_to(ls: DebugboxLanguageServer, *args: Any) -> dict[str, Any]:
        return await _copy(ls, COPY_TO, args, out=False)

    @server.command(FORWARD)
    async def _forward(ls: DebugboxLanguageServer, *args: Any) -> dict[str, Any]:
        return await forward_port(ls, args)

    @server.command(CAPTURE)
    async def _capture(ls: DebugboxLanguageServer, *args: Any) -> dict[str, Any]:
        return await capture_traffic(ls, args)
