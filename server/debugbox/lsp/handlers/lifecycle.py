"""`initialize`, `initialized`, `shutdown`: read the client's capabilities and settings, then pull live
settings.

Settings arrive in `initializationOptions` either wrapped (`{"settings": {...}}`) or as the `debugbox` section
itself; once the client is initialized they are re-pulled with `workspace/configuration` when it supports
that.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Mapping
from typing import Any

from lsprotocol import types as lsp

from debugbox.lsp.client_features import read_client_features
from debugbox.lsp.handlers import configuration
from debugbox.lsp.server import DebugboxLanguageServer

log = logging.getLogger(__name__)


def settings_from_initialization_options(options: Any) -> Any:
    """The `debugbox` settings section inside `initializationOptions` (None when there is none)."""
    if not isinstance(options, Mapping):
        return None
    if "settings" in options:
        settings = options["settings"]
        # The Python tools template sends one entry per workspace folder; the first one is the workspace's.
        if isinstance(settings, list):
            settings = next((s for s in settings if isinstance(s, Mapping)), None)
        return settings
    if "debugbox" in options and isinstance(options["debugbox"], Mapping):
        return options["debugbox"]
    return options


def register(server: DebugboxLanguageServer) -> None:
    @server.feature(lsp.INITIALIZE)
    def initialize(ls: DebugboxLanguageServer, params: lsp.InitializeParams) -> None:
        ls.client = read_client_features(params.capabilities)
        ls.client_log.attach(asyncio.get_running_loop())
        ls.apply_settings(settings_from_initialization_options(params.initialization_options), initial=True)
        options = params.initialization_options
        # Only an explicit `false` means untrusted: editors without workspace trust send nothing.
        ls.workspace_trusted = not (isinstance(options, Mapping) and options.get("workspaceTrusted") is False)
        client = params.client_info
        log.info(
            "debugbox %s (pid %d, Python %s) for %s %s; cwd %s",
            ls.version,
            os.getpid(),
            sys.version.split()[0],
            client.name if client else "an unnamed client",
            (client.version or "") if client else "",
            os.getcwd(),
        )
        log.debug("client features: %s", ls.client)

    @server.feature(lsp.INITIALIZED)
    async def initialized(ls: DebugboxLanguageServer, params: lsp.InitializedParams) -> None:
        from debugbox.lsp.handlers.watched_files import register_watchers

        # Not awaited: an editor slow to answer the registration must not delay the settings.
        ls.watch_registration = asyncio.get_running_loop().create_task(register_watchers(ls))
        if ls.client.configuration:
            await configuration.pull(ls)

    @server.feature(lsp.SHUTDOWN)
    def shutdown(ls: DebugboxLanguageServer, params: None) -> None:
        ls.analyses.shutdown()
