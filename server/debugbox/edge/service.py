"""The one entry point the LSP handlers and the CLI use for live targets: list, resolve, plan.

Declares the backends (`BACKENDS`) and imports each one's module only when its runtime is asked for (a module
that is not there yet is skipped), asks the present ones in parallel with a deadline, turns every expected
failure into an entry of `errors` (listing) or a `RuntimeProblem` (resolving; a plain name that more than one
engine knows is refused there), and adds the Dockerfile relation to container targets. All calls block: the LSP
layer runs them in a worker thread.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from debugbox import deferred_log
from debugbox.core.errors import (
    AmbiguousTarget,
    RuntimeProblem,
    RuntimeUnavailable,
    StrategyUnavailable,
    TargetNotFound,
)
from debugbox.core.settings import Settings
from debugbox.core.targets.model import DebugPlan, PlanOptions, Target
from debugbox.core.targets.names import validate_container_ref
from debugbox.edge.backends import (
    Backend,
    create_backends,
    declare_backend,
    default_runtimes,
    registered_runtimes,
    split_ref,
)

if TYPE_CHECKING:
    from pathlib import Path

    from debugbox.core.kubernetes.workloads import Workload
    from debugbox.core.targets.related import RelationContext
    from debugbox.edge.docker_backend import EngineBackend

log = deferred_log.get(__name__)

#: Files whose workloads the Kubernetes backend lists pods for.
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
#: The runtimes that run containers (as opposed to pods).
CONTAINER_RUNTIMES = ("docker", "podman", "nerdctl")
#: Every backend: (runtime, the module that registers it when imported, the reference prefixes it owns, whether
#: plain names are asked of it), in the order messages name them. Declared here so that routing `debugbox shell
#: web` imports the container backends only, not Kubernetes' (PyYAML, kubeconfig: ~50 ms of a terminal's start).
#: Each module's `register_backend` must repeat the same prefixes (checked when it registers).
BACKENDS: tuple[tuple[str, str, tuple[str, ...], bool], ...] = (
    ("docker", "debugbox.edge.docker_backend", ("docker://",), True),
    ("podman", "debugbox.edge.docker_backend", ("podman://",), True),
    ("nerdctl", "debugbox.edge.nerdctl_backend", ("nerdctl://",), True),
    ("kubernetes", "debugbox.edge.kube_backend", ("pod/", "k8s://"), False),
)


def is_pod_ref(ref: str) -> bool:
    """Whether `ref` names a pod (the Kubernetes backend's prefixes), decided without importing that backend."""
    return any(ref.startswith(prefixes) for runtime, _, prefixes, _ in BACKENDS if runtime == "kubernetes")


def load_backends() -> list[str]:
    """Declare the backends (no import: see `BACKENDS`); returns the known runtime names."""
    for runtime, module, prefixes, default in BACKENDS:
        declare_backend(runtime, module, prefixes=prefixes, default=default)
    return registered_runtimes()


def deadline(settings: Settings) -> float:
    """How long a whole listing may take: the slowest runtime's timeout plus a margin."""
    return max(settings.docker.timeout_seconds, settings.kubernetes.timeout_seconds) + 1.0


@dataclass
class Listing:
    """The targets every backend listed, and one sentence per backend that could not list."""

    targets: list[Target] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"targets": [t.to_json() for t in self.targets], "errors": list(self.errors)}


def _relation_context(settings: Settings, document: Path, workspace: Path | None) -> RelationContext:
    from debugbox.core.targets.related import RelationContext
    from debugbox.edge.compose import services_building

    return RelationContext(
        dockerfile=str(document.resolve()),
        services=tuple(services_building(document, workspace)),
        app_image=settings.debug_image.app_image,
    )


def manifest_workloads(document: Path) -> list[Workload]:
    """The workloads of a manifest file on disk (for callers without an editor buffer, e.g. the CLI)."""
    from debugbox.core.kubernetes.workloads import workloads_in
    from debugbox.edge.workspace import InputError, read_text_file

    try:
        return workloads_in(read_text_file(document))
    except InputError as exc:
        log.debug("no workloads from %s: %s", document, exc)
        return []


def list_targets(
    settings: Settings,
    *,
    document: Path | None = None,
    workspace: Path | None = None,
    probe: bool = True,
    runtimes: Sequence[str] | None = None,
    workloads: Sequence[Workload] | None = None,
) -> Listing:
    """Targets of every present runtime; with a Dockerfile `document`, the ones built from it first; with a
    manifest, its workloads' pods (`workloads` from the editor's buffer, else read from `document`)."""
    load_backends()
    backends = [b for b in create_backends(settings, runtimes) if b.present()]
    listing = Listing()
    if not backends:
        return listing
    if workloads is None and document is not None and document.suffix.lower() in MANIFEST_SUFFIXES:
        workloads = manifest_workloads(document)
    found = tuple(workloads or ())
    from concurrent.futures import ThreadPoolExecutor  # listings only: not on a terminal's path
    from concurrent.futures import TimeoutError as FutureTimeout

    pool = ThreadPoolExecutor(max_workers=len(backends), thread_name_prefix="debugbox-list")
    doc = str(document) if document else None
    limit = deadline(settings)
    end = time.monotonic() + limit
    try:
        futures = [
            (b, pool.submit(b.list_targets, probe=probe, document=doc, workloads=found)) for b in backends
        ]
        for backend, future in futures:
            try:
                listing.targets += future.result(timeout=max(0.0, end - time.monotonic()))
            except FutureTimeout:
                listing.errors.append(f"{backend.runtime}: no answer within {limit:g} s")
            except RuntimeProblem as exc:
                listing.errors.append(f"{backend.runtime}: {exc}")
            except Exception as exc:  # a bug in one backend must not hide the others' targets
                log.exception("listing %s targets failed", backend.runtime)
                listing.errors.append(f"{backend.runtime}: internal error ({type(exc).__name__}: {exc})")
    finally:
        # A backend stuck past its deadline is left to finish on its own; its socket timeout ends it.
        pool.shutdown(wait=False, cancel_futures=True)
    listing.targets = relate_to_document(settings, listing.targets, document, workspace)
    return listing


def relate_to_document(
    settings: Settings, targets: list[Target], document: Path | None, workspace: Path | None = None
) -> list[Target]:
    """Mark the containers built from the Dockerfile `document` (reads compose files); related first."""
    # Imported here: `debugbox shell` resolves a target without a document, and pathlib and the document
    # patterns are time its terminal waits for.
    from debugbox.core.documents import is_compose_name, is_dockerfile_name

    if document is not None and is_dockerfile_name(document.name):
        from debugbox.core.targets.related import relate

        ctx = _relation_context(settings, document, workspace)
        containers = [t for t in targets if t.runtime != "kubernetes"]
        others = [t for t in targets if t.runtime == "kubernetes"]
        return relate(containers, ctx) + others
    if document is not None and is_compose_name(document.name):
        return _relate_to_compose(targets, document, workspace)
    return sorted(targets, key=lambda t: not t.related)


def _relate_to_compose(targets: list[Target], document: Path, workspace: Path | None) -> list[Target]:
    """Mark the containers of the compose file `document`'s services, included ones too, for an override those
    of the base file compose merges it over, and for a base file those the override beside it adds (by
    compose's labels); related first."""
    import dataclasses

    from debugbox.core.targets.related import compose_service_of
    from debugbox.edge.compose import project_name
    from debugbox.edge.workspace import load_compose_followed

    compose = load_compose_followed(document, workspace)
    if compose is None:
        return targets
    folder = document.resolve().parent
    project = project_name(compose, folder)
    names = {s.name for s in (*compose.services, *compose.included)}
    # An override's project is its base file's too (compose merges them): the base's services run in it; and a
    # base file's project has the services the override compose merges over it adds.
    bases = {name: base for name, base in compose.base_services.items() if name not in names}
    overrides = compose.override_only
    marked = []
    for target in targets:
        service = (
            compose_service_of(target, str(folder), project, names | set(bases) | set(overrides))
            if target.runtime != "kubernetes"
            else None
        )
        reason = None
        if service in bases:
            reason = f"compose service '{service}' of {bases[service]}, which {document} is merged over"
        elif service in overrides:
            reason = (
                f"compose service '{service}' of {overrides[service]}, which compose merges over {document}"
            )
        elif service:
            reason = f"compose service '{service}' of {document}"
        marked.append(dataclasses.replace(target, related=service is not None, related_reason=reason))
    return sorted(marked, key=lambda t: not t.related)


def _lookup(backend: Backend, name: str, probe: bool) -> Target:
    """`backend.resolve(name)`; without `probe`, the backend's one-call `locate` where it has one."""
    locate = None if probe else getattr(backend, "locate", None)
    if locate is None:
        return backend.resolve(name)
    found: Target = locate(name)
    return found


#: Once one engine has found a plain reference, how long the others still have to say whether they know it too.
#: An engine on this machine answers an inspect in about a millisecond (Podman's "no such container" included),
#: so this only matters for a service that is starting (socket activation) or stuck: waiting its whole timeout
#: would make every Docker target wait for a Podman that does not answer, so past this the engine that found the
#: target is the answer, as if the silent one had no such container (see `resolve`).
SECOND_OPINION_SECONDS = 0.3

#: One engine's answer to a plain reference: its target, the failure it raised, or None when it did not answer.
Answer = Target | BaseException | None


def _ask_engines(settings: Settings, backends: Sequence[Backend], name: str, probe: bool) -> list[Answer]:
    """Each backend's `_lookup` of `name`, asked in parallel (threads: a listing's pool costs a terminal the
    import of `concurrent.futures`); an answer is None when it had not come `SECOND_OPINION_SECONDS` after
    another backend found the target, or within `deadline` at all. A stuck thread is left to its socket timeout."""
    if len(backends) == 1:  # most machines: nothing to wait for in parallel
        try:
            return [_lookup(backends[0], name, probe)]
        except Exception as exc:  # `resolve` decides, the same way for one engine or several
            return [exc]
    import threading

    answers: dict[int, Answer] = {}
    done = threading.Condition()

    def ask(index: int, backend: Backend) -> None:
        answer: Answer
        try:
            answer = _lookup(backend, name, probe)
        except BaseException as exc:  # handed to the waiting thread, which raises it
            answer = exc
        with done:
            answers[index] = answer
            done.notify()

    for index, backend in enumerate(backends):
        thread = threading.Thread(
            target=ask, args=(index, backend), name=f"debugbox-resolve-{backend.runtime}", daemon=True
        )
        thread.start()
    end = time.monotonic() + deadline(settings)
    with done:
        while len(answers) < len(backends):
            if any(isinstance(a, Target) for a in answers.values()):
                end = min(end, time.monotonic() + SECOND_OPINION_SECONDS)
            left = end - time.monotonic()
            if left <= 0:
                break
            done.wait(left)
        return [answers.get(index) for index in range(len(backends))]


def _engines_sentence(ref: str, name: str, found: Sequence[Target], shared_on: Sequence[str]) -> str:
    """The refusal of a plain reference that several engines know: each match (and each engine where it is the
    start of several containers' IDs), and the references that say which."""
    shown = [f"{t.name} ({t.id})" for t in found] + [
        f"more than one container whose ID starts with {name!r} on {runtime}" for runtime in shared_on
    ]
    listed = ", ".join(shown[:-1]) + f" and {shown[-1]}"
    refs = " or ".join(f"{t.runtime}://{name}" for t in found)
    more = ", or more of the ID" if shared_on else ""
    return f"{ref!r} names a container on more than one engine: {listed}; say which with {refs}{more}"


def resolve(settings: Settings, ref: str, *, probe: bool = True) -> tuple[Backend, Target]:
    """The backend and target for a reference (`web`, `3f2a9c`, `docker://web`, `pod/web/app`...); without
    `probe`, a container is only inspected (no shell probes: its strategies are left empty).

    A plain reference is asked of every present default runtime at once, and refused when more than one knows
    it (the same name on Docker and Podman, or an ID prefix of containers on both): taking one engine's would
    open, copy into or capture a container the user may not mean. One that does not answer within
    `SECOND_OPINION_SECONDS` of another's match is taken not to know it: a hung Podman must not stop Docker's
    targets from opening, and a container it holds could not be opened now anyway."""
    load_backends()
    parsed = split_ref(ref)
    if parsed.runtime is not None:
        made = create_backends(settings, [parsed.runtime])
        if not made:  # declared, but its module is not part of this installation
            raise RuntimeUnavailable(
                f"{parsed.runtime} targets are not supported by this debugbox installation"
            )
        return made[0], _lookup(made[0], parsed.name, probe)
    # A plain reference is a container name or ID to every default runtime: refuse a bad one up front.
    validate_container_ref(parsed.name)
    backends = [b for b in create_backends(settings, default_runtimes()) if b.present()]
    answers = _ask_engines(settings, backends, parsed.name, probe) if backends else []
    found = [(b, a) for b, a in zip(backends, answers, strict=True) if isinstance(a, Target)]
    shared = [(b, a) for b, a in zip(backends, answers, strict=True) if isinstance(a, AmbiguousTarget)]
    problems: list[str] = []
    for backend, answer in zip(backends, answers, strict=True):
        if answer is None and found:
            log.debug("%s did not say in time whether it has %r: taken as no", backend.runtime, ref)
        elif answer is None:
            problems.append(f"{backend.runtime}: no answer within {deadline(settings):g} s")
        elif isinstance(answer, RuntimeUnavailable):
            problems.append(str(answer))
        elif isinstance(answer, BaseException) and not isinstance(answer, TargetNotFound | AmbiguousTarget):
            raise answer  # a refusal of what the engine answered (InvalidTarget), or a bug: as asked alone
    if found and len(found) + len(shared) > 1:
        matches = [t for _, t in found]
        raise AmbiguousTarget(_engines_sentence(ref, parsed.name, matches, [b.runtime for b, _ in shared]))
    if found:
        return found[0]
    if len(shared) > 1:
        # Each engine's own sentence names that engine alone: the user would narrow it there and meet the other.
        engines = " and on ".join(b.runtime for b, _ in shared)
        prefixes = " or ".join(f"{b.runtime}://" for b, _ in shared)
        raise AmbiguousTarget(
            f"{ref!r} is the start of more than one container's ID on {engines}: give more of the ID, or the "
            f"container's name, with {prefixes} in front (`debugbox targets` lists both)"
        )
    if shared:
        raise shared[0][1]
    if problems:
        raise RuntimeUnavailable(f"could not look for {ref!r}: " + "; ".join(problems))
    where = ", ".join(b.runtime for b in backends) or "any container engine (none found)"
    raise TargetNotFound(f"no running target named {ref!r} on {where} (removed, or a typo?)")


def resolve_engine_container(settings: Settings, ref: str, what: str) -> tuple[EngineBackend, Target]:
    """A Docker or Podman container for the tools that use the Engine API directly (`cp`, `forward`,
    `capture`); any other target is refused with one sentence naming `what` could not be done."""
    from debugbox.edge.docker_backend import EngineBackend

    backend, target = resolve(settings, ref, probe=False)  # they need the container's ID, not its shells
    if not isinstance(backend, EngineBackend):
        raise StrategyUnavailable(
            f"{what} works with Docker and Podman containers; {target.runtime} targets are not supported yet"
        )
    return backend, target


def self_command() -> tuple[tuple[str, ...], dict[str, str]]:
    """The argv prefix and environment that run this same debugbox as a CLI (for an editor's terminal).

    `-P`: the terminal's folder is the user's workspace, which must never be on `sys.path`. PYTHONPATH is
    passed on because an editor may have started the server from its bundled libraries.
    """
    import os

    env = {"PYTHONPATH": os.environ["PYTHONPATH"]} if os.environ.get("PYTHONPATH") else {}
    return (sys.executable, "-P", "-m", "debugbox"), env


def plan(settings: Settings, ref: str, options: PlanOptions) -> DebugPlan:
    backend, target = resolve(settings, ref)
    return backend.plan(target, options)


def open_snapshot(settings: Settings, ref: str, options: PlanOptions) -> int:
    """Run a snapshot session of a stopped container in this terminal; its exit code."""
    backend, target = resolve(settings, ref)
    opener = getattr(backend, "open_snapshot", None)
    if opener is None:
        raise StrategyUnavailable(f"snapshot sessions need Docker or Podman, not {backend.runtime}")
    code: int = opener(target, options)
    return code


def plan_options(
    settings: Settings,
    *,
    strategy: str | None = None,
    image: str | None = None,
    privileged: bool = False,
    command: Sequence[str] = (),
    tty: bool = True,
    stdin: bool = True,
    raw: bool = False,
    ptrace: bool = False,
) -> PlanOptions:
    launcher, launcher_env = self_command()
    return PlanOptions(
        strategy=strategy or "auto",
        preferred=settings.strategy,
        # Empty unless given: each backend picks the setting that applies to the target (Kubernetes: per
        # context and namespace, `settings.toolbox_image_for`).
        toolbox_image=image or "",
        privileged=privileged,
        command=tuple(command),
        tty=tty,
        stdin=stdin,
        raw=raw or settings.session.raw,
        ptrace=ptrace,
        # The snapshot terminal runs in the user's workspace: `-P` and the server's own PYTHONPATH (self_command).
        launcher=launcher,
        launcher_env=tuple(sorted(launcher_env.items())),
    )
