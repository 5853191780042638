"""Snapshot sessions into stopped containers: the side effects of `SnapshotSession` (core/targets/
container_strategy.py), in order, with the cleanup always run.

1. read the container's last log lines (shown in the banner);
2. create a named volume labelled `io.debugbox.snapshot-of=<id>` and have the toolbox copy its static busybox
   into it (first: a toolbox that cannot be had fails before the commit copies the container's layer);
3. `commit` the stopped container to a temporary image with the same label;
4. run the snapshot with that volume at `/.debugbox` and the bootstrap as its command, in this terminal;
5. remove the session's container, wait until the engine has removed it (bounded), then the temporary image
   and the volume, also when the terminal is closed (SIGHUP) or the session is killed (SIGTERM). A Ctrl-C,
   SIGHUP or SIGTERM during steps 2-3 lets the engine call under way finish (else the daemon would finish a
   commit after the clean-up looked), then starts nothing more and cleans up.

Every step is an argv run without a shell; a failing step ends the session with one sentence saying which.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import TextIO

from debugbox.core.errors import RuntimeUnavailable, engine_cli_reason
from debugbox.core.targets.container_strategy import ContainerFacts, SnapshotSession, snapshot_session
from debugbox.core.targets.model import PlanOptions
from debugbox.edge.cli_tools import resolve_program

#: Engine calls around the session (commit copies the container's layer: on vfs that takes a while).
STEP_TIMEOUT = 300.0
#: How long the clean-up waits for the engine to finish removing the session's container before it removes the
#: image and the volume (removal of a vfs container copies nothing, so seconds are plenty; bounded anyway).
REMOVAL_WAIT = 60.0
#: Failed `ps` calls in a row after which the clean-up takes the engine for gone, not busy.
ENGINE_SILENCE = 3


class _Closed(Exception):
    """The terminal went away (SIGHUP) or the session was told to stop (SIGTERM)."""


class _Stop:
    """Signals that asked to stop while the session was being prepared: the engine call under way ends first
    (bounded by `STEP_TIMEOUT`), then nothing more starts and the clean-up runs."""

    def __init__(self, err: TextIO) -> None:
        self.signum = 0
        self._err = err

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if not self.signum:
            try:
                print("debugbox: stopping after this step, then cleaning up...", file=self._err)
            except OSError:  # the terminal is gone (SIGHUP)
                pass
        self.signum = signum


def _step(argv: tuple[str, ...], what: str) -> str:
    try:
        # A session of its own: the terminal's Ctrl-C or hang-up must not cut the engine's CLI short (the daemon
        # would finish a commit nobody waits for, after the clean-up looked); this process decides (`_Stop`).
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=STEP_TIMEOUT, check=False, start_new_session=True
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeUnavailable(f"snapshot session: {what} failed ({exc})") from exc
    if proc.returncode != 0:
        detail = engine_cli_reason(proc.stderr or proc.stdout) or f"exit {proc.returncode}"
        raise RuntimeUnavailable(f"snapshot session: {what} failed: {detail}")
    return proc.stdout


def _call(argv: tuple[str, ...], err: TextIO) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=STEP_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"debugbox: could not clean up ({shlex.join(argv)}: {exc})", file=err)
        return None


def _cleanup(session: SnapshotSession, err: TextIO, wait: float = REMOVAL_WAIT) -> None:
    """Remove the session's container, wait (bounded) until the engine has really removed it, then the image
    and the volume, which the engine refuses to remove while a container still uses them."""
    _call(session.remove_container, err)
    deadline = time.monotonic() + wait
    unanswered = 0
    while True:
        left = _call(session.container_left, err)
        if left is not None and left.returncode == 0 and not left.stdout.strip():
            break
        unanswered = 0 if left is not None and left.returncode == 0 else unanswered + 1
        if unanswered >= ENGINE_SILENCE:
            # The engine went away (stopped, its socket gone): waiting out `wait` would only end in a wrong
            # "still there", and removing the image and volume would fail the same way.
            said = engine_cli_reason(left.stderr or left.stdout) if left is not None else None
            commands = "; ".join(
                shlex.join(argv)
                for argv in (session.remove_container, session.remove_image, session.remove_volume)
            )
            print(
                f"debugbox: the engine no longer answers ({said or 'no answer'}), so the snapshot's container, "
                f"image and volume may be left; once it answers, remove them with: {commands}",
                file=err,
            )
            return
        if time.monotonic() >= deadline:
            print(
                f"debugbox: the session's container {session.container} was still there after {wait:.0f} s; "
                f"remove it with: {shlex.join(session.remove_container)}",
                file=err,
            )
            break
        time.sleep(0.1)
    for argv, what in ((session.remove_image, "image"), (session.remove_volume, "volume")):
        proc = _call(argv, err)
        detail = (proc.stderr or proc.stdout).strip().splitlines() if proc is not None else []
        # A session that failed before creating it: Docker says "No such image", Podman "image not known".
        if (
            proc is not None
            and proc.returncode != 0
            and not re.search(r"(?i)no such|not known", " ".join(detail))
        ):
            print(
                f"debugbox: could not remove the snapshot's {what} ({detail[-1] if detail else proc.returncode}); "
                f"remove it with: {shlex.join(argv)}",
                file=err,
            )


def run_snapshot_session(
    facts: ContainerFacts,
    options: PlanOptions,
    toolbox: str,
    *,
    err: TextIO = sys.stderr,
    token: str | None = None,
    run: Callable[[tuple[str, ...]], int] | None = None,
) -> int:
    """Open a snapshot session in this terminal; returns the session's exit code. Always cleans up."""
    token = token or secrets.token_hex(6)
    # Every step runs the engine's CLI: an absolute one from PATH's absolute folders, never the workspace's.
    facts = dataclasses.replace(facts, cli=resolve_program(facts.cli))
    plain = snapshot_session(facts, options, toolbox, token)
    try:
        logs = subprocess.run(plain.logs, capture_output=True, text=True, timeout=STEP_TIMEOUT, check=False)
        last = (logs.stdout + logs.stderr).strip()
    except (OSError, subprocess.TimeoutExpired):
        last = ""
    session = snapshot_session(facts, options, toolbox, token, last or "(no log lines)")

    def closed(signum: int, frame: FrameType | None) -> None:
        raise _Closed

    stop = _Stop(err)
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT)}
    print(f"debugbox: snapshotting {facts.name} ({facts.status}) to a temporary image...", file=err)
    try:
        # The toolbox first: a toolbox the engine cannot pull (or without a busybox) fails in a second, before the
        # commit copies the whole container's layer.
        for argv, what in (
            (session.volume, "creating the tools volume"),
            (session.lend, f"copying the static busybox out of {toolbox}"),
            (session.commit, f"committing {facts.name}"),
        ):
            _step(argv, what)
            if stop.signum:
                return 128 + stop.signum
        signal.signal(signal.SIGHUP, closed)
        signal.signal(signal.SIGTERM, closed)
        # Ctrl-C belongs to the session's shell, not to this process waiting for it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if stop.signum:  # it came after the last step's check
            return 128 + stop.signum
        code = run(session.run) if run else subprocess.call(session.run)
        if code in (126, 127):
            print(
                f"debugbox: the snapshot could not start {toolbox}'s busybox (exit {code}): it must be a static "
                "binary (debugbox toolbox build makes a toolbox with one)",
                file=err,
            )
        return code
    except _Closed:
        return 129
    finally:
        # A second SIGHUP (the terminal's whole process group) must not cut the clean-up short; it is bounded.
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        _cleanup(session, err)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
