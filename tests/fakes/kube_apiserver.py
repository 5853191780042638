"""A protocol-faithful fake Kubernetes API server for tests: real HTTP on 127.0.0.1, driven by real kubectl
and the real `kubernetes` Python client.

What it owns: an in-memory store of pods and namespaces in the shape a real API server returns (defaulted),
the routes `kubectl debug` / `exec` / `attach` / `get` / `delete` and the Python client use, and the real
server's validation of the `pods/ephemeralcontainers` subresource. Every request is recorded (method, path,
query, content type, accept, user agent, body) so tests assert on what the clients actually sent.

Rule (see the Kubernetes testing guide): answer the way a real API server would, reject what it rejects, and
never bend to debugbox's assumptions. Routes it does not implement answer 404 `NotFound` (like a real server
for an unknown path) or, for server-side apply, a 500 that says so, rather than pretending to succeed.

Fault switches (`FakeKubeAPIServer.faults`) simulate what a test can't get from a healthy server: ephemeral
containers disabled, 401, RBAC denials (403 naming verb and resource), 500, malformed JSON and slow
answers.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from tests.fakes.protobuf import DecodeError, decode_pod

JSON = "application/json"
PROTOBUF = "application/vnd.kubernetes.protobuf"
SMP = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
GIT_VERSION = "v1.33.0-fake"

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_FORBIDDEN_EPHEMERAL_FIELDS = (
    "ports",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "lifecycle",
    "resizePolicy",
    "restartPolicy",
)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    content_type: str
    accept: str
    user_agent: str
    body: bytes
    decoded: Any = None
    """The body as JSON (or the decoded protobuf Pod), when it parsed."""

    def q(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Faults:
    """Switches a test flips to make the fake misbehave the way real clusters do."""

    ephemeral_disabled: bool = False
    """PATCH pods/ephemeralcontainers answers 404 with an empty details.name (the feature gate is off)."""
    unauthorized: bool = False
    """Every request answers 401 (bad or expired credentials)."""
    denied: set[tuple[str, str]] = field(default_factory=set)
    """RBAC denials as (verb, resource), e.g. ("patch", "pods/ephemeralcontainers"): 403 naming both."""
    internal_error: bool = False
    """Every API request answers 500 InternalError."""
    malformed: bool = False
    """Every API request answers 200 with a truncated JSON body."""
    delay_seconds: float = 0.0
    """Sleep this long before answering any request (a slow or overloaded server)."""


class ApiError(Exception):
    """A `Status` failure to send back."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.details = details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def not_found(resource: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{resource} "{name}" not found', {"name": name, "kind": resource})


@dataclass(frozen=True)
class FieldError:
    """One `field.Error`, rendered the way apimachinery renders it."""

    kind: str  # Duplicate, NotFound, Forbidden, Required, Invalid, NotSupported
    field: str
    detail: str = ""
    value: Any = None

    def body(self) -> str:
        if self.kind == "Duplicate":
            return f"Duplicate value: {json.dumps(self.value)}"
        if self.kind == "NotFound":
            return f"Not found: {json.dumps(self.value)}"
        if self.kind == "Invalid":
            return f"Invalid value: {json.dumps(self.value)}: {self.detail}"
        if self.kind == "NotSupported":
            return f'Unsupported value: {json.dumps(self.value)}: supported values: "All"'
        if self.kind == "Required":
            return "Required value" + (f": {self.detail}" if self.detail else "")
        return f"Forbidden: {self.detail}"

    def cause(self) -> dict[str, str]:
        return {"reason": f"FieldValue{self.kind}", "message": self.body(), "field": self.field}


def invalid(kind: str, name: str, errors: list[FieldError]) -> ApiError:
    rendered = [f"{e.field}: {e.body()}" for e in errors]
    summary = rendered[0] if len(rendered) == 1 else "[" + ", ".join(rendered) + "]"
    return ApiError(
        422,
        "Invalid",
        f'{kind} "{name}" is invalid: {summary}',
        {"name": name, "kind": kind, "causes": [e.cause() for e in errors]},
    )


# --- label and field selectors (the real grammar, including set-based requirements) ---

_REQ = re.compile(
    r"^\s*(?P<neg>!)?\s*(?P<key>[A-Za-z0-9][-A-Za-z0-9_./]*)\s*"
    r"(?:(?P<op>==|=|!=|\s+in\s+|\s+notin\s+)\s*(?P<val>\([^)]*\)|[-A-Za-z0-9_.]*))?\s*$"
)


def _split_requirements(selector: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in selector:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p for p in parts if p.strip()]


def parse_label_selector(selector: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """(key, op, values) per requirement; op is =, !=, in, notin, exists, !exists. Raises ApiError 400."""
    reqs: list[tuple[str, str, tuple[str, ...]]] = []
    for raw in _split_requirements(selector):
        m = _REQ.match(raw)
        if not m or (m["neg"] and m["op"]):
            raise ApiError(400, "BadRequest", f"unable to parse requirement: invalid label selector: {raw!r}")
        key, op, val = m["key"], (m["op"] or "").strip(), m["val"]
        if not op:
            reqs.append((key, "!exists" if m["neg"] else "exists", ()))
        elif op in ("in", "notin"):
            if not (val and val.startswith("(")):
                raise ApiError(
                    400, "BadRequest", f"unable to parse requirement: expected a set for {key} {op}"
                )
            values = tuple(v.strip() for v in val[1:-1].split(",") if v.strip())
            reqs.append((key, op, values))
        else:
            reqs.append((key, "!=" if op == "!=" else "=", (val or "",)))
    return reqs


def labels_match(reqs: list[tuple[str, str, tuple[str, ...]]], labels: dict[str, str]) -> bool:
    for key, op, values in reqs:
        value = labels.get(key)
        if op == "exists":
            ok = value is not None
        elif op == "!exists":
            ok = value is None
        elif op == "=":
            ok = value == values[0]
        elif op == "!=":
            ok = value != values[0]
        elif op == "in":
            ok = value is not None and value in values
        else:  # notin
            ok = value is None or value not in values
        if not ok:
            return False
    return True


_POD_FIELDS = {
    "metadata.name": lambda p: p["metadata"]["name"],
    "metadata.namespace": lambda p: p["metadata"]["namespace"],
    "status.phase": lambda p: p["status"].get("phase", ""),
    "spec.nodeName": lambda p: p["spec"].get("nodeName", ""),
}


def field_filter(selector: str) -> list[tuple[str, bool, str]]:
    out = []
    for raw in (s for s in selector.split(",") if s):
        m = re.match(r"^([^!=]+)(==|=|!=)(.*)$", raw)
        if not m:
            raise ApiError(400, "BadRequest", f"invalid selector: '{selector}'; can't understand '{raw}'")
        if m[1] not in _POD_FIELDS:
            raise ApiError(
                400,
                "BadRequest",
                f'Unable to find "/v1, Resource=pods" that match label selector "", field selector "{selector}": field label not supported: {m[1]}',  # noqa: E501 - the real server's text
            )
        out.append((m[1], m[2] != "!=", m[3]))
    return out


# --- the store ---


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _pull_policy(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    if "@" in last:
        return "IfNotPresent"
    return "Always" if ":" not in last or last.endswith(":latest") else "IfNotPresent"


def _default_container(c: dict[str, Any], *, ephemeral: bool = False) -> dict[str, Any]:
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    if c.get("image"):
        c.setdefault("imagePullPolicy", _pull_policy(c["image"]))
    if not ephemeral:
        c.setdefault("resources", {})
    return c


def _running(name: str, image: str, started: str, restarts: int = 0) -> dict[str, Any]:
    return {
        "name": name,
        "state": {"running": {"startedAt": started}},
        "lastState": {},
        "ready": True,
        "restartCount": restarts,
        "image": image,
        "imageID": "",
        "started": True,
    }


class Store:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.pods: dict[tuple[str, str], dict[str, Any]] = {}
        self.namespaces: dict[str, dict[str, Any]] = {}
        self._rv = itertools.count(100)
        self._uid = itertools.count(1)
        self.add_namespace("default")

    def next_rv(self) -> str:
        return str(next(self._rv))

    def add_namespace(self, name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
        with self.lock:
            ns = {
                "kind": "Namespace",
                "apiVersion": "v1",
                "metadata": {
                    "name": name,
                    "uid": f"ns-uid-{next(self._uid)}",
                    "resourceVersion": self.next_rv(),
                    "creationTimestamp": _now(),
                    "labels": {"kubernetes.io/metadata.name": name, **(labels or {})},
                },
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            }
            self.namespaces[name] = ns
            return ns

    def default_pod(self, pod: dict[str, Any], namespace: str) -> dict[str, Any]:
        """Fill in what a real API server defaults on create, and a Running status."""
        meta = pod.setdefault("metadata", {})
        meta["namespace"] = namespace
        meta.setdefault("uid", f"pod-uid-{next(self._uid)}")
        meta.setdefault("creationTimestamp", _now())
        meta["resourceVersion"] = self.next_rv()
        pod["kind"], pod["apiVersion"] = "Pod", "v1"
        spec = pod.setdefault("spec", {})
        for c in spec.get("containers", []) + spec.get("initContainers", []):
            _default_container(c)
        for c in spec.get("ephemeralContainers", []):
            _default_container(c, ephemeral=True)
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("terminationGracePeriodSeconds", 30)
        spec.setdefault("dnsPolicy", "ClusterFirst")
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("serviceAccount", "default")
        spec.setdefault("nodeName", spec.get("nodeName") or "fake-node")
        spec.setdefault("securityContext", {})
        spec.setdefault("schedulerName", "default-scheduler")
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        spec.setdefault("priority", 0)
        status = pod.setdefault("status", {})
        started = meta["creationTimestamp"]
        status.setdefault("phase", "Running")
        status.setdefault("hostIP", "10.0.0.1")
        status.setdefault("podIP", f"10.1.0.{len(self.pods) + 2}")
        status.setdefault("qosClass", "BestEffort")
        status.setdefault("startTime", started)
        status.setdefault(
            "containerStatuses",
            [_running(c["name"], c.get("image", ""), started) for c in spec["containers"]],
        )
        return pod

    def add_pod(
        self,
        name: str,
        namespace: str = "default",
        containers: list[dict[str, Any]] | None = None,
        *,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
        ephemeral: list[dict[str, Any]] | None = None,
        status: dict[str, Any] | None = None,
        owner: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Seed a pod (as if a controller had created it); returns the stored, defaulted pod."""
        meta: dict[str, Any] = {"name": name}
        if labels:
            meta["labels"] = dict(labels)
        if annotations:
            meta["annotations"] = dict(annotations)
        if owner:
            meta["ownerReferences"] = [owner]
        spec: dict[str, Any] = {
            "containers": copy.deepcopy(containers or [{"name": "app", "image": "nginx:1.27"}])
        }
        if ephemeral:
            spec["ephemeralContainers"] = copy.deepcopy(ephemeral)
        pod: dict[str, Any] = {"metadata": meta, "spec": spec}
        if status:
            pod["status"] = copy.deepcopy(status)
        with self.lock:
            if namespace not in self.namespaces:
                self.add_namespace(namespace)
            self.default_pod(pod, namespace)
            if ephemeral and "ephemeralContainerStatuses" not in pod["status"]:
                started = pod["metadata"]["creationTimestamp"]
                pod["status"]["ephemeralContainerStatuses"] = [
                    _running(c["name"], c.get("image", ""), started) | {"ready": False} for c in ephemeral
                ]
            self.pods[(namespace, name)] = pod
            return copy.deepcopy(pod)

    def get(self, namespace: str, name: str) -> dict[str, Any]:
        with self.lock:
            pod = self.pods.get((namespace, name))
            if pod is None:
                raise not_found("pods", name)
            return copy.deepcopy(pod)


# --- patches ---


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _smp_list_by_name(current: list[dict[str, Any]], patch: list[Any], order: list[Any] | None) -> list[Any]:
    merged = {c.get("name"): c for c in current}
    names = [c.get("name") for c in current]
    for item in patch:
        if not isinstance(item, dict) or "name" not in item:
            raise ApiError(400, "BadRequest", "map: map[] does not contain declared merge key: name")
        name = item["name"]
        if item.get("$patch") == "delete":
            merged.pop(name, None)
            names = [n for n in names if n != name]
            continue
        merged[name] = strategic_merge(merged.get(name, {}), item)
        if name not in names:
            names.append(name)
    if order is not None:
        wanted = [o.get("name") for o in order if isinstance(o, dict)]
        names = [n for n in wanted if n in merged] + [n for n in names if n not in wanted]
    return [merged[n] for n in names if n in merged]


def strategic_merge(target: Any, patch: Any) -> Any:
    """Strategic merge, enough for pods: container lists merge by `name`, maps merge, the rest replaces."""
    if not isinstance(patch, dict) or not isinstance(target, dict):
        return copy.deepcopy(patch)
    result = dict(target)
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key == "$patch":
            continue
        if value is None:
            result.pop(key, None)
        elif key in ("containers", "initContainers", "ephemeralContainers") and isinstance(value, list):
            result[key] = _smp_list_by_name(
                result.get(key) or [], value, patch.get(f"$setElementOrder/{key}")
            )
        elif isinstance(value, dict):
            result[key] = strategic_merge(result.get(key, {}), value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _patch_failed(message: str) -> ApiError:
    """A JSON patch that does not apply: the real server answers 422 with the library's error text
    (`NewGenericServerResponse(http.StatusUnprocessableEntity, ...)` in the patch handler)."""
    return ApiError(422, "Invalid", message)


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise _patch_failed(f"JSON pointer {path!r} does not start with /")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str], path: str) -> Any:
    for p in parts[:-1]:
        if isinstance(doc, list):
            doc = doc[int(p)] if p.isdigit() and int(p) < len(doc) else None
        elif isinstance(doc, dict):
            doc = doc.get(p)
        if doc is None:
            raise _patch_failed(f'add operation does not apply: doc is missing path: "{path}"')
    return doc


def json_patch(doc: Any, ops: list[Any]) -> Any:
    """RFC 6902 (add, remove, replace, test, copy, move)."""
    doc = copy.deepcopy(doc)

    def get(path: str) -> Any:
        parts = _pointer(path)
        parent = _parent(doc, parts, path)
        key = parts[-1]
        try:
            return parent[int(key)] if isinstance(parent, list) else parent[key]
        except (KeyError, IndexError, ValueError):
            raise _patch_failed(f'doc is missing key: "{path}"') from None

    def add(path: str, value: Any) -> None:
        parts = _pointer(path)
        parent = _parent(doc, parts, path)
        key = parts[-1]
        if isinstance(parent, list):
            if key == "-":
                parent.append(value)
            elif key.isdigit() and int(key) <= len(parent):
                parent.insert(int(key), value)
            else:
                raise _patch_failed(f'add operation does not apply: "{path}" out of bounds')
        else:
            parent[key] = value

    def remove(path: str) -> Any:
        value = get(path)
        parts = _pointer(path)
        parent = _parent(doc, parts, path)
        if isinstance(parent, list):
            parent.pop(int(parts[-1]))
        else:
            parent.pop(parts[-1])
        return value

    for op in ops:
        if not isinstance(op, dict) or "path" not in op:
            raise ApiError(
                400, "BadRequest", "the server rejected our request due to an error in our request"
            )
        kind, path = op.get("op"), op["path"]
        if kind == "add":
            add(path, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            remove(path)
        elif kind == "replace":
            remove(path)
            add(path, copy.deepcopy(op.get("value")))
        elif kind == "test":
            if get(path) != op.get("value"):
                raise _patch_failed(f"testing value {path} failed: test failed")
        elif kind in ("copy", "move"):
            value = remove(op["from"]) if kind == "move" else copy.deepcopy(get(op["from"]))
            add(path, value)
        else:
            raise _patch_failed(f"Unexpected kind: {kind}")
    return doc


# --- validation of pods/ephemeralcontainers updates (ValidatePodEphemeralContainersUpdate) ---


def validate_ephemeral_update(old: dict[str, Any], new: dict[str, Any]) -> list[FieldError]:
    if MIRROR_ANNOTATION in (old["metadata"].get("annotations") or {}):
        return [FieldError("Forbidden", "", "static pods do not support ephemeral containers")]
    errors: list[FieldError] = []
    spec_path = "spec.ephemeralContainers"
    new_list = new["spec"].get("ephemeralContainers") or []
    by_name = {c.get("name"): c for c in new_list if isinstance(c, dict)}
    for old_c in old["spec"].get("ephemeralContainers") or []:
        if old_c["name"] not in by_name:
            errors.append(
                FieldError(
                    "Forbidden",
                    spec_path,
                    f'existing ephemeral containers "{old_c["name"]}" may not be removed\n',
                )
            )
        elif by_name[old_c["name"]] != old_c:
            errors.append(
                FieldError(
                    "Forbidden",
                    f"{spec_path}[{old_c['name']}]",
                    f'existing ephemeral containers "{old_c["name"]}" may not be changed\n',
                )
            )
    spec = old["spec"]
    taken = {c["name"] for c in spec.get("containers", []) + spec.get("initContainers", [])}
    targets = taken
    seen: set[str] = set()
    for i, c in enumerate(new_list):
        at = f"{spec_path}[{i}]"
        if not isinstance(c, dict):
            errors.append(FieldError("Invalid", at, "must be an object", c))
            continue
        name = c.get("name") or ""
        if not name:
            errors.append(FieldError("Required", f"{at}.name"))
        elif not _DNS1123_LABEL.match(name) or len(name) > 63:
            errors.append(
                FieldError(
                    "Invalid",
                    f"{at}.name",
                    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",  # noqa: E501 - the real server's text
                    name,
                )
            )
        elif name in taken or name in seen:
            errors.append(FieldError("Duplicate", f"{at}.name", value=name))
        seen.add(name)
        if not c.get("image"):
            errors.append(FieldError("Required", f"{at}.image"))
        target = c.get("targetContainerName")
        if target and target not in targets:
            errors.append(FieldError("NotFound", f"{at}.targetContainerName", value=target))
        for forbidden in _FORBIDDEN_EPHEMERAL_FIELDS:
            if c.get(forbidden):
                errors.append(
                    FieldError("Forbidden", f"{at}.{forbidden}", "cannot be set for an Ephemeral Container")
                )
        resources = c.get("resources") or {}
        if resources.get("limits") or resources.get("requests"):
            errors.append(
                FieldError("Forbidden", f"{at}.resources", "cannot be set for an Ephemeral Container")
            )
    return errors


# --- HTTP ---

_POD_PATH = re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/pods(?:/(?P<name>[^/]+)(?:/(?P<sub>[^/]+))?)?$")
_NS_PATH = re.compile(r"^/api/v1/namespaces(?:/(?P<name>[^/]+))?$")


def _api_resources() -> dict[str, Any]:
    def res(name: str, kind: str, verbs: list[str], namespaced: bool = True, **extra: Any) -> dict[str, Any]:
        return {
            "name": name,
            "singularName": "",
            "namespaced": namespaced,
            "kind": kind,
            "verbs": verbs,
            **extra,
        }

    return {
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": [
            res(
                "namespaces",
                "Namespace",
                ["create", "delete", "get", "list", "patch", "update", "watch"],
                False,
                shortNames=["ns"],
            ),
            res(
                "pods",
                "Pod",
                ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
                shortNames=["po"],
                categories=["all"],
            ),
            res("pods/attach", "PodAttachOptions", ["create", "get"]),
            res("pods/ephemeralcontainers", "Pod", ["get", "patch", "update"]),
            res("pods/exec", "PodExecOptions", ["create", "get"]),
            res("pods/log", "Pod", ["get"]),
            res("pods/status", "Pod", ["get", "patch", "update"]),
        ],
    }


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # requests are recorded, not printed

    # One entry point for every method.
    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def _handle(self) -> None:
        fake = self.server.fake
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        decoded: Any = None
        if body:
            try:
                if ctype == PROTOBUF:
                    decoded = decode_pod(body)
                elif ctype == "application/yaml":
                    decoded = yaml.safe_load(body)
                else:
                    decoded = json.loads(body)
            except (ValueError, DecodeError, yaml.YAMLError):
                decoded = None
        req = RecordedRequest(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            content_type=self.headers.get("Content-Type") or "",
            accept=self.headers.get("Accept") or "",
            user_agent=self.headers.get("User-Agent") or "",
            body=body,
            decoded=decoded,
        )
        with fake.lock:
            fake.requests.append(req)
        faults = fake.faults
        if faults.delay_seconds:
            time.sleep(faults.delay_seconds)
        try:
            if faults.unauthorized:
                raise ApiError(401, "Unauthorized", "Unauthorized")
            if faults.internal_error and url.path.startswith("/api"):
                raise ApiError(
                    500,
                    "InternalError",
                    "Internal error occurred: etcdserver: request timed out",
                    {"causes": [{"message": "etcdserver: request timed out"}]},
                )
            if faults.malformed and url.path.startswith("/api"):
                self._send(200, b'{"kind":"PodList","apiVersion":"v1","items":[{"metadata":', JSON)
                return
            fake.route(self, req)
        except ApiError as err:
            self._send_json(err.code, err.status())
        except BrokenPipeError:
            pass
        except Exception as exc:  # a bug in the fake: answer 500 and let the test fixture fail on it
            with fake.lock:
                fake.errors.append(f"{req.method} {req.path}: {exc!r}")
            self._send_json(500, ApiError(500, "InternalError", f"fake API server bug: {exc!r}").status())

    def _send(self, code: int, payload: bytes, ctype: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Audit-Id", "fake-audit-id")
        self.end_headers()
        self.wfile.write(payload)

    def _send_json(self, code: int, obj: Any) -> None:
        self._send(code, json.dumps(obj).encode(), JSON)

    def _stream(self, events: Iterator[dict[str, Any]]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", JSON)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for event in events:
            chunk = json.dumps(event).encode() + b"\n"
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeKubeAPIServer


_VERBS = {"GET": "get", "POST": "create", "PATCH": "patch", "PUT": "update", "DELETE": "delete"}


class FakeKubeAPIServer:
    """Start with `start()` (or as a context manager); `url`, `store`, `requests`, `faults` for the test."""

    def __init__(self) -> None:
        self.store = Store()
        self.faults = Faults()
        self.requests: list[RecordedRequest] = []
        self.errors: list[str] = []
        """Exceptions inside the fake itself (its bugs); the test fixture fails when any happened."""
        self.lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> FakeKubeAPIServer:
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.fake = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, args=(0.05,), name="fake-kube-apiserver", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeKubeAPIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start() the fake first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def write_kubeconfig(self, path: Path, *, context: str = "fake", namespace: str = "default") -> Path:
        """A kubeconfig with an empty user pointing at this server (JSON is valid YAML)."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "contexts": [
                {"name": context, "context": {"cluster": "fake", "namespace": namespace, "user": "u"}}
            ],
            "current-context": context,
            "users": [{"name": "u", "user": {}}],
        }
        path.write_text(json.dumps(config, indent=2))
        return path

    # inspection helpers for tests
    def requests_to(self, method: str, path_suffix: str = "") -> list[RecordedRequest]:
        with self.lock:
            return [r for r in self.requests if r.method == method and r.path.endswith(path_suffix)]

    def clear_requests(self) -> None:
        with self.lock:
            self.requests.clear()

    # routing
    def _check_rbac(self, verb: str, resource: str, namespace: str | None, name: str | None) -> None:
        if (verb, resource) not in self.faults.denied:
            return
        subject = f'{resource.split("/")[0]} "{name}"' if name else resource.split("/")[0]
        where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
        message = (
            f'{subject} is forbidden: User "system:anonymous" cannot {verb} resource "{resource}" '
            f'in API group ""{where}'
        )
        details: dict[str, Any] = {"kind": resource.split("/")[0]}
        if name:
            details = {"name": name, **details}
        raise ApiError(403, "Forbidden", message, details)

    def route(self, h: _Handler, req: RecordedRequest) -> None:
        path = req.path
        if req.method == "GET" and path == "/version":
            h._send_json(200, {
                "major": "1", "minor": "33", "gitVersion": GIT_VERSION, "gitCommit": "fake",
                "gitTreeState": "clean", "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.24",
                "compiler": "gc", "platform": "linux/amd64",
            })  # fmt: skip
            return
        if req.method == "GET" and path == "/api":
            h._send_json(200, {
                "kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": self.url[7:]}],
            })  # fmt: skip
            return
        if req.method == "GET" and path == "/apis":
            h._send_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
            return
        if req.method == "GET" and path == "/api/v1":
            h._send_json(200, _api_resources())
            return
        if req.method == "GET" and path == "/api/v1/pods":
            self._check_rbac("watch" if req.q("watch") in ("true", "1") else "list", "pods", None, None)
            self._list_pods(h, req, None)
            return
        m = _NS_PATH.match(path)
        if m:
            self._namespaces(h, req, m["name"])
            return
        m = _POD_PATH.match(path)
        if m:
            self._pods(h, req, m["ns"], m["name"], m["sub"])
            return
        raise ApiError(404, "NotFound", "the server could not find the requested resource", {})

    def _namespaces(self, h: _Handler, req: RecordedRequest, name: str | None) -> None:
        if req.method != "GET":
            raise ApiError(
                405, "MethodNotAllowed", f"the fake does not implement {req.method} on namespaces", {}
            )
        self._check_rbac("get" if name else "list", "namespaces", None, name)
        with self.store.lock:
            if name is None:
                items = [copy.deepcopy(n) for n in self.store.namespaces.values()]
                for item in items:
                    item.pop("kind"), item.pop("apiVersion")
                h._send_json(
                    200,
                    {
                        "kind": "NamespaceList",
                        "apiVersion": "v1",
                        "metadata": {"resourceVersion": self.store.next_rv()},
                        "items": items,
                    },
                )
                return
            ns = self.store.namespaces.get(name)
            if ns is None:
                raise not_found("namespaces", name)
            h._send_json(200, ns)

    def _pods(self, h: _Handler, req: RecordedRequest, ns: str, name: str | None, sub: str | None) -> None:
        watching = req.q("watch") in ("true", "1")
        verb = _VERBS.get(req.method, req.method.lower())
        if name is None:
            verb = "watch" if watching else ("list" if verb == "get" else verb)
        if sub in ("attach", "exec"):
            verb = "create"  # since 1.30 websocket GETs are authorised as create, like SPDY POSTs
        self._check_rbac(verb, f"pods/{sub}" if sub else "pods", ns, name)
        if name is None:
            if req.method == "GET":
                self._list_pods(h, req, ns)
            elif req.method == "POST":
                self._create_pod(h, req, ns)
            else:
                raise ApiError(
                    405,
                    "MethodNotAllowed",
                    f"the fake does not implement {req.method} on the pods collection",
                    {},
                )
            return
        if sub is None:
            if req.method == "GET":
                h._send_json(200, self.store.get(ns, name))
            elif req.method == "DELETE":
                self._delete_pod(h, ns, name)
            else:
                raise ApiError(
                    405, "MethodNotAllowed", f"the fake does not implement {req.method} on pods/NAME", {}
                )
        elif sub == "ephemeralcontainers":
            if req.method == "GET":
                h._send_json(200, self.store.get(ns, name))
            elif req.method == "PATCH":
                self._patch_ephemeral(h, req, ns, name)
            else:
                raise ApiError(
                    405,
                    "MethodNotAllowed",
                    f"the fake does not implement {req.method} on pods/ephemeralcontainers",
                    {},
                )
        elif sub in ("attach", "exec"):
            pod = self.store.get(ns, name)
            if req.q("container") and req.q("container") not in _all_container_names(pod):
                raise ApiError(
                    400, "BadRequest", f"container {req.q('container')} is not valid for pod {name}"
                )
            raise ApiError(400, "BadRequest", "Upgrade request required")
        elif sub == "log" and req.method == "GET":
            pod = self.store.get(ns, name)
            container = req.q("container") or pod["spec"]["containers"][0]["name"]
            if container not in _all_container_names(pod):
                raise ApiError(400, "BadRequest", f"container {container} is not valid for pod {name}")
            h._send(200, f"fake log of {ns}/{name}/{container}\n".encode(), "text/plain")
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})

    def _list_pods(self, h: _Handler, req: RecordedRequest, ns: str | None) -> None:
        reqs = parse_label_selector(req.q("labelSelector") or "")
        fields = field_filter(req.q("fieldSelector") or "")
        with self.store.lock:
            items = [
                copy.deepcopy(p)
                for (pns, _), p in sorted(self.store.pods.items())
                if (ns is None or pns == ns)
                and labels_match(reqs, p["metadata"].get("labels") or {})
                and all((_POD_FIELDS[f](p) == v) == eq for f, eq, v in fields)
            ]
            rv = self.store.next_rv()
        if req.q("watch") in ("true", "1"):
            events = [{"type": "ADDED", "object": item} for item in items]
            if req.q("sendInitialEvents") == "true":
                # Streaming list (kubectl >= 1.32): the initial state ends with this bookmark, or the client
                # keeps re-watching forever.
                end = {"resourceVersion": rv, "annotations": {"k8s.io/initial-events-end": "true"}}
                events.append(
                    {"type": "BOOKMARK", "object": {"kind": "Pod", "apiVersion": "v1", "metadata": end}}
                )
            h._stream(iter(events))
            return
        for item in items:  # a real server leaves kind/apiVersion off list items
            item.pop("kind", None), item.pop("apiVersion", None)
        h._send_json(
            200, {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": rv}, "items": items}
        )

    def _create_pod(self, h: _Handler, req: RecordedRequest, ns: str) -> None:
        # A real server reads a body without Content-Type as its first media type, JSON
        # (NegotiateInputSerializer); the Python client sends POSTs that way.
        if req.content_type.split(";")[0].strip() not in ("", JSON, PROTOBUF, "application/yaml"):
            raise ApiError(
                415,
                "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf",  # noqa: E501 - the real server's text
            )
        pod = req.decoded
        if not isinstance(pod, dict):
            raise ApiError(400, "BadRequest", "the object provided is unrecognized (must be of type Pod)")
        pod = copy.deepcopy(pod)
        meta = pod.setdefault("metadata", {})
        name = meta.get("name") or ""
        if meta.get("namespace") and meta["namespace"] != ns:
            raise ApiError(
                400,
                "BadRequest",
                "the namespace of the provided object does not match the namespace sent on the request",
            )
        errors = []
        if not name:
            errors.append(FieldError("Required", "metadata.name", "name or generateName is required"))
        if not (pod.get("spec") or {}).get("containers"):
            errors.append(FieldError("Required", "spec.containers"))
        if errors:
            raise invalid("Pod", name, errors)
        with self.store.lock:
            if (ns, name) in self.store.pods:
                raise ApiError(
                    409, "AlreadyExists", f'pods "{name}" already exists', {"name": name, "kind": "pods"}
                )
            if req.q("dryRun") != "All":
                pod = self.store.default_pod(pod, ns)
                self.store.pods[(ns, name)] = pod
            else:
                pod = self.store.default_pod(pod, ns)
        h._send_json(201, pod)

    def _delete_pod(self, h: _Handler, ns: str, name: str) -> None:
        with self.store.lock:
            pod = self.store.get(ns, name)
            del self.store.pods[(ns, name)]
        pod["metadata"]["deletionTimestamp"] = _now()
        pod["metadata"]["deletionGracePeriodSeconds"] = 0
        h._send_json(200, pod)

    def _patch_ephemeral(self, h: _Handler, req: RecordedRequest, ns: str, name: str) -> None:
        if self.faults.ephemeral_disabled:
            # What a server without the subresource answers (cdebug detects exactly this: empty details.name).
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        ctype = req.content_type.split(";")[0].strip()
        if ctype not in (SMP, JSON_PATCH, MERGE_PATCH, APPLY_PATCH):
            raise ApiError(
                415,
                "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json",  # noqa: E501 - the real server's text
            )
        if ctype == APPLY_PATCH:
            raise ApiError(500, "InternalError", "fake API server: server-side apply is not implemented")
        dry_run = req.q("dryRun")
        if dry_run not in (None, "All"):
            raise invalid(
                "PatchOptions.meta.k8s.io", "", [FieldError("NotSupported", "dryRun", value=dry_run)]
            )
        try:
            patch = json.loads(req.body)
        except ValueError as exc:
            raise ApiError(400, "BadRequest", f"error decoding patch: {exc}") from None
        with self.store.lock:
            old = self.store.get(ns, name)
            if ctype == JSON_PATCH:
                if not isinstance(patch, list):
                    raise ApiError(
                        400,
                        "BadRequest",
                        "json: cannot unmarshal object into Go value of type jsonpatch.Patch",
                    )
                new = json_patch(old, patch)
            elif not isinstance(patch, dict):
                raise ApiError(400, "BadRequest", "error decoding patch: patch is not a JSON object")
            elif ctype == SMP:
                new = strategic_merge(old, patch)
            else:
                new = merge_patch(old, patch)
            if not isinstance(new, dict):
                raise ApiError(400, "BadRequest", "the patch did not yield an object")
            new_name = (new.get("metadata") or {}).get("name")
            if new_name != name:
                raise ApiError(
                    400,
                    "BadRequest",
                    f"the name of the object ({new_name}) does not match the name on the URL ({name})",
                )
            for c in (new.get("spec") or {}).get("ephemeralContainers") or []:
                if isinstance(c, dict):
                    _default_container(c, ephemeral=True)
            # dropNonEphemeralContainerUpdates: all but spec.ephemeralContainers silently stays as it was.
            result = copy.deepcopy(old)
            result["spec"]["ephemeralContainers"] = (new.get("spec") or {}).get("ephemeralContainers") or []
            if not result["spec"]["ephemeralContainers"]:
                result["spec"].pop("ephemeralContainers")
            errors = validate_ephemeral_update(old, result)
            if errors:
                raise invalid("Pod", name, errors)
            if dry_run != "All":
                statuses = {s["name"]: s for s in result["status"].get("ephemeralContainerStatuses", [])}
                now = _now()
                for c in result["spec"].get("ephemeralContainers", []):
                    statuses.setdefault(c["name"], _running(c["name"], c["image"], now) | {"ready": False})
                result["status"]["ephemeralContainerStatuses"] = list(statuses.values())
                result["metadata"]["resourceVersion"] = self.store.next_rv()
                self.store.pods[(ns, name)] = result
        h._send_json(200, result)


def _all_container_names(pod: dict[str, Any]) -> set[str]:
    spec = pod["spec"]
    return {
        c["name"]
        for key in ("containers", "initContainers", "ephemeralContainers")
        for c in spec.get(key, [])
    }
