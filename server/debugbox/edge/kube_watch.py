"""Never wait blind: watch the debug container a `kubectl debug` asked for, and stop at the first sign it won't run.

`wait_for_start` reads the pod (one GET every `POLL_SECONDS`, so at most `deadline / POLL_SECONDS` requests)
until `core/targets/debug_failures.judge` says the debug container runs, ended, or failed, or the deadline
passes. `supervise` runs the debug command as a child with the terminal's stdio while that watch goes on: on a
failure (or the deadline) it ends kubectl — which would otherwise wait forever, printing warnings — and prints
the one sentence; the exit status is then `EXIT_NOT_STARTED` (or `EXIT_TARGET_INVISIBLE` when the session
bootstrap could not see the target's processes: the sentence gives the command for a copy; a session is under way
meanwhile, so that check is watched for, `TARGET_CHECK_SECONDS`). The CLI's
`debugbox shell` and the editor's terminals (`debugbox session`) both go through it, and it labels a copy as
debugbox's once kubectl made it. The language server also runs `wait_for_start` itself to show the sentence
(a message). The data commands' debug container (`kube_data`) is only waited for until it runs: they run the
bootstrap's check in it themselves, at once.

A failure of the watch itself (the API unreachable, RBAC without `get pods`) never ends the session: the
command runs on as it would have without debugbox, and the log says why the watch stopped.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TextIO

from debugbox.core.errors import RuntimeProblem, TargetNotFound
from debugbox.core.targets.consent import COPY_LABEL_KEY, COPY_LABEL_VALUE
from debugbox.core.targets.debug_failures import (
    EXIT_NOT_STARTED,
    EXIT_TARGET_INVISIBLE,
    POD_DELETED,
    TARGET_NOT_VISIBLE,
    Verdict,
    WatchSpec,
    command_exit,
    judge,
    pod_deleted,
    timed_out,
)
from debugbox.edge.kube_client import KubeClient
from debugbox.edge.kubeconfig import load_kubeconfig

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
#: The session bootstrap checks for the target's processes as soon as it starts (`DEBUGBOX_EXPECT_TARGET`): a
#: debug container with a `target` is watched this long after it runs, to see that check end it. A kubelet
#: reports a container's end within its PLEG relist period (1 s) and a status sync.
TARGET_CHECK_SECONDS = 10.0
#: How long a report of that check is waited for after kubectl failed on its own (it may have failed because the
#: container ended at once).
END_REPORT_SECONDS = 5.0
#: How long a child gets to end after SIGTERM before it is killed.
TERM_GRACE_SECONDS = 3.0


def start_deadline(api_timeout: float) -> float:
    """How long a debug container may take to run: six API timeouts (60 s by default), room for an image pull."""
    return 6.0 * api_timeout


def client_for(spec: WatchSpec, api_timeout: float) -> KubeClient:
    return KubeClient(load_kubeconfig().context(spec.context), api_timeout)


def wait_for_start(
    read_pod: Callable[[], Mapping[str, object]],
    spec: WatchSpec,
    deadline: float,
    stop: threading.Event | None = None,
    *,
    target_check: float = TARGET_CHECK_SECONDS,
) -> Verdict:
    """Poll until the debug container runs, ended or failed; a `failed` verdict with the timeout sentence when
    `deadline` seconds pass first; `waiting` when `stop` was set or the watch itself broke. With a `target`
    (the bootstrap checks it sees the target's processes), a running container is watched on for
    `target_check` seconds, so that check's verdict is not missed; 0 when the caller runs the check itself
    (`kube_data`, which cannot keep a data command waiting that long)."""
    end = time.monotonic() + deadline
    last = Verdict("waiting")
    stop = stop or threading.Event()
    running_since: float | None = None
    while not stop.is_set():
        try:
            last = judge(read_pod(), spec)
        except TargetNotFound:
            if spec.ephemeral:  # the pod that holds it is gone: nothing will start
                return Verdict("failed", POD_DELETED, pod_deleted(spec))
            last = Verdict("waiting")  # a copy kubectl has not created yet
        except RuntimeProblem as exc:
            log.warning("stopped watching debug container %s: %s", spec.container, exc)
            return Verdict("waiting", message=str(exc))
        now = time.monotonic()
        if last.state == "running" and spec.target:
            running_since = now if running_since is None else running_since
            if now - running_since >= target_check:
                return last
            end = max(end, running_since + target_check)
        elif last.state != "waiting":
            return last
        elif now >= end:
            return Verdict("failed", "Timeout", timed_out(spec, deadline, last))
        stop.wait(min(POLL_SECONDS, max(0.0, end - time.monotonic())))
    return last


def _end(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(TERM_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()


def supervise(
    argv: Sequence[str],
    env: Mapping[str, str],
    spec: WatchSpec,
    read_pod: Callable[[], Mapping[str, object]],
    deadline: float,
    err: TextIO | None = None,
) -> int:
    """Run `argv` (stdio inherited) while watching `spec`; kubectl's exit status, or `EXIT_NOT_STARTED` with
    one sentence on `err` when the debug container did not start."""
    err = err or sys.stderr
    proc = subprocess.Popen(list(argv), env=dict(env))
    verdict: list[Verdict] = []
    stop = threading.Event()

    def watch() -> None:
        found = wait_for_start(read_pod, spec, deadline, stop)
        verdict.append(found)
        if found.state == "failed":
            _end(proc)

    watcher = threading.Thread(target=watch, name="debugbox-watch", daemon=True)
    watcher.start()
    while True:
        try:
            code = proc.wait()
            break
        except KeyboardInterrupt:
            continue  # the terminal's Ctrl-C reached kubectl too; its exit status is the answer
    if code != 0 and not verdict:
        # kubectl failed on its own and said why on stderr. It may have failed because the debug container ended
        # at once (the bootstrap's target check): with a target, its status gets a moment to say so.
        watcher.join(END_REPORT_SECONDS if spec.target else 0.0)
        stop.set()
    # Without -i kubectl returns at once after the PATCH: the watch goes on to its own verdict.
    watcher.join(deadline + TARGET_CHECK_SECONDS + TERM_GRACE_SECONDS + 1.0)
    if verdict and verdict[0].state == "failed":
        print(f"debugbox: {verdict[0].message}", file=err, flush=True)
        return EXIT_TARGET_INVISIBLE if verdict[0].reason == TARGET_NOT_VISIBLE else EXIT_NOT_STARTED
    if code == 0 and spec.command:
        return command_status(read_pod, spec)
    return code


def command_status(read_pod: Callable[[], Mapping[str, object]], spec: WatchSpec) -> int:
    """The user's command's exit code, which kubectl does not pass on: read from the debug container's status,
    which the kubelet reports a moment after the command ended (at most `END_REPORT_SECONDS`); 0 when it does
    not say."""
    end = time.monotonic() + END_REPORT_SECONDS
    while True:
        try:
            code = command_exit(read_pod(), spec)
        except RuntimeProblem as exc:
            log.warning("could not read the exit code of %s: %s", spec.container, exc)
            return 0
        if code is not None or time.monotonic() >= end:
            return code or 0
        time.sleep(POLL_SECONDS)


def label_copy(client: KubeClient, spec: WatchSpec, pod: Mapping[str, object]) -> bool:
    """Label the copy kubectl created as debugbox's (kubectl debug has no flag for it), once it exists."""
    meta = pod.get("metadata")
    labels = meta.get("labels") if isinstance(meta, Mapping) else None
    if isinstance(labels, Mapping) and labels.get(COPY_LABEL_KEY) == COPY_LABEL_VALUE:
        return True
    try:
        client.label_pod(spec.namespace, spec.pod, {COPY_LABEL_KEY: COPY_LABEL_VALUE})
    except RuntimeProblem as exc:
        log.warning("could not label the copy %s: %s", spec.pod, exc)
    return True


def create_copy(client: KubeClient, spec: WatchSpec) -> None:
    """Create the copy `spec.create` holds, unless debugbox's copy of that name exists already (a terminal run
    again); a pod of that name that is not debugbox's is refused."""
    try:
        body = json.loads(Path(spec.create).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RuntimeProblem(f"cannot read its spec {spec.create}: {exc}") from None
    try:
        existing = client.read_pod(spec.namespace, spec.pod)
    except TargetNotFound:
        client.create_pod(spec.namespace, body)
        return
    labels = (existing.get("metadata") or {}).get("labels") or {}
    if labels.get(COPY_LABEL_KEY) != COPY_LABEL_VALUE:
        raise RuntimeProblem(f"pod {spec.namespace}/{spec.pod} exists and is not a copy made by debugbox")


def run_watched(
    argv: Sequence[str],
    env: Mapping[str, str],
    watch: Mapping[str, object],
    api_timeout: float,
    deadline: float | None = None,
) -> int:
    """`supervise` for a plan's `watch` (the CLI and `debugbox session`); the exit status to return."""
    spec = WatchSpec.from_json(watch)
    try:
        client = client_for(spec, api_timeout)
    except RuntimeProblem as exc:  # no usable kubeconfig here: run the command unwatched, as kubectl would
        log.warning("not watching debug container %s: %s", spec.container, exc)
        return subprocess.call(list(argv), env=dict(env))
    labelled: list[bool] = []

    def read_pod() -> Mapping[str, object]:
        pod = client.read_pod(spec.namespace, spec.pod)
        if not spec.ephemeral and not labelled:
            labelled.append(label_copy(client, spec, pod))
        return pod

    if spec.create:
        # A copy debugbox builds itself (`copy_pod.py`): created here, and running, before kubectl attaches.
        try:
            create_copy(client, spec)
        except RuntimeProblem as exc:
            print(f"debugbox: cannot create the copy {spec.pod}: {exc}", file=sys.stderr)
            return 1
        started = wait_for_start(
            read_pod, spec, deadline if deadline is not None else start_deadline(api_timeout)
        )
        if started.state == "failed":
            print(f"debugbox: {started.message}", file=sys.stderr, flush=True)
            return EXIT_NOT_STARTED
    try:
        return supervise(
            argv,
            env,
            spec,
            read_pod,
            deadline if deadline is not None else start_deadline(api_timeout),
        )
    except OSError as exc:
        print(f"debugbox: cannot run {argv[0]}: {exc.strerror}", file=sys.stderr)
        return 1
