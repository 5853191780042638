"""The protocol layer: thin pygls adapters, one module per LSP method family, each exposing
`register(server)`.

Handlers translate between the wire and the pure analysers; they hold no analysis logic. `register_all`
imports the modules below in order and registers each; add a module to `HANDLER_MODULES` to plug it in.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from debugbox.lsp.server import DebugboxLanguageServer

#: The one list of handler modules (in `debugbox.handlers`), registered in this order.
HANDLER_MODULES: tuple[str, ...] = (
    "lifecycle",
    "text_sync",
    "diagnostics",
    "configuration",
    "code_actions",
    "hover",
    "code_lens",
    "dockerfile_commands",
    "manifest_commands",
    "target_commands",
    "data_commands",
    "cleanup_commands",
    "file_view",
    "container_lens",
    "pod_lens",
    "compose",
    "watched_files",
)


def register_all(server: DebugboxLanguageServer) -> None:
    for name in HANDLER_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(server)
