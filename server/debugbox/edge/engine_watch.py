"""Notice that a container stopped while a helper of debugbox works beside it (`capture`, `forward`).

A helper that joined the target's network namespace (`--network container:ID`) keeps that namespace alive after
the target exits: tcpdump goes on capturing nothing and `nc 127.0.0.1 PORT` is refused, so without a look at the
target the command runs on forever and says nothing. The engine is asked about the target's state once a second
(one inspect: about a millisecond over the unix socket); the first answer saying it is not running, or that it
is gone, calls `on_stopped` once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from debugbox.core.errors import RuntimeProblem, TargetNotFound

if TYPE_CHECKING:
    from debugbox.edge.engine_api import EngineClient

#: Seconds between two looks at the target.
EVERY = 1.0


def watch_target(
    client: EngineClient, container_id: str, on_stopped: Callable[[], None], done: threading.Event
) -> threading.Thread:
    """Start a daemon thread calling `on_stopped()` once when the container is no longer running; it ends when
    `done` is set. An engine that does not answer for a moment is asked again, never taken for a stop."""

    def look() -> None:
        while not done.wait(EVERY):
            try:
                running = bool(client.inspect(container_id).get("State", {}).get("Running"))
            except TargetNotFound:
                running = False  # removed (`docker rm -f`, or `--rm` after it exited)
            except RuntimeProblem:
                continue
            if not running:
                on_stopped()
                return

    thread = threading.Thread(target=look, name="debugbox-watch-target", daemon=True)
    thread.start()
    return thread
