"""`textDocument/publishDiagnostics`: send what the analysis service found, stamped with the analysed version.

The analysis service decides *when* (only for the current version of an open document); this module only puts
the notification on the wire. Diagnostics are cleared when a document closes.
"""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types as lsp

from debugbox.lsp.server import DebugboxLanguageServer


def publish(
    ls: DebugboxLanguageServer, uri: str, version: int | None, found: Sequence[lsp.Diagnostic]
) -> None:
    ls.text_document_publish_diagnostics(
        lsp.PublishDiagnosticsParams(uri=uri, diagnostics=list(found), version=version)
    )
    # The first document is on screen: a good moment to prepare the rest in the background.
    ls.warm_up_once()


def clear(ls: DebugboxLanguageServer, uri: str) -> None:
    publish(ls, uri, None, [])


def register(server: DebugboxLanguageServer) -> None:
    server.analyses.publisher = lambda uri, version, found: publish(server, uri, version, found)
