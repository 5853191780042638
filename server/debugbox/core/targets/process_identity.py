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

Docker's `ps` runs on the host, so under the daemon's `--userns-remap` its IDs are the host's (uid 65532 inside is
165532 with dockremap's usual range starting at 100000). `remapped_root` reads where the remap starts from
`GET /info`, and `unmap_ids` turns the host's IDs back into the container's; `may_remap` tells from the
container's own inspect answer when that question need not be asked.
"""

from __future__ import annotations

import posixpath
import re
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


#: The size of the ID range dockerd gives `dockremap` when it makes the user itself (`--userns-remap=default`;
#: moby's `idtools` `createIDMap` maps container IDs from 0 over the ranges in order). An unmapped ID past it
#: may lie in a second range, which `GET /info` does not describe: not trusted.
REMAP_RANGE = 65536
_REMAP_DIR = re.compile(r"(\d{1,10})\.(\d{1,10})")


def remapped_root(info: Any) -> tuple[int, int] | None:
    """The host's (uid, gid) of the containers' root when the Docker daemon of this `GET /info` answer runs
    with `--userns-remap`; None when it does not (or the answer does not say where the remap starts).

    The daemon lists `name=userns` in `SecurityOptions`, and its `DockerRootDir` is the configured data root
    plus `UID.GID` of the remapped root (moby `daemon/daemon_unix.go`, `setupDaemonRoot`: "if user namespaces
    are enabled we will create a subtree underneath the specified root", `fmt.Sprintf("%d.%d",
    remappedRoot.UID, remappedRoot.GID)`)."""
    if not isinstance(info, Mapping):
        return None
    options = info.get("SecurityOptions")
    if not isinstance(options, list) or not any(
        isinstance(o, str) and "name=userns" in o.split(",") for o in options
    ):
        return None
    root = info.get("DockerRootDir")
    if not isinstance(root, str):
        return None
    found = _REMAP_DIR.fullmatch(posixpath.basename(root.rstrip("/")))
    return (int(found[1]), int(found[2])) if found else None


def may_remap(inspect: Any) -> bool:
    """Whether the Docker daemon that gave this container `inspect` answer may run it under `--userns-remap`, read
    from the container's own files: False means `remapped_root` of the daemon's `GET /info` would be None too, so
    that call (~10 ms, the slowest of a session's plan: the daemon gathers its whole state for it) is not needed.

    The container's `HostsPath` (and `ResolvConfPath`) lies in its folder under the daemon's data root:
    `<DockerRootDir>/containers/<id>/hosts` (moby: `daemon.repository` is `<root>/containers` and
    `containerRoot(id)` is `filepath.Join(daemon.repository, id)`; `GetRootResourcePath` joins the file to it), and
    a remapping daemon's `DockerRootDir` ends in `UID.GID` (`setupDaemonRoot`, see `remapped_root`). So a path of
    that shape whose data root does not end in `UID.GID` rules the remap out; any other answer (no such path, a
    different layout) leaves the question to `GET /info`."""
    cid = inspect.get("Id") if isinstance(inspect, Mapping) else None
    if not isinstance(cid, str) or not cid:
        return True
    for key in ("HostsPath", "ResolvConfPath"):
        path = inspect.get(key)
        if not isinstance(path, str) or not path.startswith("/"):
            continue
        folder = posixpath.dirname(path)
        containers = posixpath.dirname(folder)
        if posixpath.basename(folder) == cid and posixpath.basename(containers) == "containers":
            root = posixpath.basename(posixpath.dirname(containers))
            return _REMAP_DIR.fullmatch(root) is not None
    return True


def unmap_ids(ids: tuple[int, int], root: tuple[int, int]) -> tuple[int, int] | None:
    """The container's (uid, gid) for the host's `ids` under a remap whose root is the host's `root`; None when
    either falls outside the first range (below it, or past `REMAP_RANGE`)."""
    uid, gid = ids[0] - root[0], ids[1] - root[1]
    if not (0 <= uid < REMAP_RANGE and 0 <= gid < REMAP_RANGE):
        return None
    return uid, gid
