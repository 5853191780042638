"""Building `WorkspaceEdit`s the connected client can apply: versioned `documentChanges` when it understands
them, plain `changes` otherwise, and whole-document ranges measured in the negotiated position encoding.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lsprotocol import types as lsp

from debugbox.lsp.server import DebugboxLanguageServer

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


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
