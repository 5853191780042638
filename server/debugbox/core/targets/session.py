"""The session bootstrap's inputs, shared by every strategy that starts a toolbox: the script itself
(`bootstrap.sh`, package data) and the `DEBUGBOX_*` variables that tell it about the target and the session.

Docker/Podman/nerdctl sidecars and snapshots pass the variables as `--env=` of `run`; Kubernetes debug
containers as `--env=` of `kubectl debug`, which parses them as a comma-separated list, so a value for kubectl
must not hold a comma (`kube_env` refuses one).
"""

from __future__ import annotations

import os

from debugbox.core.printable import printable

#: The session bootstrap (POSIX sh), run by the toolbox's own `sh -c`; package data beside this module, read
#: once. (A plain read: `importlib.resources` costs a terminal's start ~2 ms of imports for the same bytes, and
#: debugbox is installed as files, never zipped.)
with open(os.path.join(os.path.dirname(__file__), "bootstrap.sh"), encoding="utf-8") as _script:
    BOOTSTRAP_SCRIPT = _script.read()


def bootstrap_vars(name: str, how: str, identity: str, logs: str = "") -> dict[str, str]:
    """The bootstrap's variables: the target's name, how the session was made, its identity, last log lines.

    The banner prints them on the user's terminal from inside the toolbox, past the CLI's own filter, and the
    log lines are whatever the target wrote: every value goes through `printable` (escapes, not sequences)."""
    env = {"DEBUGBOX_TARGET": name, "DEBUGBOX_HOW": how, "DEBUGBOX_IDENTITY": identity}
    if logs:
        env["DEBUGBOX_LOGS"] = logs
    return {key: printable(value) for key, value in env.items()}


def bootstrap_env(name: str, how: str, identity: str, logs: str = "") -> list[str]:
    """`--env` flags for the bootstrap of an engine's `run`."""
    return [f"--env={key}={value}" for key, value in bootstrap_vars(name, how, identity, logs).items()]


def kube_env(env: dict[str, str]) -> list[str]:
    """`--env` flags for `kubectl debug` (a string-to-string flag: commas separate entries)."""
    for key, value in env.items():
        if "," in value or "," in key:
            raise ValueError(f"kubectl debug --env cannot carry a comma ({key})")
    return [f"--env={key}={value}" for key, value in env.items()]


def bootstrap_command(command: tuple[str, ...] | list[str]) -> list[str]:
    """The toolbox's command: its own `sh` runs the bootstrap; `debugbox` is its $0, `command` its arguments."""
    return ["sh", "-c", BOOTSTRAP_SCRIPT, "debugbox", *command]
