"""The docker-backed container runtime: a fake pod's containers as real containers on the local Docker engine.

Models what a CRI runtime does for a pod (https://kubernetes.io/docs/concepts/workloads/pods/#how-pods-manage-multiple-containers,
https://kubernetes.io/docs/tasks/configure-pod-container/share-process-namespace/,
https://kubernetes.io/docs/concepts/workloads/pods/ephemeral-containers/):
- a sandbox ("pause") container holds the pod's network and IPC namespaces (here `--network none`: loopback
  only, so nothing leaves the machine); every container joins them;
- each container has its own PID namespace, unless `shareProcessNamespace` (then the sandbox's), or it is an
  ephemeral container with `targetContainerName` on a runtime that supports it (then the target's). The
  kubelet only asks: `generateLinuxContainerConfig` (`pkg/kubelet/kuberuntime/kuberuntime_container_linux.go`)
  turns the target into CRI `NamespaceOption{pid: TARGET, target_id}`, and a runtime that does not implement
  `NamespaceMode.TARGET` (cri-api `api.proto`) starts the container with a PID namespace of its own, silently
  ("Debug Running Pods", kubernetes.io: "it may be started with an isolated process namespace so that `ps` does
  not reveal processes in other containers"). `Lifecycle.supports_target=False` is that runtime: no `--pid`;
- `command` replaces the image's entrypoint and `args` its cmd; `runAsUser`/`runAsGroup` become the user,
  `capabilities.add/drop` the capabilities; `stdin: true` keeps stdin open for attach; `workingDir` and
  literal `env` values are passed on (`valueFrom` is not modelled);
- exec and attach run `docker exec` / `docker attach`; logs are `docker logs`;
- port-forward connects inside the sandbox's network namespace, as containerd's `PortForward` does
  (`internal/cri/server/sandbox_portforward_linux.go`: `netns.Do`, then a dial to `localhost:PORT`, IPv4 then
  IPv6): a thread of the fake enters the namespace of the sandbox's process (`setns(2)` on
  `/proc/PID/ns/net`, through ctypes: Python 3.11 has no `os.setns`; the fake runs as root beside the engine),
  connects, and ends; the socket stays in that namespace. So a server bound to the pod's 127.0.0.1 is reached.

Images: pods name images the way manifests do (e.g. `busybox:1.36`); the image table maps each to a local
image built FROM scratch (`ImageSpec.docker_image`), since no registry is reachable. An image without a local
counterpart cannot be pulled (ErrImagePull), as on a node without registry access. The runtime reads the image's
`User` from `docker image inspect` for the runAsNonRoot check.

Volumes: `emptyDir` only (`pkg/volume/emptydir`: a fresh world-writable directory per pod, shared by the
containers that mount it, removed with the pod) — a labelled docker volume per pod, mounted at each
`volumeMounts[].mountPath` (`readOnly` honoured); other volume types are not mounted. Init containers run one
after the other, each to its end, before the pod's containers (`kuberuntime_manager.go` `computePodActions`;
`kubelet.py` drives it, `wait` here).

`tty: true` creates the container with a terminal (`docker run -t`); exec and attach with a TTY run the docker
CLI on a pseudo-terminal (`streaming.bridge_tty`). Not modelled: privileged containers (refused: the engine is
shared), volumes other than emptyDir, resources, probes. Every container (and volume) is labelled
`io.debugbox.fake-kube=<id>` and removed by `cleanup()`.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import socket
import subprocess
import threading
import uuid
from pathlib import Path
from typing import Any

from tests.fakes.kube.kubelet import ImageTable

LABEL = "io.debugbox.fake-kube"
CLONE_NEWNET = 0x40000000


def connect_in_netns(netns: str, port: int, sandbox: str, timeout: float = 5.0) -> socket.socket:
    """A TCP connection to localhost:`port` made inside the network namespace at `netns` (IPv4, then IPv6, as
    containerd dials); raises OSError with containerd's text when neither answers. The namespace is entered by
    a thread of its own, which then ends, so no other work of the fake runs in it."""
    result: list[socket.socket | OSError] = []

    def enter() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(netns, os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    code = ctypes.get_errno()
                    raise OSError(code, f"setns {netns}: {os.strerror(code)}")
            finally:
                os.close(fd)
            errors: list[str] = []
            for family, host, label in (
                (socket.AF_INET, "127.0.0.1", "tcp4"),
                (socket.AF_INET6, "::1", "tcp6"),
            ):
                sock = socket.socket(family, socket.SOCK_STREAM)
                sock.settimeout(timeout)
                try:
                    sock.connect((host, port))
                except OSError as exc:
                    sock.close()
                    shown = f"[{host}]" if family == socket.AF_INET6 else host
                    why = os.strerror(exc.errno) if exc.errno else str(exc)
                    errors.append(f"dial {label} {shown}:{port}: connect: {why.lower()}")
                    continue
                sock.settimeout(None)
                result.append(sock)
                return
            raise OSError(
                errno.ECONNREFUSED,
                f'failed to connect to localhost:{port} inside namespace "{sandbox}", '
                f"IPv4: {errors[0]} IPv6 {errors[1]} ",
            )
        except OSError as exc:
            result.append(exc)

    t = threading.Thread(target=enter, name="fake-kubelet-netns", daemon=True)
    t.start()
    t.join()
    found = result[0] if result else OSError("the namespace thread ended without a result")
    if isinstance(found, OSError):
        raise found
    return found


def docker(*args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and out.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:2])} failed: {out.stderr.strip()}")
    return out


class DockerRuntime:
    def __init__(self, images: ImageTable, pause_image: str) -> None:
        self.images = images
        self.pause_image = pause_image
        self.id = uuid.uuid4().hex[:8]
        self._names: dict[tuple[str, str, str], str] = {}
        self._lock = threading.Lock()
        self._user_cache: dict[str, str] = {}

    # --- names ---

    def _name(self, ns: str, pod: str, container: str) -> str:
        return f"dbx-fk-{self.id}-{ns}-{pod}-{container}"[:200]

    def container_name(self, ns: str, pod: str, container: str) -> str:
        with self._lock:
            name = self._names.get((ns, pod, container))
        if name is None:
            raise KeyError(f"{ns}/{pod}/{container} has no docker container")
        return name

    def container_id(self, ns: str, pod: str, container: str) -> str:
        out = docker("inspect", "--format", "{{.Id}}", self.container_name(ns, pod, container), check=False)
        return out.stdout.strip()

    def _labels(self, ns: str, pod: str, container: str) -> list[str]:
        return [
            "--label", f"{LABEL}={self.id}",
            "--label", f"io.kubernetes.pod.namespace={ns}",
            "--label", f"io.kubernetes.pod.name={pod}",
            "--label", f"io.kubernetes.container.name={container}",
        ]  # fmt: skip

    # --- images ---

    def local_image(self, image: str) -> str:
        return self.images.lookup(image).docker_image

    def has_image(self, image: str) -> bool:
        local = self.local_image(image)
        return bool(local) and docker("image", "inspect", local, check=False).returncode == 0

    def image_user(self, image: str) -> str:
        local = self.local_image(image)
        if local not in self._user_cache:
            out = docker("image", "inspect", "--format", "{{json .Config.User}}", local, check=False)
            self._user_cache[local] = json.loads(out.stdout or '""') if out.returncode == 0 else ""
        return self._user_cache[local]

    # --- pods ---

    def _volume(self, ns: str, pod: str, volume: str) -> str:
        return f"dbx-fk-{self.id}-{ns}-{pod}-vol-{volume}"[:200]

    def start_sandbox(self, pod: dict[str, Any]) -> None:
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        sandbox = self._name(ns, name, "POD")
        docker("rm", "-f", sandbox, check=False)
        for v in pod["spec"].get("volumes") or []:
            if "emptyDir" in v:  # a fresh, empty directory for this pod
                volume = self._volume(ns, name, v["name"])
                docker("volume", "rm", "-f", volume, check=False)
                docker("volume", "create", "--label", f"{LABEL}={self.id}", volume)
                # The kubelet makes an emptyDir world-writable (`pkg/volume/emptydir/empty_dir.go`, `setupDir`:
                # 0777), so containers running as any user can write to it.
                docker(
                    "run", "--rm", "--name", f"{volume}-setup", "--network", "none",
                    "--mount", f"type=volume,src={volume},dst=/v",
                    "--entrypoint", "/bin/busybox", self.pause_image, "chmod", "0777", "/v",
                )  # fmt: skip
        docker(
            "run", "-d", "--name", sandbox, *self._labels(ns, name, "POD"),
            "--network", "none", "--ipc", "shareable", "--hostname", name[:63],
            "--entrypoint", "/bin/sleep", self.pause_image, "2147483647",
        )  # fmt: skip
        with self._lock:
            self._names[(ns, name, "POD")] = sandbox

    def start_container(
        self, pod: dict[str, Any], c: dict[str, Any], *, ephemeral: bool, pid_from: str
    ) -> str:
        """Create and start the container; "" when it runs, else the runtime's error (RunContainerError)."""
        ns, pod_name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        sandbox = self._names.get((ns, pod_name, "POD"))
        if sandbox is None:
            return "the pod sandbox is not running"
        sc = {**(pod["spec"].get("securityContext") or {}), **(c.get("securityContext") or {})}
        if sc.get("privileged"):
            return (
                "the fake's docker-backed runtime does not run privileged containers (the engine is shared)"
            )
        name = self._name(ns, pod_name, c["name"])
        docker("rm", "-f", name, check=False)
        argv = ["run", "-d", "--name", name, *self._labels(ns, pod_name, c["name"])]
        argv += ["--network", f"container:{sandbox}", "--ipc", f"container:{sandbox}"]
        if pid_from == "pod":
            argv += ["--pid", f"container:{sandbox}"]
        elif pid_from != c["name"]:
            argv += ["--pid", f"container:{self.container_name(ns, pod_name, pid_from)}"]
        if sc.get("runAsUser") is not None:
            group = sc.get("runAsGroup")
            argv += ["--user", f"{sc['runAsUser']}" + (f":{group}" if group is not None else "")]
        caps = sc.get("capabilities") or {}
        argv += [a for cap in caps.get("drop") or [] for a in ("--cap-drop", str(cap))]
        argv += [a for cap in caps.get("add") or [] for a in ("--cap-add", str(cap))]
        empty_dirs = {v["name"] for v in pod["spec"].get("volumes") or [] if "emptyDir" in v}
        for m in c.get("volumeMounts") or []:
            if m["name"] in empty_dirs:
                where = f"type=volume,src={self._volume(ns, pod_name, m['name'])},dst={m['mountPath']}"
                argv += ["--mount", where + (",readonly" if m.get("readOnly") else "")]
        if c.get("stdin"):
            argv.append("-i")
        if c.get("tty"):
            argv.append("-t")  # the container's process gets a terminal; `docker attach` then carries it
        if c.get("workingDir"):
            argv += ["--workdir", str(c["workingDir"])]
        argv += [
            f"--env={e['name']}={e.get('value', '')}" for e in c.get("env") or [] if "valueFrom" not in e
        ]
        command, args = list(c.get("command") or []), list(c.get("args") or [])
        if command:
            argv += ["--entrypoint", command[0], self.local_image(c["image"]), *command[1:], *args]
        else:
            argv += [self.local_image(c["image"]), *args]
        out = docker(*argv, check=False)
        if out.returncode != 0:
            docker("rm", "-f", name, check=False)
            return (
                out.stderr.strip().removeprefix("docker: ").splitlines()[0]
                if out.stderr.strip()
                else "failed"
            )
        with self._lock:
            self._names[(ns, pod_name, c["name"])] = name
        return ""

    def process_user(self, ns: str, pod: str, container: str) -> dict[str, Any] | None:
        """`status.containerStatuses[].user` as the kubelet reports it (`convertContainerStatusUser` in
        `pkg/kubelet/kubelet_pods.go`, from the CRI's `ContainerStatus.user`, which runtimes fill from the OCI
        spec's `process.user`): here read from the started process itself; None when it is not running."""
        try:
            name = self.container_name(ns, pod, container)
        except KeyError:
            return None
        out = docker("inspect", "--format", "{{.State.Pid}}", name, check=False)
        pid = out.stdout.strip()
        if out.returncode != 0 or not pid.isdigit() or pid == "0":
            return None
        fields: dict[str, list[int]] = {}
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in ("Uid", "Gid", "Groups"):
                    fields[key] = [int(v) for v in value.split()]
        except (OSError, ValueError):
            return None
        if not fields.get("Uid") or not fields.get("Gid"):
            return None
        return {
            "linux": {
                "uid": fields["Uid"][0],
                "gid": fields["Gid"][0],
                "supplementalGroups": fields.get("Groups") or [],
            }
        }

    def exit_code(self, ns: str, pod: str, container: str) -> int | None:
        """None while it runs, else its exit code."""
        try:
            name = self.container_name(ns, pod, container)
        except KeyError:
            return None
        out = docker("inspect", "--format", "{{.State.Running}} {{.State.ExitCode}}", name, check=False)
        if out.returncode != 0:
            return None
        running, code = out.stdout.split()
        return None if running == "true" else int(code)

    def wait(self, ns: str, pod: str, container: str, timeout: float = 60) -> int:
        """Wait for the container to end (an init container); its exit code."""
        out = docker("wait", self.container_name(ns, pod, container), timeout=timeout, check=False)
        return int(out.stdout.strip() or "1") if out.returncode == 0 else 1

    def logs(self, ns: str, pod: str, container: str) -> bytes:
        out = subprocess.run(
            ["docker", "logs", self.container_name(ns, pod, container)], capture_output=True, timeout=60
        )
        return out.stdout + out.stderr

    def exec_argv(
        self, ns: str, pod: str, container: str, command: list[str], stdin: bool, *, tty: bool = False
    ) -> list[str]:
        return [
            "docker",
            "exec",
            *(["-i"] if stdin else []),
            *(["-t"] if tty else []),  # run on the fake's pseudo-terminal (`streaming.bridge_tty`)
            self.container_name(ns, pod, container),
            *command,
        ]

    def attach_argv(self, ns: str, pod: str, container: str, stdin: bool) -> list[str]:
        flags = ["--sig-proxy=false", *([] if stdin else ["--no-stdin"])]
        return ["docker", "attach", *flags, self.container_name(ns, pod, container)]

    def running(self, ns: str, pod: str, container: str) -> bool:
        try:
            name = self.container_name(ns, pod, container)
        except KeyError:
            return False
        out = docker("inspect", "--format", "{{.State.Running}}", name, check=False)
        return out.stdout.strip() == "true"

    def sandbox(self, ns: str, pod: str) -> tuple[str, int]:
        """(the sandbox container's id, its process id); pid 0 when it is not running."""
        out = docker("inspect", "--format", "{{.Id}} {{.State.Pid}}", self._name(ns, pod, "POD"), check=False)
        ident, _, pid = out.stdout.strip().partition(" ")
        return (ident, int(pid)) if out.returncode == 0 and pid.isdigit() else ("", 0)

    def dial(self, ns: str, pod: str, port: int) -> socket.socket:
        """Connect to `port` inside the pod's network namespace (port-forward)."""
        ident, pid = self.sandbox(ns, pod)
        if not pid:
            raise OSError(errno.ESRCH, f"sandbox container {ident[:12] or pod!r} is not running")
        return connect_in_netns(f"/proc/{pid}/ns/net", port, ident)

    def remove_pod(self, ns: str, pod: str) -> None:
        with self._lock:
            names = [n for k, n in self._names.items() if k[:2] == (ns, pod)]
            for key in [k for k in self._names if k[:2] == (ns, pod)]:
                del self._names[key]
        if names:
            docker("rm", "-f", *names, check=False)
        self._remove_volumes(f"dbx-fk-{self.id}-{ns}-{pod}-vol-")

    def _remove_volumes(self, prefix: str = "") -> None:
        out = docker("volume", "ls", "-q", "--filter", f"label={LABEL}={self.id}", check=False)
        volumes = [v for v in out.stdout.split() if v.startswith(prefix)]
        if volumes:
            docker("volume", "rm", "-f", *volumes, check=False)

    def cleanup(self) -> None:
        """Remove every container this runtime made (by its label, so none escapes)."""
        out = docker("ps", "-aq", "--filter", f"label={LABEL}={self.id}", check=False)
        ids = out.stdout.split()
        if ids:
            docker("rm", "-f", *ids, check=False)
        with self._lock:
            self._names.clear()
        self._remove_volumes()
