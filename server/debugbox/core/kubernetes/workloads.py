"""The workloads of a manifest, as the live side needs them: which pods each one owns.

A `Workload` is one pod spec found by `pod_spec.py` (every kind it knows: Pod, the controllers, CronJob,
PodTemplate, and any of them inside a `List`), reduced to what finds its running pods: kind, name, namespace,
the label selector (already resolved by the kind's rules), the template labels, the containers, and where the
pod spec is (document and path). It is built from the editor's buffer by the analysis and travels as typed
JSON (`to_json`/`from_json`) in lens data and command arguments; the edge lists pods with it and never
re-reads or re-parses the manifest.

`LabelSelector` is a `metav1.LabelSelector` with Kubernetes' matching rules and its query-string form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from debugbox.core.kubernetes.pod_spec import POD_SPEC_PATHS, PodSpec, find_pod_specs

_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
#: The kinds whose pods the live side can find: every kind `pod_spec.POD_SPEC_PATHS` knows (List items included,
#: as their own kind).
POD_PRODUCING = tuple(POD_SPEC_PATHS)


class WorkloadError(ValueError):
    """A workload's wire form is malformed; the message says which field."""


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
            if not isinstance(e, Mapping) or e.get("operator") not in _OPERATORS:
                return None
            values = e.get("values") or []
            if not isinstance(values, list):
                return None
            parsed.append((str(e.get("key")), str(e["operator"]), tuple(str(v) for v in values)))
        return cls(tuple(sorted((str(k), str(v)) for k, v in labels.items())), tuple(parsed))

    @classmethod
    def of_labels(cls, labels: Mapping[str, str]) -> LabelSelector:
        return cls(tuple(sorted(labels.items())))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"matchLabels": dict(self.match_labels)}
        if self.match_expressions:
            out["matchExpressions"] = [
                {"key": k, "operator": op, "values": list(v)} for k, op, v in self.match_expressions
            ]
        return out

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


@dataclass(frozen=True)
class Workload:
    """One pod-producing object of a manifest, reduced to what finds its running pods."""

    kind: str
    name: str
    namespace: str | None
    selector: LabelSelector | None = None
    """Pods it owns, by the kind's rule: spec.selector, the template labels, or the job-name label."""
    job_prefix: str = ""
    """CronJob: its Jobs are `<name>-<minutes>`; without template labels, pods whose `job-name` starts so."""
    template_labels: tuple[tuple[str, str], ...] = ()
    containers: tuple[str, ...] = ()
    document: int = 0
    """0-based index of the YAML document in the stream."""
    path: str = ""
    """Where the pod spec is in that document: `spec.template.spec`, `items[0].spec`..."""

    def describe(self) -> str:
        how = f"name {self.name}" if self.kind == "Pod" else f"selector {self.selector_text()}"
        return f"{self.kind} {self.name} ({how})"

    def selector_text(self) -> str:
        if self.selector is not None and not self.selector.empty:
            return self.selector.to_query()
        return f"job-name={self.job_prefix}*" if self.job_prefix else "none"

    def owns(self, pod_name: str, pod_labels: Mapping[str, str]) -> bool:
        """Whether a pod of that name and those labels (in the workload's namespace) belongs to it."""
        if self.kind == "Pod":
            return pod_name == self.name
        if self.selector is not None and not self.selector.empty:
            return self.selector.matches(pod_labels)
        return bool(self.job_prefix) and pod_labels.get("job-name", "").startswith(self.job_prefix)

    def server_selector(self) -> tuple[str | None, str | None]:
        """(labelSelector, fieldSelector) that narrow the LIST for its pods on the server."""
        if self.kind == "Pod":
            return None, f"metadata.name={self.name}"
        if self.selector is not None and not self.selector.empty:
            return self.selector.to_query(), None
        if self.job_prefix:
            return "job-name", None  # any Job's pod, filtered by the prefix in `owns`
        return None, None

    # --- the wire form (lens data, command arguments) ---

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "namespace": self.namespace,
            "selector": self.selector.to_json() if self.selector is not None else None,
            "jobPrefix": self.job_prefix,
            "templateLabels": dict(self.template_labels),
            "containers": list(self.containers),
            "document": self.document,
            "path": self.path,
        }

    @classmethod
    def from_json(cls, obj: Any) -> Workload:
        """The workload `to_json` wrote; WorkloadError naming the field when the object is not one."""
        if not isinstance(obj, Mapping):
            raise WorkloadError("a workload must be an object like Workload.to_json() writes")
        kind, name = _text(obj, "kind"), _text(obj, "name")
        if kind not in POD_PRODUCING or not name:
            raise WorkloadError(f'"kind" must be one of {", ".join(POD_PRODUCING)} and "name" non-empty')
        namespace = obj.get("namespace")
        if namespace is not None and not isinstance(namespace, str):
            raise WorkloadError('"namespace" must be a string or null')
        selector = None
        if obj.get("selector") is not None:
            selector = LabelSelector.from_json(obj["selector"])
            if selector is None:
                raise WorkloadError('"selector" is not a label selector')
        document = obj.get("document", 0)
        if not isinstance(document, int) or isinstance(document, bool) or document < 0:
            raise WorkloadError('"document" must be a document index (a non-negative integer)')
        return cls(
            kind=kind,
            name=name,
            namespace=namespace or None,
            selector=selector,
            job_prefix=_text(obj, "jobPrefix"),
            template_labels=_labels(obj.get("templateLabels"), "templateLabels"),
            containers=_strings(obj.get("containers"), "containers"),
            document=document,
            path=_text(obj, "path"),
        )


def _text(obj: Mapping[str, Any], key: str) -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise WorkloadError(f'"{key}" must be a string')
    return value


def _labels(value: Any, key: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise WorkloadError(f'"{key}" must be an object of strings')
    return tuple(sorted((str(k), v) for k, v in value.items()))


def _strings(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise WorkloadError(f'"{key}" must be a list of strings')
    return tuple(value)


def _string_map(value: Any) -> dict[str, str]:
    # Scalars come from the YAML tree as their source text; a non-mapping (`labels: x`) owns nothing.
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items() if v is not None}


def workload_of(spec: PodSpec) -> Workload | None:
    """The workload a pod spec belongs to, with its selector by the kind's rules; None without a name."""
    if spec.kind not in POD_PRODUCING or not spec.name:
        return None
    name = spec.name
    labels = _string_map(spec.template_labels)
    selector: LabelSelector | None = None
    job_prefix = ""
    if spec.kind == "Job":
        given = LabelSelector.from_json(spec.selector)
        # The Job controller labels its pods with job-name (and batch.kubernetes.io/job-name since 1.27).
        selector = given if given and not given.empty else LabelSelector.of_labels({"job-name": name})
    elif spec.kind == "CronJob":
        # Each run is a Job named <cronjob>-<minutes>; its pods carry the template labels and job-name.
        selector = LabelSelector.of_labels(labels) if labels else None
        job_prefix = f"{name}-"
    elif spec.kind == "ReplicationController":
        # Its selector is a plain map (defaulting to the template labels), not a LabelSelector.
        plain = _string_map(spec.selector) or labels
        selector = LabelSelector.of_labels(plain) if plain else None
    elif spec.kind == "PodTemplate":
        # A PodTemplate runs nothing itself; the pods made from it carry its template labels.
        selector = LabelSelector.of_labels(labels) if labels else None
    elif spec.kind != "Pod":
        selector = LabelSelector.from_json(spec.selector)
        if (selector is None or selector.empty) and labels:
            # Before apps/v1 (extensions/v1beta1) the selector defaulted to the template labels.
            selector = LabelSelector.of_labels(labels)
    return Workload(
        kind=spec.kind,
        name=name,
        namespace=spec.namespace or None,
        selector=selector,
        job_prefix=job_prefix,
        template_labels=tuple(sorted(labels.items())),
        containers=tuple(c.name for c in spec.containers if c.name and not c.init),
        document=spec.document,
        path=spec.path,
    )


def workloads_of(specs: Sequence[PodSpec]) -> list[Workload]:
    return [w for w in (workload_of(s) for s in specs) if w is not None]


def workloads_in(text: str) -> list[Workload]:
    """Every workload of a manifest stream's text (for callers without an analysis, e.g. the CLI)."""
    return workloads_of(find_pod_specs(text))
