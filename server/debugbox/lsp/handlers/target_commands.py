"""`debugbox.listTargets`, `debugbox.debugCommand`, `debugbox.openDebugTerminal`: live targets over LSP.

Arguments (one object each, see docs/commands.md):
- listTargets `{"uri"?}` → `{"targets": [...], "errors": [...]}`; with a Dockerfile `uri`, the containers
  built from it come first, `related` with a `related_reason`.
- debugCommand `{"target"?, "uri"?, "strategy"?, "image"?, "privileged"?}` → `{"argv", "strategy", "notes",
  "title", "target"}`. Without `target`, the first container related to the `uri` is used.
- openDebugTerminal (same arguments): sends `debugbox/openTerminal` `{"title", "argv", "cwd"?, "env"?}` to
  clients that declared `experimental.debugbox.openTerminal`; any other client gets `window/showMessage` with
  the command line. The result is the plan plus `"opened": true|false`.

Engine calls block, so they run in a worker thread under a deadline: a daemon that is down or hung becomes a
`RequestFailed` error with a clear message (openDebugTerminal also shows it), and the event loop keeps
serving.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lsprotocol import types as lsp

from debugbox.core.wire import OPEN_TERMINAL_METHOD, Command
from debugbox.lsp.handlers.arguments import (
    CommandFailed,
    document_uri,
    invalid,
    object_argument,
    optional_bool,
    optional_str,
)
from debugbox.lsp.server import DebugboxLanguageServer

if TYPE_CHECKING:
    from debugbox.core.targets.model import DebugPlan

log = logging.getLogger(__name__)

LIST = Command.LIST_TARGETS.value
DEBUG = Command.DEBUG_COMMAND.value
OPEN = Command.OPEN_DEBUG_TERMINAL.value
TARGET_EXAMPLE = '{"target": "docker://3f2a9c1b7e4d", "strategy": "auto"}'
#: Waiting for the editor to open the terminal; one that never answers must not hold the command forever.
CLIENT_TIMEOUT_SECONDS = 30.0

T = TypeVar("T")


async def off_loop(ls: DebugboxLanguageServer, command: str, work: Callable[[], T]) -> T:
    """Blocking engine work in a thread, under the engine deadline; expected failures → RequestFailed."""
    from debugbox.core.errors import RuntimeProblem
    from debugbox.edge.service import deadline

    limit = deadline(ls.settings)
    try:
        return await asyncio.wait_for(asyncio.to_thread(work), limit)
    except TimeoutError as exc:
        raise CommandFailed(f"{command}: the container engine did not answer within {limit:g} s") from exc
    except RuntimeProblem as exc:
        raise CommandFailed(f"{command}: {exc}") from exc


def _document(ls: DebugboxLanguageServer, uri: str | None) -> tuple[Path | None, Path | None]:
    """The local path of `uri` and the workspace folder holding it (where the compose search stops)."""
    path = ls.path_of(uri) if uri else None
    if path is None:
        return None, None
    root = next((r for r in ls.workspace_roots() if path.is_relative_to(r)), None)
    return path, root


async def list_targets(ls: DebugboxLanguageServer, args: tuple[Any, ...]) -> dict[str, Any]:
    from debugbox.edge import service

    obj: Mapping[str, Any] = (
        {} if not args or args[0] is None else object_argument(LIST, args, '{"uri": "…"}')
    )
    uri = document_uri(LIST, obj) if obj.get("uri") is not None else None
    path, root = _document(ls, uri)
    settings = ls.settings
    listing = await off_loop(ls, LIST, lambda: service.list_targets(settings, document=path, workspace=root))
    return listing.to_json()


def _plan_request(ls: DebugboxLanguageServer, command: str, args: tuple[Any, ...]) -> Callable[[], DebugPlan]:
    """Check the arguments on the loop; return the blocking work that resolves the target and plans."""
    from debugbox.core.errors import TargetNotFound
    from debugbox.edge import service

    obj = object_argument(command, args, TARGET_EXAMPLE)
    target = optional_str(command, obj, "target")
    uri = document_uri(command, obj) if obj.get("uri") is not None else None
    if not target and not uri:
        raise invalid(command, f'"target" is required (or a Dockerfile "uri"), e.g. {TARGET_EXAMPLE}')
    strategy = optional_str(command, obj, "strategy")
    image = optional_str(command, obj, "image")
    privileged = optional_bool(command, obj, "privileged")
    workload = optional_str(command, obj, "workload")  # manifests: `Kind/name`, to pick that workload's pods
    settings = ls.settings
    if privileged and not settings.allow_privileged:
        raise invalid(command, '"privileged" needs the setting debugbox.allowPrivileged to be true')
    options = service.plan_options(settings, strategy=strategy, image=image, privileged=privileged)
    path, root = _document(ls, uri)

    def work() -> DebugPlan:
        ref = target
        if not ref:
            listing = service.list_targets(settings, document=path, workspace=root, probe=False)
            related = [t for t in listing.targets if t.related]
            if workload:
                related = [t for t in related if t.extra.get("workload") == workload]
            if not related:
                more = f" ({'; '.join(listing.errors)})" if listing.errors else ""
                raise TargetNotFound(f"no running container is related to {uri}{more}")
            ref = related[0].id
        return service.plan(settings, ref, options)

    return work


async def debug_command(ls: DebugboxLanguageServer, args: tuple[Any, ...]) -> dict[str, Any]:
    plan = await off_loop(ls, DEBUG, _plan_request(ls, DEBUG, args))
    result: dict[str, Any] = plan.to_json()
    return result


def command_line(argv: list[str]) -> str:
    """The argv as one line a user can paste into a POSIX shell (display only: debugbox never runs it so)."""
    return shlex.join(argv)


async def open_debug_terminal(ls: DebugboxLanguageServer, args: tuple[Any, ...]) -> dict[str, Any]:
    try:
        plan = await off_loop(ls, OPEN, _plan_request(ls, OPEN, args))
    except CommandFailed as exc:
        # The user clicked something and expects a terminal: say why there is none, then fail the request.
        ls.show_message(f"debugbox: {exc.message}", lsp.MessageType.Error)
        raise
    result: dict[str, Any] = plan.to_json()
    opened = await open_terminal(ls, plan.title, list(plan.argv), dict(plan.env), plan.notes)
    return {**result, **opened}


async def open_terminal(
    ls: DebugboxLanguageServer,
    title: str,
    argv: list[str],
    env: Mapping[str, str] | None = None,
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    """Ask the editor to run `argv` in a terminal; a client that cannot (or fails to) is shown the command line.

    Returns `{"argv", "opened"}` plus `"error"` when the editor was asked and did not open it.
    """
    result: dict[str, Any] = {"argv": argv}
    if ls.client.open_terminal:
        params: dict[str, Any] = {"title": title, "argv": argv}
        if env:
            params["env"] = dict(env)
        try:
            answer = await asyncio.wait_for(
                ls.protocol.send_request_async(OPEN_TERMINAL_METHOD, params), CLIENT_TIMEOUT_SECONDS
            )
        except Exception as exc:  # a timeout or an error response: fall back to telling the user
            log.warning("%s failed: %s", OPEN_TERMINAL_METHOD, exc)
            answer = {"opened": False, "error": str(exc) or type(exc).__name__}
        opened = _answer_field(answer, "opened") is True
        result["opened"] = opened
        if opened:
            return result
        result["error"] = str(_answer_field(answer, "error") or "the editor did not open the terminal")
    else:
        result["opened"] = False
    shown = " ".join(notes[:2])
    ls.show_message(f"{title}. Run: {command_line(argv)}" + (f"  ({shown})" if shown else ""))
    return result


def _answer_field(answer: Any, key: str) -> Any:
    if isinstance(answer, Mapping):
        return answer.get(key)
    return getattr(answer, key, None)


def register(server: DebugboxLanguageServer) -> None:
    @server.command(LIST)
    async def _list(ls: DebugboxLanguageServer, *args: Any) -> dict[str, Any]:
        return await list_targets(ls, args)

    @server.command(DEBUG)
    async def _debug(ls: DebugboxLanguageServer, *args: Any) -> dict[str, Any]:
        return await debug_command(ls, args)

    @server.command(OPEN)
    async def _open(ls: DebugboxLanguageServer, *args: Any) -> dict[str, Any]:
        return await open_debug_terminal(ls, args)
