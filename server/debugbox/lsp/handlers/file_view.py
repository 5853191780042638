"""`debugbox.statTargetPath`, `debugbox.readTargetDirectory`, `debugbox.readTargetFile`: the read-only file view
of a container (the editor's `debugbox-target:` file system), over LSP.

Arguments: one object `{"target", "path"}` each (see docs/commands.md); answers:
- statTargetPath → `{"name", "type", "size", "mtime", "linkTarget"?, "resolvedType"?}` (`type`: file, directory,
  symlink, other; `mtime` in seconds);
- readTargetDirectory → `{"entries": [{"name", "type", "size", "mtime", "linkTarget"?}], "truncated"}`;
- readTargetFile → `{"data": base64, "size"}`, refused above the view's size cap (download it instead).

A missing path is a `RequestFailed` whose message says "does not exist in the target" (the editor maps it to
FileNotFound). The engine's archive API does the reading (`edge/file_view.py`): nothing runs in the target. The
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
) -> T:
    """Validate `{"target", "path"}`, resolve the container and run `work(client, container_id, path)`."""
    from debugbox.core.errors import InvalidTarget, RuntimeProblem
    from debugbox.core.targets.file_view import target_path
    from debugbox.edge.file_view import TooLarge
    from debugbox.edge.service import resolve_engine_container

    obj = object_argument(command, args, '{"target": "docker://web", "path": "/etc"}')
    target = required_str(command, obj, "target")
    try:
        path = target_path(required_str(command, obj, "path"))
    except InvalidTarget as exc:
        raise invalid(command, str(exc)) from exc
    settings = ls.settings

    def run() -> T:
        backend, found = resolve_engine_container(settings, target, "the file view")
        return work(backend.client, str(found.extra.get("container_id") or found.name), path)

    try:
        return await asyncio.to_thread(run)
    except (RuntimeProblem, TooLarge, OSError) as exc:
        text = str(exc) if not isinstance(exc, OSError) or exc.strerror is None else exc.strerror
        log.info("%s: %s", command, text)  # the view asks often; a missing path is no error to show
        raise CommandFailed(f"{command}: {text}") from exc


async def stat_path(ls: DebugboxLanguageServer, args: tuple[Any, ...]) -> dict[str, Any]:
    from debugbox.edge import file_view

    def work(client: Any, cid: str, path: str) -> dict[str, Any]:
        entry, resolved = file_view.stat(client, cid, path)
        out = entry.wire()
        if resolved is not None:
            out["resolvedType"] = resolved.kind
            out["size"] = resolved.size
        return out

    return await _on_target(ls, STAT, args, work)


async def read_directory(ls: DebugboxLanguageServer, args: tuple[Any, ...]) -> dict[str, Any]:
    from debugbox.edge import file_view

    def work(client: Any, cid: str, path: str) -> dict[str, Any]:
        listing = file_view.read_directory(client, cid, path)
        return {"entries": [e.wire() for e in listing.entries], "truncated": listing.truncated}

    return await _on_target(ls, READ_DIRECTORY, args, work)


async def read_file(ls: DebugboxLanguageServer, args: tuple[Any, ...]) -> dict[str, Any]:
    from debugbox.edge import file_view

    def work(client: Any, cid: str, path: str) -> dict[str, Any]:
        data = file_view.read_file(client, cid, path)
        return {"data": base64.b64encode(data).decode("ascii"), "size": len(data)}

    return await _on_target(ls, READ_FILE, args, work)


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
