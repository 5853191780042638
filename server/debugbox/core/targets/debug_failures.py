"""Why a debug container did not start, in one sentence with the fix — pure: a pod's JSON in, a verdict out.

After `kubectl debug` has asked for an ephemeral container (or a copy of the pod), kubectl waits for it to run
and waits forever when it never will: it only prints the waiting message as a warning (`waitForContainer` in
kubectl's `pkg/cmd/debug/debug.go`). debugbox watches the same status itself (`edge/kube_watch.py`) and turns
the states the kubelet reports into a `Verdict`:

- `running` (or `terminated`: a command that already ran) — the session is under way;
- `waiting` with a reason that will not clear by itself — a failure with its fix: `CreateContainerConfigError`
  (most often `runAsNonRoot` against an image that runs as root, `verifyRunAsNonRoot` in the kubelet's
  `pkg/kubelet/kuberuntime/security_context_others.go`), `ErrImagePull`/`ImagePullBackOff`/`InvalidImageName`/
  `ErrImageNeverPull` (`pkg/kubelet/images/types.go`), `RunContainerError`/`StartError`, and for copies
  `CrashLoopBackOff`;
- `waiting` with `ContainerCreating`/`PodInitializing` or no status yet — keep waiting, until the caller's
  deadline, which `timed_out` explains.

With a `target`, the session bootstrap ends with `BOOTSTRAP_NO_TARGET` when it sees none of the target's
processes; `no_target` turns that exit into the sentence offering a copy, whether the container's status reports
it (`judge`) or the same check run through `kubectl exec` in a running debug container does (`target_check`).

The reasons are the kubelet's words (`pkg/kubelet/container/sync_result.go`, `images/types.go`); the
kubernetes.io page "Debug Running Pods" documents the runAsNonRoot case.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from debugbox.core.targets.copy_pod import TOOLS_VOLUME

#: Exit status of `debugbox shell` / `debugbox session` when the debug container did not start.
EXIT_NOT_STARTED = 3
#: Exit status of `debugbox shell` / `debugbox session` when the debug container ran but could not see the
#: target's processes (the runtime ignored `--target`, or the target is not running): a copy is offered.
EXIT_TARGET_INVISIBLE = 4
#: The session bootstrap's exit status for the same (`bootstrap.sh`, `DEBUGBOX_EXPECT_TARGET`).
BOOTSTRAP_NO_TARGET = 97
#: The verdict's reason for it.
TARGET_NOT_VISIBLE = "TargetNotVisible"

PULL_REASONS = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"})
CONFIG_REASONS = frozenset({"CreateContainerConfigError", "CreateContainerError"})
RUN_REASONS = frozenset({"RunContainerError", "StartError", "PreStartHookError", "PostStartHookError"})
#: Reasons that are a normal step on the way to running.
PENDING_REASONS = frozenset({"", "ContainerCreating", "PodInitializing"})


@dataclass(frozen=True)
class WatchSpec:
    """Which container to watch after the debug command was started (carried by the plan, see `DebugPlan`)."""

    context: str
    namespace: str
    pod: str
    """The pod holding it: the target itself (ephemeral), or the copy."""
    container: str
    """The debug container's name."""
    ephemeral: bool
    image: str
    """The toolbox image (for the sentences)."""
    fix: str = ""
    """How to choose another toolbox image for this context and namespace (`settings.ToolboxChoice.fix`); empty:
    the generic advice."""
    target: str = ""
    """For an ephemeral container with `--target`: the target container, whose processes the session bootstrap
    must see (else it ends with `BOOTSTRAP_NO_TARGET` and the verdict offers a copy)."""

    create: str = ""
    """For a copy debugbox makes itself (`copy_pod.py`): the file holding the copy's pod, created before the
    debug command (`kubectl attach`) runs."""
    kept: str = ""
    """For that copy: the container it keeps up (its init container and it are watched too)."""
    command: bool = False
    """An ephemeral container running the user's command (`-- CMD`), which ends with it: its exit code is the
    session's (`kubectl debug` exits 0 whatever the command's status; `command_exit`)."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "fix": self.fix,
            "context": self.context,
            "namespace": self.namespace,
            "pod": self.pod,
            "container": self.container,
            "ephemeral": self.ephemeral,
            "image": self.image,
        }
        if self.target:
            out["target"] = self.target
        if self.create:
            out["create"] = self.create
        if self.kept:
            out["kept"] = self.kept
        if self.command:
            out["command"] = True
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> WatchSpec:
        return cls(
            context=str(obj.get("context") or ""),
            namespace=str(obj["namespace"]),
            pod=str(obj["pod"]),
            container=str(obj["container"]),
            ephemeral=bool(obj.get("ephemeral", True)),
            image=str(obj.get("image") or ""),
            fix=str(obj.get("fix") or ""),
            target=str(obj.get("target") or ""),
            create=str(obj.get("create") or ""),
            kept=str(obj.get("kept") or ""),
            command=bool(obj.get("command", False)),
        )


@dataclass(frozen=True)
class Verdict:
    state: str
    """`running`, `ended`, `waiting` (keep watching) or `failed`."""
    reason: str = ""
    message: str = ""
    """For `failed`: the one sentence to show (why, and what to do)."""


def container_status(pod: Mapping[str, Any], name: str, *, ephemeral: bool) -> Mapping[str, Any] | None:
    key = "ephemeralContainerStatuses" if ephemeral else "containerStatuses"
    statuses = (pod.get("status") or {}).get(key) or []
    return next((s for s in statuses if isinstance(s, Mapping) and s.get("name") == name), None)


def judge(pod: Mapping[str, Any], spec: WatchSpec) -> Verdict:
    """What the pod's status says about the debug container `spec` names (and, in a copy debugbox made, about
    the copy's init container and the container it keeps up)."""
    if spec.kept:
        problem = copy_problem(pod, spec)
        if problem is not None:
            return problem
    status = container_status(pod, spec.container, ephemeral=spec.ephemeral)
    if status is None:
        return Verdict("waiting")
    state = status.get("state") or {}
    if "running" in state:
        return Verdict("running")
    if "terminated" in state:
        ended = state.get("terminated") or {}
        return no_target(spec, ended.get("exitCode")) or Verdict("ended", str(ended.get("reason") or ""))
    waiting = state.get("waiting") or {}
    reason = str(waiting.get("reason") or "")
    detail = " ".join(str(waiting.get("message") or "").split())[:400]
    if reason in PENDING_REASONS:
        return Verdict("waiting", reason)
    return Verdict("failed", reason, explain(spec, reason, detail))


def command_exit(pod: Mapping[str, Any], spec: WatchSpec) -> int | None:
    """The exit code of the user's command (`spec.command`) once the pod's status says its container ended; None
    while it has not (or for a session without a command)."""
    if not spec.command:
        return None
    status = container_status(pod, spec.container, ephemeral=spec.ephemeral) or {}
    ended = (status.get("state") or {}).get("terminated")
    code = ended.get("exitCode") if isinstance(ended, Mapping) else None
    return code if isinstance(code, int) else None


def no_target(spec: WatchSpec, exit_code: object) -> Verdict | None:
    """The failure offering a copy when the session bootstrap ended with `BOOTSTRAP_NO_TARGET`; None otherwise.
    Only with a target to check: a command of the user's may exit 97 in a --raw session."""
    if spec.target and exit_code == BOOTSTRAP_NO_TARGET:
        return Verdict("failed", TARGET_NOT_VISIBLE, target_invisible(spec))
    return None


def target_check(spec: WatchSpec, exit_code: int) -> Verdict:
    """What the bootstrap's target check run in a running debug container (`pod_data.target_check_argv`) says:
    `running` when it saw the target's processes, the failure offering a copy when it saw none, `waiting` when
    the exec itself failed — most often because the container's own bootstrap has just ended it for the same
    reason, which its status will say (`judge`)."""
    if exit_code == 0:
        return Verdict("running")
    return no_target(spec, exit_code) or Verdict("waiting", f"exit code {exit_code}")


def _failure(status: Mapping[str, Any]) -> tuple[str, str]:
    """(reason, detail) when a container's status says it failed; ("", "") while it runs or is on its way."""
    state = status.get("state") or {}
    if "terminated" in state:
        ended = state.get("terminated") or {}
        if ended.get("exitCode", 0) == 0:
            return "", ""
        detail = str(ended.get("message") or f"exit code {ended.get('exitCode')}")
        return str(ended.get("reason") or "Error"), " ".join(detail.split())[:400]
    waiting = state.get("waiting") or {}
    reason = str(waiting.get("reason") or "")
    if "running" in state or reason in PENDING_REASONS:
        return "", ""
    return reason, " ".join(str(waiting.get("message") or "").split())[:400]


def copy_problem(pod: Mapping[str, Any], spec: WatchSpec) -> Verdict | None:
    """In a copy debugbox made (`copy_pod.py`): its init container could not bring busybox in, or the container
    it keeps up did not stay up — both mean the toolbox image has no static busybox to lend."""
    where = f"the copy pod {spec.namespace}/{spec.pod}"
    inits = (pod.get("status") or {}).get("initContainerStatuses") or []
    init = next((s for s in inits if isinstance(s, Mapping) and s.get("name") == TOOLS_VOLUME), None)
    kept = container_status(pod, spec.kept, ephemeral=False)
    for status, what in (
        (init, f"init container {TOOLS_VOLUME} of {where} could not copy busybox from {spec.image}"),
        (kept, f"container {spec.kept} in {where} did not stay up on busybox from {spec.image}"),
    ):
        reason, detail = _failure(status) if status is not None else ("", "")
        if reason:
            said = f" (kubelet: {reason}: {detail})" if detail else f" (kubelet: {reason})"
            return Verdict(
                "failed",
                reason,
                f"{what}{said}; set debugbox.toolboxImage (or --image) to an image with a static busybox "
                f"(busybox:1.36 has one); delete the copy: kubectl delete pod {spec.pod} -n {spec.namespace}.",
            )
    return None


def explain(spec: WatchSpec, reason: str, detail: str) -> str:
    """One sentence: which container, why it will not start, and what to do."""
    what = f"debug container {spec.container} in pod {spec.namespace}/{spec.pod}"
    where = f"context {spec.context}" if spec.context else "this cluster"
    said = f" (kubelet: {reason}: {detail})" if detail else f" (kubelet: {reason})"
    if reason in CONFIG_REASONS and ("non-root" in detail or "runAsNonRoot" in detail):
        return (
            f"{what} cannot start: image {spec.image} runs as root but the pod requires non-root; run it as the "
            "target's user (debugbox does that with kubectl --custom, which needs kubectl ≥ 1.31) or set "
            f"debugbox.toolboxImage to an image with a numeric non-root USER{said}."
        )
    if reason in CONFIG_REASONS:
        return f"{what} cannot be created{said}; fix what the kubelet names and try again."
    if reason in PULL_REASONS:
        fix = spec.fix or (
            "set debugbox.toolboxImage (or --image) to an image in a registry the cluster can pull from"
        )
        return f"the cluster ({where}) cannot pull {spec.image}, so {what} cannot start: {fix}{said}."
    if reason in RUN_REASONS:
        return (
            f"the container runtime failed to start {what}{said}; try another toolbox image "
            "(debugbox.toolboxImage) or a copy of the pod (strategy copy)."
        )
    if reason == "CrashLoopBackOff":
        return (
            f"{what} keeps exiting{said}; its command ends at once — run a shell in it instead "
            "(no command) or check its logs (kubectl logs)."
        )
    return f"{what} is stuck waiting{said}; see kubectl describe pod {spec.pod} -n {spec.namespace}."


def timed_out(spec: WatchSpec, seconds: float, last: Verdict) -> str:
    """The sentence for a debug container that was still not running at the deadline."""
    state = f"still {last.reason}" if last.reason else "no status reported by the kubelet yet"
    return (
        f"debug container {spec.container} in pod {spec.namespace}/{spec.pod} did not start within "
        f"{seconds:g} s ({state}); the node may be slow to pull {spec.image} — see kubectl describe pod "
        f"{spec.pod} -n {spec.namespace}, or set debugbox.toolboxImage to a smaller or pre-pulled image."
    )


def copy_command(spec: WatchSpec) -> str:
    """The CLI command that opens the same target through a copy of its pod (names were checked by the plan)."""
    return shell_copy_command(spec.namespace, spec.pod, spec.target, spec.context, spec.image)


def shell_copy_command(namespace: str, pod: str, container: str, context: str, image: str = "") -> str:
    """`debugbox shell pod/POD/C -n NS [--context CTX] [--image IMG] --strategy copy`: a copy of the pod."""
    ctx = ["--context", context] if context else []
    img = ["--image", image] if image else []
    return shlex.join(
        ["debugbox", "shell", f"pod/{pod}/{container}", "-n", namespace, *ctx, *img, "--strategy", "copy"]
    )


#: The verdict's reason when the pod holding the debug container was deleted before it ran.
POD_DELETED = "PodDeleted"

#: The verdict's reason when the API server stopped answering while kubectl waited for the debug container or
#: was attaching to it (kubectl itself retries its watch forever, and its attach has no deadline).
API_LOST = "ApiLost"


def api_lost(where: str, why: str, seconds: float, moment: str) -> str:
    """The sentence for an API server that has not answered for `seconds` (`why`: the last failure, said by the
    client) while kubectl was `moment` ("waiting for", "attaching to", "connecting to") `where` (e.g. "debug
    container X in pod NS/P")."""
    return (
        f"the Kubernetes API stopped answering while kubectl was {moment} {where} "
        f"(nothing for {seconds:g} s; last: {why.rstrip('.')}); {CHECK_CONNECTION}"
    )


def debug_container_in(spec: WatchSpec) -> str:
    """ "debug container X in pod NS/P": where a watch's kubectl connects."""
    return f"debug container {spec.container} in pod {spec.namespace}/{spec.pod}"


#: What to do about an API server that stopped answering.
CHECK_CONNECTION = (
    "check the connection to the cluster (VPN, proxy, the API server's health), then run the command again."
)


def pod_deleted(spec: WatchSpec) -> str:
    """The sentence for a pod deleted while its debug container was starting (kubectl says `pods "" not found`)."""
    return (
        f"pod {spec.namespace}/{spec.pod} was deleted while debug container {spec.container} was starting: "
        "there is nothing left to debug (a controller may have replaced it: list the pods again with debugbox targets)"
    )


def target_invisible(spec: WatchSpec) -> str:
    """The sentence for a debug container that ran without seeing the target's processes."""
    return (
        f"debug container {spec.container} in pod {spec.namespace}/{spec.pod} cannot see the processes of "
        f"container {spec.target}: the container runtime ignored --target (or {spec.target} is not running); "
        f"a copy of the pod with shared processes sees them: {copy_command(spec)}"
    )
