"""The target model shared by every container runtime, and the registry that runtimes (backends) plug into.

A `Target` is one running thing a debug terminal can be opened into: a Docker/Podman/nerdctl container here, a
pod container in the Kubernetes backend. A `Backend` lists targets of one runtime and plans a debug session
for one of them (`DebugPlan`: the argv to run, the strategy, notes for the user, a terminal title). Backends
register a factory under their runtime name together with the target-reference prefixes they own (`docker://`,
`pod/`...), so that `split_ref` can send `debugbox shell pod/web` and `debugbox shell docker://web` to the
right one without knowing them. Nothing here talks to an engine.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from debugbox.runtime.errors import InvalidTarget
from debugbox.settings import Settings

#: Docker's rule for container names (validContainerNamePattern); Podman and nerdctl use the same.
_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*\Z")
#: A full or abbreviated container ID.
_HEX_ID = re.compile(r"[0-9a-f]{1,64}\Z")
_MAX_NAME = 255


def validate_container_ref(ref: str) -> str:
    """Return `ref` (a container name or hex ID, an optional leading `/` removed) or raise InvalidTarget.

    Validation is what keeps a name like `-v` or `x; rm -rf /` from changing the meaning of an argv: anything
    that passes starts with an alphanumeric character and contains no whitespace or shell metacharacters.
    """
    name = ref[1:] if ref.startswith("/") else ref
    if len(name) <= _MAX_NAME and (_NAME.match(name) or _HEX_ID.match(name)):
        return name
    raise InvalidTarget(
        f"{ref!r} is not a valid container name or ID (names match [a-zA-Z0-9][a-zA-Z0-9_.-]*, IDs are hex)"
    )


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class PlanOptions:
    """What the caller wants; all a pure argv builder needs besides the target's facts."""

    strategy: str = "auto"
    """Asked for explicitly (argument, CLI flag): used as is, or refused with the reason."""
    preferred: str = "auto"
    """`settings.strategy`: used when it applies to this target and would work, else the ladder decides."""
    toolbox_image: str = ""
    """Sidecar/ephemeral image; empty means `settings.toolbox_image`."""
    privileged: bool = False
    """An explicit choice for `--privileged` sidecars; callers check `settings.allow_privileged` first."""
    command: tuple[str, ...] = ()
    """Run this instead of an interactive shell."""
    tty: bool = True
    """Ask for a TTY (`-t`); false when stdin is not a terminal."""
    stdin: bool = True
    """Keep stdin open (`-i`)."""


@dataclass(frozen=True)
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
        return out


class Backend(Protocol):
    """One runtime. Methods block (engine calls) and raise `RuntimeProblem` on expected failures."""

    runtime: str

    def present(self) -> bool:
        """Cheap check (a socket file, a CLI on PATH) whether this runtime is worth asking at all.

        An absent optional runtime (no Podman socket) is skipped silently; a present one that fails is
        reported.
        """
        ...

    def list_targets(self, *, probe: bool = True, document: str | None = None) -> list[Target]:
        """Running targets; with `probe`, each carries `strategies`/`recommended` (costs a few engine calls
        each).

        `document` is the absolute path of the file the listing is for, if any. Backends that can tell which
        of their targets belong to it (pods of a manifest) set `related` themselves; container backends ignore
        it (the service matches containers to Dockerfiles for them, see `runtime/related.py`).
        """
        ...

    def resolve(self, ref: str) -> Target:
        """The target named `ref` (name or ID without prefix), fully probed; TargetNotFound when missing."""
        ...

    def plan(self, target: Target, options: PlanOptions) -> DebugPlan:
        """A debug session for `target` (from `resolve`), following `options.strategy` or the ladder."""
        ...


BackendFactory = Callable[[Settings], Backend]


@dataclass(frozen=True)
class _Registration:
    runtime: str
    factory: BackendFactory
    prefixes: tuple[str, ...]
    default: bool
    """Asked for plain names/IDs (the container engines are; Kubernetes wants its `pod/` prefix)."""


_REGISTRY: dict[str, _Registration] = {}


def register_backend(
    runtime: str, factory: BackendFactory, *, prefixes: Sequence[str] = (), default: bool = True
) -> None:
    """Make a runtime known: `prefixes` are the target-reference prefixes it owns (e.g. `("pod/",)`)."""
    _REGISTRY[runtime] = _Registration(runtime, factory, tuple(prefixes), default)


def registered_runtimes() -> list[str]:
    return list(_REGISTRY)


def create_backends(settings: Settings, runtimes: Sequence[str] | None = None) -> list[Backend]:
    """One backend per registered runtime (or only those named), in registration order."""
    names = list(_REGISTRY) if runtimes is None else [r for r in runtimes if r in _REGISTRY]
    return [_REGISTRY[name].factory(settings) for name in names]


@dataclass(frozen=True)
class TargetRef:
    runtime: str | None
    """None: any default runtime may own it (a plain name or ID)."""
    name: str
    """The reference without its prefix, as the backend's `resolve` takes it."""


def split_ref(ref: str) -> TargetRef:
    """`docker://web` → (docker, web); `pod/web/app` → (kubernetes, web/app); `web` → (None, web)."""
    ref = ref.strip()
    if not ref:
        raise InvalidTarget("no target given")
    for reg in _REGISTRY.values():
        for prefix in reg.prefixes:
            if ref.startswith(prefix):
                rest = ref[len(prefix) :]
                if not rest:
                    raise InvalidTarget(f"{ref!r} names no target after {prefix!r}")
                return TargetRef(reg.runtime, rest)
    if "://" in ref:
        scheme = ref.split("://", 1)[0]
        known = ", ".join(p for reg in _REGISTRY.values() for p in reg.prefixes)
        raise InvalidTarget(f"unknown target prefix {scheme + '://'!r} (known: {known})")
    return TargetRef(None, ref)


def default_runtimes() -> list[str]:
    """Runtimes asked for a plain name or ID, in registration order."""
    return [reg.runtime for reg in _REGISTRY.values() if reg.default]
