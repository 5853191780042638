"""Reading a `kubectl debug` argv that runs debugbox's session bootstrap: the flags kubectl gets, the
bootstrap's `DEBUGBOX_*` variables, and the user's command after the bootstrap."""

from __future__ import annotations

from collections.abc import Sequence

from debugbox.core.targets.session import BOOTSTRAP_SCRIPT

ENV = "--env=DEBUGBOX_"


def split_session(argv: Sequence[str]) -> tuple[list[str], dict[str, str], list[str]]:
    """(argv without the bootstrap's flags and command, the bootstrap's variables, the user's command). Fails
    when the argv does not run the bootstrap."""
    args = list(argv)
    end = args.index("--")
    assert args[end + 1 : end + 5] == ["sh", "-c", BOOTSTRAP_SCRIPT, "debugbox"], args[end + 1 : end + 3]
    env = dict(a.removeprefix("--env=").split("=", 1) for a in args[:end] if a.startswith(ENV))
    return [a for a in args[:end] if not a.startswith(ENV)], env, args[end + 5 :]
