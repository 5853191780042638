"""Facts about pods and the cluster, as plain data: `PodFacts` from the API's Pod JSON, `ClusterFacts` for what
the edge learned for one plan (admission's answer, the namespace's Pod Security level, taken names).

Nothing here talks to a cluster: the edge (`edge/kube_client.py`, `edge/kube_backend.py`) reads the JSON and
fills these in; `pod_strategy.py` decides from them and `kubectl_argv.py` builds the commands.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from debugbox.core.errors import TargetNotFound
from debugbox.core.targets.preflight import Permission

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"
PSA_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"


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
    tty: bool = False
    """Ephemeral containers only: created with a terminal (`tty: true`, what `kubectl debug -it` asks for)."""

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
                tty=ephemeral and spec.get("tty") is True,
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


def effective_namespace(manifest: str | None, setting: str, context: str) -> str:
    """The manifest's namespace, else the `debugbox.kubernetes.namespace` setting, else the context's, else
    `default`."""
    return manifest or setting or context or "default"


@dataclass(frozen=True)
class ClusterFacts:
    """What the edge learned from the cluster for one plan, as plain data."""

    kubectl: str = "kubectl"
    context: str = ""
    """Kubeconfig context to pass as --context; empty means kubectl's current context."""
    request_timeout: float = 0.0
    """kubectl's `--request-timeout` in seconds (`debugbox.kubernetes.timeoutSeconds`); 0: none is passed."""
    psa_level: str | None = None
    """The namespace's `pod-security.kubernetes.io/enforce` label, None when unknown or unset."""
    ephemeral: str = "unknown"
    """`ok`, `disabled` (404 from the subresource), `rejected` (422), `forbidden` (403) or `unknown`."""
    ephemeral_message: str = ""
    """The server's words for a refusal, to show the user."""
    image_has_shell: bool | None = None
    image_shell: str = ""
    existing_pods: frozenset[str] | None = None
    """Pod names in the namespace that a copy must not take; None until asked (`NEEDS_FREE_COPY_NAME`)."""
    access: Mapping[Permission, bool] | None = None
    """The preflight's SelfSubjectAccessReview answers in the pod's namespace; None until asked
    (`NEEDS_ACCESS`). Permissions not asked about count as allowed."""
    user: str = ""
    """Who the API says the user is (SelfSubjectReview), for the RoleBinding to ask for; "" when unknown."""
