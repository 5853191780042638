"""Code lens "Debug pod…" on each container `name` of a manifest whose pods are running.

Like the Dockerfile lens, the lens request never waits for the cluster. `PodWatch` (a `lens_watch.LensWatch`)
keeps, in the background (every `lens_watch.REFRESH_SECONDS`, starting with the first manifest lens request),
the running pods of every workload a lens was asked for, and asks the editor to re-request lenses when they
change. Nothing happens without a kubeconfig, and the kubernetes client is imported only on the first refresh,
never at server start.

The lens runs `debugbox.openDebugTerminal` on the first running pod of that workload for that container; the
plan then picks exec, reattach, ephemeral or copy (see `core/targets/pod_strategy.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from debugbox.core.analysis import LensAnchor
from debugbox.core.wire import Command
from debugbox.lsp.handlers.lens_watch import LensWatch, register_lens_provider
from debugbox.lsp.server import DebugboxLanguageServer

if TYPE_CHECKING:
    from debugbox.core.kubernetes.workloads import Workload

log = logging.getLogger(__name__)

PURPOSE = "k8s-container"

#: A workload's running pods: (target ID prefix `k8s://CTX/NS/POD/`, pod name, running container names) per pod.
RunningPods = tuple[tuple[str, str, tuple[str, ...]], ...]


class PodWatch(LensWatch["Workload", None, RunningPods]):
    """Running pods (as target IDs per container) of the workloads lenses were asked for.

    The keys are the typed workloads of the lens anchors (from the buffer as analysed); `answers` maps each
    to its `RunningPods`.
    """

    WHAT = "running pods"

    def __init__(self, ls: DebugboxLanguageServer) -> None:
        super().__init__(ls)
        self._backend: Any = None
        """The KubeBackend of the current settings (imported lazily, with the watch's first refresh)."""

    def _timeout(self) -> float:
        return self.ls.settings.kubernetes.timeout_seconds * 2 + 1.0

    def _compute(self) -> dict[Workload, RunningPods]:
        from debugbox.core.errors import RuntimeProblem
        from debugbox.edge.kube_backend import KubeBackend, target_id

        settings = self.ls.settings
        if self._backend is None or self._backend.settings is not settings:
            # Kept across refreshes: its client's connections are reused.
            self._backend = KubeBackend(settings)
        backend = self._backend
        if not backend.present():
            return {}
        workloads = list(self.wanted)
        try:
            context = backend.context()
            found = backend.pods_of_workloads(context, workloads)
        except RuntimeProblem as exc:
            log.info("no pod lenses: %s", exc)
            return {}
        return {
            workload: tuple(
                (
                    target_id(context.name, p.namespace, p.name, ""),
                    p.name,
                    tuple(c.name for c in p.containers),
                )
                for p in pods
                if p.phase == "Running"
            )
            for workload, pods in found
        }


def lenses(
    ls: DebugboxLanguageServer, watch: PodWatch, uri: str, anchor: LensAnchor
) -> Sequence[lsp.CodeLens]:
    from debugbox.core.kubernetes.workloads import Workload, WorkloadError  # a manifest is open: loaded

    data = anchor.data
    container = data.get("container")
    if not isinstance(container, str) or data.get("init"):
        return []  # init containers have ended by the time a pod runs
    try:
        workload = Workload.from_json(data.get("workload"))
    except WorkloadError as exc:  # the analyser wrote it: a mismatch is a bug, not the user's problem
        log.warning("lens anchor without a usable workload: %s", exc)
        return []
    watch.ensure_running()
    watch.want(workload, None, uri)
    running = [(prefix, pod) for prefix, pod, names in watch.answers.get(workload, ()) if container in names]
    if not running:
        return []
    prefix = running[0][0]
    title = "Debug pod…" if len(running) == 1 else f"Debug pod… ({len(running)} running)"
    args = {"target": prefix + container, "uri": uri}
    command = lsp.Command(title=title, command=Command.OPEN_DEBUG_TERMINAL.value, arguments=[args])
    return [lsp.CodeLens(range=anchor.range, command=command, data={"pods": [p for _, p in running]})]


def register(server: DebugboxLanguageServer) -> None:
    register_lens_provider(server, PURPOSE, PodWatch, lenses)
