"""The pod strategy: the ladder, the one decision (`decide_strategy`), the profile, notes and the whole plan.

Nothing here talks to a cluster. The edge (`edge/kube_backend.py`) turns API JSON into `PodFacts`
(`pod_facts.py`), gathers the facts `decide_strategy` says it needs (would an ephemeral container be accepted?
a dry-run PATCH; which copy names are taken) and hands them in here; argv come from `kubectl_argv.py`.

The Kubernetes ladder (first that works wins, unless the user asked for one):

1. `exec` — only when the container's image is *known* to have a shell (image knowledge, `classify_image`);
   nothing is probed inside the pod.
2. `reattach` — a debug container of ours (`debugbox-<container>...`) already runs in the pod for this
   container: `kubectl attach` to it instead of piling up another one (ephemeral containers can never be
   removed).
3. `ephemeral` — `kubectl debug --target=C` adds an ephemeral container sharing C's process namespace, with a
   predictable name and a profile that follows the namespace's Pod Security level.
4. `copy` — `kubectl debug --copy-to` when ephemeral containers are unavailable (static/mirror pods, the
   subresource answering 404/422) or the pod is crash-looping; planned only when chosen (`consent.py`),
   labelled, removed by `debugbox cleanup`.

Every argv is a tuple of strings run without a shell (`kubectl_argv.py`).

Size: over 400 lines because the ladder, the access and admission facts it asks for, the profile and the
plan's notes are the one pod decision (issue #11: "each decision in one place").
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Any

from debugbox.core.errors import StrategyUnavailable, TargetNotRunning
from debugbox.core.targets.consent import COPY_LABEL
from debugbox.core.targets.copy_pod import KEEP_UP_COMMAND, debug_container, keeps_up
from debugbox.core.targets.debug_failures import shell_copy_command
from debugbox.core.targets.kubectl_argv import (
    attach_argv,
    copy_mode,
    debug_argv,
    delete_argv,
    exec_argv,
    target_mode,
)
from debugbox.core.targets.model import KUBE_STRATEGIES as KUBE_STRATEGIES
from debugbox.core.targets.model import DebugPlan, PlanOptions, foreign_strategy
from debugbox.core.targets.names import validate_image, validate_label
from debugbox.core.targets.pod_facts import ClusterFacts, ContainerState, PodFacts
from debugbox.core.targets.preflight import (
    Permission,
    WayIn,
    denial_help,
    permissions_to_ask,
    rbac_missing,
    rbac_reason,
    ways_in,
)
from debugbox.core.targets.session import bootstrap_command, bootstrap_vars, kube_env

#: Prefix of the debug containers (and copies) debugbox creates, so it can find them again.
DEBUG_PREFIX = "debugbox-"
PROFILES = ("general", "baseline", "restricted", "netadmin", "sysadmin")


#: Facts a strategy decision can ask the edge for, before it is final.
NEEDS_ACCESS = "access"
"""May the user do what the candidate ways need? (SelfSubjectAccessReviews, `preflight.permissions_to_ask`)"""
NEEDS_ADMISSION = "admission"
"""Would the API server accept the ephemeral container? (a dry-run PATCH of pods/ephemeralcontainers)"""
NEEDS_FREE_COPY_NAME = "free-copy-name"
"""Which `<pod>-debugbox[-N]` names are taken in the namespace."""


@dataclass(frozen=True)
class StrategyDecision:
    """The strategy for one pod container, and the facts it still needs: the edge gathers exactly those
    (into `ClusterFacts`) and asks again, until `needs` is empty."""

    strategy: str
    needs: tuple[str, ...] = ()


def our_debug_containers(pod: PodFacts, container: str) -> list[ContainerState]:
    """Ephemeral containers debugbox added for `container` (by name prefix and target)."""
    base = debug_container_base(container)
    return [
        e
        for e in pod.ephemeral
        if (e.name == base or e.name.startswith(base[:60] + "-")) and e.target in ("", container)
    ]


#: Why a session without a terminal cannot join our debug container that has one.
NO_TERMINAL_FOR_TTY = (
    "our debug container has a terminal (tty), and kubectl attaches to it only from a terminal; "
    "run this from a terminal, or use ephemeral for a new debug container"
)


def reattachable(pod: PodFacts, container: str, *, terminal: bool = True) -> ContainerState | None:
    """Our running debug container for `container` that a session can attach to. One created with a TTY only
    from a terminal: without one kubectl asks for stderr too, and the runtime refuses stderr next to a TTY
    ("tty and stderr cannot both be true": `validateAttachRequest` of the kubelet's CRI streaming server,
    `pkg/kubelet/cri/streaming/server.go`; the kubelet attaches with the container's own TTY setting,
    `Kubelet.GetAttach`)."""
    running = [
        e for e in our_debug_containers(pod, container) if e.state == "running" and (terminal or not e.tty)
    ]
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
    pod: PodFacts,
    container: ContainerState,
    cluster: ClusterFacts,
    *,
    command: bool = False,
    terminal: bool = True,
    attach: bool = True,
) -> tuple[str, ...]:
    """Strategies that would work now, best first (`terminal`: the session has one, see `reattachable`;
    `attach`: see `PlanOptions.attach`)."""
    out: list[str] = []
    if pod.phase != "Running":
        # A finished pod (a Job's) can't be exec'd or joined, but a copy of it can run again; a Pending
        # one has nothing to debug yet.
        return ("copy",) if pod.phase in ("Failed", "Succeeded") else ()
    crash = pod.crash_looping(container.name)
    if cluster.image_has_shell and container.state == "running":
        out.append("exec")
    if reattachable(pod, container.name, terminal=terminal) and not command:
        out.append("reattach")
    if ephemeral_refusal(pod, cluster) is None and cluster.ephemeral != "forbidden" and not crash:
        out.append("ephemeral")
    out.append("copy")
    # The preflight's answers: a way RBAC would refuse is not open (nothing asked yet: all count as open).
    return tuple(way for way in out if not rbac_missing(way, cluster.access, attach=attach, command=command))


def candidate_strategies(
    pod: PodFacts,
    container: ContainerState,
    cluster: ClusterFacts,
    *,
    command: bool = False,
    terminal: bool = True,
) -> tuple[str, ...]:
    """The ways that would work as far as the facts other than RBAC tell: what the preflight asks about."""
    return available_strategies(
        pod, container, replace(cluster, access=None), command=command, terminal=terminal
    )


def access_questions(
    pod: PodFacts, container: ContainerState, cluster: ClusterFacts, options: PlanOptions
) -> tuple[Permission, ...]:
    """What the preflight asks RBAC for this plan: the permissions of the explicit strategy, or of every way
    the ladder could still take (`NEEDS_ACCESS`)."""
    command = bool(options.command)
    explicit = options.strategy not in ("", "auto")
    ways = (
        (options.strategy,)
        if explicit
        else candidate_strategies(pod, container, cluster, command=command, terminal=options.tty)
    )
    return permissions_to_ask(ways, attach=options.attach, command=bool(options.command))


def why_not(
    pod: PodFacts,
    container: ContainerState,
    cluster: ClusterFacts,
    way: str,
    *,
    command: bool = False,
    terminal: bool = True,
) -> str:
    """Why `way` is not open for this container, from the pod's own facts (RBAC aside; "" when it is)."""
    if pod.phase != "Running":
        if way == "copy" and pod.phase in ("Failed", "Succeeded"):
            return ""
        return f"the pod is {pod.phase}"
    if way == "exec":
        if container.state != "running":
            return f"container {container.name} is {container.state} ({container.reason or 'no reason'})"
        if not cluster.image_has_shell:
            return f"{container.image} is not known to have a shell"
    elif way == "reattach":
        if command:
            return "a command runs in a new container"
        if not reattachable(pod, container.name):
            return "no debug container of debugbox runs for this container"
        if not reattachable(pod, container.name, terminal=terminal):
            return NO_TERMINAL_FOR_TTY
    elif way == "ephemeral":
        if pod.crash_looping(container.name):
            return f"container {container.name} is crash-looping"
        refusal = ephemeral_refusal(pod, cluster)
        if refusal:
            return refusal
        if cluster.ephemeral == "forbidden":
            return cluster.ephemeral_message
    return ""


def preflight_ways(
    pod: PodFacts, container: ContainerState, cluster: ClusterFacts, *, command: bool = False
) -> tuple[WayIn, ...]:
    """Every pod way in, open or closed with the reason (RBAC's from the preflight, else the pod's)."""
    reasons = {way: why_not(pod, container, cluster, way, command=command) for way in KUBE_STRATEGIES}
    if "copy" in available_strategies(pod, container, cluster, command=command):
        reasons["copy"] = "only when chosen (it creates a pod)"
    opened = [w for w in available_strategies(pod, container, cluster, command=command) if w != "copy"]
    return ways_in(KUBE_STRATEGIES, opened, reasons, cluster.access, pod.namespace)


def rbac_closed_ahead(
    pod: PodFacts, container: ContainerState, cluster: ClusterFacts, chosen: str, options: PlanOptions
) -> tuple[str, tuple[Permission, ...]] | None:
    """The way the user asked for or prefers, or the ladder would have taken before `chosen`, that only RBAC
    closes — with what it lacks; None when RBAC changed nothing."""
    command = bool(options.command)
    candidates = candidate_strategies(pod, container, cluster, command=command, terminal=options.tty)
    wanted = [w for w in (options.strategy, options.preferred) if w in candidates]
    for way in (*wanted, *candidates):
        if way == chosen:
            return None
        missing = rbac_missing(way, cluster.access, attach=options.attach, command=bool(options.command))
        if missing:
            return way, missing
    return None


def rbac_fallback(
    pod: PodFacts, container: ContainerState, cluster: ClusterFacts, chosen: str, options: PlanOptions
) -> tuple[str, str] | None:
    """When RBAC made the decision take `chosen` instead of a better way: (why that way is closed, the
    Role and RoleBinding to ask for); None when it did not."""
    closed = rbac_closed_ahead(pod, container, cluster, chosen, options)
    if closed is None:
        return None
    way, missing = closed
    why = rbac_reason(
        way, cluster.access, pod.namespace, attach=options.attach, command=bool(options.command)
    )
    return (
        f"{way} is closed: {why}",
        denial_help(pod.namespace, cluster.user, way, missing),
    )


def rbac_closed_all(
    pod: PodFacts,
    container: ContainerState,
    cluster: ClusterFacts,
    *,
    command: bool,
    terminal: bool,
    attach: bool = True,
) -> str:
    """When the pod's own facts leave ways open but RBAC closes every one of them: the sentence saying so (each
    way and what it lacks) and the Role for the first of them, the way the ladder would take; "" otherwise."""
    candidates = candidate_strategies(pod, container, cluster, command=command, terminal=terminal)
    closed = [(way, rbac_missing(way, cluster.access, attach=attach, command=command)) for way in candidates]
    if not closed or not all(missing for _, missing in closed):
        return ""
    reasons = "; ".join(
        f"{way}: {rbac_reason(way, cluster.access, pod.namespace, attach=attach, command=command)}"
        for way, _ in closed
    )
    first, missing = closed[0]
    return f"every way into pod {pod.namespace}/{pod.name} is closed by RBAC: {reasons}.\n" + denial_help(
        pod.namespace, cluster.user, first, missing
    )


def choose_strategy(
    pod: PodFacts,
    container: ContainerState,
    cluster: ClusterFacts,
    requested: str = "auto",
    *,
    command: bool = False,
    terminal: bool = True,
    attach: bool = True,
) -> str:
    available = available_strategies(
        pod, container, cluster, command=command, terminal=terminal, attach=attach
    )
    where = f"pod {pod.namespace}/{pod.name}"
    if requested in ("", "auto"):
        if not available:
            closed = rbac_closed_all(
                pod, container, cluster, command=command, terminal=terminal, attach=attach
            )
            if closed:
                raise StrategyUnavailable(closed)
            raise TargetNotRunning(f"{where} is {pod.phase}: nothing to debug until it runs")
        return available[0]
    if requested not in KUBE_STRATEGIES:
        raise StrategyUnavailable(foreign_strategy(requested, pods=True))
    if requested in available:
        return requested
    missing = rbac_missing(requested, cluster.access, attach=attach, command=command)
    if missing:
        why = rbac_reason(requested, cluster.access, pod.namespace, attach=attach, command=command)
        raise StrategyUnavailable(
            f"{requested} is closed for {where}: {why}.\n"
            + denial_help(pod.namespace, cluster.user, requested, missing)
        )
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
        if reattachable(pod, container.name):
            raise StrategyUnavailable(f"cannot reattach in {where}: {NO_TERMINAL_FOR_TTY}")
        raise StrategyUnavailable(
            f"no debug container of debugbox runs in {where} for container {container.name}"
        )
    # ephemeral
    if cluster.ephemeral == "forbidden":
        raise StrategyUnavailable(cluster.ephemeral_message)
    # The data commands (attach False) have no copy of their own: name the shell command that makes one.
    instead = "use copy"
    if not attach:
        copy = shell_copy_command(pod.namespace, pod.name, container.name, cluster.context)
        instead = f"open a copy of the pod instead: {copy}"
    if pod.crash_looping(container.name) and ephemeral_refusal(pod, cluster) is None:
        raise StrategyUnavailable(
            f"container {container.name} in {where} is crash-looping: an ephemeral container would lose "
            f"its target on every restart; {instead}"
        )
    raise StrategyUnavailable(
        f"no ephemeral container for {where}: {ephemeral_refusal(pod, cluster)}; {instead}"
    )


def copy_reason(pod: PodFacts, container: str, cluster: ClusterFacts) -> str | None:
    """Why a copy rather than an ephemeral container (None when nothing rules ephemeral out)."""
    if pod.crash_looping(container):
        return f"container {container} is crash-looping"
    if cluster.ephemeral == "forbidden":
        return cluster.ephemeral_message
    return ephemeral_refusal(pod, cluster)


def decide_strategy(
    pod: PodFacts, container: ContainerState, cluster: ClusterFacts, options: PlanOptions
) -> StrategyDecision:
    """The one strategy decision for pods: explicit `options.strategy`, else `options.preferred` (the
    `debugbox.strategy` setting) when it would work, else the ladder — with the same checks either way: an
    ephemeral container is asked for (dry run) before it is planned, a copy gets a free name.

    Raises (`StrategyUnavailable`, `TargetNotRunning`) when an explicit strategy cannot work, or nothing can.
    """
    ways = {"command": bool(options.command), "terminal": options.tty, "attach": options.attach}
    requested = options.strategy
    if requested in ("", "auto") and options.preferred in available_strategies(
        pod, container, cluster, **ways
    ):
        requested = options.preferred
    if cluster.access is None and pod.phase in ("Running", "Failed", "Succeeded"):
        # Preflight first: RBAC may close ways before anything is written (or dry-run).
        return StrategyDecision(choose_strategy(pod, container, cluster, requested, **ways), (NEEDS_ACCESS,))
    strategy = choose_strategy(pod, container, cluster, requested, **ways)
    if strategy == "ephemeral" and cluster.ephemeral == "unknown":
        return StrategyDecision(strategy, (NEEDS_ADMISSION,))
    if strategy == "copy" and cluster.existing_pods is None:
        return StrategyDecision(strategy, (NEEDS_FREE_COPY_NAME,))
    return StrategyDecision(strategy)


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


#: What each profile lets the session do, for the banner's identity line (no commas: see `session.kube_env`).
PROFILE_IDENTITY = {
    "general": "root with SYS_PTRACE (profile general): the target's files and environment; strace works",
    "baseline": "root without added capabilities (profile baseline): a root target's files; no strace",
    "restricted": "non-root without capabilities (profile restricted): only a target of the same uid is readable",
    "netadmin": "root with NET_ADMIN and NET_RAW (profile netadmin): tcpdump works; no strace",
    "sysadmin": "privileged (profile sysadmin): everything",
}


def kube_session(
    pod: PodFacts, container: str, strategy: str, image: str, profile: str, options: PlanOptions
) -> tuple[list[str], list[str]] | None:
    """The debug container's `--env` flags and command for the session bootstrap (None for `raw`: the toolbox's
    own shell)."""
    env = session_vars(pod, container, strategy, image, profile, options)
    return None if env is None else (kube_env(env), bootstrap_command(options.command))


def session_vars(
    pod: PodFacts, container: str, strategy: str, image: str, profile: str, options: PlanOptions
) -> dict[str, str] | None:
    """The session bootstrap's variables in a debug container (None for `raw`). kubectl attaches after the
    container started, so the bootstrap waits for the first line (`DEBUGBOX_ATTACH`) before its banner; in a
    copy the pod's processes are shared and PID 1 is the sandbox."""
    if options.raw:
        return None
    kind = "ephemeral container" if strategy == "ephemeral" else "pod copy"
    env = bootstrap_vars(
        f"{pod.name}/{container}", f"kubernetes {kind} - toolbox {image}", PROFILE_IDENTITY[profile]
    )
    env["DEBUGBOX_ATTACH"] = "1"
    if strategy == "ephemeral":
        # --target is a request the runtime may ignore: the bootstrap checks it (`debug_failures.judge`).
        env["DEBUGBOX_EXPECT_TARGET"] = "1"
    if strategy == "copy":
        env["DEBUGBOX_SANDBOX_PID1"] = "1"
    return env


def with_session_identity(argv: tuple[str, ...], line: str) -> tuple[str, ...]:
    """`argv` of `kubectl debug` with the bootstrap's identity line replaced (the edge knows the UID it chose)."""
    flag = "--env=DEBUGBOX_IDENTITY="
    end = argv.index("--") if "--" in argv else len(argv)
    (new,) = kube_env({"DEBUGBOX_IDENTITY": line})
    return tuple(new if i < end and a.startswith(flag) else a for i, a in enumerate(argv))


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
    keep_up: dict[str, Any] | None = None
    """For a copy that keeps a failing container up (`copy_pod.py`): the copy's debug container; the edge
    builds the copy from the pod's JSON around it and creates it before the plan's `kubectl attach` runs."""


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
    """The whole plan for one pod container: strategy (`decide_strategy`; facts it would still need count as
    favourable), argv, notes and terminal title."""
    container = pod.container(container_name)
    strategy = decide_strategy(pod, container, cluster, options).strategy
    image = options.toolbox_image or "busybox"
    where = f"{pod.namespace}/{pod.name}"
    notes: list[str] = []
    cleanup: tuple[str, ...] = ()
    keep_up: dict[str, Any] | None = None
    if strategy == "exec":
        argv = exec_argv(pod, container.name, cluster, options)
        title = f"Debug: {pod.name}/{container.name} (exec)"
        notes.append(
            f"{cluster.image_shell or 'sh'} runs inside container {container.name} itself, as its user."
        )
    elif strategy == "reattach":
        running = reattachable(pod, container.name, terminal=options.tty)
        assert running is not None  # available_strategies checked it
        argv = attach_argv(pod, running.name, cluster, options)
        title = f"Debug: {pod.name}/{container.name} (attach {running.name})"
        notes.append(
            f"Reattaching to debug container {running.name}, which already runs in pod {where}: "
            "no new ephemeral container is added."
        )
        if running.image and running.image != image:
            # The toolbox setting for this context/namespace changed since that container was added.
            notes.append(
                f"{running.name} runs {running.image}, not {image} (the toolbox image for namespace "
                f"{pod.namespace} now): choose strategy ephemeral for a new debug container with it."
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
        session = kube_session(pod, container.name, strategy, image, profile, options)
        if strategy == "ephemeral":
            argv = debug_argv(
                pod, target_mode(container.name), debug_name, image, profile, cluster, options, session
            )
            title = f"Debug: {pod.name}/{container.name} (ephemeral {debug_name})"
            notes.append(
                f"Ephemeral container {debug_name} ({image}) joins the process namespace of "
                f"{container.name}; "
                + (
                    "its processes and files are under /proc/1/root when the runtime supports --target."
                    if session is None
                    else "the session finds the target's process through it and shows its files at /target; "
                    "press Enter for the banner once attached."
                )
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
        elif keeps_up(pod.phase, container.state):
            copy_name = copy_name_for(pod, cluster.existing_pods or frozenset())
            cleanup = delete_argv(pod.namespace, copy_name, cluster)
            env = session_vars(pod, container.name, strategy, image, profile, options)
            if env is not None:
                env["DEBUGBOX_TARGET_CMDLINE"] = " ".join(KEEP_UP_COMMAND)
            keep_up = debug_container(
                debug_name,
                image,
                bootstrap_command(options.command) if env is not None else (list(options.command) or ["sh"]),
                env or {},
                tty=options.tty,
                security_context=PROFILE_SECURITY_CONTEXT.get(profile),
            )
            argv = attach_argv(pod, debug_name, cluster, options, pod_name=copy_name)
            title = f"Debug: copy of {pod.name} ({copy_name})"
            reason = copy_reason(pod, container.name, cluster) or f"container {container.name} is not running"
            notes.append(f"A copy of the pod, because {reason}.")
            notes.append(
                f"debugbox creates pod {copy_name}, a copy of {pod.name} labelled {COPY_LABEL} with shared "
                f"processes, in which container {container.name} keeps its image and files but only sleeps "
                f"(busybox from the toolbox image, probes dropped), and attaches to debug container "
                f"{debug_name}; its files are at /target. Delete the copy when done: {' '.join(cleanup)} "
                "(or debugbox cleanup)."
            )
        else:
            copy_name = copy_name_for(pod, cluster.existing_pods or frozenset())
            argv = debug_argv(
                pod, copy_mode(copy_name), debug_name, image, profile, cluster, options, session
            )
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
        DebugPlan(argv=argv, strategy=strategy, title=title, notes=tuple(notes), target=target_id),
        cleanup,
        keep_up,
    )
