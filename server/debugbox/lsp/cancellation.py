"""Requests the editor may stop while their work runs in a worker thread (`$/cancelRequest`).

pygls answers a `$/cancelRequest` by cancelling the request's future, which for `workspace/executeCommand` is
only the wrapper around the command: the command's own task, and the worker thread under it, carry on (a
cancelled 1 GB download kept writing the user's file), and the editor is told "cancelled" before anything has
stopped. A command that can stop registers here for the duration of its work (`Cancellations.watch`); a cancel
for it sets its event instead, and the command answers itself once its work has stopped and cleaned up (a
`RequestFailed` marked `{"cancelled": true}`). Cancels of other requests keep pygls' behaviour.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Cancellations:
    """The running requests that can be stopped, by JSON-RPC id (touched from the event loop only)."""

    def __init__(self) -> None:
        self._running: dict[int | str, threading.Event] = {}

    @contextmanager
    def watch(self, msg_id: int | str | None) -> Iterator[threading.Event]:
        """An event set when the editor cancels request `msg_id` while the block runs (never set without an
        id: a command run without a request cannot be cancelled)."""
        stop = threading.Event()
        if msg_id is None:
            yield stop
            return
        self._running[msg_id] = stop
        try:
            yield stop
        finally:
            if self._running.get(msg_id) is stop:
                del self._running[msg_id]

    def cancel(self, msg_id: object) -> bool:
        """Stop request `msg_id` if it is watched here; False for any other request (pygls cancels those)."""
        if not isinstance(msg_id, int | str) or isinstance(msg_id, bool):
            return False
        stop = self._running.get(msg_id)
        if stop is None:
            return False
        stop.set()
        return True
