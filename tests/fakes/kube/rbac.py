"""Who is asking (authentication) and may they (authorization): users, RBAC-style rules, SelfSubjectAccessReview.

Authentication models the apiserver's union of authenticators
(https://kubernetes.io/docs/reference/access-authn-authz/authentication/): a bearer token from a static token
table, or an x509 client certificate signed by the cluster CA (CN = user, O = groups). A presented but unknown
token is 401 even when anonymous requests are allowed (the union fails closed on an error). Without
credentials the request is 401, or, with anonymous auth on, the user `system:anonymous` in
`system:unauthenticated`. Every authenticated user is in `system:authenticated`.

Authorization models the RBAC authorizer (`plugin/pkg/auth/authorizer/rbac/rbac.go`, rule matching in
`pkg/apis/rbac/v1/evaluation_helpers.go` `VerbMatches`/`APIGroupMatches`/`ResourceMatches`/
`ResourceNameMatches`/`NonResourceURLMatches`): a rule grants verbs on `resource` or `resource/subresource`
(`*` and `resource/*` wildcards) in some namespaces (a RoleBinding) or all (a ClusterRoleBinding), optionally
for some names only. Group `system:masters` is always allowed (the privileged-group authorizer in
`staging/src/k8s.io/apiserver/pkg/authorization/authorizerfactory/builtin.go`). The default bootstrap roles that
matter to clients are modelled too (`plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go`):
`system:discovery` and `system:basic-user` for `system:authenticated` (discovery paths, creating
selfsubjectaccessreviews), `system:public-info-viewer` for everyone (/version, /healthz, ...).

A denial is `NewForbidden(resource, name, forbiddenMessage)`; the message format is
`staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go` `forbiddenMessage`:
`User "alice" cannot patch resource "pods/ephemeralcontainers" in API group "" in the namespace "default"`, or
`... at the cluster scope`, or `User "x" cannot get path "/api"` for a non-resource URL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.kube.status import ApiError, forbidden

AUTHN_GROUP = "authentication.k8s.io"
MASTERS = "system:masters"
AUTHENTICATED = "system:authenticated"
UNAUTHENTICATED = "system:unauthenticated"
ANONYMOUS = "system:anonymous"

_DISCOVERY_PATHS = ("/api", "/api/*", "/apis", "/apis/*", "/version", "/version/", "/openapi", "/openapi/*")
_PUBLIC_PATHS = ("/healthz", "/livez", "/readyz", "/version", "/version/")


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Attributes:
    """`authorizer.Attributes` of one request (resource request, or a non-resource `path`)."""

    verb: str
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    group: str = ""
    path: str = ""

    @property
    def resource_request(self) -> bool:
        return bool(self.resource)

    @property
    def combined(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


@dataclass(frozen=True)
class Rule:
    verbs: frozenset[str]
    resources: frozenset[str] = frozenset()
    api_groups: frozenset[str] = frozenset({""})
    namespaces: frozenset[str] | None = None
    """None: every namespace and cluster-scoped requests (a ClusterRoleBinding); else RoleBindings there."""
    resource_names: frozenset[str] = frozenset()
    non_resource_urls: frozenset[str] = frozenset()

    def matches(self, a: Attributes) -> bool:
        if not ("*" in self.verbs or a.verb in self.verbs):
            return False
        if not a.resource_request:
            return any(
                u == a.path or (u.endswith("*") and a.path.startswith(u[:-1])) for u in self.non_resource_urls
            )
        if self.namespaces is not None and a.namespace not in self.namespaces:
            return False
        if not ("*" in self.api_groups or a.group in self.api_groups):
            return False
        if not self._resource_matches(a):
            return False
        return not self.resource_names or a.name in self.resource_names

    def _resource_matches(self, a: Attributes) -> bool:
        for r in self.resources:
            if r == "*" or r == a.combined:
                return True
            if a.subresource and r == f"{a.resource}/*":
                return True
            if a.subresource and r == f"*/{a.subresource}":
                return True
        return False


def _bootstrap_rules() -> dict[str, list[Rule]]:
    """`system:public-info-viewer` for everyone; `system:discovery` and `system:basic-user` for
    `system:authenticated`."""
    everyone = [Rule(frozenset({"get"}), non_resource_urls=frozenset(_PUBLIC_PATHS))]
    authenticated = [
        Rule(frozenset({"get"}), non_resource_urls=frozenset(_DISCOVERY_PATHS)),
        Rule(
            frozenset({"create"}),
            frozenset({"selfsubjectaccessreviews", "selfsubjectrulesreviews"}),
            frozenset({"authorization.k8s.io"}),
        ),
        # system:basic-user also grants creating selfsubjectreviews (policy.go, since 1.28)
        Rule(frozenset({"create"}), frozenset({"selfsubjectreviews"}), frozenset({AUTHN_GROUP})),
    ]
    return {"group:*": everyone, f"group:{AUTHENTICATED}": authenticated}


@dataclass
class RBAC:
    """The per-test authorization model. `allow(...)` adds a rule for a user (or `group:NAME`); everything not
    allowed is denied, except for `system:masters`."""

    rules: dict[str, list[Rule]] = field(default_factory=_bootstrap_rules)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(
        self,
        subject: str,
        verbs: Iterable[str],
        resources: Iterable[str] = (),
        *,
        namespaces: Iterable[str] | None = None,
        api_groups: Iterable[str] = ("",),
        resource_names: Iterable[str] = (),
        non_resource_urls: Iterable[str] = (),
    ) -> Rule:
        """Grant `verbs` on `resources` (e.g. "pods", "pods/ephemeralcontainers", "pods/*") to `subject`, a user
        name or `group:NAME`, in `namespaces` (None: everywhere, like a ClusterRoleBinding)."""
        rule = Rule(
            frozenset(verbs),
            frozenset(resources),
            frozenset(api_groups),
            None if namespaces is None else frozenset(namespaces),
            frozenset(resource_names),
            frozenset(non_resource_urls),
        )
        with self.lock:
            self.rules.setdefault(subject, []).append(rule)
        return rule

    def apply(self, documents: Iterable[Any]) -> None:
        """Apply `Role`s and `RoleBinding`s (rbac.authorization.k8s.io/v1, as parsed YAML) the way the RBAC
        authorizer evaluates them (`rbac.go` `VisitRulesFor`): a RoleBinding grants its namespace's Role's
        rules, in that namespace only, to each subject (`User` → the name, `Group` → `group:NAME`,
        `ServiceAccount` → `system:serviceaccount:NS:NAME`). A binding whose Role is not among `documents`
        grants nothing. Only what a namespaced Role can say is modelled (no ClusterRole, no aggregation)."""
        docs = [d for d in documents if isinstance(d, dict)]
        for d in docs:
            if d.get("apiVersion") != "rbac.authorization.k8s.io/v1" or d.get("kind") not in (
                "Role",
                "RoleBinding",
            ):
                raise ValueError(f"not a Role or RoleBinding of rbac.authorization.k8s.io/v1: {d!r}"[:200])
        roles = {
            (d["metadata"]["namespace"], d["metadata"]["name"]): d.get("rules") or []
            for d in docs
            if d["kind"] == "Role"
        }
        for b in (d for d in docs if d["kind"] == "RoleBinding"):
            ns, ref = b["metadata"]["namespace"], b["roleRef"]
            if ref.get("kind") != "Role" or ref.get("apiGroup") != "rbac.authorization.k8s.io":
                continue
            for subject in b.get("subjects") or []:
                kind, name = subject.get("kind"), subject.get("name")
                key = {
                    "User": name,
                    "Group": f"group:{name}",
                    "ServiceAccount": f"system:serviceaccount:{subject.get('namespace', ns)}:{name}",
                }.get(kind)
                for rule in roles.get((ns, ref.get("name")), []) if key else []:
                    self.allow(
                        key,
                        rule.get("verbs") or [],
                        rule.get("resources") or [],
                        namespaces=[ns],
                        api_groups=rule.get("apiGroups") or [],
                        resource_names=rule.get("resourceNames") or [],
                    )

    def revoke_all(self, subject: str) -> None:
        with self.lock:
            self.rules.pop(subject, None)

    def decide(self, user: User, a: Attributes) -> tuple[bool, str]:
        """(allowed, reason) the way the authorizer chain would answer."""
        if MASTERS in user.groups:
            return True, ""
        keys = [user.name, *(f"group:{g}" for g in user.groups), "group:*"]
        with self.lock:
            for key in keys:
                for rule in self.rules.get(key, []):
                    if rule.matches(a):
                        who = f'User "{user.name}"' if key == user.name else f'Group "{key[6:]}"'
                        return True, f"RBAC: allowed by fake binding to {who}"
        return False, ""


def forbidden_message(user: User, a: Attributes) -> str:
    """`responsewriters.forbiddenMessage`."""
    if not a.resource_request:
        return f'User "{user.name}" cannot {a.verb} path "{a.path}"'
    where = f'in the namespace "{a.namespace}"' if a.namespace else "at the cluster scope"
    return f'User "{user.name}" cannot {a.verb} resource "{a.combined}" in API group "{a.group}" {where}'


def forbidden_error(user: User, a: Attributes) -> ApiError:
    """The 403 of the authorization filter (`responsewriters.Forbidden`)."""
    return forbidden(a.resource, a.name, forbidden_message(user, a), a.group)


@dataclass
class Authenticator:
    """Tokens and the anonymous switch; client certificates are read from the TLS connection."""

    tokens: dict[str, User] = field(default_factory=dict)
    anonymous: bool = False
    """`--anonymous-auth`: requests without credentials become `system:anonymous` instead of 401."""

    def authenticate(self, authorization: str, peer_cert: dict[str, Any] | None) -> User | None:
        """The user, or None for 401."""
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return None
            user = self.tokens.get(token.strip())
            return None if user is None else User(user.name, (*user.groups, AUTHENTICATED))
        if peer_cert:
            subject = {k: v for rdn in peer_cert.get("subject", ()) for k, v in rdn}
            orgs = tuple(v for rdn in peer_cert.get("subject", ()) for k, v in rdn if k == "organizationName")
            cn = subject.get("commonName")
            if cn:
                return User(cn, (*orgs, AUTHENTICATED))
        if self.anonymous:
            return User(ANONYMOUS, (UNAUTHENTICATED,))
        return None


def self_subject_review(user: User) -> dict[str, Any]:
    """`POST /apis/authentication.k8s.io/v1/selfsubjectreviews` (GA in 1.28,
    `pkg/registry/authentication/selfsubjectreview/rest.go`): the requesting user's attributes as the
    authenticators saw them (https://kubernetes.io/docs/reference/access-authn-authz/authentication/#self-subject-review)."""
    return {
        "kind": "SelfSubjectReview",
        "apiVersion": f"{AUTHN_GROUP}/v1",
        "metadata": {"creationTimestamp": None},
        "status": {"userInfo": {"username": user.name, "groups": list(user.groups)}},
    }


def self_subject_access_review(rbac: RBAC, user: User, body: Any) -> dict[str, Any]:
    """`POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`
    (`pkg/registry/authorization/selfsubjectaccessreview/rest.go`): the spec's resource or non-resource
    attributes, asked for the requesting user; the status says allowed, and denied/reason."""
    if not isinstance(body, dict):
        raise ApiError(
            400, "BadRequest", "the object provided is unrecognized (must be of type SelfSubjectAccessReview)"
        )
    spec = body.get("spec") or {}
    res, non = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
    if not res and not non:
        raise ApiError(
            422,
            "Invalid",
            'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: '
            '"null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
            {"group": "authorization.k8s.io", "kind": "SelfSubjectAccessReview"},
        )
    if res:
        a = Attributes(
            verb=res.get("verb", ""),
            resource=res.get("resource", ""),
            subresource=res.get("subresource", ""),
            namespace=res.get("namespace", ""),
            name=res.get("name", ""),
            group=res.get("group", ""),
        )
    else:
        a = Attributes(verb=non.get("verb", ""), path=non.get("path", ""))
    allowed, reason = rbac.decide(user, a)
    status: dict[str, Any] = {"allowed": allowed}
    if reason:
        status["reason"] = reason
    return {
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": spec,
        "status": status,
    }
