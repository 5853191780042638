"""The target model shared by every runtime: what a target is, what the caller asks for, and the session plan.

A `Target` is one running thing a debug terminal can be opened into: a Docker/Podman/nerdctl container, or a
pod container. `PlanOptions` is what the caller wants; `DebugPlan` is how to open one debug session (the argv to
run, the strategy, notes for the user, a terminal title). Backends (`edge/backends.py`) produce them. Pure data.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any

from debugbox.core.records import record

#: Container strategies, in ladder order (`snapshot` is the rung for stopped containers).
CONTAINER_STRATEGIES = ("exec", "docker-debug", "sidecar", "snapshot")
#: Kubernetes strategies, in ladder order.
KUBE_STRATEGIES = ("exec", "reattach", "ephemeral", "copy")


def foreign_strategy(requested: str, *, pods: bool) -> str:
    """Why `requested` cannot open a pod (`pods`) or a container: it is the other kind's, or no strategy at all."""
    own, other = (KUBE_STRATEGIES, CONTAINER_STRATEGIES) if pods else (CONTAINER_STRATEGIES, KUBE_STRATEGIES)
    takers = f"{'pods' if pods else 'containers'} take one of {', '.join(own)}"
    if requested in other:
        return f"strategy {requested!r} is for {'containers' if pods else 'Kubernetes targets'}; {takers}"
    return f"there is no strategy {requested!r}; {takers}"


@record
class Target:
    """One container (or pod container) a debug session can be opened into; `to_json()` is the wire form."""

    id: str
    """Unambiguous across runtimes, e.g. `docker://3f2a9c1b7e4d`; accepted back as a target argument."""
    runtime: str
    """`docker`, `podman`, `nerdctl` or `kubernetes`."""
    name: str
    image: str
    status: str
    """The engine's word: `running`, `paused`, `restarting`, `exited`... (pods: their phase)."""
    created: str = ""
    """ISO 8601, UTC."""
    related: bool = False
    related_reason: str | None = None
    """Why this target belongs to the document the listing was asked for (shown to the user)."""
    strategies: tuple[str, ...] = ()
    """Strategies that would work now, best first (empty when not probed)."""
    recommended: str | None = None
    labels: dict[str, str] = field(default_factory=dict, compare=False)
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    """Runtime-specific facts, merged into the wire form (e.g. `shell`, `user`, `namespace`, `containers`)."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "runtime": self.runtime,
            "name": self.name,
            "image": self.image,
            "status": self.status,
            "created": self.created,
            "related": self.related,
            "related_reason": self.related_reason,
            "strategies": list(self.strategies),
            "recommended": self.recommended,
        }
        for key, value in self.extra.items():
            out.setdefault(key, value)
        return out


@record
class PlanOptions:
    """What the caller wants; all a pure argv builder needs besides the target's facts."""

    strategy: str = "auto"
    """Asked for explicitly (argument, CLI flag): used as is, or refused with the reason."""
    preferred: str = "auto"
    """`settings.strategy`: used when it applies to this target and would work, else the ladder decides."""
    toolbox_image: str = ""
    """Sidecar/ephemeral image given for this run (`--image`); empty means the settings decide
    (`settings.toolbox_image`; for pods `settings.toolbox_image_for` the context and namespace)."""
    privileged: bool = False
    """An explicit choice for `--privileged` sidecars; callers check `settings.allow_privileged` first."""
    command: tuple[str, ...] = ()
    """Run this instead of an interactive shell."""
    tty: bool = True
    """Ask for a TTY (`-t`); false when stdin is not a terminal."""
    stdin: bool = True
    """Keep stdin open (`-i`)."""
    attach: bool = True
    """Pods: False creates the debug container without attaching to it (the data commands, which then `kubectl
    exec` in it): the preflight asks RBAC for what that needs (`preflight.needs`)."""
    raw: bool = False
    """A plain toolbox shell, without the session bootstrap (`--raw`, `debugbox.session.raw`)."""
    ptrace: bool = False
    """Sidecars: root with `SYS_PTRACE` even for a non-root target (to `strace` it), instead of its UID."""
    launcher: tuple[str, ...] = ()
    """How to run debugbox's own CLI (e.g. `python -P -m debugbox`): the terminal's process for sessions that
    need several engine calls and a cleanup (snapshots of stopped containers)."""
    launcher_env: tuple[tuple[str, str], ...] = ()
    """The environment `launcher` needs (the server's PYTHONPATH, when it was started from bundled libraries)."""

    def io_flags(self, *, joined: bool = False) -> list[str]:
        """`-i` and `-t` as asked; `joined` writes them as one word (`-it`), the way kubectl's docs do."""
        letters = ("i" if self.stdin else "") + ("t" if self.tty else "")
        if not letters:
            return []
        return [f"-{letters}"] if joined else [f"-{c}" for c in letters]


@record
class DebugPlan:
    """How to open one debug session: run `argv` in a terminal (never through a shell)."""

    argv: tuple[str, ...]
    strategy: str
    title: str
    notes: tuple[str, ...] = ()
    target: str = ""
    """The target's `id`."""
    env: dict[str, str] = field(default_factory=dict)
    """Extra environment for the terminal process (e.g. KUBECONFIG), usually empty."""
    watch: dict[str, Any] = field(default_factory=dict)
    """Kubernetes: the debug container to watch once `argv` runs (`debug_failures.WatchSpec.to_json()`);
    empty when there is nothing to wait for (exec, attach, containers)."""
    connect: str = ""
    """Kubernetes `exec`/`reattach`: the target ID of the running container `argv` dials, watched while kubectl
    connects (`kube_watch.run_connected`: its dial has no deadline); empty for every other plan."""
    warning: str = ""
    """Said before the terminal opens (e.g. the toolbox image must be pulled first); empty when all is well."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "argv": list(self.argv),
            "strategy": self.strategy,
            "notes": list(self.notes),
            "title": self.title,
            "target": self.target,
        }
        if self.env:
            out["env"] = dict(self.env)
        if self.watch:
            out["watch"] = dict(self.watch)
        if self.warning:
            out["warning"] = self.warning
        return out
