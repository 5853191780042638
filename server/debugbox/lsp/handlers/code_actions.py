"""`textDocument/codeAction`: the analysis's `features.Action`s, as `lsp.CodeAction`s this client can apply.

- Edits to the analysed document become a versioned `TextDocumentEdit` (or `changes` for older clients).
- A `command` must be one of this server's commands (advertised in `executeCommandProvider`); anything else is
  dropped with a warning, since no client could run it.
- `disabled_reason` becomes `CodeAction.disabled`; clients that cannot show disabled actions don't get them.
- `context.only` filters by kind, hierarchically (`refactor` matches `refactor.rewrite`).
- Clients without code-action literals get the command-only actions as bare `Command`s.
- A `deferred` action (asked for when the client resolves edits: `ClientFeatures.code_action_resolve_edit`)
  goes without its edit and with `data` naming the document version and range; `codeAction/resolve` asks the
  analysis again for that range and that title alone, with every check, and adds the edit that comes back. When
  the document moved on or the check refuses, the action comes back without an edit and a message says why.
The analysis is the cached one for the document's current version (computed now if missing).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

from lsprotocol import types as lsp

from debugbox.core.analysis import Action, ActionContext, Analysis
from debugbox.lsp.handlers.workspace_edits import document_edit, edit_refusal
from debugbox.lsp.server import DebugboxLanguageServer

log = logging.getLogger(__name__)

ADVERTISED_KINDS = [
    lsp.CodeActionKind.QuickFix,
    lsp.CodeActionKind.Refactor,
    lsp.CodeActionKind.RefactorRewrite,
    lsp.CodeActionKind.Source,
]


def _kind_value(kind: object) -> str:
    return str(kind.value) if isinstance(kind, lsp.CodeActionKind) else str(kind)


def kind_matches(kind: str, only: Sequence[str] | None) -> bool:
    """LSP kinds are hierarchical: `only=["refactor"]` admits `refactor.rewrite`, not `refactoring`."""
    if not only:
        return True
    return any(o == "" or kind == o or kind.startswith(o + ".") for o in only)


#: The `data` of a deferred action: what `codeAction/resolve` needs to ask for it again.
_DEFERRED = "debugbox.deferredEdit"
#: Lines and characters past this are not positions in any document debugbox analyses (`data` comes back from
#: the client: read as untrusted).
_MAX_POSITION = 1 << 31


def _deferred_data(uri: str, version: int | None, rng: lsp.Range) -> dict[str, Any]:
    where = [rng.start.line, rng.start.character, rng.end.line, rng.end.character]
    return {_DEFERRED: {"uri": uri, "version": version, "range": where}}


def _read_deferred(data: Any) -> tuple[str, int | None, lsp.Range] | None:
    """The uri, version and range of `_deferred_data`'s answer, or None for anything else."""
    ask = data.get(_DEFERRED) if isinstance(data, dict) else None
    if not isinstance(ask, dict):
        return None
    uri, version, where = ask.get("uri"), ask.get("version"), ask.get("range")
    if not isinstance(uri, str) or not (version is None or type(version) is int):
        return None
    if not (isinstance(where, list) and len(where) == 4):
        return None
    if not all(type(n) is int and 0 <= n < _MAX_POSITION for n in where):
        return None
    start, end = lsp.Position(where[0], where[1]), lsp.Position(where[2], where[3])
    return uri, version, lsp.Range(start=start, end=end)


def to_code_action(
    ls: DebugboxLanguageServer, action: Action, uri: str, version: int | None, rng: lsp.Range
) -> lsp.CodeAction | lsp.Command | None:
    """Convert one action (a deferred one, asked for over `rng`, carries what resolving it needs); None when
    this client cannot use it."""
    command = None
    if action.command is not None:
        if not ls.is_server_command(action.command):
            log.warning("dropping code action %r: %s is not a server command", action.title, action.command)
            return None
        command = lsp.Command(
            title=action.title, command=action.command, arguments=list(action.arguments) or None
        )
    if not ls.client.code_action_literals:
        # Old clients take only commands; an edit-only action has no command form.
        return (
            command if command is not None and not action.edits and action.disabled_reason is None else None
        )
    if action.disabled_reason is not None and not ls.client.code_action_disabled:
        return None
    return lsp.CodeAction(
        title=action.title,
        kind=action.kind,
        diagnostics=list(action.diagnostics) or None,
        edit=document_edit(ls, uri, version, action.edits) if action.edits else None,
        command=command,
        is_preferred=action.preferred or None,
        disabled=lsp.CodeActionDisabled(reason=action.disabled_reason) if action.disabled_reason else None,
        data=_deferred_data(uri, version, rng) if action.deferred else None,
    )


async def _actions_over(
    ls: DebugboxLanguageServer, analysis: Analysis, uri: str, rng: lsp.Range, context: ActionContext
) -> list[Action] | None:
    """The analysis's actions over `rng`, computed off the event loop (a manifest edit is verified by loading
    its whole YAML document, which for a huge `kind: List` takes long enough to hold up every other request),
    the edits disabled where the editor would save through a link leaving the workspace; None on failure."""
    try:
        actions = await asyncio.to_thread(lambda: list(analysis.actions(rng, context)))
    except Exception:
        log.exception("computing code actions for %s failed", uri)
        return None
    refusal = edit_refusal(ls, uri) if any(a.edits or a.deferred for a in actions) else None
    if refusal is not None:
        actions = [
            dataclasses.replace(a, edits=(), deferred=False, disabled_reason=refusal)
            if a.edits or a.deferred
            else a
            for a in actions
        ]
    return actions


def register(server: DebugboxLanguageServer) -> None:
    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(code_action_kinds=ADVERTISED_KINDS, resolve_provider=True),
    )
    async def code_action(
        ls: DebugboxLanguageServer, params: lsp.CodeActionParams
    ) -> list[lsp.CodeAction | lsp.Command] | None:
        uri = params.text_document.uri
        result = await ls.analyses.get(uri)
        if result is None or result.analysis is None:
            return None
        only = [_kind_value(k) for k in params.context.only] if params.context.only else None
        context = ActionContext(
            settings=ls.settings,
            file_exists=ls.file_exists,
            only=only,
            defer_checks=ls.client.code_action_resolve_edit,
        )
        actions = await _actions_over(ls, result.analysis, uri, params.range, context)
        if actions is None:
            return None
        converted = [
            to_code_action(ls, action, uri, result.version, params.range)
            for action in actions
            if kind_matches(action.kind, only)
        ]
        return [c for c in converted if c is not None] or None

    @server.feature(lsp.CODE_ACTION_RESOLVE)
    async def resolve_code_action(ls: DebugboxLanguageServer, action: lsp.CodeAction) -> lsp.CodeAction:
        ask = _read_deferred(action.data)
        if ask is None or action.edit is not None:
            return action  # not one of ours to complete
        uri, version, rng = ask
        result = await ls.analyses.get(uri)
        if result is None or result.analysis is None or result.version != version:
            ls.show_message(
                f"{action.title}: the document changed since this action was offered; ask for it again.",
                lsp.MessageType.Warning,
            )
            return action
        context = ActionContext(settings=ls.settings, file_exists=ls.file_exists, wanted=action.title)
        actions = await _actions_over(ls, result.analysis, uri, rng, context)
        same = [a for a in actions or () if a.title == action.title and action.kind in (None, a.kind)]
        chosen = same[0] if same else None
        if chosen is None or not chosen.edits:
            if actions is None:
                reason = "the edit could not be checked (the debugbox log has why)"
            elif chosen is None or chosen.disabled_reason is None:
                reason = "no longer offered here; ask for it again"
            else:
                reason = chosen.disabled_reason.rstrip(".")
            ls.show_message(f"{action.title}: {reason}.", lsp.MessageType.Warning)
            return action
        action.edit = document_edit(ls, uri, result.version, chosen.edits)
        log.info("%s: checked when chosen (codeAction/resolve)", action.title)
        return action
