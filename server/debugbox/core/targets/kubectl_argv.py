"""The kubectl command lines of the pod strategies, as argv tuples run without a shell.

Pod, container, namespace, context and image names are checked against the Kubernetes naming rules
(`names.py`) before they are put in, so nothing from a manifest or the cluster can turn into an option.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from debugbox.core.targets.model import PlanOptions
from debugbox.core.targets.names import validate_context, validate_image, validate_label, validate_pod_name
from debugbox.core.targets.pod_facts import ClusterFacts, PodFacts


def _scope(cluster: ClusterFacts, namespace: str, *, bounded: bool = True) -> list[str]:
    """`-n NS [--context CTX]`, and `--request-timeout` unless `bounded` is False (a command shown for the user to
    paste later, which reads better without it)."""
    out = ["-n", validate_label(namespace, "namespace")]
    if cluster.context:
        out += ["--context", validate_context(cluster.context)]
    if bounded and cluster.request_timeout > 0:
        # kubectl's own default is no timeout: an API server that accepts and never answers (a load balancer
        # whose backends died) kept a GET, a PATCH or the log fallback of `kubectl debug` waiting forever. It
        # bounds each request, not a stream: exec, attach, port-forward and watches run on (kubectl 1.37; the
        # server treats those as long-running and ignores the `timeout` parameter kubectl adds).
        out.append(f"--request-timeout={request_timeout_flag(cluster.request_timeout)}")
    return out


def request_timeout_flag(seconds: float) -> str:
    """A Go duration kubectl accepts for `seconds`, whole seconds rounded up (at least 1s)."""
    return f"{max(1, math.ceil(seconds))}s"


#: Public for the other kubectl argvs (`pod_data.py`): `-n NS [--context CTX]`, checked.
scope = _scope


def exec_argv(pod: PodFacts, container: str, cluster: ClusterFacts, options: PlanOptions) -> tuple[str, ...]:
    command = list(options.command) or [cluster.image_shell or "sh"]
    return (
        cluster.kubectl, "exec", *options.io_flags(joined=True), validate_pod_name(pod.name),
        "-c", validate_label(container, "container"),
        *_scope(cluster, pod.namespace), "--", *command,
    )  # fmt: skip


def attach_argv(
    pod: PodFacts,
    debug_container: str,
    cluster: ClusterFacts,
    options: PlanOptions,
    pod_name: str | None = None,
) -> tuple[str, ...]:
    """`kubectl attach` to `debug_container` in `pod` (or in its copy `pod_name`)."""
    return (
        cluster.kubectl, "attach", *options.io_flags(joined=True), validate_pod_name(pod_name or pod.name),
        "-c", validate_label(debug_container, "container"), *_scope(cluster, pod.namespace),
    )  # fmt: skip


def target_mode(container: str) -> list[str]:
    """`kubectl debug` flags for an ephemeral container joining `container`'s process namespace."""
    return [f"--target={validate_label(container, 'container')}"]


def copy_mode(copy_name: str) -> list[str]:
    """`kubectl debug` flags for a copy of the pod with a shared process namespace."""
    return [f"--copy-to={validate_pod_name(copy_name)}", "--share-processes"]


def debug_argv(
    pod: PodFacts,
    mode: Sequence[str],
    name: str,
    image: str,
    profile: str,
    cluster: ClusterFacts,
    options: PlanOptions,
    session: tuple[Sequence[str], Sequence[str]] | None = None,
) -> tuple[str, ...]:
    """`kubectl debug POD` adding debug container `name`; `mode` is `target_mode(C)` or `copy_mode(COPY)`.
    `session` is (its `--env` flags, its command) when the session bootstrap runs in it; else `options.command`."""
    env, command = session if session is not None else ((), options.command)
    # Without -i, kubectl debug only adds the container and returns: a command run with no stdin (a script, cron,
    # CI) would print nothing. --attach waits for it and streams its output, as `kubectl attach` would.
    attach = ["--attach=true"] if options.command and not options.stdin else []
    argv = [
        cluster.kubectl, "debug", validate_pod_name(pod.name), *options.io_flags(joined=True), *attach,
        *_scope(cluster, pod.namespace),
        *mode, f"--image={validate_image(image)}", f"--profile={profile}",
        "-c", validate_label(name, "container"), *env,
    ]  # fmt: skip
    if command:
        argv += ["--", *command]
    return tuple(argv)


def delete_argv(namespace: str, pod_name: str, cluster: ClusterFacts) -> tuple[str, ...]:
    return (
        cluster.kubectl, "delete", "pod", validate_pod_name(pod_name), *_scope(cluster, namespace, bounded=False)
    )  # fmt: skip
