"""`textDocument/hover`: whatever the document's analysis says about the position (e.g. a `FROM` line's
image)."""

from __future__ import annotations

import logging

from lsprotocol import types as lsp

from debugbox.lsp.server import DebugboxLanguageServer

log = logging.getLogger(__name__)


def register(server: DebugboxLanguageServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    async def hover(ls: DebugboxLanguageServer, params: lsp.HoverParams) -> lsp.Hover | None:
        result = await ls.analyses.get(params.text_document.uri)
        if result is None or result.analysis is None:
            return None
        try:
            return result.analysis.hover(params.position)
        except Exception:
            log.exception("hover for %s failed", params.text_document.uri)
            return None
