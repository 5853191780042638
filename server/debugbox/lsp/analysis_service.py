"""One `Analysis` per open document version: computed off the event loop, coalesced, shared, never stale.

The protocol layer owns *when* analysers run; this module is that policy, kept free of pygls so it can be read
(and tested) on its own. It talks to the server through two callbacks: `snapshot(uri)` (the open document's
current version and text, or None once closed) and `publish(uri, version, diagnostics)`.

Model, per URI:

- **Coalescing.** `schedule(uri)` (on open, change, settings change) starts one publisher task unless one is
  already running. The task analyses whatever version is current *when it starts*, and after the analysis
  checks whether the document moved on; if it did, it loops and analyses the newest text. So 200 rapid
  `didChange` notifications cost at most two analyses (the one already running and the latest), and there is
  no fixed debounce: an open is analysed immediately.
- **Staleness.** Diagnostics are published only if, at publishing time, the document is still open at exactly
  the analysed version and the settings have not changed since (a generation counter). Otherwise they are
  dropped.
- **Sharing.** Requests (code actions, hover, code lens) call `get(uri)`: the cached result when it is for the
  current version, else the in-flight computation for that version, else a new one. A request never re-parses
  a version that was already analysed.
- **Threads.** Analysers are pure CPU work; they run on a small dedicated thread pool so the event loop keeps
  reading and answering messages while a 10,000-line file is analysed (pygls' own pool reads stdin, so sharing
  it could stall input). Analysers are imported lazily, on first use, in that pool: `debugbox lsp` starts
  without them.
- **Failures.** An analyser exception is logged with its traceback and gives "no results" for that version; a
  request waiting longer than `request_timeout` gets no results instead of hanging.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from lsprotocol import types as lsp

from debugbox.core.analysis import Analysis, Analyzer
from debugbox.core.documents import DocumentKind, kind_of
from debugbox.core.settings import Settings

log = logging.getLogger(__name__)

#: Where each document kind's analyser lives; a module path is imported on first use and must expose
#: `analyze`.
DEFAULT_ANALYZERS: Mapping[DocumentKind, str] = {
    DocumentKind.DOCKERFILE: "debugbox.core.dockerfile.analysis",
    DocumentKind.MANIFEST: "debugbox.core.kubernetes.analysis",
    DocumentKind.COMPOSE: "debugbox.core.compose.analysis",
}

#: Documents longer than this are not analysed at all (logged once): no Dockerfile or manifest is that big,
#: and an editor that opened a 50 MB log file as YAML should not make the server spend seconds on it.
MAX_ANALYSED_CHARS = 16_000_000

AnalyzerSource = str | Analyzer
Publisher = Callable[[str, int | None, Sequence[lsp.Diagnostic]], None]
Key = tuple[int | None, int]
"""(document version, settings generation) that a result was computed for."""


@dataclass(frozen=True)
class Snapshot:
    """An open document as it was at one moment; `text` is an immutable str, safe to hand to a worker
    thread."""

    uri: str
    version: int | None
    text: str
    language_id: str | None = None


@dataclass(frozen=True)
class Result:
    """The outcome of analysing one snapshot; `analysis` is None when there is nothing (or nothing usable)."""

    uri: str
    version: int | None
    generation: int
    kind: DocumentKind
    analysis: Analysis | None
    diagnostics: tuple[lsp.Diagnostic, ...] = ()
    seconds: float = 0.0

    @property
    def key(self) -> Key:
        return (self.version, self.generation)


@dataclass
class _Slot:
    result: Result | None = None
    inflight: dict[Key, asyncio.Task[Result]] = field(default_factory=dict)
    publisher: asyncio.Task[None] | None = None
    published_nonempty: bool = False
    published: bool = False


def _newer(a: Key, b: Key) -> bool:
    return (a[1], -1 if a[0] is None else a[0]) > (b[1], -1 if b[0] is None else b[0])


class AnalysisService:
    """The per-server analysis scheduler and cache (see the module docstring)."""

    def __init__(
        self,
        snapshot: Callable[[str], Snapshot | None],
        publish: Publisher | None = None,
        *,
        analyzers: Mapping[DocumentKind, AnalyzerSource] | None = None,
        settings: Settings | None = None,
        max_workers: int = 2,
        request_timeout: float = 10.0,
    ) -> None:
        self._snapshot = snapshot
        self.publisher: Publisher = publish or (lambda _uri, _version, _found: None)
        """Sends diagnostics to the editor; set by `handlers.diagnostics`."""
        self._sources: dict[DocumentKind, AnalyzerSource] = dict(
            DEFAULT_ANALYZERS if analyzers is None else analyzers
        )
        self._custom = analyzers is not None
        self._resolved: dict[DocumentKind, Analyzer | None] = {}
        # One lock per kind: importing the manifest analyser must not hold up the first Dockerfile.
        self._resolve_locks = {kind: threading.Lock() for kind in DocumentKind}
        self._settings = settings or Settings()
        self._generation = 0
        self._slots: dict[str, _Slot] = {}
        self._executor: ThreadPoolExecutor | None = None
        self._max_workers = max_workers
        self.request_timeout = request_timeout
        self.analyses_run = 0
        """How many analyser calls have run (all URIs), for the debug log."""
        self._too_big_logged: set[str] = set()

    # -- settings

    @property
    def settings(self) -> Settings:
        return self._settings

    def set_settings(self, settings: Settings) -> bool:
        """Use `settings` from now on; True (and every cached result outdated) if they differ from the current
        ones."""
        if settings == self._settings:
            return False
        self._settings = settings
        self._generation += 1
        return True

    # -- scheduling

    def schedule(self, uri: str) -> None:
        """Make sure diagnostics for the current version of `uri` will be published (call on the event
        loop)."""
        slot = self._slots.setdefault(uri, _Slot())
        if slot.publisher is not None and not slot.publisher.done():
            return  # the running publisher re-checks the version after its analysis: this change is covered
        slot.publisher = asyncio.get_running_loop().create_task(self._publish_loop(uri, slot))
        slot.publisher.add_done_callback(self._log_task_failure)

    def refresh(self, uris: Sequence[str]) -> None:
        """Files on disk that `uris` were analysed with changed (a compose file's Dockerfile): analyse them
        again and publish. Every cached result is outdated (as by a settings change); other documents are
        analysed again only when next asked."""
        if not uris:
            return
        self._generation += 1
        for uri in uris:
            self.schedule(uri)

    def forget(self, uri: str) -> bool:
        """The document was closed: stop its work and drop its cache. True if diagnostics were ever published
        for it."""
        slot = self._slots.pop(uri, None)
        if slot is None:
            return False
        if slot.publisher is not None:
            slot.publisher.cancel()
        return slot.published

    def cached(self, uri: str) -> Result | None:
        """The latest finished result for `uri`, whatever its version (non-blocking; may be stale)."""
        slot = self._slots.get(uri)
        return slot.result if slot else None

    async def get(self, uri: str) -> Result | None:
        """The result for the current version of open document `uri` (None if not open, or on timeout)."""
        snap = self._snapshot(uri)
        if snap is None:
            return None
        try:
            return await asyncio.wait_for(self._result_for(snap), self.request_timeout)
        except TimeoutError:
            log.warning(
                "analysis of %s (version %s) took longer than %.0f s", uri, snap.version, self.request_timeout
            )
            return None

    def provide(self, kind: DocumentKind, analyzer: Analyzer) -> None:
        """A handler module's analyser for `kind` (one that needs the server, e.g. to read files beside the
        document), unless the analysers were given when this service was made (tests)."""
        if not self._custom:
            self._sources[kind] = analyzer
            self._resolved.pop(kind, None)

    def load_analyzers(self) -> None:
        """Import every analyser now (blocking; call it from a worker thread when the server is idle).

        The first document of a kind would otherwise pay for the import (tens of milliseconds).
        """
        for kind in self._sources:
            try:
                self._analyzer(kind)
            except Exception:
                log.exception("loading the %s analyser failed", kind.value)

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._max_workers, thread_name_prefix="debugbox-analysis")
        return self._executor

    def shutdown(self) -> None:
        for slot in self._slots.values():
            if slot.publisher is not None:
                slot.publisher.cancel()
        self._slots.clear()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    # -- internals

    @staticmethod
    def _log_task_failure(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("publishing diagnostics failed", exc_info=exc)

    async def _publish_loop(self, uri: str, slot: _Slot) -> None:
        while True:
            snap = self._snapshot(uri)
            if snap is None or self._slots.get(uri) is not slot:
                return  # closed meanwhile
            result = await self._result_for(snap)
            now = self._snapshot(uri)
            if now is None or self._slots.get(uri) is not slot:
                return
            if (now.version, self._generation) != result.key:
                continue  # the document or the settings changed while we worked: analyse the newest state
            if result.kind is DocumentKind.OTHER and not slot.published_nonempty:
                return  # never published anything for this URI: nothing to say, nothing to clear
            self.publisher(uri, result.version, result.diagnostics)
            slot.published = True
            slot.published_nonempty = bool(result.diagnostics)
            return

    def _result_for(self, snap: Snapshot) -> asyncio.Future[Result]:
        slot = self._slots.setdefault(snap.uri, _Slot())
        key: Key = (snap.version, self._generation)
        if slot.result is not None and slot.result.key == key:
            done: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
            done.set_result(slot.result)
            return done
        task = slot.inflight.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._compute(snap, key, slot))
            slot.inflight[key] = task
            task.add_done_callback(lambda _t: slot.inflight.pop(key, None))
        # Shielded: one waiter giving up (a cancelled request, a timeout) must not cancel the work others
        # await.
        return asyncio.shield(task)

    async def _compute(self, snap: Snapshot, key: Key, slot: _Slot) -> Result:
        previous = slot.result.analysis if slot.result is not None else None
        settings = self._settings
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self._pool(), self._analyse, snap, key[1], settings, previous)
        if slot.result is None or _newer(result.key, slot.result.key):
            slot.result = result
        return result

    def _analyzer(self, kind: DocumentKind) -> Analyzer | None:
        with self._resolve_locks[kind]:
            if kind in self._resolved:
                return self._resolved[kind]
            source = self._sources.get(kind)
            analyzer: Analyzer | None = None
            if isinstance(source, str):
                try:
                    analyzer = importlib.import_module(source).analyze
                except ModuleNotFoundError as exc:
                    if exc.name is None or not source.startswith(exc.name):
                        raise
                    log.info("no analyser for %s documents yet (%s is not installed)", kind.value, source)
            else:
                analyzer = source
            self._resolved[kind] = analyzer
            return analyzer

    def _analyse(
        self, snap: Snapshot, generation: int, settings: Settings, previous: Analysis | None
    ) -> Result:
        """Runs in a worker thread; never raises."""
        started = time.perf_counter()
        kind = DocumentKind.OTHER
        try:
            kind = kind_of(snap.uri, snap.text, snap.language_id)
            if kind is DocumentKind.OTHER:
                return Result(snap.uri, snap.version, generation, kind, None)
            if len(snap.text) > MAX_ANALYSED_CHARS:
                if snap.uri not in self._too_big_logged:
                    self._too_big_logged.add(snap.uri)
                    log.warning(
                        "%s has %d characters; not analysing documents that large", snap.uri, len(snap.text)
                    )
                return Result(snap.uri, snap.version, generation, kind, None)
            analyzer = self._analyzer(kind)
            if analyzer is None:
                return Result(snap.uri, snap.version, generation, kind, None)
            self.analyses_run += 1
            analysis = analyzer(snap.uri, snap.text, settings, previous)
            diagnostics = tuple(analysis.diagnostics())
        except Exception:
            log.exception("analysing %s (version %s) failed; no results for it", snap.uri, snap.version)
            return Result(
                snap.uri, snap.version, generation, kind, None, seconds=time.perf_counter() - started
            )
        seconds = time.perf_counter() - started
        log.debug(
            "analysed %s v%s (%s) in %.1f ms (analysis #%d)",
            snap.uri,
            snap.version,
            kind.value,
            seconds * 1000,
            self.analyses_run,
        )
        return Result(snap.uri, snap.version, generation, kind, analysis, diagnostics, seconds)
