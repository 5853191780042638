"""The failures a user can expect when talking to container engines, each with a message fit to show as is.

Everything in `edge/` raises these (never a bare OSError or a traceback) so the protocol layer and the CLI
can print `str(exc)` and carry on serving.
"""

from __future__ import annotations


class RuntimeProblem(Exception):
    """Base of the expected, user-facing failures; `str()` is the message to show."""


class RuntimeUnavailable(RuntimeProblem):
    """The engine cannot be reached: socket missing or refusing, daemon hanging past the timeout, no CLI."""


class TargetNotFound(RuntimeProblem):
    """No container (or pod) by that name or ID, e.g. it was removed between listing and opening."""


class AmbiguousTarget(RuntimeProblem):
    """An ID prefix that several containers of one engine share: not "not found" (it would send the lookup on to
    the next engine), but a reference to make longer."""


class TargetNotRunning(RuntimeProblem):
    """The target exists but is stopped, paused or restarting, and no strategy can open it in that state."""


class StrategyUnavailable(RuntimeProblem):
    """The strategy asked for cannot work here (no shell for exec, no plugin for docker debug...)."""


class InvalidTarget(RuntimeProblem):
    """A target reference that is not a valid container name or ID (or a prefix no backend claims)."""
