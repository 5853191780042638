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

An answer the watch cannot use (RBAC without `get pods`, a 401) never ends the session: the command runs on as
it would have without debugbox, and the log says why the watch stopped. An API that does not answer at all
(refused, reset, no answer within the timeout) is different: kubectl then waits forever too (its watch retries
without end, its attach dial has no deadline), so after a third of the start deadline in silence (two API
timeouts) — while kubectl waits for the container, or for `deadline` seconds after it runs, while kubectl
attaches (`watch_connection`, one GET every `CONNECTION_POLL_SECONDS`) — kubectl is ended with one sentence
(`API_LOST`, exit `EXIT_NOT_STARTED`).
When kubectl failed on its own while the API was silent, the sentence follows kubectl's lines. An attached
session is kubectl's: its stream's heartbeat ends a dead one, and `--request-timeout` (on every argv, see
`core/targets/kubectl_argv.py`) bounds what it does next. The data commands' streams (`kube_transfer`'s copies,
`capture.KubeCapture`) are watched for as long as they run (`watch_debug_stream`): the bytes they move count as
the API's answers.
"""

from __future__ import annotations

import json
import logging
import math
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from debugbox.core.errors import RuntimeProblem, TargetNotFound
from debugbox.core.targets.consent import COPY_LABEL_KEY, COPY_LABEL_VALUE
from debugbox.core.targets.debug_failures import (
    API_LOST,
    CHECK_CONNECTION,
    EXIT_NOT_STARTED,
    EXIT_TARGET_INVISIBLE,
    POD_DELETED,
    TARGET_NOT_VISIBLE,
    Verdict,
    WatchSpec,
    api_lost,
    command_exit,
    debug_container_in,
    judge,
    pod_deleted,
    timed_out,
)
from debugbox.edge.kube_client import ApiUnreachable, KubeClient
from debugbox.edge.kubeconfig import load_kubeconfig

if TYPE_CHECKING:
    from debugbox.core.targets.pod_data import DebugContainerRef

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
#: How often the API is read while kubectl attaches to a running debug container (only to see it answers).
CONNECTION_POLL_SECONDS = 2.0
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
    lost_after: float | None = None,
) -> Verdict:
    """Poll until the debug container runs, ended or failed; a `failed` verdict with the timeout sentence when
    `deadline` seconds pass first; `waiting` when `stop` was set or the watch itself broke (an answer it cannot
    use: RBAC without `get pods`, a 401). With a `target` (the bootstrap checks it sees the target's processes),
    a running container is watched on for `target_check` seconds, so that check's verdict is not missed; 0 when
    the caller runs the check itself (`kube_data`, which cannot keep a data command waiting that long).

    An API that does not answer at all (`ApiUnreachable`) is asked again: after `lost_after` seconds of nothing
    but that (default `deadline / 3`: two API timeouts, so a blip such as a load balancer failing over passes),
    a `failed` verdict `API_LOST` — kubectl, waiting on its own watch, would retry forever."""
    end = time.monotonic() + deadline
    lost_after = deadline / 3 if lost_after is None else lost_after
    last = Verdict("waiting")
    stop = stop or threading.Event()
    running_since: float | None = None
    silent_since: float | None = None
    while not stop.is_set():
        asked = time.monotonic()
        try:
            last = judge(read_pod(), spec)
            silent_since = None
        except TargetNotFound:
            if spec.ephemeral:  # the pod that holds it is gone: nothing will start
                return Verdict("failed", POD_DELETED, pod_deleted(spec))
            last = Verdict("waiting")  # a copy kubectl has not created yet
            silent_since = None
        except ApiUnreachable as exc:
            silent_since = asked if silent_since is None else silent_since  # silent since it was asked
            if time.monotonic() - silent_since >= lost_after:
                moment = "attaching to" if running_since is not None else "waiting for"  # it ran: attaching
                why = api_lost(debug_container_in(spec), str(exc), lost_after, moment)
                return Verdict("failed", API_LOST, why)
            last = Verdict("waiting", API_LOST, str(exc))
        except RuntimeProblem as exc:
            log.warning("stopped watching debug container %s: %s", spec.container, exc)
            return Verdict("waiting", message=str(exc))
        now = time.monotonic()
        if silent_since is not None:
            pass  # nothing was learned: neither the container's state nor that the deadline is the kubelet's
        elif last.state == "running" and spec.target:
            running_since = now if running_since is None else running_since
            if now - running_since >= target_check:
                return last
            end = max(end, running_since + target_check)
        elif last.state != "waiting":
            return last
        if now >= end and silent_since is None:
            return Verdict("failed", "Timeout", timed_out(spec, deadline, last))
        stop.wait(
            min(POLL_SECONDS, max(0.0, end - time.monotonic())) if silent_since is None else POLL_SECONDS
        )
    return last


def watch_connection(
    read_pod: Callable[[], Mapping[str, object]],
    where: str,
    window: float,
    lost_after: float,
    stop: threading.Event,
    moment: str = "attaching to",
) -> Verdict:
    """While kubectl connects to `where` (`window` seconds; for a debug container, once it runs): a `failed`
    verdict `API_LOST` when the API has not answered for `lost_after` seconds (kubectl's websocket dial has no
    deadline: it waited forever on a server that accepted and never answered); `running` when the window passed
    or `stop` was set. An attached session is kubectl's own after that: its stream's heartbeat ends a dead one
    (61 s in kubectl 1.37), and `--request-timeout` bounds the log it then falls back to."""
    end = time.monotonic() + window
    silent_since: float | None = None
    while not stop.is_set() and time.monotonic() < end:
        asked = time.monotonic()
        try:
            read_pod()
            silent_since = None
        except ApiUnreachable as exc:
            silent_since = asked if silent_since is None else silent_since
            end = max(end, silent_since + lost_after)  # a silence that began in the window is judged in full
            if time.monotonic() - silent_since >= lost_after:
                return Verdict("failed", API_LOST, api_lost(where, str(exc), lost_after, moment))
        except RuntimeProblem:
            return Verdict("running")  # an answer: the API is there
        stop.wait(CONNECTION_POLL_SECONDS)
    return Verdict("running")


def watch_stream(
    read_pod: Callable[[], Mapping[str, object]],
    moved: Callable[[], object],
    where: str,
    lost_after: float,
    stop: threading.Event,
    moment: str,
) -> Verdict:
    """`watch_connection` for as long as a kubectl stream that carries data through the API server runs (until
    `stop`): bytes that moved since the last look (`moved()` changed: when the last one came, or a count) are
    the API answering, so
    the pod is read only while the stream is quiet — a slow copy that moves is never cut, even when the API is
    too busy to answer a GET. A `failed` verdict `API_LOST` when neither came for `lost_after` seconds. The first
    look is after `CONNECTION_POLL_SECONDS`: kubectl has just read the pod itself, and a short copy (a file view's
    read) ends before that without a read of its own."""
    seen = [moved()]
    if stop.wait(CONNECTION_POLL_SECONDS):
        return Verdict("running")

    def answered() -> Mapping[str, object]:
        last = moved()
        if last != seen[0]:
            seen[0] = last
            return {}
        return read_pod()

    return watch_connection(answered, where, math.inf, lost_after, stop, moment)


def watch_debug_stream(
    ref: DebugContainerRef, moved: Callable[[], object], stop: threading.Event, moment: str
) -> Verdict:
    """`watch_stream` for a data command's kubectl in its debug container (`ref`: a copy, a capture), the pod
    read with `ref`'s context and API timeout; two timeouts of silence allowed, the sessions' bound. The client
    is made only once the stream is quiet (a stream that moves never needs it); a kubeconfig that cannot be used
    here is an answer too (`watch_connection`): the caller's own deadlines then hold."""
    timeout = ref.cluster.request_timeout
    clients: list[KubeClient] = []

    def read_pod() -> Mapping[str, object]:
        if not clients:
            clients.append(KubeClient(load_kubeconfig().context(ref.cluster.context), timeout))
        return clients[0].read_pod(ref.namespace, ref.pod)

    where = f"debug container {ref.container} in pod {ref.namespace}/{ref.pod}"
    return watch_stream(read_pod, moved, where, 2 * timeout, stop, moment)


def _end(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(TERM_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()


def _watching(
    proc: subprocess.Popen[bytes], watch: Callable[[], Verdict]
) -> tuple[threading.Thread, list[Verdict]]:
    """`watch()` on a thread; its verdict lands in the list, and a `failed` one ends `proc`."""
    verdict: list[Verdict] = []

    def run() -> None:
        found = watch()
        verdict.append(found)
        if found.state == "failed":
            _end(proc)

    thread = threading.Thread(target=run, name="debugbox-watch", daemon=True)
    thread.start()
    return thread, verdict


def _wait(proc: subprocess.Popen[bytes]) -> int:
    while True:
        try:
            return proc.wait()
        except KeyboardInterrupt:
            continue  # the terminal's Ctrl-C reached kubectl too; its exit status is the answer


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
    stop = threading.Event()
    ended = threading.Event()  # kubectl ended: no connection of its own left to watch

    def watch() -> Verdict:
        found = wait_for_start(read_pod, spec, deadline, stop)
        if found.state == "running" and not ended.is_set():
            # kubectl now attaches (or, without -i, streams the command's output): its dial has no deadline.
            found = watch_connection(read_pod, debug_container_in(spec), deadline, deadline / 3, ended)
        return found

    watcher, verdict = _watching(proc, watch)
    code = _wait(proc)
    ended.set()
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
    if code != 0:
        _say_if_silent(read_pod, verdict[0] if verdict else None, err)
        return code
    if code == 0 and spec.command:
        return command_status(read_pod, spec)
    return code


def _say_if_silent(
    read_pod: Callable[[], Mapping[str, object]], verdict: Verdict | None, err: TextIO
) -> None:
    """After kubectl failed: when the API was (or is) silent, one sentence saying so and what to do. kubectl's
    own lines above say what broke in its words (after an attached session's heartbeat gave up, or a request's
    timeout)."""
    silent = verdict.message if verdict is not None and verdict.reason == API_LOST else api_silence(read_pod)
    if silent:
        print(f"debugbox: kubectl failed, and {lost_sentence(silent)}", file=err, flush=True)


def run_connected(
    argv: Sequence[str],
    env: Mapping[str, str],
    context: str,
    namespace: str,
    pod: str,
    where: str,
    api_timeout: float,
) -> int:
    """`kubectl exec`/`attach` into a running container (`where`, for the sentence) as a child, the API watched
    while it connects (`watch_connection`, `start_deadline` seconds): a silent API ends it with one sentence
    (exit `EXIT_NOT_STARTED`), as for the debug containers `supervise` watches. kubectl's exit status otherwise."""
    try:
        client = KubeClient(load_kubeconfig().context(context), api_timeout)
    except RuntimeProblem as exc:  # no usable kubeconfig here: run the command unwatched, as kubectl would
        log.warning("not watching the connection to %s: %s", where, exc)
        return subprocess.call(list(argv), env=dict(env))

    def read_pod() -> Mapping[str, object]:
        return client.read_pod(namespace, pod)

    proc = subprocess.Popen(list(argv), env=dict(env))
    ended = threading.Event()
    deadline = start_deadline(api_timeout)
    watcher, verdict = _watching(
        proc, lambda: watch_connection(read_pod, where, deadline, deadline / 3, ended, "connecting to")
    )
    code = _wait(proc)
    ended.set()
    watcher.join(api_timeout + CONNECTION_POLL_SECONDS + TERM_GRACE_SECONDS + 1.0)
    if verdict and verdict[0].state == "failed":
        print(f"debugbox: {verdict[0].message}", file=sys.stderr, flush=True)
        return EXIT_NOT_STARTED
    if code != 0:
        _say_if_silent(read_pod, None, sys.stderr)
    return code


def run_connected_to(target: str, argv: Sequence[str], env: Mapping[str, str], api_timeout: float) -> int:
    """`run_connected` for the pod container a target ID names (`DebugPlan.connect`: a plan's `exec` or
    `reattach`), from the CLI's `debugbox shell` and the editor's terminals (`debugbox session --connect`)."""
    from debugbox.edge.kube_backend import ID_PREFIX, parse_ref

    context, namespace, pod, container = parse_ref(target.removeprefix(ID_PREFIX))
    where = f"container {container} in pod {namespace}/{pod}"
    return run_connected(argv, env, context or "", namespace or "", pod, where, api_timeout)


def api_silence(read_pod: Callable[[], Mapping[str, object]]) -> str:
    """The client's sentence when one read of the pod gets no answer at all; "" when the API answers."""
    try:
        read_pod()
    except ApiUnreachable as exc:
        return str(exc)
    except RuntimeProblem:
        pass
    return ""


def lost_sentence(why: str) -> str:
    """`why` (the client's sentence for an API that does not answer) with what to do."""
    return f"{why.rstrip('.')}; {CHECK_CONNECTION}"


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
