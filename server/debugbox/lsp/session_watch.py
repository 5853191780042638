"""Kubernetes debug sessions opened from the editor: what the terminal runs, and the server's own watch.

A plan with a `watch` (a debug container was asked for) is opened as `debugbox session --watch … -- ARGV` with
the server's own interpreter (`-P`: the workspace folder, the terminal's cwd, is never on `sys.path`), so the
terminal shows kubectl and, when the container cannot start, the sentence saying why (`edge/kube_watch.py`).
A plan that dials a running container (`exec`, `reattach`: `DebugPlan.connect`) is opened as `debugbox session
--connect ID -- ARGV`: an API that goes silent while kubectl connects ends it with the same sentence as in
`debugbox shell`, instead of a terminal that hangs.
The server watches the same container off the event loop and shows that sentence as an error message, so
clients that only run the argv (or a terminal the user already closed) learn it too. When the debug container
cannot see the target's processes (a runtime that ignores `--target`), the server offers a copy of the pod
instead (`window/showMessageRequest`, the same confirmation as every copy).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from lsprotocol import types as lsp

if TYPE_CHECKING:
    from debugbox.core.targets.model import DebugPlan
    from debugbox.lsp.server import DebugboxLanguageServer

log = logging.getLogger(__name__)

_tasks: set[asyncio.Task[None]] = set()
"""Running watches (a task without a reference may be collected mid-way)."""

T = TypeVar("T")


async def _on_daemon_thread(work: Callable[[], T]) -> T:
    """`work()` on a daemon thread. A watch lasts until the container runs or the start deadline (six cluster
    timeouts, a minute by default); on `asyncio.to_thread`'s executor, whose threads the interpreter joins at
    exit, a watch still waiting when the editor closed kept the server's process alive until that deadline."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():  # the waiting task was cancelled (the server is stopping)
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]  # None only when `error` is set

    def run() -> None:
        result: T | None = None
        error: BaseException | None = None
        try:
            result = work()
        except BaseException as exc:  # handed to the awaiting task, which logs it
            error = exc
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:  # the loop closed while the watch waited: nobody is left to tell
            pass

    threading.Thread(target=run, name="debugbox-watch", daemon=True).start()
    return await future


def terminal_command(
    plan: DebugPlan, argv: Sequence[str], api_timeout: float
) -> tuple[list[str], dict[str, str]]:
    """(argv, env) for the editor's terminal: a Kubernetes plan's command (`argv`, its program resolved) under
    `debugbox session --hold` — `--watch` for a debug container, `--connect` for an `exec`/`reattach` into a
    running one (the editor closes the terminal when it ends: a failure's sentence stays until Enter); any other
    plan's command as it is."""
    from debugbox.edge.service import self_command

    if plan.watch:
        watched = ["--watch", json.dumps(plan.watch, sort_keys=True)]
    elif plan.connect:
        watched = ["--connect", plan.connect]
    else:
        return list(argv), dict(plan.env)
    prefix, own_env = self_command()
    wrapped = [*prefix, "session", "--hold", *watched, "--timeout", f"{api_timeout:g}", "--", *argv]
    return wrapped, {**own_env, **plan.env}


def watch_in_background(
    ls: DebugboxLanguageServer,
    plan: DebugPlan,
    offer_copy: Callable[[str], Awaitable[None]] | None = None,
) -> None:
    """Watch the plan's debug container; a failure becomes a `window/showMessage` error — except a session that
    cannot see the target's processes (`--target` ignored by the runtime), which `offer_copy` turns into the
    offer of a copy of the pod (when given)."""
    from debugbox.core.targets.debug_failures import TARGET_NOT_VISIBLE, Verdict, WatchSpec
    from debugbox.edge.kube_watch import client_for, start_deadline, wait_for_start

    spec = WatchSpec.from_json(plan.watch)
    api_timeout = ls.settings.kubernetes.timeout_seconds

    def work() -> Verdict:
        client = client_for(spec, api_timeout)
        return wait_for_start(
            lambda: client.read_pod(spec.namespace, spec.pod), spec, start_deadline(api_timeout)
        )

    async def run() -> None:
        try:
            verdict = await _on_daemon_thread(work)
        except Exception:  # the watch is a courtesy: it must never take the server down
            log.exception("watching debug container %s failed", spec.container)
            return
        if verdict.state != "failed":
            return
        if verdict.reason == TARGET_NOT_VISIBLE and offer_copy is not None:
            await offer_copy(verdict.message)
        else:
            ls.show_message(f"debugbox: {verdict.message}", lsp.MessageType.Error)

    task = asyncio.get_running_loop().create_task(run())
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
