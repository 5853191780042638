"""Building `WorkspaceEdit`s the connected client can apply: versioned `documentChanges` when it understands
them, plain `changes` otherwise, and whole-document ranges measured in the negotiated position encoding; and
the one way to ask the client to apply one (`apply_edit`, under `CLIENT_TIMEOUT_SECONDS`).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence

from lsprotocol import types as lsp

from debugbox.lsp.handlers.arguments import CommandFailed
from debugbox.lsp.server import DebugboxLanguageServer

#: How long a request to the client (applyEdit, showDocument, debugbox/openTerminal) may take: the user may be
#: looking at a dialog, so generous; an editor that never answers still ends in an error, not a hang.
CLIENT_TIMEOUT_SECONDS = 60.0

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def edit_refusal(ls: DebugboxLanguageServer, uri: str) -> str | None:
    """Why no edit may be offered for the file behind `uri` (a link leaving its workspace folder, or dangling:
    the editor would save through it), else None. Untitled and remote documents have no such file."""
    from debugbox.edge.writes import link_refusal

    path = ls.path_of(uri)
    if path is None:
        return None
    try:
        return link_refusal(path, ls.workspace_root_of(path) or path.parent)
    except OSError as exc:
        return f"cannot check {path}: {exc.strerror or exc}"


async def apply_edit(
    ls: DebugboxLanguageServer, edit: lsp.WorkspaceEdit, label: str, command: str
) -> lsp.ApplyWorkspaceEditResult:
    """`workspace/applyEdit`; an editor that does not answer in time is a `CommandFailed` naming `command`."""
    params = lsp.ApplyWorkspaceEditParams(edit=edit, label=label)
    try:
        return await asyncio.wait_for(ls.workspace_apply_edit_async(params), CLIENT_TIMEOUT_SECONDS)
    except TimeoutError as exc:
        raise CommandFailed(f"{command}: the editor did not answer workspace/applyEdit") from exc


def document_edit(
    ls: DebugboxLanguageServer, uri: str, version: int | None, edits: Sequence[lsp.TextEdit]
) -> lsp.WorkspaceEdit:
    """Edits to one document: a `TextDocumentEdit` stamped with `version` if the client supports it.

    With the version the client refuses the edit when the document has changed since it was analysed, instead
    of applying ranges computed for other text.
    """
    if ls.client.document_changes:
        ident = lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
        return lsp.WorkspaceEdit(
            document_changes=[lsp.TextDocumentEdit(text_document=ident, edits=list(edits))]
        )
    return lsp.WorkspaceEdit(changes={uri: list(edits)})


def _units(text: str, encoding: str) -> int:
    if encoding == lsp.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8", "surrogatepass"))
    if encoding == lsp.PositionEncodingKind.Utf32:
        return len(text)
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def whole_text_range(text: str, encoding: str = lsp.PositionEncodingKind.Utf16) -> lsp.Range:
    """The range covering all of `text` (line breaks as LSP counts them: \\n, \\r\\n, \\r)."""
    breaks = 0
    last_start = 0
    for match in _LINE_BREAK.finditer(text):
        breaks += 1
        last_start = match.end()
    end = lsp.Position(line=breaks, character=_units(text[last_start:], encoding))
    return lsp.Range(start=lsp.Position(line=0, character=0), end=end)


def position_encoding(ls: DebugboxLanguageServer) -> str:
    try:
        encoding = ls.workspace.position_encoding
    except RuntimeError:
        encoding = None
    return str(encoding.value if isinstance(encoding, lsp.PositionEncodingKind) else encoding or "utf-16")
