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


class _SlowWatch(_CountingWatch):
    """A refresh that takes until the test lets it end: what is wanted meanwhile comes during a refresh."""

    def __init__(self) -> None:
        super().__init__()
        self.go_on = asyncio.Event()

    async def refresh(self) -> None:
        self.refreshes += 1
        await self.go_on.wait()
        self.go_on.clear()


async def test_what_is_wanted_during_a_refresh_is_computed_right_after_it() -> None:
    # The wake-up was cleared after each refresh: a lens asked for while one ran (a document opened while the
    # engines were being asked) waited for the next periodic refresh, REFRESH_SECONDS later.
    watch = _SlowWatch()
    watch.ensure_running()
    await _turns()
    assert watch.refreshes == 1  # the first refresh is under way

    watch.invalidate()  # what `want` does for a new key
    watch.go_on.set()
    await _turns()

    assert watch.refreshes == 2, "the wake-up during the refresh was lost"
    task = watch._task
    assert task is not None
    task.cancel()
    await _turns()
