"""The debug container that data commands on a pod run in (`core/targets/pod_data.py` decides; this acts).

Owns the cluster side of `debugbox cp`/`capture` on pods: resolving `pod/NAME[/CONTAINER]`, reusing a running
debugbox ephemeral container of that pod, or — only after `consent` said yes — adding one with the same plan as
`debugbox shell` (`KubeBackend.kube_plan`, strategy ephemeral) created without attaching, then waiting until it
runs (`kube_watch.wait_for_start`: a container that will never start ends with one sentence, not a hang) and
running the session bootstrap's `--target` check in it at once (`check_target`) — a runtime that ignored
`--target` is said in the sentence a `debugbox shell` says, without watching the container for
`kube_watch.TARGET_CHECK_SECONDS` to see its own check end it. And
`kubectl port-forward` for `debugbox forward` (no debug container: the kubelet forwards inside the pod).

What it creates stays: an ephemeral container cannot be removed from a pod (the API has no way to), which is why
it is asked for, named `debugbox-<container>`, and reused by every later data command and `debugbox shell`.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from debugbox.core.errors import RuntimeUnavailable, StrategyUnavailable, TargetNotRunning
from debugbox.core.settings import Settings
from debugbox.core.targets import identity, pod_data
from debugbox.core.targets.debug_failures import Verdict, WatchSpec, target_check
from debugbox.core.targets.model import PlanOptions, Target
from debugbox.core.targets.pod_facts import ClusterFacts
from debugbox.edge.cli_tools import resolve_program
from debugbox.edge.kube_backend import KubeBackend, checked_pod
from debugbox.edge.kube_watch import END_REPORT_SECONDS, start_deadline, wait_for_start, watch_connection

Consent = Callable[[str], bool]
"""Asked once, with the sentence saying what would be created and that it stays; True: create it."""


class ConsentRefused(StrategyUnavailable):
    """The data command needs a new debug container and the user did not agree (or could not be asked)."""


@dataclass(frozen=True)
class PodTarget:
    backend: KubeBackend
    target: Target

    @property
    def namespace(self) -> str:
        return str(self.target.extra["namespace"])

    @property
    def pod(self) -> str:
        return str(self.target.extra["pod"])

    @property
    def container(self) -> str:
        return str(self.target.extra["container"])

    def cluster(self) -> ClusterFacts:
        kubectl = resolve_program([self.backend.kubectl])[0]
        return ClusterFacts(
            kubectl=kubectl,
            context=str(self.target.extra.get("context") or ""),
            request_timeout=self.backend.settings.kubernetes.timeout_seconds,
        )


def resolve_pod(settings: Settings, ref: str) -> PodTarget:
    """`pod/NAME[/CONTAINER]` or a `k8s://` ID → the pod target (the API read once)."""
    from debugbox.edge.service import resolve

    backend, target = resolve(settings, ref)
    if not isinstance(backend, KubeBackend):
        raise StrategyUnavailable(f"{ref} is not a pod")
    return PodTarget(backend, target)


#: One debug container decision at a time in this process: callers in parallel (the file view's requests) wait,
#: then find the container the first one added, instead of each asking and adding another.
_deciding = threading.Lock()


def debug_container(
    settings: Settings, found: PodTarget, image: str, consent: Consent, *, capture: bool = False
) -> pod_data.DebugContainerRef:
    """The running debug container to use for `found`: ours if one runs, else a new one (after `consent`);
    `capture`: a new one must be able to capture (`pod_data.capture_refusal`), else nothing is added."""
    with _deciding:
        return _debug_container(settings, found, image, consent, capture)


def _debug_container(
    settings: Settings, found: PodTarget, image: str, consent: Consent, capture: bool = False
) -> pod_data.DebugContainerRef:
    backend, target = found.backend, found.target
    context = backend.context(str(target.extra.get("context") or "") or None)
    client = backend.client(context)
    raw = client.read_pod(found.namespace, found.pod)
    pod = checked_pod(raw)
    cluster = found.cluster()
    existing = pod_data.reusable_debug_container(pod, found.container)
    if existing is not None:
        return pod_data.DebugContainerRef(pod.name, pod.namespace, existing.name, found.container, cluster)
    if pod.phase != "Running":
        raise TargetNotRunning(
            f"pod {pod.namespace}/{pod.name} is {pod.phase}: nothing to reach until it runs"
        )
    options = PlanOptions(
        strategy="ephemeral",
        preferred=settings.strategy,
        toolbox_image=image,
        stdin=True,
        tty=True,
        attach=False,  # created with --attach=false, then used through kubectl exec: what RBAC is asked for
    )
    plan = backend.kube_plan(target, options).plan
    if plan.watch is None:
        raise RuntimeUnavailable("internal: the ephemeral plan names no debug container")
    watch = WatchSpec.from_json(plan.watch)
    if capture:
        profile = pod_data.planned_profile(plan.argv)
        who = identity.debug_identity(raw, found.container, profile)
        refusal = pod_data.capture_refusal(
            pod.namespace, pod.name, profile, who.uid if who.custom is not None else None
        )
        if refusal:
            raise StrategyUnavailable(refusal)
    missing = (
        f"pod {pod.namespace}/{pod.name} has no running debug container of debugbox for {found.container}"
    )
    stays = "it stays in the pod until the pod is deleted (ephemeral containers cannot be removed)"
    question = (
        f"{missing}: add ephemeral container {watch.container} ({image}) sharing its processes? {stays[0].upper()}"
        f"{stays[1:]}; later data commands and debugbox shell reuse it."
    )
    if not consent(question):
        raise ConsentRefused(
            f"{missing}; adding {watch.container} needs your consent because {stays} (CLI: --yes)"
        )
    argv = (cluster.kubectl, *pod_data.detached(plan.argv)[1:])
    timeout = settings.kubernetes.timeout_seconds
    try:
        done = subprocess.run(
            list(argv),
            env={**os.environ, **plan.env},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=start_deadline(timeout),
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeUnavailable(f"kubectl debug did not finish within {exc.timeout:g} s") from exc
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()
        raise RuntimeUnavailable(f"kubectl debug failed: {said[-1] if said else done.returncode}")

    def read_pod() -> Mapping[str, object]:
        return client.read_pod(pod.namespace, pod.name)

    ref = pod_data.DebugContainerRef(pod.name, pod.namespace, watch.container, found.container, cluster)
    verdict = wait_for_start(read_pod, watch, start_deadline(timeout), target_check=0.0)
    if verdict.state == "running" and watch.target:
        verdict = check_target(ref, watch, read_pod, timeout)
    if verdict.state != "running":
        raise RuntimeUnavailable(
            verdict.message
            or f"debug container {watch.container} did not start ({verdict.reason or verdict.state})"
        )
    return ref


def check_target(
    ref: pod_data.DebugContainerRef,
    spec: WatchSpec,
    read_pod: Callable[[], Mapping[str, object]],
    api_timeout: float,
) -> Verdict:
    """The bootstrap's `--target` check, run through `kubectl exec` in the debug container that just started:
    its verdict (`debug_failures.target_check`). When the exec itself failed, the container may have ended by
    its own check a moment before: its status is read until it says so, for at most `END_REPORT_SECONDS`."""
    try:
        done = subprocess.run(
            list(pod_data.target_check_argv(ref)),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=start_deadline(api_timeout),
            check=False,
        )
        verdict = target_check(spec, done.returncode)
    except subprocess.TimeoutExpired:
        verdict = Verdict("waiting", "Timeout")
    if verdict.state != "waiting":
        return verdict
    # A container that still runs after that failed the exec for another reason (RBAC without pods/exec, the
    # API unreachable): the data command's own exec says which, in its sentence.
    return wait_for_start(
        read_pod, spec, END_REPORT_SECONDS, target_check=END_REPORT_SECONDS, lost_after=2 * api_timeout
    )


def port_forward(
    found: PodTarget, port: int, local: int, address: str, on_start: Callable[[str], None]
) -> int:
    """Run `kubectl port-forward` for the pod until it ends or Ctrl-C/SIGTERM; its exit status (0: stopped by
    the user). Its stdout (the "Forwarding from" lines) is the user's; a failure raises RuntimeUnavailable with
    kubectl's last line."""
    import signal
    import threading

    argv = pod_data.port_forward_argv(found.cluster(), found.namespace, found.pod, port, local, address)
    # kubectl's dial of the tunnel has no deadline: a cluster that stops answering after the checks left it
    # waiting forever, silent, under "Ctrl-C stops". Watched while it connects, as debugbox shell's kubectl is.
    # The client is made before kubectl starts: a Ctrl-C from here on must reach the clean-up below.
    client = found.backend.client(found.backend.context(str(found.target.extra.get("context") or "") or None))
    deadline = start_deadline(found.backend.settings.kubernetes.timeout_seconds)
    ended = threading.Event()
    lost: list[Verdict] = []
    on_start(" ".join(argv))
    proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
    said: list[bytes] = []

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            said[:] = [*said[-20:], line]

    reader = threading.Thread(target=read, daemon=True, name="debugbox-port-forward")
    reader.start()

    def end(signum: int, frame: object) -> None:
        proc.terminate()

    def watch() -> None:
        verdict = watch_connection(
            lambda: client.read_pod(found.namespace, found.pod),
            f"pod {found.namespace}/{found.pod}",
            deadline,
            deadline / 3,
            ended,
            "forwarding to",
        )
        if verdict.state == "failed":
            lost.append(verdict)
            proc.terminate()

    watcher = threading.Thread(target=watch, daemon=True, name="debugbox-port-forward-watch")
    previous = {sig: signal.signal(sig, end) for sig in (signal.SIGTERM, signal.SIGHUP)}
    stopped = False
    try:
        watcher.start()
        code = proc.wait()
    except KeyboardInterrupt:
        stopped = True
        proc.terminate()
        code = proc.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        ended.set()
    reader.join(timeout=5)
    watcher.join(timeout=5)
    if lost:
        raise RuntimeUnavailable(lost[0].message)
    if stopped or code in (0, -signal.SIGTERM):
        return 0
    lines = [x.decode("utf-8", "replace").strip() for x in said if x.strip()]
    last = lines[-1].removeprefix("error: ") if lines else f"exit status {code}"
    raise RuntimeUnavailable(f"kubectl port-forward to pod {found.namespace}/{found.pod} failed: {last}")
