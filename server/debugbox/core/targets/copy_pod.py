"""A copy of a pod whose failing container stays up (#13 §5) — pure: the pod's JSON in, the copy's JSON out.

`kubectl debug --copy-to --share-processes` keeps every container's own command, so a crash-looping container
keeps crashing in the copy; and `kubectl debug --copy-to -c C -- CMD` can only replace a command with one the
image has (a distroless image has no shell, not even `sleep`). So for a target that is not running (crash loop,
never started, a finished pod) debugbox builds the copy itself and creates it through the API
(`edge/kube_watch.create_copy`):

- metadata: the copy's name, the pod's namespace and annotations, no labels but
  `debugbox.dev/created-by=debugbox` (kubectl's `generatePodCopyWithDebugContainer`, `pkg/cmd/debug/debug.go`,
  also drops labels by default, so Services and controllers never pick the copy up; `debugbox cleanup` finds it);
- spec: the pod's own, with `nodeName` cleared (scheduled anew), ephemeral containers left out (they cannot be
  set on create), `shareProcessNamespace: true`, and every container's liveness/readiness/startup probes dropped
  (what kubectl does unless `--keep-liveness`/`--keep-readiness`/`--keep-startup`), so the kubelet never kills
  the session;
- an init container `debugbox-tools` (the toolbox image) copies the toolbox's busybox into an `emptyDir` volume
  mounted at `/.debugbox`; the toolbox's busybox must be static (the official `busybox` images and Debian's
  `busybox-static` are; Alpine's is not) since it runs on the target's image;
- the failing container keeps its image — its filesystem as the image has it, plus `/.debugbox` —, variables,
  working directory, volumes and securityContext, but its command is `/.debugbox/busybox sleep 2147483647`
  (args dropped): it stays up and runs nothing of its own;
- the debug container `debugbox-C` (the toolbox image, stdin, the session bootstrap), which the terminal attaches
  to (`kubectl attach`); in the shared process namespace the bootstrap finds the failing container by that exact
  command line and shows its files at `/target`.

Pod Security: `emptyDir`, `shareProcessNamespace` and the added containers pass `baseline` (the debug and init
containers get the profile's securityContext). Under `restricted` every container must be non-root without
privilege escalation, drop ALL and set a seccomp profile: the added containers get the `restricted` profile's
context and the target's UID (the edge applies `identity.py`), so the copy is admitted exactly when the pod's
own containers were.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from debugbox.core.targets.consent import COPY_LABEL_KEY, COPY_LABEL_VALUE
from debugbox.core.targets.identity import apply_custom
from debugbox.core.targets.names import validate_image, validate_label, validate_pod_name

TOOLS_VOLUME = "debugbox-tools"
TOOLS_DIR = "/.debugbox"
#: The failing container's command in the copy: busybox's `sleep` for as long as `sleep` can (68 years).
KEEP_UP_COMMAND = (f"{TOOLS_DIR}/busybox", "sleep", "2147483647")
#: The toolbox's own shell finds its busybox (a busybox shell answers `command -v busybox` with the bare applet
#: name, hence the usual places after it); a constant script, nothing from the workspace or the cluster.
COPY_TOOLS = (
    'for b in "$(command -v busybox)" /bin/busybox /usr/bin/busybox /busybox; do '
    f'case "$b" in /*) [ -f "$b" ] && exec cp "$b" {TOOLS_DIR}/busybox ;; esac; done; '
    'echo "debugbox: the toolbox image has no busybox to keep the container up" >&2; exit 1'
)
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


def keeps_up(phase: str, state: str) -> bool:
    """Whether a copy must keep the target up itself: it is not running (crash loop, never started, ended)."""
    return phase in ("Failed", "Succeeded") or state != "running"


def keep_up_copy(
    pod: Mapping[str, Any],
    target: str,
    copy_name: str,
    debug: Mapping[str, Any],
    toolbox_image: str,
    security_context: Mapping[str, Any] | None,
    custom: Mapping[str, Any] | None = None,
    identity_line: str = "",
) -> dict[str, Any]:
    """The copy of `pod` (its API JSON) with container `target` kept up and the debug container `debug` added.

    `security_context` is the profile's, for the init container (the debug container carries its own);
    `custom` the session's identity (`identity.debug_identity(...).custom`), merged into both as `kubectl debug
    --custom` would, and `identity_line` what the banner then says about it (`DEBUGBOX_IDENTITY`)."""
    meta = pod.get("metadata") or {}
    spec = copy.deepcopy(dict(pod.get("spec") or {}))
    for key in ("nodeName", "ephemeralContainers"):
        spec.pop(key, None)
    spec["shareProcessNamespace"] = True
    mount = {"name": TOOLS_VOLUME, "mountPath": TOOLS_DIR}
    containers = []
    for c in spec.get("containers") or []:
        c = {k: v for k, v in c.items() if k not in PROBES}
        if c.get("name") == target:
            c["command"] = list(KEEP_UP_COMMAND)
            c.pop("args", None)
            c["volumeMounts"] = [*(c.get("volumeMounts") or []), {**mount, "readOnly": True}]
        containers.append(c)
    debug = apply_custom(debug, custom)
    if identity_line:
        debug["env"] = [
            {"name": e["name"], "value": identity_line} if e["name"] == "DEBUGBOX_IDENTITY" else e
            for e in debug.get("env") or []
        ]
    containers.append(debug)
    tools: dict[str, Any] = {
        "name": TOOLS_VOLUME,
        "image": validate_image(toolbox_image),
        "command": ["sh", "-c", COPY_TOOLS],
        "volumeMounts": [mount],
    }
    if security_context:
        tools["securityContext"] = dict(security_context)
    tools = apply_custom(tools, custom)
    spec["initContainers"] = [tools, *(spec.get("initContainers") or [])]
    spec["containers"] = containers
    spec["volumes"] = [*(spec.get("volumes") or []), {"name": TOOLS_VOLUME, "emptyDir": {}}]
    out_meta: dict[str, Any] = {
        "name": validate_pod_name(copy_name),
        "namespace": validate_label(str(meta.get("namespace") or "default"), "namespace"),
        "labels": {COPY_LABEL_KEY: COPY_LABEL_VALUE},
    }
    if meta.get("annotations"):
        out_meta["annotations"] = dict(meta["annotations"])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": out_meta, "spec": spec}


def debug_container(
    name: str,
    image: str,
    command: Sequence[str],
    env: Mapping[str, str],
    *,
    tty: bool,
    security_context: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The copy's debug container: what `kubectl debug --copy-to -c NAME --image=IMAGE -it` would add."""
    c: dict[str, Any] = {
        "name": validate_label(name, "container"),
        "image": validate_image(image),
        "command": list(command),
        "stdin": True,
        "tty": tty,
        "terminationMessagePolicy": "File",
    }
    if env:
        c["env"] = [{"name": k, "value": v} for k, v in env.items()]
    if security_context:
        c["securityContext"] = dict(security_context)
    return c
