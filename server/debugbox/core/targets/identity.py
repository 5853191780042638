"""A debug container with the target's identity — pure: the pod's JSON and the chosen profile in, kubectl's
`--custom` partial container spec and what to tell the user out.

Why: under Pod Security `restricted` (or a pod-level `runAsNonRoot`) a debug container that runs as root is
admitted and then refused by the kubelet ("container has runAsNonRoot and image will run as root",
`verifyRunAsNonRoot`), and `kubectl debug -it` waits for it forever (kubernetes/kubernetes#113006). Without
`SYS_PTRACE` (the `baseline` and `restricted` profiles add none) a process may only open `/proc/<pid>/root` of
processes of its own UID (ptrace access mode checks, `ptrace_may_access` in the kernel's `kernel/ptrace.c`). So:

- a target whose UID is known (container, else pod `securityContext.runAsUser`; else the identity the kubelet
  reports) and not root: the debug container runs as that UID and GID — it passes admission, starts, and reads
  the target's files under `/proc/<pid>/root`. The same check compares the GIDs too (`__ptrace_may_access`), and
  without `runAsGroup` the runtime takes the GID from the *image's* user database: 0 for a distroless target
  without /etc/passwd, 65532 for a Debian toolbox that has a `nonroot` user. So the GID is the pod's
  `runAsGroup`, else the one the kubelet reports as applied (`status.containerStatuses[].user.linux.gid`:
  `ContainerStatus.User` → `ContainerUser.Linux` → `LinuxContainerUser{UID, GID, SupplementalGroups}` in
  k8s.io/api `core/v1/types.go`, Kubernetes ≥ 1.31, filled by the kubelet's `convertToAPIContainerStatuses`
  behind the `SupplementalGroupsPolicy` feature gate), else unknown — and the notes say it is a guess and how
  to set `runAsGroup`;
- non-root required but no UID known (the image's `USER` is not visible through the API): UID 65532, the
  distroless `nonroot` user, so the kubelet's check passes whatever the toolbox image says (the GID is left to
  the image: see `debug_identity`);
- otherwise nothing changes (`custom` is None): root with the profile's capabilities.

kubectl applies `--custom` (a partial `Container` as JSON) on top of `--profile` (`applyCustomProfile` in
kubectl's `pkg/cmd/debug/debug.go`; KEP-4292: alpha in 1.30 behind `KUBECTL_DEBUG_CUSTOM_PROFILE=true`, on by
default from 1.31). `custom_support` says what an older kubectl means.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: The UID/GID of the distroless `nonroot` user: a non-root identity every toolbox image can run as.
NONROOT_ID = 65532
#: Tools of the usual toolboxes (netshoot, busybox) that need root or capabilities a non-root debug container
#: does not have: raw sockets, netfilter, namespaces, package installs.
ROOT_TOOLS = ("tcpdump", "tshark", "iptables", "nsenter", "ping (raw sockets)", "apk add")
#: kubectl minor versions: `--custom` exists from 1.30 (behind an environment variable), by default from 1.31.
CUSTOM_ALPHA_MINOR = 30
CUSTOM_DEFAULT_MINOR = 31
CUSTOM_ENV = "KUBECTL_DEBUG_CUSTOM_PROFILE"


@dataclass(frozen=True)
class DebugIdentity:
    uid: int | None
    gid: int | None
    why: str
    """Where the UID comes from, for the note."""
    custom: dict[str, Any] | None
    """The `--custom` spec, or None when the debug container keeps the profile's identity."""
    gid_from: str = ""
    """Where the GID comes from ("runAsGroup", "the kubelet's report"); empty: not known, the image decides."""


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _security(obj: Any) -> Mapping[str, Any]:
    sc = obj.get("securityContext") if isinstance(obj, Mapping) else None
    return sc if isinstance(sc, Mapping) else {}


def target_security(pod: Mapping[str, Any], container: str) -> dict[str, Any]:
    """The target's effective identity facts: uid, gid, fsGroup, runAsNonRoot, readOnlyRootFilesystem."""
    raw = pod.get("spec")
    spec: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    psc = _security(spec)
    csc: Mapping[str, Any] = {}
    for c in spec.get("containers") or []:
        if isinstance(c, Mapping) and c.get("name") == container:
            csc = _security(c)
    return {
        "runAsUser": _int(csc.get("runAsUser", psc.get("runAsUser"))),
        "runAsGroup": _int(csc.get("runAsGroup", psc.get("runAsGroup"))),
        "fsGroup": _int(psc.get("fsGroup")),
        "runAsNonRoot": bool(csc.get("runAsNonRoot", psc.get("runAsNonRoot"))),
        "podRunAsNonRoot": bool(psc.get("runAsNonRoot")),
        "readOnlyRootFilesystem": bool(csc.get("readOnlyRootFilesystem")),
    }


def reported_user(pod: Mapping[str, Any], container: str) -> tuple[int, int] | None:
    """(uid, gid) the kubelet reports as applied to `container` (`status.containerStatuses[].user.linux`)."""
    status = pod.get("status")
    statuses = status.get("containerStatuses") if isinstance(status, Mapping) else None
    for cs in statuses if isinstance(statuses, list) else []:
        if isinstance(cs, Mapping) and cs.get("name") == container:
            user = cs.get("user")
            linux = user.get("linux") if isinstance(user, Mapping) else None
            if isinstance(linux, Mapping):
                uid, gid = _int(linux.get("uid")), _int(linux.get("gid"))
                if uid is not None and gid is not None:
                    return uid, gid
    return None


def debug_identity(pod: Mapping[str, Any], container: str, profile: str) -> DebugIdentity:
    """Which UID/GID the debug container for `container` should run as under `profile`."""
    facts = target_security(pod, container)
    uid, gid = facts["runAsUser"], facts["runAsGroup"]
    reported = reported_user(pod, container)
    gid_from = "runAsGroup" if gid is not None else ""
    why = f"the UID of container {container}"
    if uid is None and reported is not None and reported[0] != 0:
        # No runAsUser: the image's USER decided, and the kubelet says which UID it became.
        uid, why = reported[0], f"the UID the kubelet reports for container {container}"
    if gid is None and uid and reported is not None and reported[0] == uid:
        gid, gid_from = reported[1], "the kubelet's report"
    # A pod-level runAsNonRoot applies to ephemeral containers too; the restricted profile sets it itself.
    non_root = profile == "restricted" or facts["podRunAsNonRoot"]
    if uid:
        custom: dict[str, Any] = {"runAsUser": uid}
        if gid is not None:
            custom["runAsGroup"] = gid
        return DebugIdentity(uid, gid, why, {"securityContext": custom}, gid_from)
    if non_root:
        # No runAsGroup: the GID then comes from the toolbox image's user database, usually 0 — the GID of a
        # target whose image says only `USER 65532`. A guessed 65532 would differ from it, and /proc/<pid>/root
        # needs the GIDs to match too.
        why = "the pod requires non-root and its UID is not in its spec"
        return DebugIdentity(NONROOT_ID, gid, why, {"securityContext": {"runAsUser": NONROOT_ID}})
    return DebugIdentity(None, None, "", None)


def gid_guess_note(container: str) -> str:
    """The one sentence for a debug container whose GID is not known (no runAsGroup, no kubelet report)."""
    return (
        f"The GID is a guess: the pod sets no runAsGroup for {container} and the cluster does not report the "
        "container's applied identity (status.containerStatuses[].user; Kubernetes 1.31 or newer with "
        "SupplementalGroupsPolicy), so the toolbox image's user database picks it; if the target's files or "
        "environment are unreadable, set securityContext.runAsGroup on the pod (0 for an image without "
        "/etc/passwd)."
    )


def identity_notes(identity: DebugIdentity, container: str) -> tuple[str, ...]:
    if identity.custom is None:
        return ()
    gid = f", GID {identity.gid} (from {identity.gid_from})" if identity.gid is not None else ""
    notes = (
        f"The debug container runs as UID {identity.uid}{gid} ({identity.why}), so admission and the kubelet "
        f"accept it and the files of {container} are readable under /proc/<pid>/root.",
        f"Without root, these toolbox tools will not work in this session: {', '.join(ROOT_TOOLS)}; "
        "ps, ls, cat, curl, wget, nc and dig do.",
    )
    return notes if identity.gid is not None else (*notes, gid_guess_note(container))


def session_line(identity: DebugIdentity) -> str:
    """The banner's identity line for a debug container given the target's UID (no commas: kubectl's --env).

    Without an effective capability, attaching to a process of the same UID passes the kernel's own check
    (`ptrace_may_access`), and the runtime's default seccomp profile allows `ptrace` on kernels >= 4.8; the
    Yama LSM's `ptrace_scope` >= 1 (Ubuntu's default) still refuses a non-descendant. Raw sockets need
    CAP_NET_RAW, which a non-root container process never has in effect."""
    gid = f" gid {identity.gid}" if identity.gid is not None else ""
    guess = (
        ""
        if identity.gid is not None
        else "; its gid is the toolbox image's - a guess: no runAsGroup and no applied identity reported"
    )
    return (
        f"uid {identity.uid}{gid} ({identity.why}{guess}) without capabilities: the target's files and environment "
        "when it runs as that uid; strace of it where the node's ptrace policy allows a same-uid attach (no Yama "
        "or ptrace_scope 0); tcpdump needs root"
    )


def kubectl_minor(version_json: Mapping[str, Any]) -> tuple[int, int] | None:
    """(major, minor) from `kubectl version --client -o json`; None when it cannot be read."""
    client = version_json.get("clientVersion")
    if not isinstance(client, Mapping):
        return None
    try:
        major = int("".join(ch for ch in str(client.get("major")) if ch.isdigit()))
        minor = int("".join(ch for ch in str(client.get("minor")) if ch.isdigit()))
    except ValueError:
        return None
    return major, minor


def custom_support(version: tuple[int, int] | None) -> tuple[bool, dict[str, str], str]:
    """(usable, environment to add, note) for `--custom` with this kubectl version."""
    if version is None:
        return (
            False,
            {},
            (
                "The kubectl version could not be read, so the debug container is not given the target's user "
                "(--custom needs kubectl ≥ 1.31); under runAsNonRoot it may not start."
            ),
        )
    major, minor = version
    if (major, minor) >= (1, CUSTOM_DEFAULT_MINOR):
        return True, {}, ""
    if (major, minor) == (1, CUSTOM_ALPHA_MINOR):
        return True, {CUSTOM_ENV: "true"}, f"kubectl 1.30 needs {CUSTOM_ENV}=true for --custom (set)."
    return (
        False,
        {},
        (
            f"kubectl {major}.{minor} has no --custom (1.31 or newer has), so the debug container cannot be given "
            "the target's user: under runAsNonRoot it will not start unless the toolbox image runs as non-root — "
            "upgrade kubectl or set debugbox.toolboxImage to a non-root image."
        ),
    )


def with_custom(argv: Sequence[str], path: str) -> tuple[str, ...]:
    """`argv` of `kubectl debug` with `--custom=PATH` after its `--profile=` flag (before any `--` command)."""
    out = list(argv)
    at = next((i for i, a in enumerate(out) if a.startswith("--profile=")), None)
    end = out.index("--") if "--" in out else len(out)
    if at is None or at > end:
        raise ValueError("not a kubectl debug argv with --profile")
    out.insert(at + 1, f"--custom={path}")
    return tuple(out)


def apply_custom(container: Mapping[str, Any], custom: Mapping[str, Any] | None) -> dict[str, Any]:
    """`container` as kubectl sends it with `--custom` (its strategic merge: maps merge, so the profile's
    securityContext keeps its fields and gains the custom ones) — for the dry run to judge the same thing."""
    out = dict(container)
    for key, value in (custom or {}).items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out
