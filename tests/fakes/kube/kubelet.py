"""A simulated scheduler + kubelet: what happens to a pod and its (ephemeral) containers after the API accepted it.

Models, with small configurable delays (`Lifecycle`):
- scheduling: `spec.nodeName` and the `PodScheduled` condition (the default scheduler's bind);
- the kubelet's first status (`pkg/kubelet/kubelet_pods.go` `generateAPIPodStatus` /
  `convertToAPIContainerStatuses`): `startTime`, host and pod IPs, every container `waiting` with reason
  `ContainerCreating`; ephemeral containers likewise once added;
- starting each container, with the outcomes a runtime gives (`pkg/kubelet/kuberuntime/kuberuntime_container.go`
  `startContainer`):
  - the image cannot be pulled: `ErrImagePull`, then `ImagePullBackOff` with "Back-off pulling image ..."
    (`pkg/kubelet/images/image_manager.go` `EnsureImageExists`);
  - `runAsNonRoot` while the image runs as root (or as a user name): `CreateContainerConfigError` with the
    message of `verifyRunAsNonRoot` (`pkg/kubelet/kuberuntime/security_context_others.go`), where the pod is
    `format.Pod`: `name_namespace(uid)` (`pkg/kubelet/util/format/pod.go`);
  - the runtime fails to start it: `RunContainerError`;
  - it runs: `running.startedAt` (and, docker-backed, `user.linux` with the process's uid/gid/groups when
    `Lifecycle.reports_user`); if its process exits, `terminated` with the exit code, and for pod
    containers whose restart policy says so, `restartCount + 1`, `lastState.terminated`, and `waiting`
    `CrashLoopBackOff` with "back-off 10s restarting failed container=C pod=P" (`kuberuntime_manager.go`
    `doBackOff`); ephemeral containers are never restarted;
- the pod phase (`getPhase`): Pending until a container runs, then Running; Succeeded/Failed when all
  containers ended and none will restart;
- graceful deletion: `deletionTimestamp` first, the pod disappears (DELETED) once its containers are gone.

What a container image does is the image table's business (`ImageSpec`: user, pullable, run error, exit);
`Lifecycle.supports_target` is the runtime switch for `targetContainerName` (a runtime without it runs the
ephemeral container in its own PID namespace, silently, as real runtimes do); the fact is kept per container
(`pid_namespace_of`). Pods marked docker-backed get real containers from `docker_kubelet.DockerRuntime`.
"""

from __future__ import annotations

import copy
import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.fakes.kube.store import HOST_IP, NODE_NAME, Store, now

if TYPE_CHECKING:
    from tests.fakes.kube.docker_kubelet import DockerRuntime

PULL_ERRORS = ("ErrImagePull", "ImagePullBackOff")


@dataclass
class ImageSpec:
    """What the fake cluster knows about one image (keyed by the image reference pods use)."""

    user: str = ""
    """The image config's `User`: "" (root, like most images), "0", "65532", "65532:65532", or a name."""
    pullable: bool = True
    pull_error: str = ""
    """The runtime's pull error; a NotFound from the registry by default."""
    run_error: str = ""
    """When set, the runtime fails to start the container with this message (`RunContainerError`)."""
    exit_code: int | None = None
    """When set, the container's process exits with this code `runs_for` seconds after it started."""
    runs_for: float = 0.0
    logs: str = ""
    """What the container writes (simulated mode; docker-backed containers have real logs)."""
    docker_image: str = ""
    """The local Docker image behind it in the docker-backed mode (no registry is reachable)."""


class ImageTable(dict[str, ImageSpec]):
    """Image reference → `ImageSpec`. Looked up by the exact reference, then without tag or digest;
    unknown images pull fine and run as root."""

    def lookup(self, image: str) -> ImageSpec:
        if image in self:
            return self[image]
        base = image.split("@", 1)[0]
        last = base.rsplit("/", 1)[-1]
        if ":" in last:
            base = base[: len(base) - len(last)] + last.split(":", 1)[0]
        return self.get(base, ImageSpec())


@dataclass
class Lifecycle:
    """Delays (seconds) and runtime switches of the simulated node."""

    schedule_seconds: float = 0.05
    """Created → scheduled (nodeName set)."""
    create_seconds: float = 0.1
    """Scheduled → the kubelet reports containers waiting in ContainerCreating."""
    start_seconds: float = 0.15
    """ContainerCreating → the outcome (Running, or a waiting error)."""
    backoff_seconds: float = 0.3
    """ErrImagePull → ImagePullBackOff; terminated → restarted after CrashLoopBackOff."""
    max_restarts: int = 3
    """Crash loops stop being simulated after this many restarts (they stay in CrashLoopBackOff)."""
    delete_seconds: float = 0.1
    """deletionTimestamp set → the pod is gone."""
    supports_target: bool = True
    """Whether the runtime honours `targetContainerName` (shares the target's PID namespace)."""
    poll_seconds: float = 0.2
    """How often docker-backed containers are checked for an exit."""
    reports_user: bool = True
    """The kubelet's `SupplementalGroupsPolicy` feature gate (alpha in 1.31, on by default from 1.33): running
    docker-backed containers' statuses carry `user.linux` {uid, gid, supplementalGroups}; off like older nodes."""


def format_pod(pod: dict[str, Any]) -> str:
    """`format.Pod`: `name_namespace(uid)`."""
    m = pod["metadata"]
    return f"{m['name']}_{m['namespace']}({m['uid']})"


def _image_uid(user: str) -> tuple[int | None, str]:
    """The CRI image status: a numeric user (before `:group`) is a uid, anything else a user name, none root."""
    name = user.split(":", 1)[0]
    if not name:
        return 0, ""
    return (int(name), "") if name.isdigit() else (None, name)


def verify_run_as_non_root(pod: dict[str, Any], container: dict[str, Any], image_user: str) -> str | None:
    """`verifyRunAsNonRoot`: the error message, or None when the container may start."""
    psc = pod["spec"].get("securityContext") or {}
    csc = container.get("securityContext") or {}
    non_root = csc.get("runAsNonRoot", psc.get("runAsNonRoot"))
    if not non_root:
        return None
    who = f'(pod: "{format_pod(pod)}", container: {container["name"]})'
    run_as = csc.get("runAsUser", psc.get("runAsUser"))
    if run_as is not None:
        return f"container's runAsUser breaks non-root policy {who}" if run_as == 0 else None
    uid, username = _image_uid(image_user)
    if uid is None:
        return (
            f"container has runAsNonRoot and image has non-numeric user ({username}), "
            f"cannot verify user is non-root {who}"
        )
    if uid == 0:
        return f"container has runAsNonRoot and image will run as root {who}"
    return None


def _waiting(name: str, image: str, reason: str, message: str = "", restarts: int = 0) -> dict[str, Any]:
    state: dict[str, Any] = {"reason": reason}
    if message:
        state["message"] = message
    return {
        "name": name,
        "state": {"waiting": state},
        "lastState": {},
        "ready": False,
        "restartCount": restarts,
        "image": image,
        "imageID": "",
        "started": False,
    }


@dataclass
class _Container:
    """The kubelet's own record of one container (what the status is computed from)."""

    name: str
    ephemeral: bool
    restarts: int = 0
    started_at: str = ""
    run_until: float | None = None
    pid_namespace: str = ""
    docker: bool = False


@dataclass
class Kubelet:
    store: Store
    images: ImageTable = field(default_factory=ImageTable)
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    docker: DockerRuntime | None = None
    _timers: list[tuple[float, int, Callable[[], None]]] = field(default_factory=list)
    _seq: itertools.count[int] = field(default_factory=itertools.count)
    _wake: threading.Condition = field(default_factory=threading.Condition)
    _stopped: bool = False
    _thread: threading.Thread | None = None
    containers: dict[tuple[str, str, str], _Container] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    # --- the timer loop ---

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="fake-kubelet", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def after(self, seconds: float, fn: Callable[[], None]) -> None:
        with self._wake:
            heapq.heappush(self._timers, (time.monotonic() + seconds, next(self._seq), fn))
            self._wake.notify_all()

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._stopped and (not self._timers or self._timers[0][0] > time.monotonic()):
                    timeout = self._timers[0][0] - time.monotonic() if self._timers else None
                    self._wake.wait(timeout)
                if self._stopped:
                    return
                _, _, fn = heapq.heappop(self._timers)
            try:
                fn()
            except Exception as exc:  # a bug in the fake: kept for the fixture to fail on
                self.errors.append(f"kubelet: {exc!r}")

    # --- the API's hooks ---

    def pod_created(self, ns: str, name: str, docker: bool = False, *, sync: bool = False) -> None:
        """A new pod: scheduled, then started after the lifecycle's delays; `sync` (seeding a docker-backed
        pod) does it all now, so the caller can exec into it at once."""
        if docker and self.docker is None:
            raise RuntimeError("docker-backed pods need the fake started with docker=True")
        if sync:
            self._bind(ns, name)
            self._first_status(ns, name, docker=docker)
            self._start_all(ns, name)
            return
        self.after(self.lifecycle.schedule_seconds, lambda: self._bind_then_sync(ns, name, docker))

    def ephemeral_added(self, ns: str, name: str, container: str) -> None:
        def creating() -> None:
            with self.store.lock:
                pod = self._pod(ns, name)
                if pod is None:
                    return
                c = self._spec(pod, container)
                statuses = pod["status"].setdefault("ephemeralContainerStatuses", [])
                statuses.append(_waiting(container, c.get("image", ""), "ContainerCreating"))
                self.store.put(pod)
            self.after(self.lifecycle.start_seconds, lambda: self._start(ns, name, container, ephemeral=True))

        self.after(self.lifecycle.create_seconds, creating)

    def pod_deleting(self, ns: str, name: str, grace: float) -> None:
        def gone() -> None:
            if self.docker is not None:
                self.docker.remove_pod(ns, name)
            with self.store.lock:
                pod = self.store.pods.get((ns, name))
                if pod is not None:
                    self.store.put(pod, "DELETED")
                for key in [k for k in self.containers if k[:2] == (ns, name)]:
                    del self.containers[key]

        self.after(min(grace, self.lifecycle.delete_seconds), gone)

    def pid_namespace_of(self, ns: str, pod: str, container: str) -> str:
        """The container whose PID namespace `container` is in: itself, its target (when the runtime
        supports --target), or "pod" (shareProcessNamespace)."""
        record = self.containers.get((ns, pod, container))
        return record.pid_namespace if record else container

    # --- steps ---

    def _pod(self, ns: str, name: str) -> dict[str, Any] | None:
        pod = self.store.pods.get((ns, name))
        return pod if pod is not None and not pod["metadata"].get("deletionTimestamp") else None

    @staticmethod
    def _spec(pod: dict[str, Any], container: str) -> dict[str, Any]:
        spec = pod["spec"]
        for key in ("containers", "initContainers", "ephemeralContainers"):
            for c in spec.get(key) or []:
                if c["name"] == container:
                    return dict(c)
        raise KeyError(container)

    def _bind_then_sync(self, ns: str, name: str, docker: bool) -> None:
        self._bind(ns, name)
        self.after(self.lifecycle.create_seconds, lambda: self._first_status_then_start(ns, name, docker))

    def _bind(self, ns: str, name: str) -> None:
        with self.store.lock:
            pod = self._pod(ns, name)
            if pod is None:
                return
            pod["spec"]["nodeName"] = pod["spec"].get("nodeName") or NODE_NAME
            pod["status"]["conditions"] = [
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": now()}
            ]
            self.store.put(pod)

    def _first_status_then_start(self, ns: str, name: str, docker: bool) -> None:
        self._first_status(ns, name, docker)
        self.after(self.lifecycle.start_seconds, lambda: self._start_all(ns, name))

    def _first_status(self, ns: str, name: str, docker: bool = False) -> None:
        with self.store.lock:
            pod = self._pod(ns, name)
            if pod is None:
                return
            if docker and self.docker is not None:
                self.docker.start_sandbox(pod)
            ip = self.store.next_pod_ip()
            started = now()
            status = pod["status"]
            status.update(
                {
                    "hostIP": HOST_IP,
                    "hostIPs": [{"ip": HOST_IP}],
                    "podIP": ip,
                    "podIPs": [{"ip": ip}],
                    "startTime": started,
                    "conditions": [
                        *status.get("conditions", []),
                        {"type": "Initialized", "status": "True", "lastTransitionTime": started},
                        {"type": "Ready", "status": "False", "reason": "ContainersNotReady"},
                        {"type": "ContainersReady", "status": "False", "reason": "ContainersNotReady"},
                    ],
                    "containerStatuses": [
                        _waiting(c["name"], c.get("image", ""), "ContainerCreating")
                        for c in pod["spec"]["containers"]
                    ],
                }
            )
            for c in pod["spec"]["containers"]:
                self.containers[(ns, name, c["name"])] = _Container(c["name"], False, docker=docker)
            self.store.put(pod)

    def _start_all(self, ns: str, name: str) -> None:
        if not self._run_init_containers(ns, name):
            return
        with self.store.lock:
            pod = self._pod(ns, name)
            names = [c["name"] for c in pod["spec"]["containers"]] if pod else []
        for c in names:
            self._start(ns, name, c, ephemeral=False)

    def _run_init_containers(self, ns: str, name: str) -> bool:
        """Init containers one after the other, each to its end, before the pod's containers
        (`pkg/kubelet/kuberuntime/kuberuntime_manager.go` `computePodActions`, `findNextInitContainerToRun`);
        False when one failed (the pod stays Pending: restarts of failed init containers are not modelled).
        Simulated pods run nothing: their init containers complete at once."""
        with self.store.lock:
            pod = self._pod(ns, name)
            inits = [dict(c) for c in (pod["spec"].get("initContainers") or [])] if pod else []
            docker = self.docker_backed(ns, name) and self.docker is not None
            snapshot = copy.deepcopy(pod) if pod else None
        for c in inits:
            code, error = 0, ""
            if docker and self.docker is not None and snapshot is not None:
                share = "pod" if snapshot["spec"].get("shareProcessNamespace") else c["name"]
                error = self.docker.start_container(snapshot, c, ephemeral=False, pid_from=share)
                code = self.docker.wait(ns, name, c["name"]) if not error else 128
            ended = {
                "exitCode": code,
                "reason": "Completed" if code == 0 else "Error",
                **({"message": error} if error else {}),
                "startedAt": now(),
                "finishedAt": now(),
            }
            status = {
                "name": c["name"],
                "state": {"terminated": ended},
                "lastState": {},
                "ready": code == 0,
                "restartCount": 0,
                "image": c.get("image", ""),
                "imageID": "",
                "started": False,
            }
            with self.store.lock:
                pod = self._pod(ns, name)
                if pod is None:
                    return False
                statuses = pod["status"].setdefault("initContainerStatuses", [])
                statuses[:] = [s for s in statuses if s["name"] != c["name"]] + [status]
                self.store.put(pod)
            if code != 0:
                return False
        return True

    def _statuses(self, pod: dict[str, Any], ephemeral: bool) -> list[dict[str, Any]]:
        key = "ephemeralContainerStatuses" if ephemeral else "containerStatuses"
        return pod["status"].setdefault(key, [])

    def _set_status(self, pod: dict[str, Any], ephemeral: bool, status: dict[str, Any]) -> None:
        statuses = self._statuses(pod, ephemeral)
        for i, s in enumerate(statuses):
            if s["name"] == status["name"]:
                statuses[i] = status
                break
        else:
            statuses.append(status)
        self._update_phase(pod)

    def _update_phase(self, pod: dict[str, Any]) -> None:
        """`getPhase` for what the fake models (no init containers)."""
        statuses = pod["status"].get("containerStatuses") or []
        states = [next(iter(s["state"]), "") for s in statuses]
        restarting = any(s["state"].get("waiting", {}).get("reason") == "CrashLoopBackOff" for s in statuses)
        policy = pod["spec"].get("restartPolicy", "Always")
        if states and all(s == "terminated" for s in states) and policy != "Always":
            codes = [s["state"]["terminated"].get("exitCode", 0) for s in statuses]
            if policy == "Never" or all(c == 0 for c in codes):
                pod["status"]["phase"] = "Succeeded" if all(c == 0 for c in codes) else "Failed"
                return
        if any(s in ("running", "terminated") for s in states) or restarting:
            pod["status"]["phase"] = "Running"
        ready = bool(statuses) and all(s.get("ready") for s in statuses)
        for cond in pod["status"].get("conditions", []):
            if cond["type"] in ("Ready", "ContainersReady"):
                cond["status"] = "True" if ready else "False"
                if ready:
                    cond.pop("reason", None)
                else:
                    cond["reason"] = "ContainersNotReady"

    def _image_user(self, image: str, docker: bool) -> str:
        if docker and self.docker is not None:
            return self.docker.image_user(image)
        return self.images.lookup(image).user

    def _start(self, ns: str, name: str, container: str, *, ephemeral: bool) -> None:
        with self.store.lock:
            pod = self._pod(ns, name)
            if pod is None:
                return
            c = self._spec(pod, container)
            record = self.containers.setdefault(
                (ns, name, container), _Container(container, ephemeral, docker=self.docker_backed(ns, name))
            )
            image = c.get("image", "")
            spec = self.images.lookup(image)
            pullable = self.docker.has_image(image) if record.docker and self.docker else spec.pullable
            if not pullable:
                message = spec.pull_error or (
                    f'rpc error: code = NotFound desc = failed to pull and unpack image "{image}": '
                    f'failed to resolve reference "{image}": not found'
                )
                self._set_status(
                    pod, ephemeral, _waiting(container, image, "ErrImagePull", message, record.restarts)
                )
                self.store.put(pod)
                self.after(
                    self.lifecycle.backoff_seconds, lambda: self._pull_backoff(ns, name, container, ephemeral)
                )
                return
            error = verify_run_as_non_root(pod, c, self._image_user(image, record.docker))
            if error:
                self._set_status(
                    pod,
                    ephemeral,
                    _waiting(container, image, "CreateContainerConfigError", error, record.restarts),
                )
                self.store.put(pod)
                return
            target = c.get("targetContainerName") if ephemeral else None
            if pod["spec"].get("shareProcessNamespace"):
                record.pid_namespace = "pod"
            elif target and self.lifecycle.supports_target:
                record.pid_namespace = target
            else:
                record.pid_namespace = container
            run_error = spec.run_error
            if not run_error and record.docker and self.docker is not None:
                run_error = self.docker.start_container(
                    pod, c, ephemeral=ephemeral, pid_from=record.pid_namespace
                )
            if run_error:
                self._set_status(
                    pod,
                    ephemeral,
                    _waiting(container, image, "RunContainerError", run_error, record.restarts),
                )
                self.store.put(pod)
                return
            record.started_at = now()
            status = {
                "name": container,
                "state": {"running": {"startedAt": record.started_at}},
                "lastState": self._last_state(pod, ephemeral, container),
                "ready": not ephemeral,
                "restartCount": record.restarts,
                "image": image,
                "imageID": "",
                "containerID": f"docker://{self.docker.container_id(ns, name, container)}"
                if record.docker and self.docker
                else f"containerd://{ns}-{name}-{container}-{record.restarts}",
                "started": True,
            }
            if record.docker and self.docker is not None and self.lifecycle.reports_user:
                user = self.docker.process_user(ns, name, container)
                if user is not None:
                    status["user"] = user
            self._set_status(pod, ephemeral, status)
            self.store.put(pod)
            if record.docker:
                self.after(
                    self.lifecycle.poll_seconds, lambda: self._poll_docker(ns, name, container, ephemeral)
                )
            elif spec.exit_code is not None:
                code = spec.exit_code
                self.after(spec.runs_for, lambda: self._exited(ns, name, container, ephemeral, code))

    def _last_state(self, pod: dict[str, Any], ephemeral: bool, container: str) -> dict[str, Any]:
        for s in self._statuses(pod, ephemeral):
            if s["name"] == container:
                return copy.deepcopy(s.get("lastState") or {})
        return {}

    def docker_backed(self, ns: str, name: str) -> bool:
        return any(r.docker for k, r in list(self.containers.items()) if k[:2] == (ns, name))

    def _pull_backoff(self, ns: str, name: str, container: str, ephemeral: bool) -> None:
        with self.store.lock:
            pod = self._pod(ns, name)
            if pod is None:
                return
            image = self._spec(pod, container).get("image", "")
            record = self.containers[(ns, name, container)]
            message = f'Back-off pulling image "{image}"'
            self._set_status(
                pod, ephemeral, _waiting(container, image, "ImagePullBackOff", message, record.restarts)
            )
            self.store.put(pod)

    def _poll_docker(self, ns: str, name: str, container: str, ephemeral: bool) -> None:
        if self.docker is None or self._stopped:
            return
        code = self.docker.exit_code(ns, name, container)
        if code is None:
            self.after(self.lifecycle.poll_seconds, lambda: self._poll_docker(ns, name, container, ephemeral))
        else:
            self._exited(ns, name, container, ephemeral, code)

    def _exited(self, ns: str, name: str, container: str, ephemeral: bool, code: int) -> None:
        with self.store.lock:
            pod = self._pod(ns, name)
            record = self.containers.get((ns, name, container))
            if pod is None or record is None:
                return
            image = self._spec(pod, container).get("image", "")
            terminated = {
                "exitCode": code,
                "reason": "Completed" if code == 0 else "Error",
                "startedAt": record.started_at,
                "finishedAt": now(),
                "containerID": f"containerd://{ns}-{name}-{container}-{record.restarts}",
            }
            policy = pod["spec"].get("restartPolicy", "Always")
            restart = not ephemeral and (policy == "Always" or (policy == "OnFailure" and code != 0))
            if not restart or record.restarts >= self.lifecycle.max_restarts:
                status = {
                    "name": container,
                    "state": {"terminated": terminated} if not restart else {},
                    "lastState": self._last_state(pod, ephemeral, container),
                    "ready": False,
                    "restartCount": record.restarts,
                    "image": image,
                    "imageID": "",
                    "started": False,
                }
                if restart:  # the simulation stops here: the container stays in its back-off
                    status["state"] = {
                        "waiting": {"reason": "CrashLoopBackOff", "message": self._backoff(pod, record)}
                    }
                    status["lastState"] = {"terminated": terminated}
                self._set_status(pod, ephemeral, status)
                self.store.put(pod)
                return
            record.restarts += 1
            status = _waiting(
                container, image, "CrashLoopBackOff", self._backoff(pod, record), record.restarts
            )
            status["lastState"] = {"terminated": terminated}
            self._set_status(pod, ephemeral, status)
            self.store.put(pod)
        self.after(self.lifecycle.backoff_seconds, lambda: self._start(ns, name, container, ephemeral=False))

    @staticmethod
    def _backoff(pod: dict[str, Any], record: _Container) -> str:
        seconds = min(10 * 2 ** max(record.restarts - 1, 0), 300)
        delay = f"{seconds // 60}m{seconds % 60}s" if seconds >= 60 else f"{seconds}s"
        return f"back-off {delay} restarting failed container={record.name} pod={format_pod(pod)}"
