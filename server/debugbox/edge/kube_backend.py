"""The Kubernetes backend of the live-target model: a manifest's (or the namespace's) pods, and plans.

Plugs into `core/targets/model.py` under the runtime name `kubernetes` with the reference prefixes `pod/`
(`pod/NAME[/CONTAINER]`, namespace and context from the settings, which the CLI's `-n`/`--context` override)
and `k8s://` (target IDs: `k8s://CONTEXT/NAMESPACE/POD/CONTAINER`, the context percent-encoded, so a listing's
target is opened in the cluster it was listed from). It is never asked for a plain container name.

The edge work is here: the kubeconfig, and the cluster through `KubeClient`. A manifest's workloads arrive
as typed `core.kubernetes.workloads.Workload`s (from the editor's buffer, or the file the CLI read); this
module never parses a manifest. Decisions (which pods a workload owns, strategy, profile, argv) are the core's
pure functions.

Size: just over 400 lines: it is the one place that turns every fact the decision asks for into API calls
(pods, namespaces, access reviews, dry runs, copy names).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from debugbox.core.errors import InvalidTarget, RuntimeProblem, StrategyUnavailable, TargetNotFound
from debugbox.core.images import classify_image
from debugbox.core.settings import Settings, toolbox_image_for
from debugbox.core.targets import consent, identity, names, pod_facts, pod_strategy, preflight
from debugbox.core.targets.model import DebugPlan, PlanOptions, Target
from debugbox.edge import kube_session
from debugbox.edge.backends import register_backend
from debugbox.edge.kube_client import EphemeralRefused, KubeClient, KubeForbidden
from debugbox.edge.kubeconfig import KubeconfigError, KubeContext, kubeconfig_paths, load_kubeconfig

if (
    TYPE_CHECKING
):  # a type only: importing it would load the manifest analysers (lsprotocol) for every CLI call
    from debugbox.core.kubernetes.workloads import Workload

log = logging.getLogger(__name__)

RUNTIME = "kubernetes"
ID_PREFIX = "k8s://"


def checked_pod(obj: Any) -> pod_facts.PodFacts:
    """PodFacts from an API answer, its names checked like user input: they go into kubectl argvs."""
    pod = pod_facts.PodFacts.from_json(obj)
    source = f"the API server (pod {pod.name[:80]!r})"
    names.from_answer(pod.namespace, lambda n: names.validate_label(n, "namespace"), source)
    names.from_answer(pod.name, names.validate_pod_name, source)
    for container in (
        *(c.name for c in pod.containers),
        *pod.init_containers,
        *(e.name for e in pod.ephemeral),
    ):
        names.from_answer(container, lambda n: names.validate_label(n, "container"), source)
    return pod


def checked_pods(objs: Iterable[Any]) -> list[pod_facts.PodFacts]:
    """`checked_pod` for a listing: a pod with an unusable name is left out (with a warning), not the list."""
    pods = []
    for obj in objs:
        try:
            pods.append(checked_pod(obj))
        except InvalidTarget as exc:
            log.warning("%s; that pod is left out", exc)
    return pods


def target_id(context: str, namespace: str, pod: str, container: str) -> str:
    return f"{ID_PREFIX}{quote(context, safe='')}/{namespace}/{pod}/{container}"


def parse_ref(ref: str) -> tuple[str | None, str | None, str, str | None]:
    """(context, namespace, pod, container) from `NAME[/CONTAINER]` or an ID's `CTX/NS/POD/CONTAINER`."""
    parts = ref.split("/")
    if len(parts) == 4:
        ctx, ns, pod, name = parts
        container = names.validate_label(name, "container") if name else None
        return unquote(ctx), names.validate_label(ns, "namespace"), names.validate_pod_name(pod), container
    if len(parts) in (1, 2) and parts[0]:
        container = names.validate_label(parts[1], "container") if len(parts) == 2 else None
        return None, None, names.validate_pod_name(parts[0]), container
    raise InvalidTarget(
        f"{ref!r} is not pod/NAME[/CONTAINER] or a {ID_PREFIX}CONTEXT/NAMESPACE/POD/CONTAINER id"
    )


class KubeBackend:
    runtime = RUNTIME

    def __init__(
        self,
        settings: Settings,
        *,
        kubectl: str = "kubectl",
        config_paths: Sequence[Path] | None = None,
    ) -> None:
        self.settings = settings
        self.kubectl = kubectl
        self.config_paths = list(config_paths) if config_paths is not None else kubeconfig_paths()
        self._clients: dict[str, KubeClient] = {}
        self._pods: dict[str, dict[str, Any]] = {}
        """Target ID → the pod's JSON as `resolve` read it (`kube_plan` uses it instead of reading again)."""
        self._preferred = PlanOptions(preferred=settings.strategy)
        """What a listing recommends follows the plan's decision (with the preferred strategy)."""

    # --- edge helpers ---

    def present(self) -> bool:
        return any(p.is_file() for p in self.config_paths)

    def context(self, name: str | None = None) -> KubeContext:
        return load_kubeconfig(self.config_paths).context(name or self.settings.kubernetes.context)

    def client(self, context: KubeContext) -> KubeClient:
        if context.name not in self._clients:
            self._clients[context.name] = KubeClient(context, self.settings.kubernetes.timeout_seconds)
        return self._clients[context.name]

    def namespace_for(self, context: KubeContext, manifest_namespace: str | None = None) -> str:
        return pod_facts.effective_namespace(
            manifest_namespace, self.settings.kubernetes.namespace, context.namespace
        )

    # --- targets ---

    def _targets(
        self,
        context: KubeContext,
        pod: pod_facts.PodFacts,
        related_reason: str | None = None,
        access: preflight.Access | None = None,
    ) -> Iterator[Target]:
        restarts = sum(c.restarts for c in pod.containers)
        for c in pod.containers:
            strategies, recommended, ways = self.container_ways(pod, c, access)
            yield Target(
                id=target_id(context.name, pod.namespace, pod.name, c.name),
                runtime=RUNTIME,
                name=f"{pod.name}/{c.name}",
                image=c.image,
                status=pod.phase.lower(),
                created=pod.created,
                related=related_reason is not None,
                related_reason=related_reason,
                strategies=strategies,
                recommended=recommended,
                labels=dict(pod.labels),
                extra={
                    "context": context.name,
                    "namespace": pod.namespace,
                    "pod": pod.name,
                    "container": c.name,
                    "containers": [x.name for x in pod.containers],
                    "phase": pod.phase,
                    "containerState": c.state,
                    "restarts": c.restarts,
                    "podRestarts": restarts,
                    "ephemeralContainers": [e.to_json() for e in pod.ephemeral],
                    "owner": pod.owner,
                    **({"ways": ways} if access is not None else {}),
                },
            )

    def container_ways(
        self, pod: pod_facts.PodFacts, c: pod_facts.ContainerState, access: preflight.Access | None
    ) -> tuple[tuple[str, ...], str | None, list[dict[str, Any]]]:
        """(open strategies, the recommended one, every way in with why not) from what a listing knows."""
        facts = self._listing_facts(c, access)
        ways = [w.to_json() for w in pod_strategy.preflight_ways(pod, c, facts)]
        strategies = pod_strategy.available_strategies(pod, c, facts)
        try:
            recommended: str | None = pod_strategy.decide_strategy(pod, c, facts, self._preferred).strategy
        except RuntimeProblem:
            recommended = None  # nothing to debug until it runs (or RBAC closes every way)
        return strategies, recommended, ways

    @staticmethod
    def _listing_facts(
        c: pod_facts.ContainerState, access: preflight.Access | None = None
    ) -> pod_facts.ClusterFacts:
        image = classify_image(c.image) if c.image else None
        return pod_facts.ClusterFacts(image_has_shell=image.has_shell if image else None, access=access)

    def namespace_access(
        self, context: KubeContext, pods: Sequence[pod_facts.PodFacts], *, skip: Sequence[str] = ()
    ) -> dict[str, preflight.Access]:
        """The preflight for a listing: per namespace, one SelfSubjectAccessReview per permission any of its
        pods' candidate ways (but those in `skip`) needs (RBAC is per namespace here: debugbox never asks for
        named pods)."""
        wanted: dict[str, set[preflight.Permission]] = {}
        for pod in pods:
            for c in pod.containers:
                ways = [
                    w
                    for w in pod_strategy.candidate_strategies(pod, c, self._listing_facts(c))
                    if w not in skip
                ]
                wanted.setdefault(pod.namespace, set()).update(preflight.permissions_to_ask(ways))
        client = self.client(context)
        if not wanted:
            return {}
        with ThreadPoolExecutor(max_workers=min(8, len(wanted)), thread_name_prefix="debugbox-kube") as pool:
            answers = pool.map(lambda ns: client.access_review(ns, sorted(wanted[ns])), list(wanted))
            return dict(zip(list(wanted), answers, strict=True))

    def pods_of_workloads(
        self, context: KubeContext, workloads: Sequence[Workload]
    ) -> list[tuple[Workload, list[pod_facts.PodFacts]]]:
        """Each workload with its pods: one LIST per distinct (namespace, selector), the LISTs in parallel so
        a manifest of many workloads costs one round trip (and at most one timeout), not one each. A workload
        that can own no pod (no selector) costs no request."""
        client = self.client(context)
        keyed = []
        for w in workloads:
            ns = names.validate_label(self.namespace_for(context, w.namespace), "namespace")
            keyed.append((w, (ns, *w.server_selector())))
        keys = list(dict.fromkeys(key for _, key in keyed if key[1:] != (None, None)))

        def fetch(key: tuple[str, str | None, str | None]) -> list[pod_facts.PodFacts]:
            return checked_pods(client.list_pods(*key))

        with ThreadPoolExecutor(
            max_workers=min(8, len(keys) or 1), thread_name_prefix="debugbox-kube"
        ) as pool:
            found = dict(zip(keys, pool.map(fetch, keys), strict=True))
        return [(w, [p for p in found.get(key, []) if w.owns(p.name, p.labels)]) for w, key in keyed]

    def list_targets(
        self, *, probe: bool = True, document: str | None = None, workloads: Sequence[Workload] = ()
    ) -> list[Target]:
        """The pods of `workloads` (related, with the reason), or every pod of the namespace without any."""
        context = self.context()
        if not workloads:
            ns = self.namespace_for(context)
            pods = checked_pods(self.client(context).list_pods(names.validate_label(ns, "namespace")))
            access = self.namespace_access(context, pods) if probe else {}
            return [t for p in pods for t in self._targets(context, p, None, access.get(p.namespace))]
        targets: list[Target] = []
        missing: list[str] = []
        seen: set[str] = set()
        source = f" in {Path(document).name}" if document else ""
        found = self.pods_of_workloads(context, workloads)
        access = self.namespace_access(context, [p for _, ps in found for p in ps]) if probe else {}
        for w, pods in found:
            if not pods:
                missing.append(f"{w.describe()} in namespace {self.namespace_for(context, w.namespace)}")
            for pod in pods:
                reason = f"pod of {w.describe()}{source}"
                for t in self._targets(context, pod, reason, access.get(pod.namespace)):
                    if t.id not in seen:
                        seen.add(t.id)
                        targets.append(t)
        if not targets:
            raise TargetNotFound(f"no running pods match {'; '.join(missing)} (context {context.name})")
        return targets

    def resolve(self, ref: str) -> Target:
        ctx_name, ns, pod_name, container = parse_ref(ref)
        context = self.context(ctx_name)
        namespace = names.validate_label(ns or self.namespace_for(context), "namespace")
        raw = self.client(context).read_pod(namespace, pod_name)
        pod = checked_pod(raw)
        chosen = pod.container(container)
        target = next(t for t in self._targets(context, pod) if t.extra["container"] == chosen.name)
        self._pods[target.id] = raw
        return target

    # --- plans ---

    def plan(self, target: Target, options: PlanOptions) -> DebugPlan:
        return self.kube_plan(target, options).plan

    def kube_plan(self, target: Target, options: PlanOptions) -> pod_strategy.KubePlan:
        """The plan plus, for copies, the argv that deletes the copy again."""
        context = self.context(str(target.extra.get("context") or "") or None)
        client = self.client(context)
        namespace, pod_name = str(target.extra["namespace"]), str(target.extra["pod"])
        toolbox = toolbox_image_for(self.settings, context.name, namespace, options.toolbox_image)
        options = replace(options, toolbox_image=toolbox.image)
        raw = self._pods.pop(target.id, None) or client.read_pod(namespace, pod_name)
        pod = checked_pod(raw)
        container = pod.container(str(target.extra.get("container") or "") or None)
        image_info = classify_image(container.image) if container.image else None
        ns_labels = client.namespace_labels(namespace) or {}
        cluster = pod_facts.ClusterFacts(
            kubectl=self.kubectl,
            context=context.name,
            request_timeout=self.settings.kubernetes.timeout_seconds,
            psa_level=ns_labels.get(pod_facts.PSA_ENFORCE_LABEL),
            image_has_shell=image_info.has_shell if image_info else None,
            image_shell=(image_info.shell or "") if image_info else "",
        )
        forbidden: KubeForbidden | None = None
        asked: set[str] = set()
        try:
            # The core decides; this gathers exactly the facts the decision asks for, then asks again.
            decision = pod_strategy.decide_strategy(pod, container, cluster, options)
            while decision.needs:
                for need in decision.needs:
                    if need in asked:  # each answer changes the facts, so a need never comes back
                        raise AssertionError(f"strategy decision asked twice for {need}")
                    asked.add(need)
                    if need == pod_strategy.NEEDS_ACCESS:
                        cluster = self._ask_access(client, pod, container, cluster, options)
                    elif need == pod_strategy.NEEDS_ADMISSION:
                        cluster, forbidden = self._ask_ephemeral(
                            client, raw, pod, container.name, cluster, options
                        )
                    else:
                        cluster = self._with_existing_copies(client, pod, cluster)
                decision = pod_strategy.decide_strategy(pod, container, cluster, options)
        except StrategyUnavailable:
            if forbidden is not None:
                raise forbidden from None  # RBAC said no: keep the verb and resource to ask for
            raise
        kplan = pod_strategy.build_plan(
            pod,
            container.name,
            cluster,
            options,
            profile_setting=self.settings.kubernetes.profile,
            allow_privileged=self.settings.allow_privileged,
            target_id=target.id,
        )
        # --- hooks: a copy only when chosen (consent.py); identity and what to watch (kube_session.py) ---
        fallback = pod_strategy.rbac_fallback(pod, container, cluster, kplan.plan.strategy, options)
        if kplan.plan.strategy == "copy":
            try:
                consent.require_consent(
                    "copy",
                    options.strategy,
                    pod=pod.name,
                    namespace=pod.namespace,
                    copy_name=pod_strategy.copy_name_for(pod, cluster.existing_pods or frozenset()),
                    why=(fallback[0] if fallback else pod_strategy.copy_reason(pod, container.name, cluster))
                    or "",
                    cleanup=kplan.cleanup,
                )
            except consent.CopyNeedsConsent as exc:
                if fallback is None:
                    raise
                raise consent.CopyNeedsConsent(f"{exc}\n{fallback[1]}", exc.copy_name, exc.cleanup) from None
        if fallback is not None:  # RBAC closed a better way: say so (every front end shows the warning)
            why, ask = fallback
            plan = kplan.plan
            warning = f"{why}; using {plan.strategy}.\n{ask}"
            kplan = replace(kplan, plan=replace(plan, warning=warning, notes=(*plan.notes, f"{why}.")))
        return kube_session.finish(kplan, raw, container.name, cluster, options, self.settings, toolbox.fix())

    def _ask_access(
        self,
        client: KubeClient,
        pod: pod_facts.PodFacts,
        container: pod_facts.ContainerState,
        cluster: pod_facts.ClusterFacts,
        options: PlanOptions,
    ) -> pod_facts.ClusterFacts:
        """The preflight: SelfSubjectAccessReviews for what the candidate ways need; on a denial, also who
        the user is (for the RoleBinding to ask for)."""
        access = client.access_review(
            pod.namespace, pod_strategy.access_questions(pod, container, cluster, options)
        )
        user = client.who_am_i() if not all(access.values()) else ""
        return replace(cluster, access=access, user=user)

    def _ask_ephemeral(
        self,
        client: KubeClient,
        raw: dict[str, Any],
        pod: pod_facts.PodFacts,
        container: str,
        cluster: pod_facts.ClusterFacts,
        options: PlanOptions,
    ) -> tuple[pod_facts.ClusterFacts, KubeForbidden | None]:
        """Dry-run the PATCH kubectl would send; the answer says whether ephemeral will work."""
        name, profile = pod_strategy.new_debug_container(
            pod,
            container,
            cluster,
            options,
            profile_setting=self.settings.kubernetes.profile,
            allow_privileged=self.settings.allow_privileged,
        )
        spec = pod_strategy.ephemeral_container_spec(name, options.toolbox_image, container, profile)
        spec = identity.apply_custom(spec, identity.debug_identity(raw, container, profile).custom)
        try:
            client.dry_run_ephemeral(pod.namespace, pod.name, spec)
        except KubeForbidden as exc:
            return replace(cluster, ephemeral="forbidden", ephemeral_message=str(exc)), exc
        except EphemeralRefused as exc:
            return replace(cluster, ephemeral=exc.kind, ephemeral_message=str(exc)), None
        return replace(cluster, ephemeral="ok"), None

    def _with_existing_copies(
        self, client: KubeClient, pod: pod_facts.PodFacts, cluster: pod_facts.ClusterFacts
    ) -> pod_facts.ClusterFacts:
        taken: set[str] = set()
        while True:
            name = pod_strategy.copy_name_for(pod, taken)
            if not client.pod_exists(pod.namespace, name) or len(taken) >= 20:
                return replace(cluster, existing_pods=frozenset(taken))
            taken.add(name)


def _factory(settings: Settings) -> KubeBackend:
    return KubeBackend(settings)


register_backend(RUNTIME, _factory, prefixes=("pod/", ID_PREFIX), default=False)

__all__ = ["KubeBackend", "KubeconfigError", "parse_ref", "target_id"]
