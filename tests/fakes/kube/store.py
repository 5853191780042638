"""The fake's etcd: pods and namespaces, resource versions, and the event log that watches read.

Models what a client sees of storage and the create-time strategy:
- a resource version that increases on every write, shared by all objects (etcd's revision), and list answers
  that carry the current one (`metadata.resourceVersion`);
- the pod defaults of `pkg/apis/core/v1/defaults.go` (`SetDefaults_Pod`, `SetDefaults_PodSpec`,
  `SetDefaults_Container`: restartPolicy, dnsPolicy, schedulerName, terminationGracePeriodSeconds,
  securityContext `{}`, terminationMessagePath/Policy, imagePullPolicy `Always` for `:latest` or no tag);
- `PrepareForCreate` of `pkg/registry/core/pod/strategy.go`: a created pod's status is only
  `{phase: Pending, qosClass}`; the scheduler and the kubelet fill in the rest later (see `kubelet.py`);
- `generateName` (`staging/src/k8s.io/apiserver/pkg/storage/names/generate.go`: the prefix plus 5 random
  characters from `bcdfghjklmnpqrstvwxz2456789`);
- watch events ADDED / MODIFIED / DELETED in resource-version order (`staging/src/k8s.io/apimachinery/pkg/watch`).

`add_pod` seeds a pod the way a controller would have made it earlier: by default already Running, so tests
about listing and planning need no waiting; `lifecycle=True` hands it to the kubelet as a new pod instead.
"""

from __future__ import annotations

import copy
import itertools
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.fakes.kube.status import not_found

GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
NODE_NAME = "fake-node"
HOST_IP = "10.0.0.1"


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def pull_policy(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    if "@" in last:
        return "IfNotPresent"
    return "Always" if ":" not in last or last.endswith(":latest") else "IfNotPresent"


def _default(obj: dict[str, Any], key: str, value: Any) -> None:
    """Go defaulting: a zero value ("" or absent, as protobuf and JSON both can carry) is unset."""
    if obj.get(key) in (None, ""):
        obj[key] = value


def default_container(c: dict[str, Any], *, ephemeral: bool = False) -> dict[str, Any]:
    _default(c, "terminationMessagePath", "/dev/termination-log")
    _default(c, "terminationMessagePolicy", "File")
    if c.get("image"):
        _default(c, "imagePullPolicy", pull_policy(c["image"]))
    if not ephemeral:
        c.setdefault("resources", {})
    return c


def running_status(name: str, image: str, started: str, restarts: int = 0) -> dict[str, Any]:
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
        self.changed = threading.Condition(self.lock)
        self.pods: dict[tuple[str, str], dict[str, Any]] = {}
        self.namespaces: dict[str, dict[str, Any]] = {}
        self.events: list[tuple[int, str, dict[str, Any]]] = []
        """(resource version, type, object) of every pod write, for watches."""
        self._rv = itertools.count(100)
        self._last_rv = 99
        self._uid = itertools.count(1)
        self._ips = itertools.count(2)
        self.on_new_pod: Callable[..., None] | None = None
        """Set by the server: hands a new pod to the kubelet (namespace, name, docker-backed)."""
        self.add_namespace("default")

    # --- resource versions and events ---

    def next_rv(self) -> str:
        with self.lock:
            self._last_rv = next(self._rv)
            return str(self._last_rv)

    def current_rv(self) -> str:
        with self.lock:
            return str(self._last_rv)

    def put(self, pod: dict[str, Any], event: str = "MODIFIED") -> dict[str, Any]:
        """Store `pod` with a new resource version and log the event; returns a copy of what was stored."""
        with self.lock:
            key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
            pod["metadata"]["resourceVersion"] = self.next_rv()
            if event == "DELETED":
                self.pods.pop(key, None)
            else:
                self.pods[key] = pod
            self.events.append((self._last_rv, event, copy.deepcopy(pod)))
            self.changed.notify_all()
            return copy.deepcopy(pod)

    def events_after(self, rv: int, timeout: float) -> list[tuple[int, str, dict[str, Any]]]:
        """Events newer than `rv`, waiting up to `timeout` for one."""
        with self.lock:
            if self._last_rv <= rv:
                self.changed.wait(timeout)
            return [e for e in self.events if e[0] > rv]

    # --- namespaces ---

    def add_namespace(self, name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
        with self.lock:
            ns = {
                "kind": "Namespace",
                "apiVersion": "v1",
                "metadata": {
                    "name": name,
                    "uid": f"ns-uid-{next(self._uid)}",
                    "resourceVersion": self.next_rv(),
                    "creationTimestamp": now(),
                    "labels": {"kubernetes.io/metadata.name": name, **(labels or {})},
                },
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            }
            self.namespaces[name] = ns
            return ns

    def namespace_labels(self, name: str) -> dict[str, str]:
        with self.lock:
            ns = self.namespaces.get(name)
            return dict(ns["metadata"].get("labels") or {}) if ns else {}

    # --- pods ---

    def generate_name(self, prefix: str) -> str:
        return prefix + "".join(random.choice(GENERATE_ALPHABET) for _ in range(5))

    def default_pod(self, pod: dict[str, Any], namespace: str) -> dict[str, Any]:
        """What the API server fills in on create (defaults and `PrepareForCreate`): a Pending pod."""
        meta = pod.setdefault("metadata", {})
        meta["namespace"] = namespace
        meta["uid"] = f"pod-uid-{next(self._uid)}"
        meta["creationTimestamp"] = now()
        meta.pop("resourceVersion", None)
        meta.pop("deletionTimestamp", None)
        pod["kind"], pod["apiVersion"] = "Pod", "v1"
        spec = pod.setdefault("spec", {})
        for c in spec.get("containers", []) + spec.get("initContainers", []):
            default_container(c)
        for c in spec.get("ephemeralContainers", []):
            default_container(c, ephemeral=True)
        _default(spec, "restartPolicy", "Always")
        spec.setdefault("terminationGracePeriodSeconds", 30)
        _default(spec, "dnsPolicy", "ClusterFirst")
        _default(spec, "serviceAccountName", "default")
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
        spec.setdefault("securityContext", {})
        _default(spec, "schedulerName", "default-scheduler")
        spec.setdefault("enableServiceLinks", True)
        _default(spec, "preemptionPolicy", "PreemptLowerPriority")
        spec.setdefault("priority", 0)
        pod["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
        return pod

    def next_pod_ip(self) -> str:
        return f"10.1.0.{next(self._ips)}"

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
        spec: dict[str, Any] | None = None,
        lifecycle: bool = False,
        docker: bool = False,
    ) -> dict[str, Any]:
        """Seed a pod (as if a controller had created it); returns the stored, defaulted pod.

        By default it is already scheduled and Running (with `status` merged over that). `lifecycle=True`:
        it starts Pending and the kubelet brings it up (or fails it) like a new pod. `docker=True`: real
        containers back it (needs the docker-backed kubelet; the call returns once they run)."""
        meta: dict[str, Any] = {"name": name}
        if labels:
            meta["labels"] = dict(labels)
        if annotations:
            meta["annotations"] = dict(annotations)
        if owner:
            meta["ownerReferences"] = [owner]
        pod_spec: dict[str, Any] = copy.deepcopy(spec or {})
        pod_spec["containers"] = copy.deepcopy(containers or [{"name": "app", "image": "nginx:1.27"}])
        if ephemeral:
            pod_spec["ephemeralContainers"] = copy.deepcopy(ephemeral)
        pod: dict[str, Any] = {"metadata": meta, "spec": pod_spec}
        with self.lock:
            if namespace not in self.namespaces:
                self.add_namespace(namespace)
            self.default_pod(pod, namespace)
            if not (lifecycle or docker):
                self._seed_running(pod)
                if status:
                    pod["status"].update(copy.deepcopy(status))
            stored = self.put(pod, "ADDED")
        if (lifecycle or docker) and self.on_new_pod is not None:
            self.on_new_pod(namespace, name, docker, sync=docker)
            if docker:
                return self.get(namespace, name)
        return stored

    def _seed_running(self, pod: dict[str, Any]) -> None:
        spec, meta = pod["spec"], pod["metadata"]
        started = meta["creationTimestamp"]
        spec.setdefault("nodeName", NODE_NAME)
        ip = self.next_pod_ip()
        pod["status"].update(
            {
                "phase": "Running",
                "conditions": [
                    {"type": t, "status": "True", "lastTransitionTime": started}
                    for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")
                ],
                "hostIP": HOST_IP,
                "hostIPs": [{"ip": HOST_IP}],
                "podIP": ip,
                "podIPs": [{"ip": ip}],
                "startTime": started,
                "containerStatuses": [
                    running_status(c["name"], c.get("image", ""), started) for c in spec["containers"]
                ],
            }
        )
        if spec.get("ephemeralContainers"):
            pod["status"]["ephemeralContainerStatuses"] = [
                running_status(c["name"], c.get("image", ""), started) | {"ready": False}
                for c in spec["ephemeralContainers"]
            ]

    def get(self, namespace: str, name: str) -> dict[str, Any]:
        with self.lock:
            pod = self.pods.get((namespace, name))
            if pod is None:
                raise not_found("pods", name)
            return copy.deepcopy(pod)
