"""The startup floor: a pygls server with no features beyond text sync, on stdio.

It imports what any pygls 2 server must (pygls, lsprotocol) and nothing else, so `initialize` time of this
process is the least a Python language server on this machine can take. It publishes an empty diagnostics list
on open and change, so the harness can run the same measurements against it.
"""

from __future__ import annotations

from lsprotocol import types
from pygls.lsp.server import LanguageServer

server = LanguageServer("bare-pygls", "1")


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    doc = params.text_document
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=doc.uri, version=doc.version, diagnostics=[])
    )


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: LanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    doc = params.text_document
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=doc.uri, version=doc.version, diagnostics=[])
    )


if __name__ == "__main__":
    server.start_io()
