"""Code lens "Debug pod…" on each container `name` of a manifest whose pods are running.

Like the Dockerfile lens, the lens request never waits for the cluster. `PodWatch` keeps, in the background
(every `REFRESH_SECONDS`, starting with the first manifest lens request), the running pods of every workload a
lens was asked for, and asks the editor to re-request lenses when they change. Nothing happens without a
kubeconfig, and the kubernetes client is imported only on the first refresh, never at server start.

The lens runs `debugbox.openDebugTerminal` on the first running pod of that workload for that container; the
plan then picks exec, reattach, ephemeral or copy (see `runtime/kube_plans.py`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from lsprotocol import types as lsp

from debugbox.features import LensAnchor
from debugbox.protocol import Command
from debugbox.server import DebugboxLanguageServer

log = logging.getLogger(__name__)

PURPOSE = "k8s-container"
REFRESH_SECONDS = 10.0

#: A workload as the lens anchors describe it: (kind, name, namespace, selector text, template labels text).
WorkloadKey = tuple[str, str, str, str, str]


def _key(data: dict[str, Any]) -> WorkloadKey:
    return (
        str(data.get("kind") or ""),
        str(data.get("name") or ""),
        str(data.get("namespace") or ""),
        repr(data.get("selector")),
        repr(data.get("templateLabels")),
    )


class PodWatch:
    """Running pods (as target IDs per container) of the workloads lenses were asked for."""

    def __init__(self, ls: DebugboxLanguageServer) -> None:
        self.ls = ls
        self.wanted: dict[WorkloadKey, dict[str, Any]] = {}
        self.uris: dict[WorkloadKey, set[str]] = {}
        """Manifests each workload was asked for; a workload is dropped once all of them are closed."""
        self.pods: dict[WorkloadKey, tuple[tuple[str, str, tuple[str, ...]], ...]] = {}
        """Workload → (target ID prefix `k8s://CTX/NS/POD/`, pod name, running container names) per pod."""
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._backend: Any = None
        """The KubeBackend of the current settings (imported lazily, with the watch's first refresh)."""

    def ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop())

    def want(self, data: dict[str, Any], uri: str) -> WorkloadKey:
        key = _key(data)
        self.uris.setdefault(key, set()).add(uri)
        if key not in self.wanted:
            self.wanted[key] = data
            self._wake.set()
        return key

    def forget_closed(self) -> None:
        """Only workloads of manifests still open are worth asking the cluster about."""
        for key, uris in list(self.uris.items()):
            still_open = {u for u in uris if self.ls.open_document(u) is not None}
            self.uris[key] = still_open
            if not still_open:
                del self.uris[key]
                self.wanted.pop(key, None)
                self.pods.pop(key, None)

    def invalidate(self) -> None:
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception:  # the watch must outlive any one bad refresh
                log.exception("refreshing the running pods failed")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), REFRESH_SECONDS)
            except TimeoutError:
                pass

    def _compute(self) -> dict[WorkloadKey, tuple[tuple[str, str, tuple[str, ...]], ...]]:
        from debugbox.runtime import kube_plans as kp
        from debugbox.runtime.errors import RuntimeProblem
        from debugbox.runtime.kube_backend import KubeBackend, target_id

        settings = self.ls.settings
        if self._backend is None or self._backend.settings is not settings:
            self._backend = KubeBackend(
                settings
            )  # kept across refreshes: its client's connections are reused
        backend = self._backend
        if not backend.present():
            return {}
        keys, workloads = [], []
        for key, data in list(self.wanted.items()):
            workload = kp.make_workload(
                key[0], key[1], data.get("namespace"), data.get("selector"), data.get("templateLabels"), ()
            )
            if workload is not None:
                keys.append(key)
                workloads.append(workload)
        try:
            context = backend.context()
            found = backend.pods_of_workloads(context, workloads)
        except RuntimeProblem as exc:
            log.info("no pod lenses: %s", exc)
            return {}
        out = {}
        for key, (_, pods) in zip(keys, found, strict=True):
            out[key] = tuple(
                (
                    target_id(context.name, p.namespace, p.name, ""),
                    p.name,
                    tuple(c.name for c in p.containers),
                )
                for p in pods
                if p.phase == "Running"
            )
        return out

    async def refresh(self) -> None:
        self.forget_closed()
        if not self.wanted:
            return
        timeout = self.ls.settings.kubernetes.timeout_seconds * 2 + 1.0
        fresh = await asyncio.wait_for(asyncio.to_thread(self._compute), timeout)
        if fresh != self.pods:
            self.pods = fresh
            self.ls.refresh_code_lenses()


def lenses(
    ls: DebugboxLanguageServer, watch: PodWatch, uri: str, anchor: LensAnchor
) -> Sequence[lsp.CodeLens]:
    data = anchor.data
    container = data.get("container")
    if not isinstance(container, str) or data.get("init"):
        return []  # init containers have ended by the time a pod runs
    watch.ensure_running()
    key = watch.want(data, uri)
    running = [(prefix, pod) for prefix, pod, names in watch.pods.get(key, ()) if container in names]
    if not running:
        return []
    prefix = running[0][0]
    title = "Debug pod…" if len(running) == 1 else f"Debug pod… ({len(running)} running)"
    args = {"target": prefix + container, "uri": uri}
    command = lsp.Command(title=title, command=Command.OPEN_DEBUG_TERMINAL.value, arguments=[args])
    return [lsp.CodeLens(range=anchor.range, command=command, data={"pods": [p for _, p in running]})]


def register(server: DebugboxLanguageServer) -> None:
    watch: PodWatch | None = None

    def provider(ls: DebugboxLanguageServer, uri: str, anchor: LensAnchor) -> Sequence[lsp.CodeLens]:
        nonlocal watch
        if watch is None:
            watch = PodWatch(ls)
        return lenses(ls, watch, uri, anchor)

    def on_settings(ls: DebugboxLanguageServer) -> None:
        if watch is not None:
            watch.invalidate()

    server.lens_providers[PURPOSE] = provider
    server.settings_listeners.append(on_settings)
