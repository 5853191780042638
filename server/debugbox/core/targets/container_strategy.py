"""The strategy ladder for containers and the argv of each strategy: pure functions over facts gathered at the
edge.

Ladder (first that works wins, unless the user asked for one):

1. `exec` — the container has a shell. Known without running anything inside it (the engine's archive/stat
   API, or image knowledge where the engine has no such API); bash is preferred when present.
2. `docker-debug` — the Docker Desktop CLI plugin is installed (detected, never assumed). Also the only way
   into a stopped or paused container.
3. `sidecar` — a toolbox container joining the target's PID and network namespaces. Always possible for a
   running target. Unless `raw`, its command is the session bootstrap (`bootstrap.sh`): the target's files at
   `/target`, its working directory, environment and a banner. Its identity (`sidecar_identity`): a root target
   gets a root sidecar with `SYS_PTRACE` (for `strace`); a non-root target gets a sidecar with exactly the
   UID:GID the engine reports for its main process (`process_identity`; else its numeric `User`) and no added
   capability (same user: its files, environment and signals are reachable), unless `ptrace` asks for root
   with `SYS_PTRACE`. `raw` keeps the plain shell, root with `SYS_PTRACE`.

Privileged sidecars (`--privileged`) are built only when `PlanOptions.privileged` says so. Every argv is a
tuple of strings run without a shell; names and images are validated before they get here.

Size: over 400 lines because the ladder, each strategy's argv and the sidecar's identity are one decision
that changes together (a new strategy touches all three).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import replace

from debugbox.core.errors import StrategyUnavailable, TargetNotRunning
from debugbox.core.records import record
from debugbox.core.targets.model import CONTAINER_STRATEGIES as CONTAINER_STRATEGIES
from debugbox.core.targets.model import DebugPlan, PlanOptions, foreign_strategy
from debugbox.core.targets.names import validate_image
from debugbox.core.targets.session import BOOTSTRAP_SCRIPT as BOOTSTRAP_SCRIPT
from debugbox.core.targets.session import bootstrap_command, bootstrap_env

#: States a snapshot session can open: the container's filesystem is there, its process is not.
SNAPSHOT_STATES = frozenset({"exited", "created", "dead", "restarting"})
#: Runtimes whose engines can commit a container and copy an image's files into a new named volume.
SNAPSHOT_RUNTIMES = frozenset({"docker", "podman"})
#: Label on everything a snapshot session creates (image, volume, containers): the snapshotted container's ID.
SNAPSHOT_LABEL = "io.debugbox.snapshot-of"
#: Where a snapshot session mounts the toolbox's static busybox.
SNAPSHOT_TOOLS = "/.debugbox"
#: Where shells are looked for, best first (bash is preferred; `/busybox/sh` is distroless `:debug`).
SHELL_PATHS = ("/bin/bash", "/usr/bin/bash", "/bin/sh", "/usr/bin/sh", "/busybox/sh")
#: Label put on sidecars, so they are recognisable (and left out of target lists).
SIDECAR_LABEL = "io.debugbox.sidecar-for"
TARGET_ROOT = "/proc/1/root"
#: Where the session bootstrap puts the target's root filesystem.
SESSION_ROOT = "/target"
_NUMERIC_USER = re.compile(r"[0-9]+(:[0-9]+)?")


@record
class ContainerFacts:
    """What the edge found out about one container, as plain data."""

    runtime: str
    """`docker`, `podman` or `nerdctl`."""
    cli: tuple[str, ...]
    """The CLI and its global options that reach the same engine, e.g. `("docker", "--context", "prod")`."""
    id: str
    name: str
    status: str
    user: str = ""
    """`Config.User`; empty means root."""
    shells: tuple[str, ...] = ()
    """Shell paths that exist in the container, in `SHELL_PATHS` order."""
    shells_probed: bool = True
    """False when the engine could not stat paths (nerdctl): then `image_has_shell` decides."""
    image_has_shell: bool | None = None
    image_shell: str = ""
    docker_debug: bool = False
    """The `docker debug` CLI plugin is installed (docker runtime only)."""
    ids: tuple[int, int] | None = None
    """The main process's effective (uid, gid) as the engine reports it (`process_identity`); None: not known."""
    ids_note: str = ""
    """Why `ids` is None for a running non-root target (said in the plan's notes)."""
    own_userns: bool = False
    """The target runs in a user namespace of its own (`own_user_namespace`): a sidecar joins it."""
    remap_root: tuple[int, int] | None = None
    """The host's (uid, gid) of root in the Docker daemon's `--userns-remap` namespace, when the engine's `top`
    showed the host's IDs and `GET /info` said where the remap starts (`process_identity.remapped_root`)."""
    pid_mode: str = ""
    """`HostConfig.PidMode`: `host` or `container:<id>` when the target shares another PID namespace, where its
    main process is not PID 1 (`target_process_env`); empty (Docker) or `private` (Podman) for its own."""
    host_pid: int = 0
    """`State.Pid`: the main process's PID in the engine's (the host's) PID namespace; 0 when not running."""


#: Podman's `HostConfig.UsernsMode` values that give a container the host's user namespace (`""`: the default of
#: a rootful engine, `host`: asked for). Any other (`private` for `--uidmap`, `auto`, `keep-id`, `nomap`,
#: `ns:PATH`, `container:ID`) is a namespace the target does not share with the host.
_HOST_USERNS = frozenset({"", "host"})


def own_user_namespace(runtime: str, userns_mode: str) -> bool:
    """Whether a container inspected as `HostConfig.UsernsMode == userns_mode` has a user namespace of its own
    that a sidecar must join to see its files as the target does.

    Podman only: Docker puts every container of a daemon in the same namespace (the host's, or userns-remap's
    one for all of them, sidecars included), and its `run` has no `--userns=container:`."""
    return runtime == "podman" and userns_mode.strip() not in _HOST_USERNS


def userns_remap_note(root: tuple[int, int]) -> str:
    """What a session on a Docker daemon with `--userns-remap` is, said once in the plan's notes.

    Docker puts a container that shares another's PID or network namespace into that one's user namespace too
    (moby `daemon/oci_linux.go`, `WithNamespaces`: "to share a PID namespace, they must also share a user
    namespace", and the same for the network namespace), so the sidecar is in the remap's namespace without
    asking: the IDs it shows are the container's, and its root is not the host's."""
    return (
        f"The engine runs its containers in a user namespace (userns-remap; uid 0 there is {root[0]} on the "
        "host): the sidecar shares it with the target, so the IDs in the session are the container's, and root "
        "in it has no rights over the host's files."
    )


def container_facts(
    runtime: str,
    cli: tuple[str, ...],
    cid: str,
    name: str,
    status: str,
    *,
    image: str = "",
    user: str = "",
    shells: tuple[str, ...] | None = None,
    docker_debug: bool = False,
) -> ContainerFacts:
    """Facts for one container; `shells` None means they could not be checked: the image table decides."""
    info = None
    if shells is None and image:
        # Imported only here: the image table compiles ~150 patterns, which a terminal's start need not pay for
        # when the engine could stat the container's paths (the usual case).
        from debugbox.core.images import classify_image

        info = classify_image(image)
    return ContainerFacts(
        runtime=runtime,
        cli=cli,
        id=cid,
        name=name,
        status=status,
        user=user,
        shells=shells or (),
        shells_probed=shells is not None,
        image_has_shell=info.has_shell if info else None,
        image_shell=(info.shell or "") if info else "",
        docker_debug=docker_debug,
    )


def shell_of(facts: ContainerFacts) -> str | None:
    """The shell `exec` would start, or None when the container has none (as far as can be known)."""
    if facts.shells_probed:
        return facts.shells[0] if facts.shells else None
    if facts.image_has_shell:
        return facts.image_shell or "/bin/sh"
    return None


def is_non_root(user: str) -> bool:
    name = user.split(":", 1)[0].strip()
    return bool(name) and name not in {"0", "root"}


def available_strategies(facts: ContainerFacts) -> tuple[str, ...]:
    """The strategies that would work now, in ladder order."""
    if facts.status != "running":
        stopped: list[str] = []
        if facts.docker_debug and facts.status in {"exited", "created", "paused"}:
            stopped.append("docker-debug")
        if facts.status in SNAPSHOT_STATES and facts.runtime in SNAPSHOT_RUNTIMES:
            stopped.append("snapshot")
        return tuple(stopped)
    out: list[str] = []
    if shell_of(facts):
        out.append("exec")
    if facts.docker_debug:
        out.append("docker-debug")
    out.append("sidecar")
    return tuple(out)


def wake_first(cli: str, name: str, status: str) -> str:
    """What to do about a container that is not running, for any command that needs it running."""
    if status == "paused":
        return f"unpause it first ({cli} unpause {name})"
    return f"start it first ({cli} start {name})"


def _not_running_message(facts: ContainerFacts) -> str:
    cli = " ".join(facts.cli)
    who = f"container {facts.name} ({facts.runtime})"
    if facts.status == "paused":
        return f"{who} is paused: {wake_first(cli, facts.name, facts.status)}"
    if facts.status == "restarting":
        return (
            f"{who} is restarting (crash loop?): a debug session cannot join it until it stays up; "
            f"see {cli} logs {facts.name}"
        )
    tail = (
        ""
        if facts.docker_debug
        else " Only `docker debug` (Docker Desktop) can open a stopped container; it is not installed here."
    )
    if facts.runtime in SNAPSHOT_RUNTIMES and facts.status in SNAPSHOT_STATES:
        tail = " Or open a snapshot of it as it stopped (--strategy snapshot)."
    return f"{who} is {facts.status or 'not running'}: {wake_first(cli, facts.name, facts.status)}.{tail}"


def choose_strategy(facts: ContainerFacts, requested: str = "auto") -> str:
    """`requested` if it can work, else the ladder's first rung that does; raises with the reason."""
    available = available_strategies(facts)
    if requested in ("", "auto"):
        if not available:
            raise TargetNotRunning(_not_running_message(facts))
        return available[0]
    if requested not in CONTAINER_STRATEGIES:
        raise StrategyUnavailable(foreign_strategy(requested, pods=False))
    if requested in available:
        return requested
    if requested == "snapshot":
        if facts.status == "running":
            raise StrategyUnavailable(
                f"container {facts.name} is running: a snapshot is for stopped containers (use the sidecar)"
            )
        if facts.runtime not in SNAPSHOT_RUNTIMES:
            raise StrategyUnavailable(f"snapshot sessions need Docker or Podman, not {facts.runtime}")
        raise TargetNotRunning(_not_running_message(facts))
    if facts.status != "running" and requested != "docker-debug":
        raise TargetNotRunning(_not_running_message(facts))
    if requested == "exec":
        where = (
            f"none of {', '.join(SHELL_PATHS)} exists in it (checked through the engine; nothing ran inside)"
            if facts.shells_probed
            else "its image is not known to have one"
        )
        raise StrategyUnavailable(
            f"container {facts.name} has no shell to exec: {where}. Use the sidecar strategy."
        )
    if requested == "docker-debug":
        if facts.runtime != "docker":
            raise StrategyUnavailable(f"docker debug works with Docker only, not {facts.runtime}")
        raise StrategyUnavailable(
            "the `docker debug` CLI plugin is not installed (it comes with Docker Desktop 4.33 or later)"
        )
    raise TargetNotRunning(_not_running_message(facts))  # sidecar on a non-running target


def exec_argv(facts: ContainerFacts, options: PlanOptions) -> tuple[str, ...]:
    shell = shell_of(facts)
    command = list(options.command) if options.command else [shell or "/bin/sh"]
    return (*facts.cli, "exec", *options.io_flags(), facts.id, *command)


def docker_debug_argv(facts: ContainerFacts, options: PlanOptions) -> tuple[str, ...]:
    # `docker debug -c` takes one command line for its own shell; quoting it here keeps each word one word.
    command = ["-c", shlex.join(options.command)] if options.command else []
    return (*facts.cli, "debug", *command, facts.id)


@record
class SidecarIdentity:
    """Who a sidecar runs as, and the one line the banner and the notes say about it."""

    user: str
    """`--user` for the sidecar; empty keeps the toolbox's own (root)."""
    ptrace: bool
    """Whether `--cap-add=SYS_PTRACE` is added."""
    explanation: str


def sidecar_identity(
    target_user: str, options: PlanOptions, ids: tuple[int, int] | None = None, *, own_userns: bool = False
) -> SidecarIdentity:
    """The sidecar's identity for a target running as `target_user` (`Config.User`, empty = root), whose main
    process the engine reports as `ids` (uid, gid) when it could be asked; with `own_userns` the sidecar runs
    in the target's own user namespace (`sidecar_argv`), and the explanation says so."""
    identity = _sidecar_identity(target_user, options, ids)
    if not own_userns:
        return identity
    return replace(
        identity,
        explanation=f"{identity.explanation}; in the target's own user namespace (its IDs as it sees them)",
    )


def _sidecar_identity(target_user: str, options: PlanOptions, ids: tuple[int, int] | None) -> SidecarIdentity:
    if options.raw or not is_non_root(target_user) or (ids is not None and ids[0] == 0):
        return SidecarIdentity(
            "", True, "root with SYS_PTRACE: reads the target's files and environment, strace works"
        )
    if not options.ptrace and not options.privileged:
        # Same UID *and* GID as the target: the kernel's ptrace access check passes without any capability, so
        # /proc/PID/root, environ and cwd are readable, and attaching (strace) too unless the Yama LSM's
        # ptrace_scope >= 1 refuses a non-descendant — then only CAP_SYS_PTRACE helps, hence `ptrace` for root.
        can = (
            "no added capability: its files, environment and signals; strace where the host's ptrace policy "
            "allows a same-user attach (no Yama or ptrace_scope 0), else a root session (--ptrace)"
        )
        if ids is not None:
            return SidecarIdentity(
                f"{ids[0]}:{ids[1]}",
                False,
                f"uid {ids[0]} gid {ids[1]} like the target's main process, {can}",
            )
        if _NUMERIC_USER.fullmatch(target_user.strip()):
            user = target_user.strip()
            # The engine did not say the target's GID: without one in `User`, the toolbox's user database picks
            # the sidecar's, which may differ from the target's (0 when its image has no /etc/passwd).
            guess = (
                "" if ":" in user else " (its gid is the toolbox's guess: it may differ from the target's)"
            )
            return SidecarIdentity(user, False, f"uid {user} like the target{guess}, {can}")
    why = "asked for (--ptrace)" if options.ptrace else f"the target's user {target_user!r} is not numeric"
    return SidecarIdentity(
        "", True, f"root with SYS_PTRACE ({why}): reads the target's files and environment, strace works"
    )


def shared_pid_namespace(facts: ContainerFacts) -> str:
    """Whose PID namespace the target runs in when not its own: `the host's` or `container <id>`'s; else ""."""
    mode = facts.pid_mode.strip()
    if mode == "host":
        return "the host's"
    if mode.startswith("container:"):
        return f"container {mode.removeprefix('container:')[:12]}'s"
    return ""


def target_process_env(facts: ContainerFacts) -> list[str]:
    """`--env` flags that tell the bootstrap which process is the target's when the sidecar joins a PID namespace
    the target shares (there PID 1 is the host's init or another container's process).

    Joined to the host's namespace, the target's PID is the engine's `State.Pid`. In another container's, PIDs
    are that namespace's own, which the engine does not report: the bootstrap looks for the target's container
    ID in each process's cgroup paths (`/proc/PID/cgroup`, readable by anyone: `/docker/<id>`, `docker-<id>.scope`,
    `libpod-<id>.scope`, also relative to a cgroup namespace as `/../<id>`)."""
    mode = facts.pid_mode.strip()
    if mode == "host" and facts.host_pid > 0:
        return [f"--env=DEBUGBOX_TARGET_PID={facts.host_pid}"]
    if mode.startswith("container:"):
        return [f"--env=DEBUGBOX_TARGET_CGROUP={facts.id}"]
    return []


def sidecar_argv(
    facts: ContainerFacts, options: PlanOptions, toolbox: str, *, how: str = "sidecar"
) -> tuple[str, ...]:
    image = validate_image(toolbox)
    identity = sidecar_identity(facts.user, options, facts.ids, own_userns=facts.own_userns)
    argv = [*facts.cli, "run", *options.io_flags(), "--rm"]
    argv += [f"--pid=container:{facts.id}", f"--net=container:{facts.id}"]
    if facts.own_userns:
        # The kernel lets one process read another's /proc/PID/root and environ from the *same* user namespace
        # with the same uid and gid, or with CAP_SYS_PTRACE over the target's namespace (`cap_ptrace_access_check`
        # in security/commoncap.c): from the host's, the target's own uid is not enough, and root there is far
        # more than the target has. Joined, the session is the target's uid in the target's namespace.
        argv.append(f"--userns=container:{facts.id}")
    if identity.user:
        # A non-root session cannot create /target in the toolbox's root: it gets a tmpfs there instead.
        argv += [f"--user={identity.user}", f"--tmpfs={SESSION_ROOT}:mode=1777"]
    if identity.ptrace:
        argv.append("--cap-add=SYS_PTRACE")
    if options.privileged:
        argv.append("--privileged")
    argv += ["--label", f"{SIDECAR_LABEL}={facts.id}"]
    if options.raw:
        if options.command:
            # The toolbox's own entrypoint may be a shell that would swallow the command (`sh ps` fails), so the
            # command replaces it; without one the image's default (its interactive shell) runs.
            argv += [f"--entrypoint={options.command[0]}", image, *options.command[1:]]
        else:
            argv.append(image)
        return tuple(argv)
    argv += bootstrap_env(facts.name, f"{facts.runtime} {how}, toolbox {image}", identity.explanation)
    argv += target_process_env(facts)
    # `sh` from the toolbox's PATH runs the bootstrap; `debugbox` is its $0, the command its arguments.
    argv += ["--entrypoint=sh", image, *bootstrap_command(options.command)[1:]]
    return tuple(argv)


#: What the locally built toolbox is tagged (`debugbox toolbox build`).
LOCAL_TOOLBOX = "debugbox/toolbox:local"

#: Run in the toolbox to lend its static busybox to a snapshot session (copied into a fresh named volume).
#: The lent busybox must run where none of the toolbox's libraries are: an Alpine-based toolbox (netshoot, the
#: default) has a busybox linked to musl, whose loader the snapshot lacks. Run alone in the volume (`chroot`,
#: where the toolbox has it and may use it), such a binary fails to start with 127 (its loader not found), so
#: that is said before the container is committed rather than as the session's exit status after.
LEND_BUSYBOX = (
    'b=$(command -v busybox 2>/dev/null) && b=$(readlink -f "$b" 2>/dev/null || echo "$b"); '
    'for f in "$b" /bin/busybox /busybox/busybox; do [ -n "$f" ] && [ -x "$f" ] && b=$f && break; done; '
    '[ -x "$b" ] || { echo "the toolbox has no busybox to lend" >&2; exit 3; }; '
    'cp "$b" /dbx/busybox && ln -sf busybox /dbx/sh || exit; '
    "if command -v chroot >/dev/null 2>&1; then chroot /dbx /busybox true 2>/dev/null; "
    'if [ "$?" = 127 ]; then echo "the toolbox\'s busybox ($b) is not a static binary (it needs libraries the '
    "snapshot does not have): build a toolbox with a static one, debugbox toolbox build, then use --image "
    f'{LOCAL_TOOLBOX}" >&2; exit 4; fi; fi'
)


@record
class SnapshotSession:
    """The engine calls of one snapshot session, in order. The clean-up runs whatever happened before it:
    `remove_container`, then `container_left` until it prints nothing (the engine may still be removing the
    container: `--rm` races `rm -f`, which then answers "removal already in progress" at once, and the image
    cannot be removed while a container uses it), then `remove_image` and `remove_volume`."""

    commit: tuple[str, ...]
    volume: tuple[str, ...]
    lend: tuple[str, ...]
    run: tuple[str, ...]
    remove_container: tuple[str, ...]
    container_left: tuple[str, ...]
    remove_image: tuple[str, ...]
    remove_volume: tuple[str, ...]
    logs: tuple[str, ...]
    image: str
    container: str


def snapshot_session(
    facts: ContainerFacts, options: PlanOptions, toolbox: str, token: str, logs: str = ""
) -> SnapshotSession:
    """Commit the stopped container to a temporary labelled image and run that with the toolbox's static busybox
    mounted and the entrypoint replaced by the bootstrap (in snapshot mode). `token` makes the names unique."""
    image = validate_image(toolbox)
    if not re.fullmatch(r"[a-z0-9]{4,32}", token):
        raise ValueError("snapshot token must be 4-32 lowercase letters or digits")
    cli = facts.cli
    label = f"{SNAPSHOT_LABEL}={facts.id}"
    snapshot = f"debugbox-snapshot:{token}"
    volume = container = f"debugbox-snapshot-{token}"
    env = bootstrap_env(
        facts.name,
        f"{facts.runtime} snapshot of the {facts.status} container, toolbox {image}",
        "root in a copy of the container: everything is readable, nothing you change reaches the original",
        logs,
    )
    # A commit holds the container's own layer, not its volumes or bind mounts: without them a database's
    # folder would look empty. They are mounted as the container had them, read-only: the original's data.
    run = (
        *cli, "run", *options.io_flags(), "--rm", "--name", container, "--label", label, "--user=0",
        f"--volumes-from={facts.id}:ro",
        f"--volume={volume}:{SNAPSHOT_TOOLS}:ro", f"--entrypoint={SNAPSHOT_TOOLS}/busybox",
        *env, "--env=DEBUGBOX_SNAPSHOT=1", snapshot, *bootstrap_command(options.command),
    )  # fmt: skip
    return SnapshotSession(
        commit=(*cli, "commit", "--change", f"LABEL {label}", facts.id, snapshot),
        volume=(*cli, "volume", "create", "--label", label, volume),
        lend=(
            *cli,
            "run",
            "--rm",
            "--label",
            label,
            f"--volume={volume}:/dbx",
            "--entrypoint=sh",
            image,
            "-c",
            LEND_BUSYBOX,
        ),
        run=run,
        remove_container=(*cli, "rm", "-f", container),
        # The name filter is a regular expression on both engines; the token makes the name unique.
        container_left=(*cli, "ps", "-aq", "--filter", f"name={container}"),
        remove_image=(*cli, "rmi", snapshot),
        remove_volume=(*cli, "volume", "rm", volume),
        logs=(*cli, "logs", "--tail", "15", facts.id),
        image=snapshot,
        container=container,
    )


def snapshot_launcher_argv(facts: ContainerFacts, options: PlanOptions, toolbox: str) -> tuple[str, ...]:
    """The terminal's process for a snapshot session: debugbox's own CLI, which commits, runs and cleans up."""
    launcher = options.launcher or ("debugbox",)
    argv = [*launcher, "shell", f"{facts.runtime}://{facts.id}", "--strategy", "snapshot", "--image", toolbox]
    if options.command:
        argv += ["--", *options.command]
    return tuple(argv)


def toolbox_missing_warning(runtime: str, toolbox: str) -> str:
    """Said before a session whose toolbox image is not on the engine yet (an air-gapped engine cannot pull)."""
    return (
        f"the toolbox image {toolbox} is not on this {runtime} engine: it will be pulled when the session starts, "
        f"which fails without registry access; to build a local one, run `debugbox toolbox build` "
        f"(then use --image {LOCAL_TOOLBOX} or the setting debugbox.toolboxImage)"
    )


def build_plan(facts: ContainerFacts, options: PlanOptions, toolbox: str, target_id: str) -> DebugPlan:
    """The whole plan for one container: strategy (ladder or requested), argv, notes and terminal title."""
    requested = options.strategy
    if requested in ("", "auto") and options.preferred in available_strategies(facts):
        requested = options.preferred
    strategy = choose_strategy(facts, requested)
    notes: list[str] = []
    if strategy == "exec":
        argv = exec_argv(facts, options)
        shell = shell_of(facts) or "/bin/sh"
        title = f"Debug: {facts.name} (exec {shell.rsplit('/', 1)[-1]})"
        notes.append(f"{shell} runs inside the container itself, as its user ({facts.user or 'root'}).")
    elif strategy == "snapshot":
        validate_image(toolbox)
        argv = snapshot_launcher_argv(facts, options, toolbox)
        title = f"Debug: {facts.name} (snapshot of the {facts.status} container)"
        notes.append(
            f"The {facts.status} container is committed to a temporary image and started from it with the toolbox's "
            f"static busybox at {SNAPSHOT_TOOLS} and the entrypoint replaced: its filesystem as it stopped."
        )
        notes.append(
            "Changes stay in the copy; the temporary image and container are removed when the session ends."
        )
    elif strategy == "docker-debug":
        argv = docker_debug_argv(facts, options)
        title = f"Debug: {facts.name} (docker debug)"
        notes.append("docker debug adds its Nix toolbox at /nix; the container's own filesystem is at /.")
        if facts.status != "running":
            notes.append(f"The container is {facts.status}: changes made in the session are thrown away.")
    else:
        argv = sidecar_argv(facts, options, toolbox)
        shared = shared_pid_namespace(facts)
        raw_root = TARGET_ROOT
        if shared:
            # PID 1 there is the host's init or another container's process, not the target.
            raw_root = (
                f"/proc/{facts.host_pid}/root" if facts.pid_mode.strip() == "host" else "/proc/PID/root"
            )
        root = raw_root if options.raw else SESSION_ROOT
        title = f"Debug: {facts.name} (sidecar, target files at {root})"
        if shared:
            notes.append(
                f"A {toolbox} container shares the target's process and network namespaces: localhost is the "
                f"target's. The target runs in {shared} PID namespace, so the session sees every process in it and "
                "the target's main process is not PID 1 (the session names it in $TARGET_PID)."
            )
        else:
            notes.append(
                f"A {toolbox} container shares the target's process and network namespaces: the target's main "
                "process is PID 1 and localhost is the target's."
            )
        if options.raw:
            which = " (PID: its main process's, see ps)" if raw_root == "/proc/PID/root" else ""
            notes.append(
                f"The target's filesystem is at {raw_root}{which} (e.g. ls {raw_root}/etc); / is the toolbox's."
            )
        else:
            notes.append(
                f"The session starts in the target's working directory under {SESSION_ROOT} (its filesystem, "
                "volumes included), with the target's environment; the toolbox's PATH comes first."
            )
        identity = sidecar_identity(facts.user, options, facts.ids, own_userns=facts.own_userns)
        if is_non_root(facts.user):
            notes.append(f"The target runs as user {facts.user}; the session: {identity.explanation}.")
            if facts.ids_note:
                notes.append(facts.ids_note)
        if facts.remap_root is not None:
            notes.append(userns_remap_note(facts.remap_root))
        if facts.own_userns:
            notes.append(
                "The target runs in a user namespace of its own: the session joins it "
                f"(--userns=container:{facts.id[:12]}), so it has the target's IDs and no more than its rights there."
            )
        if not shell_of(facts) and facts.status == "running":
            notes.append(
                "Chosen because the container has no shell (checked without running anything in it)."
            )
        if options.privileged:
            notes.append(
                "--privileged: the sidecar has every capability and the host's devices. Use with care."
            )
        notes.append("The sidecar stops when the target restarts.")
    env = dict(options.launcher_env) if strategy == "snapshot" else {}
    return DebugPlan(argv=argv, strategy=strategy, title=title, notes=tuple(notes), target=target_id, env=env)
