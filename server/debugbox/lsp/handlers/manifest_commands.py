"""`debugbox.addShareProcessNamespace` and `debugbox.addDebugSidecar`: the manifest edits as server commands.

Arguments (one object):
- `debugbox.addShareProcessNamespace` `{"uri", "line"?}`: the pod spec containing 0-based `line`, or every pod
  spec of the file when `line` is left out;
- `debugbox.addDebugSidecar` `{"uri", "line"}`: the pod spec containing `line`; the image is the
  `debugbox.toolboxImage` setting.

The edits are the code actions' (`kubernetes.edits`), sent as one `workspace/applyEdit`, versioned with the
version they were computed for, so an editor whose document moved on refuses them instead of misplacing them.
A document that is not open is read from disk and edited unversioned. Result:
`{"applied": bool, "changed": [...], "refused": [...], "unchanged": [...]}` (each a sentence per pod spec);
when nothing can be changed the reasons are also shown to the user.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from debugbox.core.documents import DocumentKind, kind_of
from debugbox.core.wire import Command
from debugbox.lsp.handlers.arguments import (
    CommandFailed,
    document_uri,
    invalid,
    object_argument,
    shown_failure,
)
from debugbox.lsp.handlers.workspace_edits import apply_edit, document_edit, edit_refusal
from debugbox.lsp.server import DebugboxLanguageServer

if TYPE_CHECKING:
    # Imported where used: the manifest analyser (and PyYAML) must not load while `debugbox lsp` starts.
    from debugbox.core.kubernetes.analysis import EditOutcome, ManifestAnalysis

log = logging.getLogger(__name__)

SHARE_PID = Command.ADD_SHARE_PROCESS_NAMESPACE.value
SIDECAR = Command.ADD_DEBUG_SIDECAR.value
#: Waiting for the editor to apply an edit; a client that never answers must not hang the command.


def _line(command: str, obj: Mapping[str, Any], required: bool) -> int | None:
    value = obj.get("line")
    if value is None:
        if required:
            raise invalid(command, '"line" is required (a 0-based line number inside a pod spec)')
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid(command, f'"line" must be a 0-based line number, got {value!r}')
    return value


async def _analysis(
    ls: DebugboxLanguageServer, command: str, uri: str
) -> tuple[ManifestAnalysis, int | None]:
    """The analysis of the document as the editor has it (cached per version), else as it is on disk."""
    from debugbox.core.kubernetes.analysis import ManifestAnalysis, analyze
    from debugbox.edge.workspace import InputError, read_text_file

    doc = ls.open_document(uri)
    if doc is not None:
        result = await ls.analyses.get(uri)
        if result is not None and isinstance(result.analysis, ManifestAnalysis):
            return result.analysis, result.version
        if kind_of(uri, doc.source, doc.language_id) is not DocumentKind.MANIFEST:
            raise invalid(command, f"{uri} is not a Kubernetes manifest")
        return await asyncio.to_thread(analyze, uri, doc.source, ls.settings), doc.version
    path = ls.path_of(uri)
    if path is None:
        raise invalid(command, f"unknown document {uri}: it is neither open in the editor nor a local file")
    try:
        text = read_text_file(path)
    except InputError as exc:
        raise invalid(command, str(exc)) from exc
    if kind_of(uri, text) is not DocumentKind.MANIFEST:
        raise invalid(command, f"{path.name} is not a Kubernetes manifest")
    return await asyncio.to_thread(analyze, uri, text, ls.settings), None


async def _apply(
    ls: DebugboxLanguageServer, command: str, uri: str, version: int | None, outcome: EditOutcome, label: str
) -> dict[str, Any]:
    reply: dict[str, Any] = {
        "applied": False,
        "changed": outcome.changed,
        "refused": outcome.refused,
        "unchanged": outcome.unchanged,
    }
    if not outcome.edits:
        reasons = outcome.refused + outcome.unchanged or ["no pod spec there"]
        ls.show_message(f"debugbox: nothing to change: {'; '.join(reasons)}", lsp.MessageType.Warning)
        return reply
    if not ls.client.apply_edit:
        raise CommandFailed(f"{command}: this editor cannot apply workspace edits")
    refusal = edit_refusal(ls, uri)
    if refusal is not None:
        raise shown_failure(ls, command, refusal)
    result = await apply_edit(ls, document_edit(ls, uri, version, outcome.edits), label, command)
    reply["applied"] = bool(result.applied)
    if not result.applied:
        reply["reason"] = result.failure_reason or "the editor did not apply the edit"
    return reply


def register(server: DebugboxLanguageServer) -> None:
    @server.command(SHARE_PID)
    async def add_share_process_namespace(ls: DebugboxLanguageServer, *args: Any) -> dict[str, Any]:
        obj = object_argument(SHARE_PID, args, '{"uri": "file:///project/deploy.yaml", "line": 12}')
        uri = document_uri(SHARE_PID, obj)
        line = _line(SHARE_PID, obj, required=False)
        analysis, version = await _analysis(ls, SHARE_PID, uri)
        outcome = await asyncio.to_thread(analysis.share_pid, line)  # verified edits: off the event loop
        return await _apply(ls, SHARE_PID, uri, version, outcome, "Add shareProcessNamespace: true")

    @server.command(SIDECAR)
    async def add_debug_sidecar(ls: DebugboxLanguageServer, *args: Any) -> dict[str, Any]:
        obj = object_argument(SIDECAR, args, '{"uri": "file:///project/deploy.yaml", "line": 12}')
        uri = document_uri(SIDECAR, obj)
        line = _line(SIDECAR, obj, required=True)
        assert line is not None
        analysis, version = await _analysis(ls, SIDECAR, uri)
        outcome = await asyncio.to_thread(analysis.sidecar, line, ls.settings.toolbox_image)
        return await _apply(ls, SIDECAR, uri, version, outcome, "Add debug sidecar container")
