"""The background watch behind the live "Debug …" code lenses (`container_lens`, `pod_lens`).

A lens request never waits for an engine or a cluster. A `LensWatch` keeps, per key a lens was asked about (a
Dockerfile, a workload), an answer computed off the event loop: on its first lens request it starts a task that
recomputes every `REFRESH_SECONDS`, or at once when something new is wanted or the settings change
(`invalidate`). Keys whose documents are all closed in the editor are dropped before each refresh. When the
answers change, the watch asks the editor to re-request lenses (`workspace/codeLens/refresh`). A key seen for
the first time has no answer until that next refresh.

Not a handler module itself: `register_lens_provider` is what the lens modules' `register(server)` calls.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Generic, TypeVar

from lsprotocol import types as lsp

from debugbox.core.analysis import LensAnchor
from debugbox.lsp.server import DebugboxLanguageServer

log = logging.getLogger(__name__)

REFRESH_SECONDS = 10.0

K = TypeVar("K", bound=Hashable)
"""What a lens is about: a Dockerfile path, a workload."""
Q = TypeVar("Q")
"""What computing the answer for a key needs besides the key."""
A = TypeVar("A")
"""The answer for a key: what the lens shows."""


class LensWatch(ABC, Generic[K, Q, A]):
    """Answers per wanted key, refreshed in the background. Subclasses say how to compute them and how long
    that may take (`_compute`, `_timeout`), and what failed in the log (`WHAT`)."""

    WHAT = "live state"

    def __init__(self, ls: DebugboxLanguageServer) -> None:
        self.ls = ls
        self.wanted: dict[K, Q] = {}
        """Keys lenses were asked about → what computing them needs."""
        self.uris: dict[K, set[str]] = {}
        """Documents each key was asked for; a key is dropped once all of them are closed."""
        self.answers: dict[K, A] = {}
        """Key → its answer; absent until computed."""
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop())

    def want(self, key: K, query: Q, uri: str) -> None:
        """Keep `key` (asked for by the document `uri`) answered; a new key is computed at once."""
        self.uris.setdefault(key, set()).add(uri)
        if key not in self.wanted:
            self.wanted[key] = query
            self._wake.set()

    def forget_closed(self) -> None:
        """Only keys of documents still open are worth asking the engines or the cluster about."""
        for key, uris in list(self.uris.items()):
            still_open = {u for u in uris if self.ls.open_document(u) is not None}
            self.uris[key] = still_open
            if not still_open:
                del self.uris[key]
                self.wanted.pop(key, None)
                self.answers.pop(key, None)

    def invalidate(self) -> None:
        """Settings changed (e.g. appImage, kubeconfig): recompute at once."""
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            # Cleared before, not after, the refresh: a key wanted while it runs (it may take the engines' whole
            # timeout) is not in what it computes, and its wake-up must start the next one at once.
            self._wake.clear()
            try:
                await self.refresh()
            except Exception:  # the watch must outlive any one bad refresh
                log.exception("refreshing the %s failed", self.WHAT)
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation that races the
            # wake-up, which would keep this loop alive after the watch was cancelled.
            try:
                async with asyncio.timeout(REFRESH_SECONDS):
                    await self._wake.wait()
            except TimeoutError:
                pass

    @abstractmethod
    def _compute(self) -> dict[K, A]:
        """The answers for `self.wanted` (runs in a worker thread; blocking calls are fine)."""

    @abstractmethod
    def _timeout(self) -> float:
        """How long one `_compute` may take, in seconds."""

    async def refresh(self) -> None:
        self.forget_closed()
        if not self.wanted:
            return
        fresh = await asyncio.wait_for(asyncio.to_thread(self._compute), self._timeout())
        if fresh != self.answers:
            self.answers = fresh
            self.ls.refresh_code_lenses()


W = TypeVar("W", bound=LensWatch[Any, Any, Any])


def register_lens_provider(
    server: DebugboxLanguageServer,
    purpose: str,
    make_watch: Callable[[DebugboxLanguageServer], W],
    lenses: Callable[[DebugboxLanguageServer, W, str, LensAnchor], Sequence[lsp.CodeLens]],
) -> None:
    """Provide the lenses of anchors of `purpose` with `lenses(ls, watch, uri, anchor)`, the watch made on the
    first lens request (so nothing runs for documents without such anchors) and invalidated on settings
    changes."""
    watch: W | None = None

    def provider(ls: DebugboxLanguageServer, uri: str, anchor: LensAnchor) -> Sequence[lsp.CodeLens]:
        nonlocal watch
        if watch is None:
            watch = make_watch(ls)
        return lenses(ls, watch, uri, anchor)

    def on_settings(ls: DebugboxLanguageServer) -> None:
        if watch is not None:
            watch.invalidate()

    server.lens_providers[purpose] = provider
    server.settings_listeners.append(on_settings)
