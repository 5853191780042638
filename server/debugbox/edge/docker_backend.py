"""Docker and Podman containers through the Engine API: list them, gather the facts the ladder needs, plan
sessions.

Both engines speak the same API (Podman on its Docker-compatible socket), so one class serves both; they
differ in endpoint, in the CLI put into the argv (`podman` when installed, else `docker --host
unix://…podman.sock`) and in `docker debug`, which only Docker has. Facts are gathered without running
anything inside the container: inspect for state and user, archive/stat for shells.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import posixpath
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from debugbox import deferred_log
from debugbox.core.errors import InvalidTarget, RuntimeUnavailable, TargetNotFound
from debugbox.core.settings import Settings
from debugbox.core.targets.container_strategy import (
    SHELL_PATHS,
    SIDECAR_LABEL,
    SNAPSHOT_LABEL,
    ContainerFacts,
    available_strategies,
    build_plan,
    container_facts,
    is_non_root,
    own_user_namespace,
    shell_of,
    toolbox_missing_warning,
)
from debugbox.core.targets.model import DebugPlan, PlanOptions, Target
from debugbox.core.targets.names import from_answer, validate_container_id, validate_container_ref
from debugbox.core.targets.process_identity import (
    TOP_ARGS,
    config_uid,
    may_remap,
    remapped_root,
    top_identity,
    unmap_ids,
)
from debugbox.edge.backends import register_backend
from debugbox.edge.cli_tools import docker_debug_available, find_program
from debugbox.edge.endpoints import docker_endpoint, podman_endpoint
from debugbox.edge.engine_api import Endpoint, EngineClient, StatUnsupported

if TYPE_CHECKING:
    from debugbox.core.kubernetes.workloads import Workload

log = deferred_log.get(__name__)

_SYMLINK = 1 << 27  # Go's fs.ModeSymlink, as the stat header reports it
_DIR = 1 << 31  # fs.ModeDir
_PROBE_WORKERS = 8
_LISTED_STATES = frozenset({"running", "paused", "restarting", "exited", "dead"})
_LIST_PROBE_TTL = 30.0
_probe_cache: dict[tuple[str, str], tuple[float, tuple[str, ...] | None]] = {}
_probe_lock = threading.Lock()


def _iso(value: Any) -> str:
    """Engine timestamps: list gives epoch seconds, inspect an RFC 3339 string; both become ISO 8601 UTC."""
    if isinstance(value, int | float):
        from datetime import UTC, datetime  # listings only: not on a terminal's path

        return datetime.fromtimestamp(value, UTC).isoformat().replace("+00:00", "Z")
    return str(value or "")


class EngineBackend:
    """A Backend for one Engine-API endpoint (Docker or Podman)."""

    def __init__(
        self,
        runtime: str,
        endpoint: Endpoint,
        cli: tuple[str, ...],
        settings: Settings,
        *,
        present: bool = True,
        product: str = "Docker",
        cli_problem: str = "",
    ) -> None:
        self.runtime = runtime
        self.client = EngineClient(endpoint, settings.docker.timeout_seconds, product)
        self._cli = cli
        self._cli_problem = cli_problem
        self.settings = settings
        self._present = present
        self._facts: dict[str, ContainerFacts] = {}
        self._lock = threading.Lock()

    def present(self) -> bool:
        return self._present

    def _check_cli(self) -> None:
        """RuntimeUnavailable (one sentence) when no CLI here can reach the engine; listing and copying need
        none (they use the Engine API), sessions, `forward` and `capture` do."""
        if self._cli_problem:
            raise RuntimeUnavailable(self._cli_problem)

    @property
    def cli(self) -> tuple[str, ...]:
        """The engine's CLI for the argvs debugbox runs or hands to a terminal (`_check_cli` first)."""
        self._check_cli()
        return self._cli

    # -- facts ----------------------------------------------------------------------------------------------

    def _exists_as_file(self, container_id: str, path: str) -> bool:
        """Whether `path` exists in the container as a non-directory, following up to 5 symlinks."""
        for _ in range(5):
            stat = self.client.stat_path(container_id, path)
            if stat is None:
                return False
            mode = int(stat.get("mode", 0))
            link = str(stat.get("linkTarget", "") or "")
            if mode & _SYMLINK and link:
                path = link if link.startswith("/") else posixpath.join(posixpath.dirname(path), link)
                continue
            return not mode & _DIR
        return False

    def probe_shells(self, container_id: str) -> tuple[str, ...] | None:
        """Shells present in the container, best first; None when the engine cannot stat paths.

        Stops at the first found: that is the one exec would use.
        """
        try:
            for path in SHELL_PATHS:
                if self._exists_as_file(container_id, path):
                    return (path,)
        except StatUnsupported:
            return None
        return ()

    def _listed_shells(self, cid: str) -> tuple[str, ...] | None:
        """`probe_shells` for listings, remembered for `_LIST_PROBE_TTL` seconds per container.

        A listing probes every running container (the engine serialises those stats, ~5 ms each);
        opening a terminal always probes afresh, so a stale answer here only affects the `recommended` shown.
        """
        key = (self.client.endpoint.url, cid)
        now = time.monotonic()
        with _probe_lock:
            hit = _probe_cache.get(key)
        if hit is not None and now - hit[0] < _LIST_PROBE_TTL:
            return hit[1]
        shells = self.probe_shells(cid)
        with _probe_lock:
            if len(_probe_cache) > 4096:
                _probe_cache.clear()
            _probe_cache[key] = (now, shells)
        return shells

    def _gather(
        self,
        cid: str,
        name: str,
        status: str,
        image: str,
        user: str,
        docker_debug: bool,
        *,
        listing: bool = False,
    ) -> ContainerFacts:
        probe = self._listed_shells if listing else self.probe_shells
        shells = probe(cid) if status == "running" else ()
        return container_facts(
            self.runtime,
            self._cli,  # a listing's facts need no runnable CLI; `plan` checks it
            cid,
            name,
            status,
            image=image,
            user=user,
            shells=shells,
            docker_debug=docker_debug,
        )

    def _docker_debug(self) -> bool:
        if self.runtime != "docker":
            return False
        return docker_debug_available(self.cli, self.settings.docker.timeout_seconds)

    @property
    def _source(self) -> str:
        return f"the {self.client.product} engine at {self.client.endpoint.label}"

    def _usable(self, summary: dict[str, Any]) -> bool:
        """Whether a listed container's ID and name pass `names` (else it is left out, with a warning)."""
        listed = summary.get("Names")
        try:
            from_answer(summary.get("Id"), validate_container_id, self._source)
            if isinstance(listed, list) and listed:
                from_answer(listed[0], validate_container_ref, self._source)
        except InvalidTarget as exc:
            log.warning("%s; that container is left out", exc)
            return False
        return True

    def _identity(self, data: dict[str, Any]) -> tuple[str, str, str]:
        """ID, name and status of an inspect answer."""
        # The ID and name go into argvs (`docker exec <id>`, `--pid=container:<id>`): checked like user input.
        cid = from_answer(data.get("Id"), validate_container_id, self._source)
        state = data.get("State") if isinstance(data.get("State"), dict) else {}
        status = str(state.get("Status", "")) if state else ""
        if state and state.get("Restarting"):
            status = "restarting"
        name = data.get("Name")
        return cid, from_answer(name, validate_container_ref, self._source) if name else cid[:12], status

    def facts_from_inspect(self, data: dict[str, Any]) -> ContainerFacts:
        cid, name, status = self._identity(data)
        state = data.get("State") if isinstance(data.get("State"), dict) else {}
        config = data.get("Config") if isinstance(data.get("Config"), dict) else {}
        user = str(config.get("User", "") or "") if config else ""
        host = data.get("HostConfig") if isinstance(data.get("HostConfig"), dict) else {}
        userns = str(host.get("UsernsMode", "") or "") if host else ""
        # Docker runs every container of a daemon under its remap, except one started with `--userns=host`.
        remap_possible = self.runtime == "docker" and userns.strip() != "host" and may_remap(data)
        facts = self._gather(
            cid,
            name,
            status,
            str(config.get("Image", "") or "") if config else "",
            user,
            self._docker_debug(),
        )
        if own_user_namespace(self.runtime, userns):
            facts = dataclasses.replace(facts, own_userns=True)
        if status != "running":
            return facts
        pid = state.get("Pid") if state else None
        facts = dataclasses.replace(
            facts,
            pid_mode=str(host.get("PidMode", "") or "") if host else "",
            host_pid=pid if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0 else 0,
        )
        if not is_non_root(facts.user):
            # Root of a remapping daemon's namespace is not the host's root: the notes say so (`GET /info`, once
            # per backend, and only when the target's own paths leave the remap possible).
            remap = self._daemon_remap if remap_possible else None
            return dataclasses.replace(facts, remap_root=remap) if remap is not None else facts
        ids, note, remap = self._process_ids(
            cid, state.get("Pid") if state else None, facts.user, remap_possible
        )
        return dataclasses.replace(facts, ids=ids, ids_note=note, remap_root=remap)

    @functools.cached_property
    def _daemon_remap(self) -> tuple[int, int] | None:
        """The daemon's remapped root (`remapped_root`), asked once per backend (a Docker one: `remap_possible`
        in `facts_from_inspect` decides when to ask); None when it does not remap or could not say."""
        try:
            return remapped_root(self.client.info())
        except RuntimeUnavailable:
            return None

    def _process_ids(
        self, cid: str, pid: Any, user: str, remap_possible: bool = False
    ) -> tuple[tuple[int, int] | None, str, tuple[int, int] | None]:
        """The main process's (uid, gid) from the engine's `top`, or None and the sentence that says why; and
        the daemon's remapped root when its `top` gave the host's IDs of a `--userns-remap` namespace."""
        fallback = (
            "the session's gid follows the toolbox's user database and may differ from the target's"
            if config_uid(user) is not None
            else "the session runs as root with SYS_PTRACE instead"
        )
        host_pid = pid if isinstance(pid, int) and not isinstance(pid, bool) else 0
        try:
            ids = top_identity(self.client.top(cid, TOP_ARGS[self.runtime]), host_pid)
        except (RuntimeUnavailable, TargetNotFound) as exc:
            return None, f"The engine's process list could not be read ({exc}): {fallback}.", None
        if ids is None:
            return (
                None,
                f"The engine's process list does not give the target's uid and gid in numbers: {fallback}.",
                None,
            )
        configured = config_uid(user)
        if configured == ids[0]:
            return ids, "", None
        # Docker's `ps` runs on the host: under the daemon's userns-remap it shows the host's IDs (not for a
        # target started with `--userns=host`). Mapped back, a numeric uid must be the config's to be believed;
        # a user name has nothing to compare with, and the remap (the daemon's, for all its containers) decides.
        root = self._daemon_remap if remap_possible else None
        inside = unmap_ids(ids, root) if root is not None else None
        if inside is not None and configured in (None, inside[0]):
            return inside, "", root
        if configured is None and root is None:
            return ids, "", None
        shown = configured if configured is not None else repr(user)
        return (
            None,
            (
                f"The engine reports uid {ids[0]} for the target, its config {shown} (a user namespace?): "
                f"{fallback}."
            ),
            root,
        )

    # -- Backend --------------------------------------------------------------------------------------------

    def _target(self, summary: dict[str, Any], facts: ContainerFacts | None) -> Target:
        cid = str(summary.get("Id", ""))
        names = summary.get("Names") or []
        name = str(names[0]).lstrip("/") if names else cid[:12]
        labels = summary.get("Labels") if isinstance(summary.get("Labels"), dict) else {}
        extra: dict[str, Any] = {"container_id": cid}
        strategies: tuple[str, ...] = ()
        recommended = None
        if facts is not None:
            strategies = available_strategies(facts)
            recommended = strategies[0] if strategies else None
            extra["shell"] = shell_of(facts)
            if facts.user:
                extra["user"] = facts.user
        return Target(
            id=f"{self.runtime}://{cid[:12]}",
            runtime=self.runtime,
            name=name,
            image=str(summary.get("Image", "")),
            status=str(summary.get("State", "")),
            created=_iso(summary.get("Created")),
            strategies=strategies,
            recommended=recommended,
            labels={str(k): str(v) for k, v in (labels or {}).items()},
            extra=extra,
        )

    def list_targets(
        self, *, probe: bool = True, document: str | None = None, workloads: Sequence[Workload] = ()
    ) -> list[Target]:
        # Running ones (with paused and restarting, as the engine's default list), and exited ones: those open as
        # snapshots. debugbox's own containers are not targets: sidecars, snapshot sessions, and the helpers of
        # `forward` and `capture` (imported here: listings only, not a terminal's start-up path).
        from debugbox.core.targets.capture import CAPTURE_LABEL
        from debugbox.core.targets.port_forward import FORWARD_LABEL

        own = {SIDECAR_LABEL, SNAPSHOT_LABEL, FORWARD_LABEL, CAPTURE_LABEL}
        summaries = [
            c
            for c in self.client.containers(all=True)
            if str(c.get("State", "")) in _LISTED_STATES
            and not own & set(c.get("Labels") or {})
            and self._usable(c)
        ]
        if not probe:
            return [self._target(s, None) for s in summaries]
        docker_debug = self._docker_debug()

        def facts(summary: dict[str, Any]) -> ContainerFacts:
            cid = str(summary.get("Id", ""))
            image = str(summary.get("Image", ""))
            status = str(summary.get("State", ""))
            return self._gather(cid, cid[:12], status, image, "", docker_debug, listing=True)

        from concurrent.futures import ThreadPoolExecutor  # listings only: not on a terminal's path

        with ThreadPoolExecutor(max_workers=min(_PROBE_WORKERS, max(1, len(summaries)))) as pool:
            all_facts = list(pool.map(facts, summaries))
        return [self._target(s, f) for s, f in zip(summaries, all_facts, strict=True)]

    def resolve(self, ref: str) -> Target:
        data = self.client.inspect(validate_container_ref(ref))
        facts = self.facts_from_inspect(data)
        with self._lock:
            self._facts[facts.id] = facts
        return self._target(self._summary(data, facts.id, facts.name, facts.status), facts)

    def locate(self, ref: str) -> Target:
        """The container named `ref` from one inspect, without the probes a session's plan needs (shells,
        `docker debug`): what `cp`, `capture` and `forward` use, which talk to the Engine API themselves."""
        data = self.client.inspect(validate_container_ref(ref))
        cid, name, status = self._identity(data)
        return self._target(self._summary(data, cid, name, status), None)

    @staticmethod
    def _summary(data: dict[str, Any], cid: str, name: str, status: str) -> dict[str, Any]:
        """An inspect answer in the shape of a `/containers/json` entry, for `_target`."""
        config = data.get("Config") if isinstance(data.get("Config"), dict) else {}
        return {
            "Id": cid,
            "Names": [name],
            "Image": (config or {}).get("Image", ""),
            "State": status,
            "Created": data.get("Created", ""),
            "Labels": (config or {}).get("Labels") or {},
        }

    def plan(self, target: Target, options: PlanOptions) -> DebugPlan:
        self._check_cli()  # before asking the engine: no terminal could run the plan
        cid = str(target.extra.get("container_id", ""))
        with self._lock:
            facts = self._facts.pop(cid, None)
        if facts is None:
            facts = self.facts_from_inspect(self.client.inspect(cid or target.name))
        toolbox = options.toolbox_image or self.settings.toolbox_image
        plan = build_plan(facts, options, toolbox, target.id)
        if plan.strategy in ("sidecar", "snapshot") and not self.client.has_image(toolbox):
            plan = dataclasses.replace(plan, warning=toolbox_missing_warning(self.runtime, toolbox))
        return plan

    def open_snapshot(self, target: Target, options: PlanOptions) -> int:
        """Run a snapshot session of the stopped `target` in this terminal (edge/snapshot.py)."""
        from debugbox.edge.snapshot import run_snapshot_session

        self._check_cli()
        facts = self.facts_from_inspect(
            self.client.inspect(str(target.extra.get("container_id") or target.name))
        )
        toolbox = options.toolbox_image or self.settings.toolbox_image
        return run_snapshot_session(facts, options, toolbox)


def _docker_factory(settings: Settings) -> EngineBackend:
    found = docker_endpoint()
    url = found.endpoint.url
    # Asked when configured, when its socket is there, or when the docker CLI is (then "not running" is news).
    present = (
        found.endpoint.source != "default"
        or os.path.exists(url[len("unix://") :])
        or bool(find_program("docker"))
    )
    return EngineBackend("docker", found.endpoint, ("docker", *found.cli_args), settings, present=present)


def podman_cli(url: str, which: Any = find_program) -> tuple[tuple[str, ...], str]:
    """`podman` when installed (it finds the same service: `CONTAINER_HOST`, else its local storage, which its
    socket serves); else the docker CLI pointed at Podman's compatible API at `url`. With it, why no terminal
    could reach the engine ("" when one can)."""
    if which("podman"):
        return ("podman",), ""
    cli = ("docker", "--host", url)
    if url.startswith("ssh://"):
        # `docker --host ssh://…` runs `docker system dial-stdio` on the far side, where Podman has no docker CLI.
        return cli, (
            f"CONTAINER_HOST is {url}, which only the podman CLI can reach for a session, `forward` or `capture`, "
            "and podman is not installed here; install podman, or forward the remote socket "
            "(ssh -L /tmp/podman.sock:/run/podman/podman.sock HOST) and set CONTAINER_HOST=unix:///tmp/podman.sock"
        )
    return cli, ""


def _podman_factory(settings: Settings) -> EngineBackend:
    endpoint = podman_endpoint()
    if endpoint is None:
        endpoint = Endpoint("unix:///run/podman/podman.sock", "podman socket")
        return EngineBackend("podman", endpoint, ("podman",), settings, present=False, product="Podman")
    cli, problem = podman_cli(endpoint.url)
    return EngineBackend("podman", endpoint, cli, settings, product="Podman", cli_problem=problem)


register_backend("docker", _docker_factory, prefixes=("docker://",))
register_backend("podman", _podman_factory, prefixes=("podman://",))
