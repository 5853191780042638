"""What the connected editor can do, read once from its `ClientCapabilities` at `initialize`.

Every capability-dependent decision in the protocol layer asks a `ClientFeatures` instead of walking the
nested, mostly-optional lsprotocol structure itself: whether edits may be sent with `workspace/applyEdit`,
whether they may use `documentChanges` (versioned) and `CreateFile`, whether `window/showDocument` exists,
whether the client opted in to the `debugbox/openTerminal` request, and so on. Pure: no pygls, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lsprotocol import types as lsp

from debugbox.core.wire import EXPERIMENTAL_KEY, EXPERIMENTAL_OPEN_TERMINAL


@dataclass(frozen=True)
class ClientFeatures:
    """The client capabilities debugbox cares about; the defaults describe a client that declared nothing."""

    apply_edit: bool = False
    """`workspace/applyEdit` may be sent."""
    document_changes: bool = False
    """`WorkspaceEdit.documentChanges` (versioned `TextDocumentEdit`) is understood."""
    create_files: bool = False
    """`CreateFile` resource operations are understood (needs `document_changes` too)."""
    show_document: bool = False
    """`window/showDocument` may be sent."""
    open_terminal: bool = False
    """The client handles the custom `debugbox/openTerminal` request (experimental
    `debugbox.openTerminal`)."""
    code_lens_refresh: bool = False
    """`workspace/codeLens/refresh` may be sent."""
    configuration: bool = False
    """`workspace/configuration` may be sent (settings are pulled rather than pushed)."""
    code_action_literals: bool = False
    """Code actions may be returned as `CodeAction` literals (else only as bare `Command`s)."""
    code_action_disabled: bool = False
    """`CodeAction.disabled` is shown; without it disabled actions are left out."""
    code_action_resolve_edit: bool = False
    """A chosen `CodeAction` is completed with `codeAction/resolve` (its `edit` may come then), keeping `data`."""
    versioned_diagnostics: bool = False
    """The client reads `PublishDiagnosticsParams.version` (informational: debugbox always sends it)."""
    work_done_progress: bool = False

    @property
    def can_create_files(self) -> bool:
        """A `WorkspaceEdit` with `CreateFile` + `TextDocumentEdit` can be applied by the client."""
        return self.apply_edit and self.document_changes and self.create_files


def _experimental_flag(experimental: Any, key: str, flag: str) -> bool:
    # `experimental` is an untyped LSPAny: anything may be there, so look without trusting its shape.
    if not isinstance(experimental, Mapping):
        return False
    section = experimental.get(key)
    return isinstance(section, Mapping) and section.get(flag) is True


def read_client_features(caps: lsp.ClientCapabilities | None) -> ClientFeatures:
    """Condense `caps` (None when the client sent nothing usable) into a `ClientFeatures`."""
    if caps is None:
        return ClientFeatures()
    ws = caps.workspace
    edit = ws.workspace_edit if ws else None
    resource_ops = (edit.resource_operations or []) if edit else []
    window = caps.window
    text = caps.text_document
    code_action = text.code_action if text else None
    publish = text.publish_diagnostics if text else None
    return ClientFeatures(
        apply_edit=bool(ws and ws.apply_edit),
        document_changes=bool(edit and edit.document_changes),
        create_files=lsp.ResourceOperationKind.Create in resource_ops,
        show_document=bool(window and window.show_document and window.show_document.support),
        open_terminal=_experimental_flag(caps.experimental, EXPERIMENTAL_KEY, EXPERIMENTAL_OPEN_TERMINAL),
        code_lens_refresh=bool(ws and ws.code_lens and ws.code_lens.refresh_support),
        configuration=bool(ws and ws.configuration),
        code_action_literals=bool(code_action and code_action.code_action_literal_support),
        code_action_disabled=bool(code_action and code_action.disabled_support),
        code_action_resolve_edit=bool(
            code_action
            and code_action.code_action_literal_support
            and code_action.data_support
            and code_action.resolve_support
            and "edit" in code_action.resolve_support.properties
        ),
        versioned_diagnostics=bool(publish and publish.version_support),
        work_done_progress=bool(window and window.work_done_progress),
    )
