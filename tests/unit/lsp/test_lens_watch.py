"""The lens watch's background loop ends when it is cancelled, even when the cancellation races a wake-up.

Regression test for the fix in `LensWatch._loop` (waiting with `asyncio.timeout` instead of `asyncio.wait_for`):
on Python 3.11, `wait_for` returns the inner result when the awaited wake-up completed in the same loop
iteration as the cancellation, swallowing it; the loop then refreshed again and kept waiting, so a server
shutting down (which cancels its tasks) was left with a watch that never ends. Python 3.12 rewrote `wait_for`
on top of `asyncio.timeout`, so only 3.11 (the oldest Python debugbox supports, and the one its tests run on)
can show the bug.
"""

from __future__ import annotations

import asyncio

from debugbox.lsp.handlers.lens_watch import LensWatch
from debugbox.lsp.server import DebugboxLanguageServer


class _CountingWatch(LensWatch[str, None, int]):
    """A watch whose refresh only counts: what matters here is the loop around it."""

    def __init__(self) -> None:
        super().__init__(DebugboxLanguageServer())
        self.refreshes = 0

    def _compute(self) -> dict[str, int]:
        return {}

    def _timeout(self) -> float:
        return 1.0

    async def refresh(self) -> None:
        self.refreshes += 1


async def _turns(n: int = 10) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def test_a_cancellation_racing_the_wake_up_ends_the_watch() -> None:
    watch = _CountingWatch()
    watch.ensure_running()
    await _turns()
    task = watch._task
    assert task is not None and not task.done() and watch.refreshes == 1  # refreshed once, now waiting

    watch.invalidate()  # the wake-up completes the wait ...
    task.cancel()  # ... in the same loop iteration as the cancellation (e.g. the server shutting down)
    await _turns()

    assert task.cancelled(), "the watch swallowed its cancellation and kept running"
    assert watch.refreshes == 1


async def test_a_wake_up_refreshes_at_once_and_a_plain_cancellation_ends_the_watch() -> None:
    watch = _CountingWatch()
    watch.ensure_running()
    await _turns()
    watch.invalidate()
    await _turns()
    assert watch.refreshes == 2  # not after REFRESH_SECONDS: at once
    task = watch._task
    assert task is not None
    task.cancel()
    await _turns()
    assert task.cancelled()
