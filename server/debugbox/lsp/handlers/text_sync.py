"""`textDocument/didOpen|didChange|didSave|didClose`: keep analyses in step with the editor's documents.

pygls applies the text changes to its workspace before these handlers run; they only tell the analysis
service. Opening and changing schedule an analysis of the newest version (coalesced, see `analysis_cache`);
closing drops the document's cache and clears its diagnostics.
"""

from __future__ import annotations

from lsprotocol import types as lsp

from debugbox.lsp.handlers import diagnostics
from debugbox.lsp.server import DebugboxLanguageServer


def register(server: DebugboxLanguageServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: DebugboxLanguageServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.analyses.schedule(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: DebugboxLanguageServer, params: lsp.DidChangeTextDocumentParams) -> None:
        ls.analyses.schedule(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: DebugboxLanguageServer, params: lsp.DidSaveTextDocumentParams) -> None:
        # Saving can create a file other documents' actions and lenses look for (a Dockerfile.debug appearing
        # turns "Generate" into "Regenerate"); lenses are the only thing the editor caches, so refresh them.
        ls.refresh_code_lenses()

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: DebugboxLanguageServer, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        if ls.analyses.forget(uri):
            diagnostics.clear(ls, uri)
