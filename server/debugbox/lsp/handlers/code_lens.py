"""`textDocument/codeLens`: lenses at the places the analysis marks (`Analysis.lens_anchors()`).

The analysis only says *where* (a final `FROM`, a container in a manifest) and for what purpose; the lens
titles and commands come from providers other modules register in `server.lens_providers[purpose]`, because
they depend on live state (running containers, pods) that the pure analysers never see. Providers must answer
from cached state without blocking and call `server.refresh_code_lenses()` when that state changes. A failing
provider is logged and contributes nothing.
"""

from __future__ import annotations

import logging

from lsprotocol import types as lsp

from debugbox.lsp.server import DebugboxLanguageServer

log = logging.getLogger(__name__)


def register(server: DebugboxLanguageServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_CODE_LENS, lsp.CodeLensOptions(resolve_provider=False))
    async def code_lens(ls: DebugboxLanguageServer, params: lsp.CodeLensParams) -> list[lsp.CodeLens] | None:
        uri = params.text_document.uri
        if not ls.lens_providers:
            return None
        result = await ls.analyses.get(uri)
        if result is None or result.analysis is None:
            return None
        try:
            anchors = list(result.analysis.lens_anchors())
        except Exception:
            log.exception("finding code-lens anchors in %s failed", uri)
            return None
        lenses: list[lsp.CodeLens] = []
        for anchor in anchors:
            provider = ls.lens_providers.get(anchor.purpose)
            if provider is None:
                continue
            try:
                lenses.extend(provider(ls, uri, anchor))
            except Exception:
                log.exception("the %s code-lens provider failed on %s", anchor.purpose, uri)
        return lenses or None
