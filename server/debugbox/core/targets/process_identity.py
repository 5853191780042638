"""The UID and GID a running container's main process really has, from the engine's `top` answer — pure: the
answer in, `(uid, gid)` or None out.

Why: the image config's `User` ("65532") says nothing about the group when the image has no user database: the
runtime then runs the process with GID 0, while a sidecar given `--user=65532` takes its GID from the *toolbox's*
`/etc/passwd` (65532 for a Debian-based toolbox). The kernel's ptrace access check (`__ptrace_may_access` in
`kernel/ptrace.c`), which guards `/proc/<pid>/root` and `environ`, compares the GIDs too, so the session could not
read the target. The engine knows the truth without running anything inside the target:

- Docker runs `ps` with the given arguments on the daemon's host and keeps the container's rows
  (`GET /containers/{id}/top?ps_args=…`, `ContainerTop` in moby's `daemon/top_unix.go`); its PID column is the
  host PID, which `State.Pid` of inspect names. procps' `uid`/`gid` are the effective IDs.
- Podman's compatible `top` takes psgo descriptors, comma-separated (`hpid,user,group`: the host PID and the
  effective user and group, as names from the container's own user database when it has one, else numbers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: `ps_args` per engine: the host PID (to find the main process), the effective UID and GID.
TOP_ARGS = {"docker": "-o pid,uid,gid", "podman": "hpid,user,group"}
_PID = ("PID", "HPID")
_UID = ("UID", "USER")
_GID = ("GID", "GROUP")
#: Names that mean the same number in every user database; any other name is left unresolved.
_WELL_KNOWN = {"root": 0}


def _number(value: Any) -> int | None:
    text = str(value).strip()
    if text.isdigit() and len(text) <= 10:
        return int(text)
    return _WELL_KNOWN.get(text)


def _column(titles: Sequence[Any], names: Sequence[str]) -> int | None:
    for i, title in enumerate(titles):
        if str(title).strip().upper() in names:
            return i
    return None


def top_identity(answer: Any, host_pid: int) -> tuple[int, int] | None:
    """`(uid, gid)` of the process `host_pid` in a `top` answer; None when the answer does not say it in numbers."""
    if not isinstance(answer, Mapping) or host_pid <= 0:
        return None
    titles, rows = answer.get("Titles"), answer.get("Processes")
    if not isinstance(titles, list) or not isinstance(rows, list):
        return None
    cols = [_column(titles, names) for names in (_PID, _UID, _GID)]
    if any(c is None for c in cols):
        return None
    pid_col, uid_col, gid_col = (c for c in cols if c is not None)
    for row in rows:
        if not isinstance(row, list) or len(row) <= max(pid_col, uid_col, gid_col):
            continue
        if _number(row[pid_col]) == host_pid:
            uid, gid = _number(row[uid_col]), _number(row[gid_col])
            return (uid, gid) if uid is not None and gid is not None else None
    return None


def config_uid(user: str) -> int | None:
    """The numeric UID of an image config's `User` ("65532", "65532:0"); None for a name or nothing."""
    name = user.split(":", 1)[0].strip()
    return int(name) if name.isdigit() and len(name) <= 10 else None
