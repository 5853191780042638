"""containerd containers through the `nerdctl` CLI, when it is on PATH.

nerdctl has no Engine API socket, so this backend runs `nerdctl ps --format '{{json .}}'` and `nerdctl
inspect` (each with the engine timeout). It cannot stat paths inside a container without running something
there, so whether a container has a shell comes from image knowledge (`debugbox.images`); unknown images get
the sidecar, which always works on a running container (`--pid=container:` needs nerdctl 1.1 or later).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from debugbox import deferred_log
from debugbox.core.errors import InvalidTarget, RuntimeUnavailable, TargetNotFound
from debugbox.core.settings import Settings
from debugbox.core.targets.container_strategy import (
    SIDECAR_LABEL,
    ContainerFacts,
    available_strategies,
    build_plan,
    container_facts,
    shell_of,
)
from debugbox.core.targets.model import DebugPlan, PlanOptions, Target
from debugbox.core.targets.names import from_answer, validate_container_id, validate_container_ref
from debugbox.edge.backends import register_backend
from debugbox.edge.cli_tools import ProgramMissing, find_program, run_cli

if TYPE_CHECKING:
    from debugbox.core.kubernetes.workloads import Workload

log = deferred_log.get(__name__)

Runner = Callable[[Sequence[str], float, str], str]


def parse_labels(raw: Any) -> dict[str, str]:
    """nerdctl prints labels as `k=v,k=v` in `ps` (a map in `inspect`)."""
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    out: dict[str, str] = {}
    for part in str(raw or "").split(","):
        key, sep, value = part.partition("=")
        if sep and key:
            out[key] = value
    return out


def status_word(status: str) -> str:
    """`Up 3 minutes` → running, `Exited (0) …` → exited, `Created` → created, `Paused` → paused."""
    head = status.strip().split(" ", 1)[0].lower()
    return {"up": "running", "exited": "exited", "created": "created", "paused": "paused"}.get(head, head)


def parse_ps(output: str) -> list[dict[str, Any]]:
    rows = []
    for line in output.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


class NerdctlBackend:
    runtime = "nerdctl"

    def __init__(self, settings: Settings, runner: Runner = run_cli, cli: str = "nerdctl") -> None:
        self.settings = settings
        self.timeout = settings.docker.timeout_seconds
        self.run = runner
        self.cli = (cli,)

    def present(self) -> bool:
        return find_program(self.cli[0]) is not None

    def _facts(self, cid: str, name: str, image: str, status: str, user: str) -> ContainerFacts:
        # nerdctl cannot stat paths without running something in the container: the image table decides.
        return container_facts(self.runtime, self.cli, cid, name, status, image=image, user=user, shells=None)

    def _target(self, cid: str, name: str, image: str, status: str, created: str, labels: dict[str, str],
                facts: ContainerFacts) -> Target:  # fmt: skip
        strategies = available_strategies(facts)
        return Target(
            id=f"nerdctl://{cid[:12]}",
            runtime=self.runtime,
            name=name,
            image=image,
            status=status,
            created=created,
            strategies=strategies,
            recommended=strategies[0] if strategies else None,
            labels=labels,
            extra={"container_id": cid, "shell": shell_of(facts), "shell_source": "image knowledge"},
        )

    def list_targets(
        self, *, probe: bool = True, document: str | None = None, workloads: Sequence[Workload] = ()
    ) -> list[Target]:
        out = self.run([*self.cli, "ps", "--format", "{{json .}}"], self.timeout, "nerdctl")
        targets = []
        for row in parse_ps(out):
            labels = parse_labels(row.get("Labels"))
            if SIDECAR_LABEL in labels:
                continue
            try:
                cid, name = self._checked(row.get("ID"), str(row.get("Names", "")).split(",", 1)[0])
            except InvalidTarget as exc:
                log.warning("%s; that container is left out", exc)
                continue
            image = str(row.get("Image", ""))
            status = status_word(str(row.get("Status", "")))
            facts = self._facts(cid, name, image, status, "")
            targets.append(
                self._target(cid, name, image, status, str(row.get("CreatedAt", "")), labels, facts)
            )
        return targets

    def _checked(self, cid: object, name: str) -> tuple[str, str]:
        """The ID and name nerdctl printed, checked like user input before they can reach an argv."""
        cid = from_answer(cid, validate_container_id, "nerdctl")
        return cid, from_answer(name, validate_container_ref, "nerdctl") if name else cid[:12]

    def _inspect(self, ref: str) -> dict[str, Any]:
        try:
            out = self.run([*self.cli, "inspect", "--mode=dockercompat", ref], self.timeout, "nerdctl")
        except ProgramMissing:
            raise  # its "not found in … PATH" is not nerdctl's "not found"
        except RuntimeUnavailable as exc:
            if "no such" in str(exc).lower() or "not found" in str(exc).lower():
                raise TargetNotFound(f"no such container: {ref} (nerdctl)") from exc
            raise
        try:
            data = json.loads(out)
        except ValueError as exc:
            raise RuntimeUnavailable("nerdctl inspect printed something that is not JSON") from exc
        if isinstance(data, list) and data and isinstance(data[0], dict):
            return data[0]
        raise TargetNotFound(f"no such container: {ref} (nerdctl)")

    def _facts_of(self, data: dict[str, Any]) -> tuple[ContainerFacts, dict[str, Any]]:
        state = data.get("State") if isinstance(data.get("State"), dict) else {}
        config = data.get("Config") if isinstance(data.get("Config"), dict) else {}
        cid, name = self._checked(data.get("Id"), str(data.get("Name", "")))
        image = str((config or {}).get("Image") or data.get("Image", ""))
        status = str((state or {}).get("Status", ""))
        facts = self._facts(cid, name, image, status, str((config or {}).get("User", "") or ""))
        return facts, {"image": image, "created": str(data.get("Created", "")), "config": config or {}}

    def resolve(self, ref: str) -> Target:
        data = self._inspect(validate_container_ref(ref))
        facts, more = self._facts_of(data)
        labels = parse_labels(more["config"].get("Labels"))
        return self._target(facts.id, facts.name, more["image"], facts.status, more["created"], labels, facts)

    def plan(self, target: Target, options: PlanOptions) -> DebugPlan:
        facts, _ = self._facts_of(self._inspect(str(target.extra.get("container_id") or target.name)))
        return build_plan(facts, options, options.toolbox_image or self.settings.toolbox_image, target.id)


register_backend("nerdctl", NerdctlBackend, prefixes=("nerdctl://",))
