"""Data in and out of a pod through a debug container, decided without touching the cluster: which debug
container is reused, the `kubectl` argv of each copy, capture and port-forward, and what a failure means.

`kubectl cp` runs `tar` inside the target container, which a distroless image does not have. debugbox instead
runs everything in a debug container of its own that shares the target's processes (`kubectl debug --target`):
the target's files are under `/proc/<pid>/root` of its main process, which the session bootstrap finds (the same
script as a `debugbox shell` session, `bootstrap.sh`, run quietly), and the pod's network namespace is shared by
every container of the pod, so tcpdump there sees the pod's traffic.

- Reuse: a running `debugbox-<container>` ephemeral container (`pod_strategy.reattachable`) is used as it is.
  Otherwise one is added — a cluster write that can never be undone (ephemeral containers cannot be removed), so
  the front ends ask first. It is the same container `debugbox shell` would add (same name, profile, identity and
  bootstrap), created without attaching (`--attach=false`): its bootstrap waits for a terminal, so a later
  `debugbox shell` reattaches to it. Once it runs, the bootstrap's `--target` check is run in it at once
  (`target_check_argv`; `debug_failures.target_check` reads the answer) instead of watching the container for
  its own check to end it.
- Every data command is `kubectl exec` without a TTY (`-i` only where stdin carries data): a TTY rewrites line
  endings, so a pcap or a binary file would not arrive intact.
- Paths: an absolute symbolic link under `/proc/<pid>/root` resolves against the *debug container's* root, not
  the target's, so a path with a link anywhere on the way is refused by name instead of reading the wrong file.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from debugbox.core.errors import InvalidTarget
from debugbox.core.targets.capture import validate_filter
from debugbox.core.targets.file_view import Entry
from debugbox.core.targets.kubectl_argv import scope
from debugbox.core.targets.names import validate_label, validate_pod_name
from debugbox.core.targets.pod_facts import ClusterFacts, ContainerState, PodFacts
from debugbox.core.targets.pod_strategy import reattachable
from debugbox.core.targets.port_forward import validate_port
from debugbox.core.targets.session import bootstrap_command

#: The prefix every data script shares: the target's root (from the bootstrap's TARGET_PID) and the link check.
_PRELUDE = r"""
set -f
[ -n "$TARGET_PID" ] || exit 90
r=/proc/$TARGET_PID/root
dbx_nolinks() {
  c=$r
  rest=${1#/}
  while [ -n "$rest" ]; do
    part=${rest%%/*}
    if [ "$part" = "$rest" ]; then rest=; else rest=${rest#*/}; fi
    c=$c/$part
    if [ -L "$c" ]; then printf '%s\n' "${c#"$r"}" >&2; exit 94; fi
  done
}
"""

#: Copy out: $1 the absolute path; the file's bytes on stdout. With $2 `folders` (a copy, not the file view), a
#: folder is sent too, and one byte first says what follows (`COPY_OUT_KINDS`): the file's bytes, or a tar of the
#: folder made by the debug container's `tar` *without following links* (no `-h`: a link travels as a link and
#: the landing code skips it), its entries named from the folder's own name as the engine names its archive
#: (`./NAME/…`: a name starting with `-` is never an option).
#: That byte goes out only once the path is known to be copyable, so a refusal leaves stdout empty.
READ_SCRIPT = (
    _PRELUDE
    + r"""
dbx_nolinks "$1"
f=$r$1
[ -e "$f" ] || exit 91
if [ -d "$f" ]; then
  [ "$2" = folders ] || exit 92
  command -v tar >/dev/null 2>&1 || exit 89
  printf d
  exec tar -cf - -C "${f%/*}/" "./${f##*/}"
fi
[ -f "$f" ] || exit 93
if [ "$2" = folders ]; then printf f; fi
exec cat "$f"
"""
)

#: The first byte of `READ_SCRIPT`'s output for a copy (`copy_out_argv`) → what the rest of it is.
COPY_OUT_KINDS = {b"f": "file", b"d": "folder"}

#: Where an upload lands (`dbx_dest PATH NAME`): PATH, or PATH/NAME when PATH is a folder (`cp -r` naming), every
#: component checked for links; sets `dest` (in the target) and `parent`, which must be a folder.
_DESTINATION = r"""
dbx_dest() {
  dest=$1
  if [ -d "$r$dest" ] && [ ! -L "$r$dest" ]; then dest=${dest%/}/$2; fi
  dbx_nolinks "$dest"
  parent=${dest%/*}
  [ -d "$r$parent/" ] || exit 95
}
"""

#: Copy in: $1 the absolute path (an existing folder receives $5, the local file's name), $2 "1" to replace,
#: $3 the size that must arrive, $4 the mode (octal). The bytes on stdin land in a temporary file beside the
#: destination, renamed over it only when all of them arrived; the landed path is printed.
WRITE_SCRIPT = (
    _PRELUDE
    + _DESTINATION
    + r"""
dbx_dest "$1" "$5"
f=$r$dest
if [ -e "$f" ]; then
  [ -f "$f" ] || exit 93
  [ "$2" = 1 ] || exit 96
fi
tmp=$r$parent/.debugbox-upload-$$
if ! cat >"$tmp"; then rm -f "$tmp"; exit 97; fi
n=$(wc -c <"$tmp")
if [ "$n" -ne "$3" ]; then rm -f "$tmp"; exit 98; fi
if ! chmod "$4" "$tmp" || ! mv -f "$tmp" "$f"; then rm -f "$tmp"; exit 97; fi
printf '%s\n' "$dest"
"""
)

#: Folder upload: $1 the absolute destination (an existing folder receives $2, the local folder's name, as `cp -r`
#: names it), $3 the name of the archive's last entry (`upload_marker`). The tar on stdin — built by debugbox from
#: the local folder: entries `$2/…`, regular files and folders only, then the marker — is extracted by the debug
#: container's `tar` without restoring owners (`-o`: busybox's and GNU tar's "don't restore user:group" on
#: extraction) into a temporary folder beside the destination made by `mkdir` (so it is new and empty), and
#: renamed into place only when `tar` succeeded *and* the marker arrived: a stream cut between two entries ends
#: `tar` without an error, and the marker says every entry before it was extracted. An existing destination is
#: refused (never merged into or replaced). Whatever ends the script — a refusal, a cut stream, a signal — the
#: temporary folder is removed (the EXIT trap). `mv -n -T` never moves into a folder that appeared meanwhile;
#: the source still there afterwards says it did not move. The landed path is printed.
UPLOAD_FOLDER_SCRIPT = (
    _PRELUDE
    + _DESTINATION
    + r"""
dbx_dest "$1" "$2"
if [ -e "$r$dest" ] || [ -L "$r$dest" ]; then printf '%s\n' "$dest" >&2; exit 88; fi
command -v tar >/dev/null 2>&1 || exit 87
tmp=$r$parent/.debugbox-upload-$$
mkdir "$tmp" || exit 97
trap 'rm -rf "$tmp"' EXIT
trap 'exit 97' HUP INT TERM PIPE
tar -x -o -f - -C "$tmp" || exit 97
[ -f "$tmp/$3" ] || exit 98
if [ ! -d "$tmp/$2" ] || [ -L "$tmp/$2" ]; then exit 97; fi
mv -n -T "$tmp/$2" "$r$dest" || exit 97
if [ -e "$tmp/$2" ]; then printf '%s\n' "$dest" >&2; exit 88; fi
printf '%s\n' "$dest"
"""
)

#: The file view: `stat` ($2) prints the entry of $1 (a final link as itself), `list` its children (at most $3,
#: then a `truncated` record). A record is `KIND SIZE MTIME\0NAME\0LINK-TARGET\0` (`parse_entries`).
VIEW_SCRIPT = (
    _PRELUDE
    + r"""
dbx_entry() {
  t=
  if [ -L "$1" ]; then k=symlink; t=$(readlink "$1"); elif [ -d "$1" ]; then k=directory
  elif [ -f "$1" ]; then k=file; else k=other; fi
  m=$(stat -c '%s %Y' "$1" 2>/dev/null) || m='0 0'
  printf '%s %s\0%s\0%s\0' "$k" "$m" "$2" "$t"
}
p=$1
if [ "$2" = stat ]; then
  dbx_nolinks "${p%/*}"
  [ -e "$r$p" ] || [ -L "$r$p" ] || exit 91
  name=${p##*/}
  dbx_entry "$r$p" "${name:-/}"
  exit 0
fi
dbx_nolinks "$p"
d=$r${p%/}
if [ ! -d "$d/" ]; then
  if [ -e "$d" ]; then exit 99; fi
  exit 91
fi
n=0
set +f
for e in "$d"/* "$d"/.[!.]* "$d"/..?*; do
  [ -e "$e" ] || [ -L "$e" ] || continue
  n=$((n + 1))
  if [ "$n" -gt "$3" ]; then printf 'truncated 0 0\0\0\0'; exit 0; fi
  dbx_entry "$e" "${e##*/}"
done
"""
)

#: Capture: tcpdump with the arguments given; it stops when stdin ends (the user stopped the capture: kubectl's
#: stdin closed, which the v5 streaming protocol forwards), or by itself (`-c`). The watcher reads a copy of
#: stdin (fd 3): an asynchronous command's own stdin is /dev/null.
CAPTURE_SCRIPT = r"""
exec 3<&0
tcpdump "$@" &
p=$!
{ cat <&3 >/dev/null 2>&1; kill -TERM "$p" 2>/dev/null; } >/dev/null 2>&1 &
w=$!
exec 3<&-
wait "$p"
code=$?
kill "$w" 2>/dev/null
exit "$code"
"""

#: The upload script's exit code when the path exists and replacing it was not asked for.
EXISTS_IN_TARGET = 96

#: Exit codes of the scripts above, and what they mean (`{path}` and `{detail}` filled in by `explain`).
_MEANINGS = {
    89: "{path} is a folder, and the debug container's image has no tar to send it with: copy it with a "
    "toolbox image that has tar (--image, e.g. busybox), or copy its files one by one",
    90: "no process of the target is visible from the debug container (is its process namespace shared? "
    "the runtime may not support --target)",
    91: "{path} does not exist in the target",
    92: "{path} is a folder in the target",
    93: "{path} is not a regular file in the target",
    94: "{detail} is a symbolic link in the target: name the path it points to (links under /proc/PID/root "
    "resolve inside the debug container, not the target)",
    95: "the folder of {path} does not exist in the target",
    EXISTS_IN_TARGET: "{path} exists in the target: pass --force to replace it",
    87: "the debug container's image has no tar to receive the folder {path} with: copy it with a toolbox image "
    "that has tar (--image, e.g. busybox)",
    88: "{detail} exists in the target: debugbox never merges into or replaces a folder in a pod (not even "
    "with --force); name a path that does not exist yet",
    97: "writing {path} in the target failed: {detail}",
    98: "the upload to {path} was cut off (not every byte arrived); nothing was replaced",
    99: "{path} is not a directory in the target",
}


def explain(code: int, path: str, stderr: str) -> str:
    """One sentence for a data script's (or kubectl's) failure."""
    # kubectl adds its own last line for a non-zero exit; the script's line before it is the detail.
    lines = [
        line.strip()
        for line in stderr.splitlines()
        if line.strip() and not line.startswith("command terminated with exit code")
    ]
    detail = lines[-1] if lines else f"exit code {code}"
    if code in _MEANINGS:
        return _MEANINGS[code].format(path=path, detail=detail)
    return f"kubectl exec failed: {detail}"


@dataclass(frozen=True)
class DebugContainerRef:
    """Where data commands run: the pod, its namespace, the cluster and the debug container's name."""

    pod: str
    namespace: str
    container: str
    """The debug container (ephemeral, ours)."""
    target: str
    """The container it targets."""
    cluster: ClusterFacts


def reusable_debug_container(pod: PodFacts, container: str) -> ContainerState | None:
    """A debug container of ours that runs for `container` (the one `debugbox shell` reattaches to)."""
    return reattachable(pod, container)


def detached(debug_argv: tuple[str, ...]) -> tuple[str, ...]:
    """`kubectl debug … -it …` that creates the container without attaching to it (kubectl's `--attach=false`;
    `-it` still gives it the stdin and TTY the bootstrap waits on, for a later `kubectl attach`)."""
    end = debug_argv.index("--") if "--" in debug_argv else len(debug_argv)
    if "-it" not in debug_argv[:end]:
        raise InvalidTarget("internal: the debug container's argv has no -it")
    at = debug_argv.index("-it") + 1
    return (*debug_argv[:at], "--attach=false", *debug_argv[at:])


def exec_argv(ref: DebugContainerRef, command: list[str], *, stdin: bool) -> tuple[str, ...]:
    """`kubectl exec [-i] POD -c DEBUG -n NS [--context C] -- COMMAND`: never a TTY (binary-safe)."""
    return (
        ref.cluster.kubectl, "exec", *(["-i"] if stdin else []), validate_pod_name(ref.pod),
        "-c", validate_label(ref.container, "container"), *scope(ref.cluster, ref.namespace), "--", *command,
    )  # fmt: skip


def _in_target(script: str, *args: str) -> list[str]:
    """`script` run by the quiet bootstrap, which finds the target's main process (TARGET_PID) first."""
    return ["env", "DEBUGBOX_QUIET=1", *bootstrap_command(["sh", "-c", script, "debugbox-data", *args])]


def target_check_argv(ref: DebugContainerRef) -> tuple[str, ...]:
    """The session bootstrap's `--target` check (`DEBUGBOX_EXPECT_TARGET`) in the debug container, and nothing
    else: exit 0 when the target's processes are visible, `BOOTSTRAP_NO_TARGET` (one line on stderr) when not.
    The same lookup as every data command's, so what it finds is what they will find."""
    command = ["env", "DEBUGBOX_QUIET=1", "DEBUGBOX_EXPECT_TARGET=1", *bootstrap_command(["true"])]
    return exec_argv(ref, command, stdin=False)


def read_argv(ref: DebugContainerRef, path: str) -> tuple[str, ...]:
    """Stream the target's file `path` to stdout (a folder is refused: the file view lists it instead)."""
    return exec_argv(ref, _in_target(READ_SCRIPT, _absolute(path), "file"), stdin=False)


def copy_out_path(path: str) -> str:
    """The path a copy out names, normalised (`/www/./site/` is `/www/site`, whose name the copy takes); the
    target's root is refused: a copy names a folder inside it."""
    normal = posixpath.normpath(_absolute(path))
    if normal in ("/", "//"):
        raise InvalidTarget("copying the root of a pod's container is not supported: name a folder inside it")
    return normal


def copy_out_argv(ref: DebugContainerRef, path: str) -> tuple[str, ...]:
    """Stream the target's file or folder `path` (`copy_out_path`) to stdout, after the byte saying which
    (`READ_SCRIPT`)."""
    return exec_argv(ref, _in_target(READ_SCRIPT, copy_out_path(path), "folders"), stdin=False)


def write_argv(
    ref: DebugContainerRef, path: str, *, size: int, mode: int, name: str, force: bool
) -> tuple[str, ...]:
    """Write stdin (exactly `size` bytes) to `path` in the target (into it, as `name`, when it is a folder)."""
    args = (_absolute(path), "1" if force else "0", str(int(size)), f"{mode & 0o777:o}", upload_name(name))
    return exec_argv(ref, _in_target(WRITE_SCRIPT, *args), stdin=True)


def upload_folder_path(path: str) -> str:
    """The destination a folder upload names, normalised: `..` is resolved here, by name (every component is
    then checked for links in the target, so a name is what it says), never under `/proc/<pid>/root`, where
    `..` at the target's root would climb into the debug container's."""
    normal = posixpath.normpath(_absolute(path))
    return "/" + normal.lstrip("/")


def upload_name(name: str) -> str:
    """The local file's or folder's name as the target receives it: one path component, no control characters."""
    if "/" in name or name in ("", ".", "..") or any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise InvalidTarget(f"cannot upload a file or folder named {name!r}")
    return name


def upload_marker(name: str) -> str:
    """The name of a folder upload's last archive entry (`UPLOAD_FOLDER_SCRIPT`): never the folder's own."""
    return ".debugbox-complete" if name != ".debugbox-complete" else ".debugbox-complete-"


def upload_folder_argv(ref: DebugContainerRef, path: str, name: str) -> tuple[str, ...]:
    """Extract the tar on stdin (the local folder `name`, then `upload_marker(name)`) to `path` in the target
    (into it, as `name`, when it is a folder), a new folder only (`UPLOAD_FOLDER_SCRIPT`)."""
    args = (upload_folder_path(path), upload_name(name), upload_marker(name))
    return exec_argv(ref, _in_target(UPLOAD_FOLDER_SCRIPT, *args), stdin=True)


def view_argv(ref: DebugContainerRef, path: str, op: str, max_entries: int = 0) -> tuple[str, ...]:
    """The file view's `stat` or `list` of `path` (records on stdout, see `VIEW_SCRIPT`)."""
    if op not in ("stat", "list"):
        raise InvalidTarget(f"internal: unknown file view operation {op!r}")
    return exec_argv(ref, _in_target(VIEW_SCRIPT, _absolute(path), op, str(int(max_entries))), stdin=False)


def parse_entries(data: bytes) -> tuple[list[Entry], bool]:
    """`VIEW_SCRIPT`'s records → entries, and whether the listing stopped at its cap. Names come from the
    target: one with `/` or a NUL cannot be produced by the script; `.`/`..` are dropped."""
    fields = data.split(b"\0")
    entries: list[Entry] = []
    truncated = False
    for i in range(0, len(fields) - 2, 3):
        head, name, link = (f.decode("utf-8", "surrogateescape") for f in fields[i : i + 3])
        kind, _, rest = head.partition(" ")
        size, _, mtime = rest.partition(" ")
        if kind == "truncated":
            truncated = True
            continue
        if (
            kind not in ("file", "directory", "symlink", "other")
            or name in ("", ".", "..")
            or "/" in name[1:]
        ):
            continue
        entries.append(
            Entry(
                name,
                kind,  # type: ignore[arg-type]  # checked against the Kind literals above
                int(size) if size.isdigit() and kind == "file" else 0,
                float(mtime) if mtime.isdigit() else 0.0,
                link if kind == "symlink" else "",
            )
        )
    return entries, truncated


def capture_argv(ref: DebugContainerRef, expr: str = "", count: int | None = None) -> tuple[str, ...]:
    """tcpdump in the debug container (the pod's network namespace), pcap on stdout, stopped by closing stdin."""
    words = validate_filter(expr).split() if expr else []
    if count is not None and not 0 < count <= 10_000_000:
        raise InvalidTarget("the packet count must be between 1 and 10000000")
    tcpdump = ["-i", "any", "-U", *(["-c", str(count)] if count is not None else []), "-w", "-"]
    if words:
        tcpdump += ["--", *words]
    return exec_argv(ref, ["sh", "-c", CAPTURE_SCRIPT, "debugbox-capture", *tcpdump], stdin=True)


def planned_profile(debug_argv: tuple[str, ...]) -> str:
    """The `--profile` a planned `kubectl debug` argv gives its debug container ("" when it names none)."""
    return next((a.split("=", 1)[1] for a in debug_argv if a.startswith("--profile=")), "")


def capture_refusal(namespace: str, pod: str, profile: str, uid: int | None) -> str:
    """Why tcpdump could not capture in the debug container debugbox would add ("" when it could): it opens a
    raw socket, which needs CAP_NET_RAW — dropped by the restricted profile, and not held by a non-root process
    (the debug container runs as the target's UID when it is non-root, `identity.py`). Said before the consent
    question: that container would stay in the pod for good."""
    if profile == "restricted":
        why = (
            f"namespace {namespace} enforces Pod Security restricted, so it would run as non-root with every "
            "capability dropped"
        )
    elif uid:
        why = f"it would run as uid {uid}, the target's user, which holds no capabilities"
    else:
        return ""
    return (
        f"cannot capture in pod {namespace}/{pod}: tcpdump needs raw sockets (NET_RAW), which debugbox's debug "
        f"container would not have: {why}; nothing was added to the pod"
    )


def port_forward_argv(
    cluster: ClusterFacts, namespace: str, pod: str, port: int, local: int, address: str = "127.0.0.1"
) -> tuple[str, ...]:
    """`kubectl port-forward pod/NAME LOCAL:PORT --address ADDR` (loopback unless the user names another address;
    `local` 0 lets kubectl pick a free port). It reaches the pod's loopback too: the kubelet connects inside the
    pod's network namespace."""
    remote = validate_port(port)
    near = "" if local == 0 else str(validate_port(local, "local port"))
    if not address or address.startswith("-") or any(c in address for c in " ,\t\n"):
        raise InvalidTarget(f"invalid local address {address!r}")
    return (
        cluster.kubectl, "port-forward", f"pod/{validate_pod_name(pod)}", f"{near}:{remote}",
        *scope(cluster, namespace), "--address", address,
    )  # fmt: skip


def _absolute(path: str) -> str:
    if not path.startswith("/") or "\x00" in path:
        raise InvalidTarget(f"the path in the pod must be absolute, got {path!r}")
    return path
