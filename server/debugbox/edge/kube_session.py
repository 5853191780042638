"""The edge half of a Kubernetes debug session's plan: the target's identity and what to watch afterwards.

`finish` takes the plan `pod_strategy.build_plan` made and, for the strategies that add a debug container
(ephemeral, copy):
- gives that container the target's UID/GID (`core/targets/identity.py`) through kubectl's `--custom`, after
  checking the kubectl in use supports it (`kubectl version --client`, once per binary). The spec is written to
  a content-addressed file in the user's cache directory (`$XDG_CACHE_HOME/debugbox/kubectl-debug/`, else
  `~/.cache/...`) that is never deleted, so a printed command still works when pasted later;
- names the debug container to watch once the command runs (`DebugPlan.watch`, see `edge/kube_watch.py`);
- for a copy that keeps a failing container up, builds the copy's pod from the pod's JSON
  (`core/targets/copy_pod.py`, with the identity in its spec) and writes it to a content-addressed file in the
  same folder, which the watch (`WatchSpec.create`) creates before `kubectl attach` runs.

For `exec` and `reattach` (kubectl dials a container that already runs) it names that container instead
(`DebugPlan.connect`): the CLI and the editor's terminals watch the API while kubectl connects
(`kube_watch.run_connected`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from debugbox.core.errors import RuntimeUnavailable
from debugbox.core.settings import Settings
from debugbox.core.targets import copy_pod, identity, pod_facts, pod_strategy
from debugbox.core.targets.debug_failures import WatchSpec
from debugbox.core.targets.model import PlanOptions
from debugbox.edge.cli_tools import run_cli

log = logging.getLogger(__name__)

#: Bounds the one `kubectl version --client` call (it reads no cluster).
VERSION_TIMEOUT_SECONDS = 10.0


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "debugbox" / "kubectl-debug"


def write_custom_spec(spec: Mapping[str, Any], directory: Path | None = None, prefix: str = "custom") -> Path:
    """The stable file holding `spec` (named by its content): created once, left in place for pasted commands."""
    text = json.dumps(spec, sort_keys=True, separators=(",", ":")) + "\n"
    folder = directory or cache_dir()
    path = folder / f"{prefix}-{hashlib.sha256(text.encode()).hexdigest()[:16]}.json"
    try:
        if path.read_text(encoding="utf-8") == text:
            return path
    except OSError:
        pass
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{prefix}-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


@lru_cache(maxsize=8)
def kubectl_version(kubectl: str) -> tuple[int, int] | None:
    """(major, minor) of `kubectl version --client`, or None. Run through `cli_tools.run_cli`, like every CLI
    call: a bare `kubectl` is looked up in PATH's absolute folders only, never `.` or a workspace folder."""
    try:
        out = run_cli(
            [kubectl, "version", "--client", "-o", "json"], VERSION_TIMEOUT_SECONDS, "kubectl version"
        )
        return identity.kubectl_minor(json.loads(out))
    except (RuntimeUnavailable, ValueError) as exc:
        log.info("cannot read the version of %s: %s", kubectl, exc)
        return None


def finish(
    kplan: pod_strategy.KubePlan,
    pod_json: Mapping[str, Any],
    container: str,
    cluster: pod_facts.ClusterFacts,
    options: PlanOptions,
    settings: Settings,
    image_fix: str = "",
) -> pod_strategy.KubePlan:
    """`kplan` with the identity flags, their notes and the `watch`; plans adding no container as they are."""
    plan = kplan.plan
    if plan.strategy in ("exec", "reattach"):
        # kubectl dials a container that already runs: its dial has no deadline, so it is watched while it
        # connects (`DebugPlan.connect`), from the CLI and from the editor's terminals alike.
        return dataclasses.replace(kplan, plan=dataclasses.replace(plan, connect=plan.target))
    if plan.strategy not in ("ephemeral", "copy"):
        return kplan
    pod = pod_facts.PodFacts.from_json(pod_json)
    name, profile = pod_strategy.new_debug_container(
        pod,
        container,
        cluster,
        options,
        profile_setting=settings.kubernetes.profile,
        allow_privileged=settings.allow_privileged,
    )
    taken = cluster.existing_pods or frozenset()
    where = pod.name if plan.strategy == "ephemeral" else pod_strategy.copy_name_for(pod, taken)
    watch = WatchSpec(
        context=cluster.context,
        namespace=pod.namespace,
        pod=where,
        container=name,
        ephemeral=plan.strategy == "ephemeral",
        image=options.toolbox_image,
        fix=image_fix,
        # The bootstrap checks that --target really shares the target's processes (not with --raw: no bootstrap).
        target=container if plan.strategy == "ephemeral" and not options.raw else "",
        # Only an ephemeral container ends with the command for good; a copy's restart policy restarts it.
        command=bool(options.command) and plan.strategy == "ephemeral",
    )
    argv, env, notes = plan.argv, dict(plan.env), list(plan.notes)
    who = identity.debug_identity(pod_json, container, profile)
    if kplan.keep_up is not None:
        # debugbox creates this copy itself (through the API, no --custom): the identity goes into its spec.
        body = copy_pod.keep_up_copy(
            pod_json,
            container,
            where,
            kplan.keep_up,
            options.toolbox_image,
            pod_strategy.PROFILE_SECURITY_CONTEXT.get(profile),
            who.custom,
            identity.session_line(who) if who.custom is not None else "",
        )
        watch = dataclasses.replace(watch, create=str(write_custom_spec(body, prefix="copy")), kept=container)
        if who.custom is not None:
            notes += identity.identity_notes(who, container)
        notes.append(f"The copy's spec: {watch.create} (kubectl create -f creates the same pod).")
    elif who.custom is not None:
        usable, extra_env, note = identity.custom_support(kubectl_version(cluster.kubectl))
        if usable:
            argv = identity.with_custom(argv, str(write_custom_spec(who.custom)))
            argv = pod_strategy.with_session_identity(argv, identity.session_line(who))
            env.update(extra_env)
            notes += identity.identity_notes(who, container)
        if note:
            notes.append(note)
    plan = dataclasses.replace(plan, argv=argv, env=env, notes=tuple(notes), watch=watch.to_json())
    return dataclasses.replace(kplan, plan=plan)
