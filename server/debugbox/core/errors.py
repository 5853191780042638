"""The failures a user can expect when talking to container engines, each with a message fit to show as is.

Everything in `edge/` raises these (never a bare OSError or a traceback) so the protocol layer and the CLI
can print `str(exc)` and carry on serving.
"""

from __future__ import annotations

import re


class RuntimeProblem(Exception):
    """Base of the expected, user-facing failures; `str()` is the message to show."""


class RuntimeUnavailable(RuntimeProblem):
    """The engine cannot be reached: socket missing or refusing, daemon hanging past the timeout, no CLI."""


class TargetNotFound(RuntimeProblem):
    """No container (or pod) by that name or ID, e.g. it was removed between listing and opening."""


class AmbiguousTarget(RuntimeProblem):
    """A reference that names more than one container: an ID prefix that several containers of one engine share
    (not "not found", which would send the lookup on to the next engine: a reference to make longer), or a plain
    name or ID that more than one engine knows (a reference to give its engine's prefix)."""


class TargetNotRunning(RuntimeProblem):
    """The target exists but is stopped, paused or restarting, and no strategy can open it in that state."""


class StrategyUnavailable(RuntimeProblem):
    """The strategy asked for cannot work here (no shell for exec, no plugin for docker debug...)."""


class InvalidTarget(RuntimeProblem):
    """A target reference that is not a valid container name or ID (or a prefix no backend claims)."""


#: The engine CLIs' closing usage hint ("Run 'docker run --help' for more information"): never the reason.
_USAGE_HINT = re.compile(r"^(Run|See) '[^']*--help'")


def engine_cli_reason(output: str) -> str | None:
    """The engine CLI's own sentence from what a failed `docker`/`podman` command wrote (`docker: Error response
    from daemon: …`, `Error: …`), not its "Run 'docker run --help'" epilogue or its progress lines; the last
    non-empty line when none says error, None when it wrote nothing."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    lines = [line for line in lines if not _USAGE_HINT.match(line)]
    reason = next((line for line in lines if "rror" in line), lines[-1] if lines else None)
    # A pull that failed says only how (a registry out of reach): the image was not on the engine.
    missing = next((line for line in lines if line.startswith("Unable to find image")), None)
    return f"{missing}; {reason}" if missing and reason and reason != missing else reason
