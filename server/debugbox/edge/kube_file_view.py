"""The read-only file view (`debugbox-target:`) of a pod's container, through debugbox's debug container.

`stat`, `read_directory` and `read_file` answer what `edge/file_view.py` answers for engine containers, but read
`/proc/<pid>/root/PATH` of the target's main process with `kubectl exec` (no TTY) in the debug container
(`pod_data.VIEW_SCRIPT`, `pod_data.read_argv`). Bounded like the engine's view: at most `MAX_ENTRIES` children,
files up to `MAX_FILE_BYTES`, and a kubectl that sends nothing for `idle` seconds is ended.
"""

from __future__ import annotations

import subprocess

from debugbox.core.errors import RuntimeUnavailable, TargetNotFound
from debugbox.core.targets import pod_data
from debugbox.core.targets.file_view import MAX_ENTRIES, MAX_FILE_BYTES, Entry, Listing
from debugbox.core.targets.transfer import human_size
from debugbox.edge.file_view import TooLarge
from debugbox.edge.kube_transfer import read_bounded
from debugbox.edge.transfer import TransferRefused


def _records(ref: pod_data.DebugContainerRef, path: str, op: str, idle: float) -> tuple[list[Entry], bool]:
    argv = pod_data.view_argv(ref, path, op, MAX_ENTRIES)
    try:
        done = subprocess.run(
            list(argv), stdin=subprocess.DEVNULL, capture_output=True, timeout=idle, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise TargetNotFound(f"kubectl sent no answer for {path} within {exc.timeout:g} s") from exc
    if done.returncode != 0:
        said = pod_data.explain(done.returncode, path, done.stderr.decode("utf-8", "replace"))
        if done.returncode == 99:
            raise NotADirectoryError(said)
        raise TargetNotFound(said) if done.returncode == 91 else RuntimeUnavailable(said)
    return pod_data.parse_entries(done.stdout)


def stat(ref: pod_data.DebugContainerRef, path: str, idle: float) -> Entry:
    entries, _ = _records(ref, path, "stat", idle)
    if not entries:
        raise TargetNotFound(f"{path} does not exist in the target")
    return entries[0]


def read_directory(ref: pod_data.DebugContainerRef, path: str, idle: float) -> Listing:
    entries, truncated = _records(ref, path, "list", idle)
    return Listing(tuple(entries), truncated)


def read_file(
    ref: pod_data.DebugContainerRef, path: str, idle: float, *, max_bytes: int = MAX_FILE_BYTES
) -> bytes:
    """The content of the regular file `path` (not through a link), refused above `max_bytes`."""
    entry = stat(ref, path, idle)
    if entry.kind == "directory":
        raise IsADirectoryError(f"{path} is a directory in the target")
    if entry.kind != "file":
        raise TargetNotFound(f"{path} is not a regular file in the target")
    too_large = f"{path} is more than the file view opens ({human_size(max_bytes)}): download it instead"
    if entry.size > max_bytes:
        raise TooLarge(too_large)
    try:
        data = read_bounded(ref, path, idle, max_bytes)
    except TransferRefused as exc:
        raise RuntimeUnavailable(str(exc)) from exc
    if data is None:  # it grew since the stat
        raise TooLarge(too_large)
    return data
