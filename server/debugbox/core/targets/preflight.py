"""Preflight for pods: which ways in are open, and why the others are not — from facts, before any write.

Pure. The edge asks the API exactly the `SelfSubjectAccessReview`s `permissions_to_ask` names (the
permissions of the ways still in question after what is already known: pod state, the image knowledge, Pod
Security labels) and hands the answers back as `ClusterFacts.access`; `pod_strategy` then keeps the ways
RBAC closes out of its ladder (`rbac_missing`), and this module says why in words (`ways_in`) and what to ask
the cluster admin for (`role_request`: a namespaced Role and RoleBinding granting only what is missing).

What each way needs is what kubectl (1.37) and debugbox's own session really send
(`docs/kubernetes-debugging.md`, "Preflight"): `kubectl exec`/`attach` GET the pod then open the stream
(`create pods/exec`, `create pods/attach`); `kubectl debug -it` also WATCHes the pod (field selector; 1.33 LISTed it
first) while it waits for the container, and debugbox's watch GETs it; a copy is a `create pods`, the
session labels it (`patch pods`) and clean-up deletes it (`delete pods`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, order=True)
class Permission:
    """One RBAC permission in the core API group: `verb` on `resource` (`pods`, `pods/ephemeralcontainers`)."""

    verb: str
    resource: str

    @property
    def text(self) -> str:
        return f"{self.verb} {self.resource}"

    def review(self, namespace: str) -> dict[str, Any]:
        """`spec.resourceAttributes` of the SelfSubjectAccessReview asking for it in `namespace`."""
        base, _, sub = self.resource.partition("/")
        attrs = {"namespace": namespace, "verb": self.verb, "group": "", "resource": base}
        if sub:
            attrs["subresource"] = sub
        return attrs


def _p(*pairs: str) -> tuple[Permission, ...]:
    return tuple(Permission(*pair.split(" ", 1)) for pair in pairs)


_WAIT = ("list pods", "watch pods")  # kubectl debug -it waits on a field-selected LIST + WATCH of the pod

#: What each way in needs, in the order a Role lists it.
NEEDS: Mapping[str, tuple[Permission, ...]] = {
    "exec": _p("get pods", "create pods/exec"),
    "reattach": _p("get pods", "create pods/attach"),
    "ephemeral": _p("get pods", *_WAIT, "patch pods/ephemeralcontainers", "create pods/attach"),
    "copy": _p("get pods", *_WAIT, "create pods", "patch pods", "delete pods", "create pods/attach"),
}

#: The data commands' debug container (`debugbox cp`/`capture`, the editor's file view) is an ephemeral one
#: created without attaching: `kubectl debug --attach=false` GETs the pod and PATCHes it (no wait on a WATCH, no
#: attach); debugbox then GETs the pod until the container runs and works in it through `kubectl exec`.
DETACHED_EPHEMERAL_NEEDS = _p("get pods", "patch pods/ephemeralcontainers", "create pods/exec")


#: `kubectl debug -i`/`--attach` reads the debug container's log when its attach fails — above all when a command
#: (`-- CMD`) ended before kubectl attached: without it the command's output is lost ("Forbidden … pods/log").
LOG_FALLBACK = Permission("get", "pods/log")


def needs(way: str, *, attach: bool = True, command: bool = False) -> tuple[Permission, ...]:
    """What `way` needs; `attach=False`: the debug container is created without attaching (the data commands);
    `command`: it runs a command whose output kubectl may have to read from the log (`LOG_FALLBACK`)."""
    if way == "ephemeral" and not attach:
        return DETACHED_EPHEMERAL_NEEDS
    if command and way in ("ephemeral", "copy"):
        return (*NEEDS[way], LOG_FALLBACK)
    return NEEDS.get(way, ())


Access = Mapping[Permission, bool]
"""The SelfSubjectAccessReviews' answers in the pod's namespace."""


def permissions_to_ask(
    ways: Iterable[str], *, attach: bool = True, command: bool = False
) -> tuple[Permission, ...]:
    """The distinct permissions the candidate `ways` need, in a stable order: what the edge asks the API."""
    return tuple(sorted({p for way in ways for p in needs(way, attach=attach, command=command)}))


def rbac_missing(
    way: str, access: Access | None, *, attach: bool = True, command: bool = False
) -> tuple[Permission, ...]:
    """What RBAC refuses of what `way` needs; nothing when not asked (`access` None) or not asked about."""
    if access is None:
        return ()
    return tuple(p for p in needs(way, attach=attach, command=command) if access.get(p) is False)


def rbac_reason(
    way: str, access: Access | None, namespace: str, *, attach: bool = True, command: bool = False
) -> str:
    """One clause saying RBAC closes `way`, or "" when it does not."""
    missing = rbac_missing(way, access, attach=attach, command=command)
    if not missing:
        return ""
    return f"RBAC does not allow you to {', '.join(p.text for p in missing)} in namespace {namespace}"


@dataclass(frozen=True)
class WayIn:
    """One way into a pod container: open or not, and why not."""

    strategy: str
    open: bool
    why_not: str = ""
    missing: tuple[Permission, ...] = ()
    """RBAC permissions this way lacks (what a Role would have to grant)."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"strategy": self.strategy, "open": self.open}
        if self.why_not:
            out["whyNot"] = self.why_not
        if self.missing:
            out["missing"] = [p.text for p in self.missing]
        return out


def ways_in(
    strategies: Sequence[str],
    open_ways: Iterable[str],
    reasons: Mapping[str, str],
    access: Access | None,
    namespace: str,
) -> tuple[WayIn, ...]:
    """Every way in `strategies` (ladder order): open when in `open_ways`, else with the reason — RBAC's
    first (the facts the preflight asked for), then the pod's own (`reasons`, from `pod_strategy`)."""
    opened = set(open_ways)
    out = []
    for way in strategies:
        missing = rbac_missing(way, access)
        if way in opened:
            out.append(WayIn(way, True))
            continue
        why = rbac_reason(way, access, namespace) or reasons.get(way, "") or "not available"
        out.append(WayIn(way, False, why, missing))
    return tuple(out)


def describe(ways: Sequence[Mapping[str, Any]]) -> str:
    """One line from the wire form (`WayIn.to_json`): `exec: closed (why) · ephemeral: open · …`."""
    return " · ".join(
        f"{w.get('strategy')}: open" if w.get("open") else f"{w.get('strategy')}: closed ({w.get('whyNot')})"
        for w in ways
    )


#: Placeholder for the subject when the API would not say who the user is (no SelfSubjectReview).
USER_PLACEHOLDER = "YOUR-USER-NAME"
_SA_PREFIX = "system:serviceaccount:"


def _subject(user: str) -> list[tuple[str, str]]:
    """The RoleBinding subject's fields for a user name (a service account's own form when it is one)."""
    if user.startswith(_SA_PREFIX) and user.count(":") == 3:
        ns, name = user[len(_SA_PREFIX) :].split(":")
        return [("kind", "ServiceAccount"), ("name", name), ("namespace", ns)]
    return [("kind", "User"), ("apiGroup", "rbac.authorization.k8s.io"), ("name", user or USER_PLACEHOLDER)]


def role_name(way: str, permissions: Sequence[Permission]) -> str:
    """`debugbox-WAY-` and a digest of the permissions granted. Each request grants only what is missing then, so
    two requests (the shell's, then `debugbox cp`'s, or a command's extra `get pods/log`) differ: under one name
    per way, applying the second would replace the first Role and take back what it had granted."""
    import hashlib  # only on a denial

    granted = ",".join(sorted({p.text for p in permissions}))
    return f"debugbox-{way}-{hashlib.sha256(granted.encode()).hexdigest()[:8]}"


def role_request(namespace: str, user: str, permissions: Sequence[Permission], way: str) -> str:
    """The minimal namespaced Role + RoleBinding granting exactly `permissions` to `user`, as YAML.

    Strings are written as JSON strings (valid YAML scalars): a user or namespace name from the cluster can't
    add keys or documents. Permissions on one resource share a rule; resources keep the order of `NEEDS`.
    The name is `role_name`'s: one per set of permissions, so applying a second request adds to the first."""
    q = json.dumps
    name = role_name(way, permissions)
    by_resource: dict[str, list[str]] = {}
    for p in permissions:
        by_resource.setdefault(p.resource, [])
        if p.verb not in by_resource[p.resource]:
            by_resource[p.resource].append(p.verb)
    rules = "".join(
        f'- apiGroups: [""]\n  resources: [{q(res)}]\n  verbs: [{", ".join(q(v) for v in verbs)}]\n'
        for res, verbs in by_resource.items()
    )
    subject = "".join(f"{'- ' if i == 0 else '  '}{k}: {q(v)}\n" for i, (k, v) in enumerate(_subject(user)))
    return (
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n"
        f"metadata:\n  name: {q(name)}\n  namespace: {q(namespace)}\nrules:\n{rules}"
        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n"
        f"metadata:\n  name: {q(name)}\n  namespace: {q(namespace)}\n"
        f"subjects:\n{subject}"
        f"roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: {q(name)}\n"
    )


def denial_help(namespace: str, user: str, way: str, missing: Sequence[Permission]) -> str:
    """The sentence and YAML appended to a message when RBAC closes `way`: what to ask the admin for."""
    who = user or f"{USER_PLACEHOLDER} (the API did not say who you are)"
    return (
        f"To debug with {way}, ask your cluster admin to apply this Role and RoleBinding for {who} "
        f"(namespace {namespace}, only what is missing):\n{role_request(namespace, user, missing, way)}"
    )
