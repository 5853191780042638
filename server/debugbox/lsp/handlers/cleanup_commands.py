"""`debugbox.cleanupCopies` `{"context"?, "namespace"?}`: the editors' "Clean up debug copies" (#13 §5).

Lists the pod copies debugbox made (`edge/kube_cleanup.py`, the same code as `debugbox cleanup`), asks with the
confirmation helper every offer uses ("Delete" / "Cancel", `window/showMessageRequest`) and deletes only on
"Delete" → `{"context", "namespace", "found", "deleted"}`. Nothing found: an info message, nothing asked. A
cluster that cannot be asked or refuses (RBAC, unreachable): one sentence as an error message and the request
fails with it; copies deleted before a refusal are named in it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from debugbox.core.wire import Command
from debugbox.lsp.handlers.arguments import object_argument, optional_str, shown_failure
from debugbox.lsp.server import DebugboxLanguageServer

CLEANUP = Command.CLEANUP_COPIES.value

#: The button that agrees to deleting the listed copies.
DELETE = "Delete"


async def cleanup_copies(ls: DebugboxLanguageServer, args: tuple[Any, ...]) -> dict[str, Any]:
    from debugbox.core.errors import RuntimeProblem
    from debugbox.edge.kube_cleanup import delete_copies, find_copies
    from debugbox.lsp.handlers.target_commands import _confirmed

    obj = object_argument(CLEANUP, args, '{"namespace": "shop"}') if args else {}
    context, namespace = optional_str(CLEANUP, obj, "context"), optional_str(CLEANUP, obj, "namespace")
    settings = ls.settings
    try:
        copies = await asyncio.to_thread(find_copies, settings, context, namespace)
    except RuntimeProblem as exc:
        raise shown_failure(ls, CLEANUP, str(exc)) from exc
    result: dict[str, Any] = {
        "context": copies.context,
        "namespace": copies.namespace,
        "found": list(copies.pods),
        "deleted": [],
    }
    if not copies.pods:
        ls.show_message(f"debugbox: no debug copies in {copies.where}")
        return result
    if not await _confirmed(ls, f"debugbox: {copies.question()}", DELETE):
        return result
    deleted: list[str] = []
    try:
        await asyncio.to_thread(delete_copies, copies, deleted.append)
    except RuntimeProblem as exc:
        before = f" (deleted before it: {', '.join(deleted)})" if deleted else ""
        raise shown_failure(ls, CLEANUP, f"{exc}{before}") from exc
    ls.show_message(f"debugbox: deleted {', '.join(deleted)} in {copies.where}")
    return {**result, "deleted": deleted}


def register(server: DebugboxLanguageServer) -> None:
    @server.command(CLEANUP)
    async def _cleanup(ls: DebugboxLanguageServer, *args: Any) -> dict[str, Any]:
        return await cleanup_copies(ls, args)
