"""Kubernetes debugging as pure functions over plain data: pod facts, selectors, strategy, profile and argv.

Nothing here talks to a cluster. The edge (`kube_client.py`, `kube_backend.py`) turns API JSON into
`PodFacts`, asks the one question only the cluster can answer (would an ephemeral container be accepted? a
dry-run PATCH), and hands the answers in here.

The Kubernetes ladder (first that works wins, unless the user asked for one):

1. `exec` — only when the container's image is *known* to have a shell (image knowledge, `classify_image`);
   nothing is probed inside the pod.
2. `reattach` — a debug container of ours (`debugbox-<container>...`) already runs in the pod for this
   container: `kubectl attach` to it instead of piling up another one (ephemeral containers can never be
   removed).
3. `ephemeral` — `kubectl debug --target=C` adds an ephemeral container sharing C's process namespace, with a
   predictable name and a profile that follows the namespace's Pod Security level.
4. `copy` — `kubectl debug --copy-to` when ephemeral containers are unavailable (static/mirror pods, the
   subresource answering 404/422) or the pod is crash-looping. The copy has no labels and must be deleted.

Every argv is a tuple of strings run without a shell; pod, container and namespace names are checked against
the Kubernetes naming rules first, so nothing from a manifest or the cluster can turn into an option.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from debugbox.core.errors import StrategyUnavailable, TargetNotFound, TargetNotRunning
from debugbox.core.targets.model import DebugPlan, PlanOptions
from debugbox.core.targets.names import validate_context, validate_image, validate_label, validate_pod_name

#: Kubernetes strategies, in ladder order.
KUBE_STRATEGIES = ("exec", "reattach", "ephemeral", "copy")
#: Prefix of the debug containers (and copies) debugbox creates, so it can find them again.
DEBUG_PREFIX = "debugbox-"
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"
PSA_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
PROFILES = ("general", "baseline", "restricted", "netadmin", "sysadmin")

# --- facts about pods, from API JSON ---


@dataclass(frozen=True)
class ContainerState:
    name: str
    image: str
    state: str
    """`running`, `waiting`, `terminated` or `unknown` (no status yet)."""
    reason: str = ""
    """E.g. `CrashLoopBackOff` while waiting, `Completed` when terminated."""
    restarts: int = 0
    target: str = ""
    """Ephemeral containers only: `targetContainerName`."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "image": self.image, "state": self.state}
        if self.reason:
            out["reason"] = self.reason
        if self.target:
            out["targetContainerName"] = self.target
        return out


def _state_of(status: Mapping[str, Any] | None) -> tuple[str, str]:
    state = (status or {}).get("state") or {}
    for key in ("running", "waiting", "terminated"):
        if key in state:
            return key, str((state.get(key) or {}).get("reason") or "")
    return "unknown", ""


def _containers(specs: Any, statuses: Any, *, ephemeral: bool = False) -> tuple[ContainerState, ...]:
    by_name = {s.get("name"): s for s in statuses or [] if isinstance(s, Mapping)}
    out = []
    for spec in specs or []:
        if not isinstance(spec, Mapping) or not spec.get("name"):
            continue
        status = by_name.get(spec["name"])
        state, reason = _state_of(status)
        out.append(
            ContainerState(
                name=str(spec["name"]),
                image=str(spec.get("image") or ""),
                state=state,
                reason=reason,
                restarts=int((status or {}).get("restartCount") or 0),
                target=str(spec.get("targetContainerName") or "") if ephemeral else "",
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class PodFacts:
    namespace: str
    name: str
    phase: str
    containers: tuple[ContainerState, ...]
    init_containers: tuple[str, ...] = ()
    ephemeral: tuple[ContainerState, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    created: str = ""
    owner: str = ""
    """`Kind/name` of the controlling owner, if any."""

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> PodFacts:
        meta = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        owners = [o for o in meta.get("ownerReferences") or [] if isinstance(o, Mapping)]
        owner = next((o for o in owners if o.get("controller")), owners[0] if owners else None)
        return cls(
            namespace=str(meta.get("namespace") or ""),
            name=str(meta.get("name") or ""),
            phase=str(status.get("phase") or "Unknown"),
            containers=_containers(spec.get("containers"), status.get("containerStatuses")),
            init_containers=tuple(
                str(c.get("name")) for c in spec.get("initContainers") or [] if c.get("name")
            ),
            ephemeral=_containers(
                spec.get("ephemeralContainers"), status.get("ephemeralContainerStatuses"), ephemeral=True
            ),
            labels={str(k): str(v) for k, v in (meta.get("labels") or {}).items()},
            annotations={str(k): str(v) for k, v in (meta.get("annotations") or {}).items()},
            created=str(meta.get("creationTimestamp") or ""),
            owner=f"{owner.get('kind')}/{owner.get('name')}" if owner else "",
        )

    @property
    def mirror(self) -> bool:
        """A static pod's mirror: the API server rejects ephemeral containers in it."""
        return MIRROR_ANNOTATION in self.annotations

    @property
    def names_taken(self) -> frozenset[str]:
        return frozenset(
            [c.name for c in self.containers] + list(self.init_containers) + [e.name for e in self.ephemeral]
        )

    def container(self, name: str | None) -> ContainerState:
        """The named container, or the default one (kubectl's rule: the annotation, else the first)."""
        if not name:
            name = self.annotations.get(DEFAULT_CONTAINER_ANNOTATION) or (
                self.containers[0].name if self.containers else ""
            )
        for c in self.containers:
            if c.name == name:
                return c
        known = ", ".join(c.name for c in self.containers) or "none"
        if any(e.name == name for e in self.ephemeral):
            raise TargetNotFound(
                f"{name!r} is an ephemeral (debug) container of pod {self.namespace}/{self.name}, not one of "
                f"its containers ({known}); attach to it with strategy reattach on its target instead"
            )
        raise TargetNotFound(f"pod {self.namespace}/{self.name} has no container {name!r} (it has: {known})")

    def crash_looping(self, container: str | None = None) -> bool:
        cs = [c for c in self.containers if container is None or c.name == container]
        return any(c.state == "waiting" and c.reason == "CrashLoopBackOff" for c in cs)


# --- label selectors ---


@dataclass(frozen=True)
class LabelSelector:
    """A `metav1.LabelSelector`: matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist)."""

    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    @classmethod
    def from_json(cls, obj: Any) -> LabelSelector | None:
        """None for a missing or malformed selector (which a real server would reject anyway)."""
        if not isinstance(obj, Mapping):
            return None
        labels = obj.get("matchLabels") or {}
        exprs = obj.get("matchExpressions") or []
        if not isinstance(labels, Mapping) or not isinstance(exprs, list):
            return None
        parsed = []
        for e in exprs:
            if not isinstance(e, Mapping) or e.get("operator") not in (
                "In",
                "NotIn",
                "Exists",
                "DoesNotExist",
            ):
                return None
            values = e.get("values") or []
            parsed.append((str(e.get("key")), str(e["operator"]), tuple(str(v) for v in values)))
        return cls(tuple(sorted((str(k), str(v)) for k, v in labels.items())), tuple(parsed))

    @classmethod
    def of_labels(cls, labels: Mapping[str, str]) -> LabelSelector:
        return cls(tuple(sorted(labels.items())))

    @property
    def empty(self) -> bool:
        return not self.match_labels and not self.match_expressions

    def matches(self, labels: Mapping[str, str]) -> bool:
        if any(labels.get(k) != v for k, v in self.match_labels):
            return False
        for key, op, values in self.match_expressions:
            present = key in labels
            ok = {
                "In": present and labels.get(key) in values,
                "NotIn": not present or labels.get(key) not in values,
                "Exists": present,
                "DoesNotExist": not present,
            }[op]
            if not ok:
                return False
        return True

    def to_query(self) -> str:
        """The `labelSelector` query string (set-based syntax for expressions)."""
        parts = [f"{k}={v}" for k, v in self.match_labels]
        for key, op, values in self.match_expressions:
            if op == "In":
                parts.append(f"{key} in ({','.join(values)})")
            elif op == "NotIn":
                parts.append(f"{key} notin ({','.join(values)})")
            elif op == "Exists":
                parts.append(key)
            else:
                parts.append(f"!{key}")
        return ",".join(parts)


# --- workloads in a manifest ---

_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": (),
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}


@dataclass(frozen=True)
class Workload:
    """One pod-producing object of a manifest, reduced to what finds its running pods."""

    kind: str
    name: str
    namespace: str | None
    containers: tuple[str, ...]
    selector: LabelSelector | None = None
    """Pods it owns: spec.selector (or the template labels / job-name label where there is no selector)."""
    job_prefix: str = ""
    """CronJob without template labels: pods whose `job-name` label starts with `<name>-`."""

    def describe(self) -> str:
        how = f"name {self.name}" if self.kind == "Pod" else f"selector {self.selector_text()}"
        return f"{self.kind} {self.name} ({how})"

    def selector_text(self) -> str:
        if self.selector is not None and not self.selector.empty:
            return self.selector.to_query()
        return f"job-name={self.job_prefix}*" if self.job_prefix else "none"

    def owns(self, pod: PodFacts) -> bool:
        if self.kind == "Pod":
            return pod.name == self.name
        if self.job_prefix and not (self.selector and not self.selector.empty):
            return pod.labels.get("job-name", "").startswith(self.job_prefix)
        return self.selector is not None and not self.selector.empty and self.selector.matches(pod.labels)


def _dig(obj: Any, path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def make_workload(
    kind: str,
    name: str,
    namespace: str | None,
    selector: Any,
    template_labels: Any,
    containers: Sequence[str],
) -> Workload | None:
    """A workload from its parts as written in a manifest (`selector` is `spec.selector` as is)."""
    if kind not in _TEMPLATE_PATHS or not name:
        return None
    labels = (
        {str(k): str(v) for k, v in template_labels.items()} if isinstance(template_labels, Mapping) else {}
    )
    ns = namespace if isinstance(namespace, str) and namespace else None
    chosen: LabelSelector | None = None
    job_prefix = ""
    if kind == "Job":
        given = LabelSelector.from_json(selector)
        # The Job controller labels its pods with job-name (and batch.kubernetes.io/job-name since 1.27).
        chosen = given if given and not given.empty else LabelSelector.of_labels({"job-name": name})
    elif kind == "CronJob":
        # Each run is a Job named <cronjob>-<minutes>; its pods carry the template labels and job-name.
        chosen = LabelSelector.of_labels(labels) if labels else None
        job_prefix = f"{name}-"
    elif kind == "ReplicationController":
        # Its selector is a plain map (defaulting to the template labels), not a LabelSelector.
        plain = selector if isinstance(selector, Mapping) and selector else labels
        chosen = LabelSelector.of_labels({str(k): str(v) for k, v in plain.items()}) if plain else None
    elif kind != "Pod":
        chosen = LabelSelector.from_json(selector)
    return Workload(kind, name, ns, tuple(containers), chosen, job_prefix)


def workload_of(doc: Any) -> Workload | None:
    """The workload a parsed manifest document describes, or None when it has no pod template."""
    if not isinstance(doc, Mapping) or doc.get("kind") not in _TEMPLATE_PATHS:
        return None
    kind = str(doc["kind"])
    template = _dig(doc, _TEMPLATE_PATHS[kind])
    containers = [
        str(c["name"])
        for c in _dig(template, ("spec", "containers")) or []
        if isinstance(c, Mapping) and c.get("name")
    ]
    return make_workload(
        kind,
        str(_dig(doc, ("metadata", "name")) or ""),
        _dig(doc, ("metadata", "namespace")),
        _dig(doc, ("spec", "selector")),
        _dig(template, ("metadata", "labels")),
        containers,
    )


def workloads_of(documents: Iterable[Any]) -> list[Workload]:
    return [w for w in (workload_of(d) for d in documents) if w is not None]


def server_selector(workload: Workload) -> tuple[str | None, str | None]:
    """(labelSelector, fieldSelector) that narrow the LIST for a workload's pods on the server."""
    if workload.kind == "Pod":
        return None, f"metadata.name={workload.name}"
    if workload.selector is not None and not workload.selector.empty:
        return workload.selector.to_query(), None
    return "job-name", None  # CronJob without template labels: any job pod, filtered by prefix here


def effective_namespace(manifest: str | None, setting: str, context: str) -> str:
    """The manifest's namespace, else the `debugbox.kubernetes.namespace` setting, else the context's, else
    `default`."""
    return manifest or setting or context or "default"


# --- strategy choice ---


@dataclass(frozen=True)
class ClusterFacts:
    """What the edge learned from the cluster for one plan, as plain data."""

    kubectl: str = "kubectl"
    context: str = ""
    """Kubeconfig context to pass as --context; empty means kubectl's current context."""
    psa_level: str | None = None
    """The namespace's `pod-security.kubernetes.io/enforce` label, None when unknown or unset."""
    ephemeral: str = "unknown"
    """`ok`, `disabled` (404 from the subresource), `rejected` (422), `forbidden` (403) or `unknown`."""
    ephemeral_message: str = ""
    """The server's words for a refusal, to show the user."""
    image_has_shell: bool | None = None
    image_shell: str = ""
    existing_pods: frozenset[str] = frozenset()
    """Pod names in the namespace that a copy must not take."""


def our_debug_containers(pod: PodFacts, container: str) -> list[ContainerState]:
    """Ephemeral containers debugbox added for `container` (by name prefix and target)."""
    base = debug_container_base(container)
    return [
        e
        for e in pod.ephemeral
        if (e.name == base or e.name.startswith(base[:60] + "-")) and e.target in ("", container)
    ]


def reattachable(pod: PodFacts, container: str) -> ContainerState | None:
    running = [e for e in our_debug_containers(pod, container) if e.state == "running"]
    return running[-1] if running else None


def debug_container_base(container: str) -> str:
    return (DEBUG_PREFIX + container)[:63].rstrip("-")


def unique_name(base: str, taken: Collection[str], limit: int = 63) -> str:
    """`base`, or `base-2`, `base-3`... (shortened to fit `limit`) — the first not in `taken`."""
    if base not in taken:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[: limit - len(suffix)].rstrip("-") + suffix
        if candidate not in taken:
            return candidate
        n += 1


def ephemeral_refusal(pod: PodFacts, cluster: ClusterFacts) -> str | None:
    """Why an ephemeral container can't be added to this pod, or None when it can (or it's not known)."""
    if pod.mirror:
        return "it is a static pod (mirror pod): the API server refuses ephemeral containers in static pods"
    if cluster.ephemeral == "disabled":
        return "this cluster does not serve pods/ephemeralcontainers (the API answered 404; feature disabled)"
    if cluster.ephemeral == "rejected":
        return f"the API server refused the ephemeral container: {cluster.ephemeral_message}"
    return None


def available_strategies(
    pod: PodFacts, container: ContainerState, cluster: ClusterFacts, *, command: bool = False
) -> tuple[str, ...]:
    """Strategies that would work now, best first."""
    out: list[str] = []
    if pod.phase != "Running":
        # A finished pod (a Job's) can't be exec'd or joined, but a copy of it can run again; a Pending
        # one has nothing to debug yet.
        return ("copy",) if pod.phase in ("Failed", "Succeeded") else ()
    crash = pod.crash_looping(container.name)
    if cluster.image_has_shell and container.state == "running":
        out.append("exec")
    if reattachable(pod, container.name) and not command:
        out.append("reattach")
    if ephemeral_refusal(pod, cluster) is None and cluster.ephemeral != "forbidden" and not crash:
        out.append("ephemeral")
    out.append("copy")
    return tuple(out)


def choose_strategy(
    pod: PodFacts,
    container: ContainerState,
    cluster: ClusterFacts,
    requested: str = "auto",
    *,
    command: bool = False,
) -> str:
    available = available_strategies(pod, container, cluster, command=command)
    where = f"pod {pod.namespace}/{pod.name}"
    if requested in ("", "auto"):
        if not available:
            raise TargetNotRunning(f"{where} is {pod.phase}: nothing to debug until it runs")
        return available[0]
    if requested not in KUBE_STRATEGIES:
        raise StrategyUnavailable(
            f"strategy {requested!r} is for containers; pods take one of {', '.join(KUBE_STRATEGIES)}"
        )
    if requested in available:
        return requested
    if pod.phase != "Running":
        raise TargetNotRunning(f"{where} is {pod.phase}: only a copy (strategy copy) can be made of it")
    if requested == "exec":
        if container.state != "running":
            raise StrategyUnavailable(
                f"container {container.name} in {where} is {container.state} ({container.reason})"
            )
        raise StrategyUnavailable(
            f"container {container.name} ({container.image}) is not known to have a shell; use ephemeral"
        )
    if requested == "reattach":
        if command:
            raise StrategyUnavailable(
                "reattach joins a running session and cannot run a command; use ephemeral"
            )
        raise StrategyUnavailable(
            f"no debug container of debugbox runs in {where} for container {container.name}"
        )
    # ephemeral
    if cluster.ephemeral == "forbidden":
        raise StrategyUnavailable(cluster.ephemeral_message)
    if pod.crash_looping(container.name) and ephemeral_refusal(pod, cluster) is None:
        raise StrategyUnavailable(
            f"container {container.name} in {where} is crash-looping: an ephemeral container would lose "
            "its target "
            "on every restart; use copy"
        )
    raise StrategyUnavailable(
        f"no ephemeral container for {where}: {ephemeral_refusal(pod, cluster)}; use copy"
    )


def copy_reason(pod: PodFacts, container: str, cluster: ClusterFacts) -> str | None:
    """Why a copy rather than an ephemeral container (None when nothing rules ephemeral out)."""
    if pod.crash_looping(container):
        return f"container {container} is crash-looping"
    if cluster.ephemeral == "forbidden":
        return cluster.ephemeral_message
    return ephemeral_refusal(pod, cluster)


def choose_profile(requested: str, psa_level: str | None, *, allow_privileged: bool = False) -> str:
    """kubectl's --profile: `auto` follows the namespace's Pod Security level; sysadmin needs
    allowPrivileged."""
    if requested in ("", "auto"):
        # general adds SYS_PTRACE, which baseline and restricted namespaces refuse; their own profiles
        # fit them.
        return {"restricted": "restricted", "baseline": "baseline"}.get(psa_level or "", "general")
    if requested not in PROFILES:
        raise StrategyUnavailable(
            f"unknown kubectl debug profile {requested!r} (one of {', '.join(PROFILES)})"
        )
    if requested == "sysadmin" and not allow_privileged:
        raise StrategyUnavailable(
            "the sysadmin profile runs the debug container privileged; set debugbox.allowPrivileged to use it"
        )
    return requested


#: The securityContext each `kubectl debug --profile` gives an ephemeral container (kubectl 1.37,
#: profiles.go);
#: the dry-run PATCH sends the same, so admission judges what kubectl will really send.
PROFILE_SECURITY_CONTEXT: dict[str, dict[str, Any] | None] = {
    "general": {"capabilities": {"add": ["SYS_PTRACE"]}},
    "baseline": None,
    "restricted": {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    },
    "netadmin": {"capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}},
    "sysadmin": {"privileged": True},
}


def ephemeral_container_spec(name: str, image: str, target: str, profile: str) -> dict[str, Any]:
    """The ephemeral container `kubectl debug -c NAME --image=IMAGE --target=TARGET --profile=P -it` adds."""
    spec: dict[str, Any] = {
        "name": validate_label(name, "container"),
        "image": validate_image(image),
        "targetContainerName": validate_label(target, "container"),
        "stdin": True,
        "tty": True,
        "terminationMessagePolicy": "File",
    }
    context = PROFILE_SECURITY_CONTEXT.get(profile)
    if context is not None:
        spec["securityContext"] = context
    return spec


# --- argv ---


def _scope(cluster: ClusterFacts, namespace: str) -> list[str]:
    out = ["-n", validate_label(namespace, "namespace")]
    if cluster.context:
        out += ["--context", validate_context(cluster.context)]
    return out


def _io(options: PlanOptions) -> list[str]:
    if options.stdin and options.tty:
        return ["-it"]
    return ["-i"] if options.stdin else (["-t"] if options.tty else [])


def exec_argv(pod: PodFacts, container: str, cluster: ClusterFacts, options: PlanOptions) -> tuple[str, ...]:
    command = list(options.command) or [cluster.image_shell or "sh"]
    return (
        cluster.kubectl, "exec", *_io(options), validate_pod_name(pod.name),
        "-c", validate_label(container, "container"),
        *_scope(cluster, pod.namespace), "--", *command,
    )  # fmt: skip


def attach_argv(
    pod: PodFacts, debug_container: str, cluster: ClusterFacts, options: PlanOptions
) -> tuple[str, ...]:
    return (
        cluster.kubectl, "attach", *_io(options), validate_pod_name(pod.name),
        "-c", validate_label(debug_container, "container"), *_scope(cluster, pod.namespace),
    )  # fmt: skip


def _debug_argv(
    pod: PodFacts,
    mode: Sequence[str],
    name: str,
    image: str,
    profile: str,
    cluster: ClusterFacts,
    options: PlanOptions,
) -> tuple[str, ...]:
    """`kubectl debug POD` with the flags both modes share; `mode` is `--target=C` or `--copy-to=... ...`."""
    argv = [
        cluster.kubectl, "debug", validate_pod_name(pod.name), *_io(options), *_scope(cluster, pod.namespace),
        *mode, f"--image={validate_image(image)}", f"--profile={profile}",
        "-c", validate_label(name, "container"),
    ]  # fmt: skip
    if options.command:
        argv += ["--", *options.command]
    return tuple(argv)


def ephemeral_argv(
    pod: PodFacts,
    container: str,
    name: str,
    image: str,
    profile: str,
    cluster: ClusterFacts,
    options: PlanOptions,
) -> tuple[str, ...]:
    mode = [f"--target={validate_label(container, 'container')}"]
    return _debug_argv(pod, mode, name, image, profile, cluster, options)


def copy_argv(
    pod: PodFacts,
    copy_name: str,
    name: str,
    image: str,
    profile: str,
    cluster: ClusterFacts,
    options: PlanOptions,
) -> tuple[str, ...]:
    mode = [f"--copy-to={validate_pod_name(copy_name)}", "--share-processes"]
    return _debug_argv(pod, mode, name, image, profile, cluster, options)


def delete_argv(namespace: str, pod_name: str, cluster: ClusterFacts) -> tuple[str, ...]:
    return (cluster.kubectl, "delete", "pod", validate_pod_name(pod_name), *_scope(cluster, namespace))


def copy_name_for(pod: PodFacts, taken: Collection[str]) -> str:
    base = f"{pod.name[: 253 - len('-debugbox')]}-debugbox"
    return unique_name(base, taken, limit=253)


def new_debug_container(
    pod: PodFacts,
    container: str,
    cluster: ClusterFacts,
    options: PlanOptions,
    *,
    profile_setting: str = "auto",
    allow_privileged: bool = False,
) -> tuple[str, str]:
    """(name, profile) of the debug container a new session would add — the same for the dry run and argv."""
    wanted = "sysadmin" if options.privileged else profile_setting
    profile = choose_profile(wanted, cluster.psa_level, allow_privileged=allow_privileged)
    return unique_name(debug_container_base(container), pod.names_taken), profile


@dataclass(frozen=True)
class KubePlan:
    """A `DebugPlan` plus the clean-up command for copies."""

    plan: DebugPlan
    cleanup: tuple[str, ...] = ()


def build_plan(
    pod: PodFacts,
    container_name: str | None,
    cluster: ClusterFacts,
    options: PlanOptions,
    *,
    profile_setting: str = "auto",
    allow_privileged: bool = False,
    target_id: str = "",
) -> KubePlan:
    """The whole plan for one pod container: strategy, argv, notes and terminal title."""
    container = pod.container(container_name)
    command = bool(options.command)
    requested = options.strategy
    if requested in ("", "auto") and options.preferred in available_strategies(
        pod, container, cluster, command=command
    ):
        requested = options.preferred
    strategy = choose_strategy(pod, container, cluster, requested, command=command)
    image = options.toolbox_image or "busybox"
    where = f"{pod.namespace}/{pod.name}"
    notes: list[str] = []
    cleanup: tuple[str, ...] = ()
    if strategy == "exec":
        argv = exec_argv(pod, container.name, cluster, options)
        title = f"Debug: {pod.name}/{container.name} (exec)"
        notes.append(
            f"{cluster.image_shell or 'sh'} runs inside container {container.name} itself, as its user."
        )
    elif strategy == "reattach":
        running = reattachable(pod, container.name)
        assert running is not None  # available_strategies checked it
        argv = attach_argv(pod, running.name, cluster, options)
        title = f"Debug: {pod.name}/{container.name} (attach {running.name})"
        notes.append(
            f"Reattaching to debug container {running.name}, which already runs in pod {where}: "
            "no new ephemeral container is added."
        )
    else:
        debug_name, profile = new_debug_container(
            pod,
            container.name,
            cluster,
            options,
            profile_setting=profile_setting,
            allow_privileged=allow_privileged,
        )
        if cluster.psa_level:
            notes.append(
                f"Namespace {pod.namespace} enforces Pod Security {cluster.psa_level!r}: profile {profile}."
            )
        if profile == "restricted":
            notes.append(
                "The restricted profile runs the debug container as non-root without extra capabilities; "
                "the image must be able to run as a non-root user, and processes of other users stay hidden."
            )
        if profile == "sysadmin":
            notes.append("The sysadmin profile makes the debug container privileged. Use with care.")
        if strategy == "ephemeral":
            argv = ephemeral_argv(pod, container.name, debug_name, image, profile, cluster, options)
            title = f"Debug: {pod.name}/{container.name} (ephemeral {debug_name})"
            notes.append(
                f"Ephemeral container {debug_name} ({image}) joins the process namespace of "
                f"{container.name}; "
                "its processes and files are under /proc/1/root when the runtime supports --target."
            )
            notes.append(
                f"Ephemeral containers stay in the pod until the pod is deleted; reattach later with: "
                f"kubectl attach -it {pod.name} -c {debug_name} -n {pod.namespace}"
            )
            stale = [e.name for e in our_debug_containers(pod, container.name) if e.state != "running"]
            if stale:
                notes.append(
                    f"Earlier debug containers have ended: {', '.join(stale)} "
                    "(kubectl logs shows their output)."
                )
        else:
            copy_name = copy_name_for(pod, cluster.existing_pods)
            argv = copy_argv(pod, copy_name, debug_name, image, profile, cluster, options)
            cleanup = delete_argv(pod.namespace, copy_name, cluster)
            title = f"Debug: copy of {pod.name} ({copy_name})"
            why = copy_reason(pod, container.name, cluster)
            if why:
                notes.append(f"A copy of the pod, because {why}.")
            notes.append(
                f"kubectl creates pod {copy_name}, a copy of {pod.name} with a shared process namespace "
                f"and debug container {debug_name}. The copy has no labels (Services don't route to it) "
                "and keeps running "
                f"until you delete it: {' '.join(cleanup)}"
            )
    return KubePlan(
        DebugPlan(argv=argv, strategy=strategy, title=title, notes=tuple(notes), target=target_id), cleanup
    )
