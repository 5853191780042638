"""Code lens "Debug pod…" on each container `name` of a manifest whose pods are running.

Like the Dockerfile lens, the lens request never waits for the cluster. `PodWatch` (a `lens_watch.LensWatch`)
keeps, in the background (every `lens_watch.REFRESH_SECONDS`, starting with the first manifest lens request),
the running pods of every workload a lens was asked for, and asks the editor to re-request lenses when they
change. Its requests are bounded and shared (`core/targets/poll_budget.py`); a workload whose namespace is not
polled gets a lens saying why. The title names the way in a click takes, the tooltip every way and why not.
Nothing happens without a kubeconfig, and the kubernetes client is imported only on the first refresh, never
at server start.

The lens runs `debugbox.openDebugTerminal` on the first running pod of that workload for that container; the
plan then picks exec, reattach, ephemeral or copy (see `core/targets/pod_strategy.py`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from debugbox.core.analysis import LensAnchor
from debugbox.core.targets import poll_budget, preflight
from debugbox.core.wire import Command
from debugbox.lsp.handlers.lens_watch import LensWatch, register_lens_provider
from debugbox.lsp.server import DebugboxLanguageServer

if TYPE_CHECKING:
    from debugbox.core.kubernetes.workloads import Workload

log = logging.getLogger(__name__)

PURPOSE = "k8s-container"

#: One running pod of a workload: (target ID prefix `k8s://CTX/NS/POD/`, pod name, per container: (name, the
#: recommended way in or "", every way in with why not as one line)).
RunningPod = tuple[str, str, tuple[tuple[str, str, str], ...]]


@dataclass(frozen=True)
class PodAnswer:
    """What the lens of a workload shows: its running pods, or why its namespace was not asked about."""

    running: tuple[RunningPod, ...] = ()
    not_polled: str = ""


#: How long the preflight's access reviews of a namespace are reused by the lenses (a click asks again).
ACCESS_TTL_SECONDS = 300.0


class PodWatch(LensWatch["Workload", None, PodAnswer]):
    """Running pods (as target IDs per container) of the workloads lenses were asked for.

    Requests per refresh are bounded and shared (`core/targets/poll_budget.py`): one pod LIST per (context,
    namespace) for every workload of every open manifest, at most `MAX_NAMESPACES` namespaces, back-off per
    namespace after a failure, only the context's own namespace in an untrusted workspace; the preflight's
    access reviews of a namespace are reused for `ACCESS_TTL_SECONDS`.
    """

    WHAT = "running pods"

    def __init__(self, ls: DebugboxLanguageServer) -> None:
        super().__init__(ls)
        self._backend: Any = None
        """The KubeBackend of the current settings (imported lazily, with the watch's first refresh)."""
        self.backoff = poll_budget.Backoff()
        self._access: dict[tuple[str, str], tuple[float, Any]] = {}
        """(context, namespace) → (when asked, the access reviews' answers)."""

    def _timeout(self) -> float:
        # The LISTs run in parallel (one round), then the access reviews (one round per 8 namespaces
        # needing them, each namespace's reviews in parallel).
        rounds = 1 + -(-poll_budget.MAX_NAMESPACES // 8)
        return self.ls.settings.kubernetes.timeout_seconds * rounds + 1.0

    def _compute(self) -> dict[Workload, PodAnswer]:
        from debugbox.core.errors import InvalidTarget, RuntimeProblem
        from debugbox.core.targets import names
        from debugbox.edge.kube_backend import KubeBackend, checked_pods, target_id

        settings = self.ls.settings
        if self._backend is None or self._backend.settings is not settings:
            # Kept across refreshes: its client's connections are reused.
            self._backend = KubeBackend(settings)
            self._access.clear()
        backend = self._backend
        if not backend.present():
            return {}
        try:
            context = backend.context()
        except RuntimeProblem as exc:
            log.info("no pod lenses: %s", exc)
            return {}
        namespace_of: dict[Workload, str] = {}
        for w in self.wanted:
            try:
                namespace_of[w] = names.validate_label(
                    backend.namespace_for(context, w.namespace), "namespace"
                )
            except InvalidTarget:
                continue
        now = time.monotonic()
        plan = poll_budget.plan_poll(
            namespace_of.values(),
            backend.namespace_for(context),
            trusted=self.ls.workspace_trusted,
            backoff=self.backoff,
            context=context.name,
            now=now,
        )
        client = backend.client(context)

        def fetch(ns: str) -> list[Any] | RuntimeProblem:
            try:
                return checked_pods(client.list_pods(ns))
            except RuntimeProblem as exc:
                return exc

        listed: dict[str, list[Any]] = {}
        failed: dict[str, str] = {}
        # All LISTs at once (at most MAX_NAMESPACES): one round trip, so one timeout at worst.
        with ThreadPoolExecutor(max_workers=len(plan.poll) or 1, thread_name_prefix="debugbox-kube") as pool:
            for ns, got in zip(plan.poll, pool.map(fetch, plan.poll), strict=True):
                if isinstance(got, RuntimeProblem):
                    self.backoff.failed((context.name, ns), now, str(got))
                    failed[ns] = f"namespace {ns}: {got}"
                else:
                    self.backoff.succeeded((context.name, ns))
                    listed[ns] = got
        running = {
            w: [p for p in listed.get(ns, []) if p.phase == "Running" and w.owns(p.name, p.labels)]
            for w, ns in namespace_of.items()
        }
        access = self._namespace_access(backend, context, [p for ps in running.values() for p in ps], now)
        out: dict[Workload, PodAnswer] = {}
        for w, ns in namespace_of.items():
            why = plan.skipped.get(ns) or failed.get(ns)
            if why:
                out[w] = PodAnswer(not_polled=why)
                continue
            pods = []
            for p in running[w]:
                containers = []
                for c in p.containers:
                    _, recommended, ways = backend.container_ways(p, c, access.get(ns))
                    containers.append((c.name, recommended or "", preflight.describe(ways)))
                pods.append((target_id(context.name, p.namespace, p.name, ""), p.name, tuple(containers)))
            out[w] = PodAnswer(tuple(pods))
        return out

    def _namespace_access(self, backend: Any, context: Any, pods: list[Any], now: float) -> dict[str, Any]:
        """The preflight's answers per namespace of `pods`, asked again only when older than the TTL."""
        stale = [
            p
            for p in pods
            if now - self._access.get((context.name, p.namespace), (-ACCESS_TTL_SECONDS, None))[0]
            >= ACCESS_TTL_SECONDS
        ]
        if stale:
            try:
                # Not the copy's permissions: a lens click never makes a copy (it must be chosen), so its
                # five reviews per namespace would buy nothing here.
                fresh = backend.namespace_access(context, stale, skip=("copy",))
            except Exception as exc:  # the access reviews are a nicety for the lens: never lose the pods
                log.info("pod lenses without the preflight: %s", exc)
                fresh = {}
            for ns, answers in fresh.items():
                self._access[(context.name, ns)] = (now, answers)
        return {ns: answers for (ctx, ns), (_, answers) in self._access.items() if ctx == context.name}


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
    answer = watch.answers.get(workload)
    if answer is None:
        return []
    if answer.not_polled:
        # Say why there is no "Debug pod…" here; no command: clicking it does nothing.
        note = lsp.Command(title="Debug pod: not polled", command="", tooltip=answer.not_polled)
        return [lsp.CodeLens(range=anchor.range, command=note)]
    running = [
        (prefix, pod, way, ways)
        for prefix, pod, containers in answer.running
        for name, way, ways in containers
        if name == container
    ]
    if not running:
        return []
    prefix, _, way, ways = running[0]
    count = f", {len(running)} running" if len(running) > 1 else ""
    title = f"Debug pod… ({way}{count})" if way else f"Debug pod… (no way in is open{count})"
    args = {"target": prefix + container, "uri": uri}
    command = lsp.Command(
        title=title, command=Command.OPEN_DEBUG_TERMINAL.value, arguments=[args], tooltip=f"Ways in: {ways}"
    )
    return [lsp.CodeLens(range=anchor.range, command=command, data={"pods": [p for _, p, _, _ in running]})]


def register(server: DebugboxLanguageServer) -> None:
    register_lens_provider(server, PURPOSE, PodWatch, lenses)
