"""`lsp/cancellation.py`: which `$/cancelRequest` stops a running command, and which is left to pygls."""

from __future__ import annotations

from debugbox.lsp.cancellation import Cancellations


def test_a_cancel_sets_only_the_watched_requests_event_while_it_runs() -> None:
    running = Cancellations()
    with running.watch(7) as stop, running.watch("other") as other:
        assert not stop.is_set()
        assert running.cancel(7) is True
        assert stop.is_set() and not other.is_set()
        assert running.cancel(8) is False  # not watched: pygls' own handling
        assert running.cancel(True) is False  # not an id a client sends
    assert running.cancel(7) is False  # ended: nothing left to stop


def test_a_command_run_without_a_request_is_never_cancelled() -> None:
    running = Cancellations()
    with running.watch(None) as stop:
        assert running.cancel(None) is False
    assert not stop.is_set()
