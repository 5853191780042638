"""`workspace/didChangeConfiguration`: re-read the `debugbox` settings and re-analyse open documents.

Clients that support `workspace/configuration` are asked for the `debugbox` section (the notification's
payload is often null then); others push the settings in the notification, either as `{"debugbox": {...}}` or
as the section itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from lsprotocol import types as lsp

from debugbox.lsp.server import DebugboxLanguageServer

log = logging.getLogger(__name__)

SECTION = "debugbox"
#: An editor that never answers `workspace/configuration` must not leave settings half-applied forever.
PULL_TIMEOUT_SECONDS = 5.0


async def pull(ls: DebugboxLanguageServer) -> bool:
    """Ask the client for the `debugbox` section and apply it; False if it had none or did not answer."""
    params = lsp.ConfigurationParams(items=[lsp.ConfigurationItem(section=SECTION)])
    try:
        answer = await asyncio.wait_for(ls.workspace_configuration_async(params), PULL_TIMEOUT_SECONDS)
    except TimeoutError:
        log.warning("the editor did not answer workspace/configuration within %.0f s", PULL_TIMEOUT_SECONDS)
        return False
    except Exception as exc:  # an error response: keep the settings we have
        log.warning("workspace/configuration failed: %s", exc)
        return False
    section = answer[0] if isinstance(answer, list | tuple) and answer else None
    if section is None:
        return False
    ls.apply_settings(section, origin="workspace/configuration")
    return True


def pushed_section(settings: Any) -> Any:
    """The `debugbox` section of a `didChangeConfiguration` payload (None if it carries none)."""
    if isinstance(settings, Mapping) and isinstance(settings.get(SECTION), Mapping):
        return settings[SECTION]
    return settings if isinstance(settings, Mapping) and settings else None


def register(server: DebugboxLanguageServer) -> None:
    @server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: DebugboxLanguageServer, params: lsp.DidChangeConfigurationParams
    ) -> None:
        if ls.client.configuration and await pull(ls):
            return
        section = pushed_section(params.settings)
        if section is not None:
            ls.apply_settings(section, origin="workspace/didChangeConfiguration")
