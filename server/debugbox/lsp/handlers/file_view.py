"""`debugbox.statTargetPath`, `debugbox.readTargetDirectory`, `debugbox.readTargetFile`: the read-only file view
of a container (the editor's `debugbox-target:` file system), over LSP.

Arguments: one object `{"target", "path"}` each (see docs/commands.md); answers:
- statTargetPath → `{"name", "type", "size", "mtime", "linkTarget"?, "resolvedType"?}` (`type`: file, directory,
  symlink, other; `mtime` in seconds);
- readTargetDirectory → `{"entries": [{"name", "type", "size", "mtime", "linkTarget"?}], "truncated"}`;
- readTargetFile → `{"data": base64, "size"}`, refused above the view's size cap (download it instead).

A missing path is a `RequestFailed` whose message says "does not exist in the target" (the editor maps it to
FileNotFound). The engine's archive API does the reading (`edge/file_view.py`): nothing runs in the target. On a
pod (`pod/NAME[/CONTAINER]`, `k8s://…`) debugbox's debug container reads `/proc/<pid>/root` instead
(`edge/kube_file_view.py`); adding one is asked first, as for copies (`data_commands.pod_debug_container`), and a
Cancel fails the request marked `data_commands.CANCELLED`. The
work runs in a worker thread; each engine read is bounded by the engine timeout.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from debugbox.core.wire import Command
from debugbox.lsp.handlers.arguments import CommandFailed, invalid, object_argument, required_str
from debugbox.lsp.server import DebugboxLanguageServer

STAT = Command.STAT_TARGET_PATH.value
READ_DIRECTORY = Command.READ_TARGET_DIRECTORY.value
READ_FILE = Command.READ_TARGET_FILE.value

T = TypeVar("T")
log = logging.getLogger(__name__)


async def _on_target(
    ls: DebugboxLanguageServer,
    command: str,
    args: tuple[Any, ...],
    work: Callable[[Any, str, str], T],
    pod_work: Callable[[Any, str, float], T],
) -> T:
    """Validate `{"target", "path"}`, then `work(client, container_id, path)` on an engine container, or
    `pod_work(debug_container, path, idle)` on a pod (through debugbox's debug container, `edge/kube_file_view`)."""
    from debugbox.core.errors import InvalidTarget, RuntimeProblem
    from debugbox.core.targets.file_view import target_path
    from debugbox.edge.file_view import TooLarge
    from debugbox.edge.kube_data import ConsentRefused
    from debugbox.edge.service import is_pod_ref, resolve_engine_container
    from debugbox.lsp.handlers.data_commands import CANCELLED, pod_debug_container

    obj = object_argument(command, args, '{"target": "docker://web", "path": "/etc"}')
    target = required_str(command, obj, "target")
    try:
        path = target_path(required_str(command, obj, "path"), listed=True)
    except InvalidTarget as exc:
        raise invalid(command, str(exc)) from exc
    settings = ls.settings
    loop = asyncio.get_running_loop()

    def run() -> T:
        if is_pod_ref(target):
            ref, idle = pod_debug_container(ls, loop, target)
            return pod_work(ref, path, idle)
        backend, found = resolve_engine_container(settings, target, "the file view")
        return work(backend.client, str(found.extra.get("container_id") or found.name), path)

    try:
        return await asyncio.to_thread(run)
    except ConsentRefused as exc:
        raise CommandFailed(f"{command}: {exc}", data=CANCELLED) from exc
    except (RuntimeProblem, TooLarge, OSError) as exc:
        text = str(exc) if not isinstance(exc, OSError) or exc.strerror is None else exc.strerror
        log.info("%s: %s", command, text)  # the view asks often; a missing path is no error to show
        raise CommandFailed(f"{command}: {text}") from exc


async def stat_path(ls: DebugboxLanguageServer, args: tuple[Any, ...]) -> dict[str, Any]:
    from debugbox.edge import file_view, kube_file_view

    def work(client: Any, cid: str, path: str) -> dict[str, Any]:
        entry, resolved = file_view.stat(client, cid, path)
        out = entry.wire()
        if resolved is not None:
            out["resolvedType"] = resolved.kind
            out["size"] = resolved.size
        return out

    def pod_work(ref: Any, path: str, idle: float) -> dict[str, Any]:
        return kube_file_view.stat(ref, path, idle).wire()

    return await _on_target(ls, STAT, args, work, pod_work)


async def read_directory(ls: DebugboxLanguageServer, args: tuple[Any, ...]) -> dict[str, Any]:
    from debugbox.edge import file_view, kube_file_view

    def work(client: Any, cid: str, path: str) -> dict[str, Any]:
        listing = file_view.read_directory(client, cid, path)
        return {"entries": [e.wire() for e in listing.entries], "truncated": listing.truncated}

    def pod_work(ref: Any, path: str, idle: float) -> dict[str, Any]:
        listing = kube_file_view.read_directory(ref, path, idle)
        return {"entries": [e.wire() for e in listing.entries], "truncated": listing.truncated}

    return await _on_target(ls, READ_DIRECTORY, args, work, pod_work)


async def read_file(ls: DebugboxLanguageServer, args: tuple[Any, ...]) -> dict[str, Any]:
    from debugbox.edge import file_view, kube_file_view

    def work(client: Any, cid: str, path: str) -> dict[str, Any]:
        data = file_view.read_file(client, cid, path)
        return {"data": base64.b64encode(data).decode("ascii"), "size": len(data)}

    def pod_work(ref: Any, path: str, idle: float) -> dict[str, Any]:
        data = kube_file_view.read_file(ref, path, idle)
        return {"data": base64.b64encode(data).decode("ascii"), "size": len(data)}

    return await _on_target(ls, READ_FILE, args, work, pod_work)


def register(server: DebugboxLanguageServer) -> None:
    @server.command(STAT)
    async def _stat(ls: DebugboxLanguageServer, *args: Any) -> dict[str, Any]:
        return await stat_path(ls, args)

    @server.command(READ_DIRECTORY)
    async def _read_directory(ls: DebugboxLanguageServer, *args: Any) -> dict[str, Any]:
        return await read_directory(ls, args)

    @server.command(READ_FILE)
    async def _read_file(ls: DebugboxLanguageServer, *args: Any) -> dict[str, Any]:
        return await read_file(ls, args)
