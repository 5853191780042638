"""The registry that container runtimes and Kubernetes (backends) plug into, and target-reference routing.

A `Backend` lists targets of one runtime and plans a debug session for one of them. Backends register a factory
under their runtime name together with the target-reference prefixes they own (`docker://`, `pod/`...), so that
`split_ref` can send `debugbox shell pod/web` and `debugbox shell docker://web` to the right one without knowing
them.

A runtime can be *declared* before its module is imported (`declare_backend`: its module, prefixes and whether
plain names are asked of it): routing a reference then needs no import, and `create_backends` imports a
backend's module only when that runtime is asked for. That keeps `debugbox shell web` from loading the
Kubernetes backend (PyYAML, the kubeconfig loader: about a third of the CLI's start-up). When the module
registers, its prefixes and default must match the declaration (a mismatch is a programming error, raised).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from debugbox.core.errors import InvalidTarget
from debugbox.core.records import record
from debugbox.core.settings import Settings
from debugbox.core.targets.model import DebugPlan, PlanOptions, Target

if TYPE_CHECKING:
    from debugbox.core.kubernetes.workloads import Workload


class Backend(Protocol):
    """One runtime. Methods block (engine calls) and raise `RuntimeProblem` on expected failures."""

    runtime: str

    def present(self) -> bool:
        """Cheap check (a socket file, a CLI on PATH) whether this runtime is worth asking at all.

        An absent optional runtime (no Podman socket) is skipped silently; a present one that fails is
        reported.
        """
        ...

    def list_targets(
        self, *, probe: bool = True, document: str | None = None, workloads: Sequence[Workload] = ()
    ) -> list[Target]:
        """Running targets; with `probe`, each carries `strategies`/`recommended` (costs a few engine calls
        each).

        `document` is the absolute path of the file the listing is for, if any; `workloads` are the
        Kubernetes workloads that document holds (from the editor's buffer when it is open). The Kubernetes
        backend lists their pods, `related`; container backends ignore both (the service matches containers
        to Dockerfiles for them, see `core/targets/related.py`).
        """
        ...

    def resolve(self, ref: str) -> Target:
        """The target named `ref` (name or ID without prefix), fully probed; TargetNotFound when missing."""
        ...

    def plan(self, target: Target, options: PlanOptions) -> DebugPlan:
        """A debug session for `target` (from `resolve`), following `options.strategy` or the ladder."""
        ...


BackendFactory = Callable[[Settings], Backend]


@record
class _Registration:
    """A runtime's entry in the registry: its module, its reference prefixes and, once imported, its factory."""

    runtime: str
    factory: BackendFactory | None
    """None while only declared: `module` is imported (and registers the factory) when the runtime is needed."""
    prefixes: tuple[str, ...]
    default: bool
    """Asked for plain names/IDs (the container engines are; Kubernetes wants its `pod/` prefix)."""
    module: str | None = None


_REGISTRY: dict[str, _Registration] = {}


def declare_backend(runtime: str, module: str, *, prefixes: Sequence[str] = (), default: bool = True) -> None:
    """Make a runtime known without importing it: `module` registers its factory when first imported."""
    if runtime not in _REGISTRY:
        _REGISTRY[runtime] = _Registration(runtime, None, tuple(prefixes), default, module)


def register_backend(
    runtime: str, factory: BackendFactory, *, prefixes: Sequence[str] = (), default: bool = True
) -> None:
    """Make a runtime known: `prefixes` are the target-reference prefixes it owns (e.g. `("pod/",)`)."""
    declared = _REGISTRY.get(runtime)
    if declared is not None and (declared.prefixes, declared.default) != (tuple(prefixes), default):
        raise ValueError(
            f"backend {runtime!r} registers prefixes {tuple(prefixes)} default={default}, but was declared "
            f"with {declared.prefixes} default={declared.default}"
        )
    module = declared.module if declared is not None else None
    _REGISTRY[runtime] = _Registration(runtime, factory, tuple(prefixes), default, module)


def registered_runtimes() -> list[str]:
    return list(_REGISTRY)


def _factory(runtime: str) -> BackendFactory | None:
    """The runtime's factory, importing its declared module first; None when that module is not there."""
    reg = _REGISTRY[runtime]
    if reg.factory is None and reg.module is not None:
        try:
            importlib.import_module(reg.module)
        except ModuleNotFoundError as exc:
            if exc.name != reg.module:
                raise
            del _REGISTRY[runtime]  # not part of this build (yet): as if never declared
            return None
        reg = _REGISTRY[runtime]
        if reg.factory is None:
            raise RuntimeError(f"{reg.module} did not register the {runtime!r} backend it was declared for")
    return reg.factory


def create_backends(settings: Settings, runtimes: Sequence[str] | None = None) -> list[Backend]:
    """One backend per registered runtime (or only those named), in registration order; a declared runtime's
    module is imported here, on first use."""
    names = list(_REGISTRY) if runtimes is None else [r for r in runtimes if r in _REGISTRY]
    made = []
    for name in names:
        factory = _factory(name)
        if factory is not None:
            made.append(factory(settings))
    return made


@record
class TargetRef:
    """A target reference taken apart: the runtime its prefix names, and the name the backend resolves."""

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
