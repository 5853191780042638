"""`textDocument/codeAction`: the analysis's `features.Action`s, as `lsp.CodeAction`s this client can apply.

- Edits to the analysed document become a versioned `TextDocumentEdit` (or `changes` for older clients).
- A `command` must be one of this server's commands (advertised in `executeCommandProvider`); anything else is
  dropped with a warning, since no client could run it.
- `disabled_reason` becomes `CodeAction.disabled`; clients that cannot show disabled actions don't get them.
- `context.only` filters by kind, hierarchically (`refactor` matches `refactor.rewrite`).
- Clients without code-action literals get the command-only actions as bare `Command`s.
The analysis is the cached one for the document's current version (computed now if missing).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence

from lsprotocol import types as lsp

from debugbox.core.analysis import Action, ActionContext
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


def to_code_action(
    ls: DebugboxLanguageServer, action: Action, uri: str, version: int | None
) -> lsp.CodeAction | lsp.Command | None:
    """Convert one action; None when this client cannot use it."""
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
    )


def register(server: DebugboxLanguageServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION, lsp.CodeActionOptions(code_action_kinds=ADVERTISED_KINDS))
    async def code_action(
        ls: DebugboxLanguageServer, params: lsp.CodeActionParams
    ) -> list[lsp.CodeAction | lsp.Command] | None:
        uri = params.text_document.uri
        result = await ls.analyses.get(uri)
        if result is None or result.analysis is None:
            return None
        only = [_kind_value(k) for k in params.context.only] if params.context.only else None
        context = ActionContext(settings=ls.settings, file_exists=ls.file_exists, only=only)
        analysis = result.analysis
        try:
            # Off the event loop: a manifest edit is verified by loading its whole YAML document, which for a
            # huge `kind: List` takes long enough to hold up every other request.
            actions = await asyncio.to_thread(lambda: list(analysis.actions(params.range, context)))
        except Exception:
            log.exception("computing code actions for %s failed", uri)
            return None
        refusal = edit_refusal(ls, uri) if any(a.edits for a in actions) else None
        if refusal is not None:  # the editor would save the edit through a link leaving the workspace
            actions = [
                dataclasses.replace(a, edits=(), disabled_reason=refusal) if a.edits else a for a in actions
            ]
        converted = [
            to_code_action(ls, action, uri, result.version)
            for action in actions
            if kind_matches(action.kind, only)
        ]
        return [c for c in converted if c is not None] or None
