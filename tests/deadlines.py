"""Time bounds for tests of deadlines, derived from the configured timeout, never from wall-clock closeness.

A test of a deadline asserts on what happened: the call failed, and its message names the deadline that
fired. The one time bound it keeps is `within(timeout)`, a generous multiple of the configured timeout: a
loaded shared machine does not come near it, while a missing deadline still trips it, because every fault
these tests arrange (a hung engine, a slow cluster, a trickling answer) lasts longer than the bound or
forever. A call that would hang forever without its deadline is run through `returns_within`, so a missing
deadline is an assertion failure that says so, not a hung test run.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

#: How many configured timeouts a call may take before its deadline counts as missing. A call bounded by one
#: deadline returns after about one timeout; the rest is room for process and thread start on a machine whose
#: cores are shared by several test runs.
GENEROUS = 10


def within(timeout: float) -> float:
    """The longest a call whose deadline is `timeout` may take (see the module docstring)."""
    return timeout * GENEROUS


def outlasting(timeout: float) -> float:
    """How long a fault must last so that a call without its deadline cannot pass `within(timeout)`."""
    return within(timeout) * 2


def returns_within(seconds: float, call: Callable[[], T]) -> T:
    """`call()`, or an AssertionError if it has not returned (or raised) after `seconds`. The call runs on a
    daemon thread, so a call left hanging does not keep the test process alive."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise AssertionError(f"the call did not return within {seconds:g} s: its deadline is missing")
    if failure:
        raise failure[0]
    return outcome[0]


async def answers_within(seconds: float, awaitable: Awaitable[T]) -> T:
    """The awaited result, or an AssertionError if it has not come after `seconds` (see `returns_within`)."""
    try:
        return await asyncio.wait_for(awaitable, seconds)
    except TimeoutError:
        raise AssertionError(f"no answer within {seconds:g} s: the deadline is missing") from None
