"""Code lens "Debug running container (N)" on the final `FROM` of a Dockerfile whose containers are running.

The lens request never waits for an engine. `TargetWatch` keeps a container listing refreshed in the
background (every `REFRESH_SECONDS`, starting with the first Dockerfile lens request) together with, for each
Dockerfile it was asked about, the containers related to it; the provider only reads that. When the answer for
a Dockerfile changes, the watch asks the editor to re-request lenses (`workspace/codeLens/refresh`). A
Dockerfile seen for the first time gets no lens until the next refresh, which is triggered right away.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

from lsprotocol import types as lsp

from debugbox.features import LensAnchor
from debugbox.protocol import Command
from debugbox.server import DebugboxLanguageServer

log = logging.getLogger(__name__)

PURPOSE = "dockerfile-final-from"
REFRESH_SECONDS = 10.0
#: The VS Code extension's own command: a quick pick over the related containers (see vscode-extension).
CLIENT_PICK_COMMAND = "debugbox.client.openDebugTerminal"


class TargetWatch:
    """Related running containers per Dockerfile, refreshed off the event loop."""

    def __init__(self, ls: DebugboxLanguageServer) -> None:
        self.ls = ls
        self.related: dict[Path, tuple[tuple[str, str], ...]] = {}
        """Dockerfile → (target id, name) of its related running containers; absent until computed."""
        self.documents: dict[Path, tuple[str, Path | None]] = {}
        """Dockerfiles asked about → (URI, workspace folder); dropped once closed in the editor."""
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop())

    def want(self, path: Path, uri: str, root: Path | None) -> None:
        if path not in self.documents:
            self.documents[path] = (uri, root)
            self._wake.set()

    def invalidate(self) -> None:
        """Settings changed (e.g. appImage): recompute at once."""
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception:  # the watch must outlive any one bad refresh
                log.exception("refreshing the running containers failed")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), REFRESH_SECONDS)
            except TimeoutError:
                pass

    def _compute(self) -> dict[Path, tuple[tuple[str, str], ...]]:
        from debugbox.runtime import service

        settings = self.ls.settings
        listing = service.list_targets(settings, probe=False, runtimes=service.CONTAINER_RUNTIMES)
        running = [t for t in listing.targets if t.status == "running"]
        out: dict[Path, tuple[tuple[str, str], ...]] = {}
        for path, (_uri, root) in list(self.documents.items()):
            marked = service.relate_to_document(settings, running, path, root)
            out[path] = tuple((t.id, t.name) for t in marked if t.related)
        return out

    async def refresh(self) -> None:
        # Only Dockerfiles still open are worth asking the engines about (every REFRESH_SECONDS).
        for path, (uri, _root) in list(self.documents.items()):
            if self.ls.open_document(uri) is None:
                del self.documents[path]
                self.related.pop(path, None)
        if not self.documents:
            return
        from debugbox.runtime.service import deadline

        fresh = await asyncio.wait_for(asyncio.to_thread(self._compute), deadline(self.ls.settings) + 1.0)
        if fresh != {p: self.related.get(p) for p in fresh}:
            self.related = fresh
            self.ls.refresh_code_lenses()


def lenses(
    ls: DebugboxLanguageServer, watch: TargetWatch, uri: str, anchor: LensAnchor
) -> Sequence[lsp.CodeLens]:
    path = ls.path_of(uri)
    if path is None:
        return []
    watch.ensure_running()
    root = next((r for r in ls.workspace_roots() if path.is_relative_to(r)), None)
    watch.want(path, uri, root)
    related = watch.related.get(path, ())
    if not related:
        return []
    title = f"Debug running container ({len(related)})"
    if len(related) > 1 and ls.client.open_terminal:
        command = lsp.Command(title=title, command=CLIENT_PICK_COMMAND, arguments=[{"uri": uri}])
    else:
        # One container (or an editor without debugbox's extension): open the first, best-related one.
        args = {"target": related[0][0], "uri": uri}
        command = lsp.Command(title=title, command=Command.OPEN_DEBUG_TERMINAL.value, arguments=[args])
    return [lsp.CodeLens(range=anchor.range, command=command, data={"targets": [t[0] for t in related]})]


def register(server: DebugboxLanguageServer) -> None:
    watch: TargetWatch | None = None

    def provider(ls: DebugboxLanguageServer, uri: str, anchor: LensAnchor) -> Sequence[lsp.CodeLens]:
        nonlocal watch
        if watch is None:
            watch = TargetWatch(ls)
        return lenses(ls, watch, uri, anchor)

    def on_settings(ls: DebugboxLanguageServer) -> None:
        if watch is not None:
            watch.invalidate()

    server.lens_providers[PURPOSE] = provider
    server.settings_listeners.append(on_settings)
