"""Pod Security admission (`enforce` mode) for pod creation and `pods/ephemeralcontainers` updates.

Models `staging/src/k8s.io/pod-security-admission`:
- which level applies: the namespace label `pod-security.kubernetes.io/enforce` (`privileged`, `baseline`,
  `restricted`; no label means privileged) and `pod-security.kubernetes.io/enforce-version` (default
  `latest`), as `api.PolicyToEvaluate` reads them;
- what is evaluated: pod CREATE, and UPDATE of the pod or of its `ephemeralcontainers` subresource
  (`admission/admission.go` `ValidatePod`; other subresources are exempt), with the whole pod spec, so an
  existing container that breaks the level fails an ephemeral-container update too;
- the checks that matter for debug containers, each a function named after its file in `policy/`:
  baseline `check_hostNamespaces.go`, `check_hostPathVolumes.go`, `check_privileged.go`,
  `check_seccompProfile_baseline.go`, `check_capabilities_baseline.go` (overlapping: only at baseline);
  restricted adds `check_allowPrivilegeEscalation.go`, `check_capabilities_restricted.go`,
  `check_restrictedVolumes.go` (hostPath only), `check_runAsNonRoot.go`, `check_runAsUser.go`,
  `check_seccompProfile_restricted.go`;
- their order: `policy/registry.go` `EvaluatePod` runs the baseline checks, then (restricted) the restricted
  ones, or (baseline) the overlapping baseline ones; within each, the order the `init()` functions register
  them, which is the files' alphabetical order;
- the message: `admission.go` `fmt.Errorf("violates PodSecurity %q: %s", level:version,
  result.ForbiddenDetail())` inside `NewForbidden(pods, name, err)`; `policy/checks.go`
  `AggregateCheckResult.ForbiddenDetail` joins `reason (detail)` with ", "; `helpers.go` `joinQuote` and
  `pluralize`.

Not modelled: AppArmor, SELinux, procMount, sysctls, hostPorts, host probes, Windows, user namespaces,
exemptions, the audit and warn modes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from tests.fakes.kube.status import forbidden

ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
ENFORCE_VERSION_LABEL = "pod-security.kubernetes.io/enforce-version"
LEVELS = ("privileged", "baseline", "restricted")

Result = tuple[str, str] | None
"""(forbidden reason, forbidden detail), or None when the check allows the pod."""


def _containers(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """`visitContainers`: init containers, containers, then ephemeral containers."""
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for c in spec.get(key) or []:
            if isinstance(c, dict):
                yield c


def _sc(c: dict[str, Any]) -> dict[str, Any]:
    sc = c.get("securityContext")
    return sc if isinstance(sc, dict) else {}


def _quote(values: list[str]) -> str:
    return ", ".join(f'"{v}"' for v in values)


def _plural(names: list[str], one: str = "container", many: str = "containers") -> str:
    return f"{one if len(names) == 1 else many} {_quote(names)}"


# --- baseline ---


def host_namespaces(spec: dict[str, Any]) -> Result:
    found = sorted(k for k in ("hostNetwork", "hostPID", "hostIPC") if spec.get(k))
    return ("host namespaces", ", ".join(found)) if found else None


def host_path_volumes(spec: dict[str, Any]) -> Result:
    names = [v.get("name", "") for v in spec.get("volumes") or [] if isinstance(v, dict) and "hostPath" in v]
    return ("hostPath volumes", _plural(names, "volume", "volumes")) if names else None


def privileged(spec: dict[str, Any]) -> Result:
    bad = [c.get("name", "") for c in _containers(spec) if _sc(c).get("privileged") is True]
    return ("privileged", f"{_plural(bad)} must not set securityContext.privileged=true") if bad else None


def _seccomp_type(sc: dict[str, Any]) -> str | None:
    profile = sc.get("seccompProfile")
    return profile.get("type") if isinstance(profile, dict) else None


def seccomp_profile_baseline(spec: dict[str, Any]) -> Result:
    setters, containers = [], []
    if _seccomp_type(spec.get("securityContext") or {}) == "Unconfined":
        setters.append("pod")
    containers = [c.get("name", "") for c in _containers(spec) if _seccomp_type(_sc(c)) == "Unconfined"]
    if containers:
        setters.append(_plural(containers))
    if not setters:
        return None
    return (
        "seccompProfile",
        f'{" and ".join(setters)} must not set securityContext.seccompProfile.type to "Unconfined"',
    )


BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
        "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    }
)  # fmt: skip


def _added(c: dict[str, Any]) -> list[str]:
    caps = _sc(c).get("capabilities")
    return [str(x) for x in (caps.get("add") or [])] if isinstance(caps, dict) else []


def capabilities_baseline(spec: dict[str, Any]) -> Result:
    bad, extra = [], set()
    for c in _containers(spec):
        beyond = [cap for cap in _added(c) if cap not in BASELINE_CAPABILITIES]
        if beyond:
            bad.append(c.get("name", ""))
            extra.update(beyond)
    if not bad:
        return None
    detail = f"{_plural(bad)} must not include {_quote(sorted(extra))} in securityContext.capabilities.add"
    return ("non-default capabilities", detail)


# --- restricted ---


def allow_privilege_escalation(spec: dict[str, Any]) -> Result:
    bad = [
        c.get("name", "") for c in _containers(spec) if _sc(c).get("allowPrivilegeEscalation") is not False
    ]
    if not bad:
        return None
    return (
        "allowPrivilegeEscalation != false",
        f"{_plural(bad)} must set securityContext.allowPrivilegeEscalation=false",
    )


def capabilities_restricted(spec: dict[str, Any]) -> Result:
    missing_drop, adding, forbidden_caps = [], [], set()
    for c in _containers(spec):
        caps = _sc(c).get("capabilities")
        if not isinstance(caps, dict):
            missing_drop.append(c.get("name", ""))
            continue
        if "ALL" not in (caps.get("drop") or []):
            missing_drop.append(c.get("name", ""))
        beyond = [cap for cap in _added(c) if cap != "NET_BIND_SERVICE"]
        if beyond:
            adding.append(c.get("name", ""))
            forbidden_caps.update(beyond)
    details = []
    if missing_drop:
        details.append(f'{_plural(missing_drop)} must set securityContext.capabilities.drop=["ALL"]')
    if adding:
        details.append(
            f"{_plural(adding)} must not include {_quote(sorted(forbidden_caps))} in securityContext.capabilities.add"
        )
    return ("unrestricted capabilities", "; ".join(details)) if details else None


def restricted_volumes(spec: dict[str, Any]) -> Result:
    """Only the hostPath type of `check_restrictedVolumes.go` (the one a debug pod copy might carry)."""
    names = [v.get("name", "") for v in spec.get("volumes") or [] if isinstance(v, dict) and "hostPath" in v]
    if not names:
        return None
    if len(names) == 1:
        return ("restricted volume types", f'volume "{names[0]}" uses restricted volume type "hostPath"')
    return ("restricted volume types", f'volumes {_quote(names)} use restricted volume type "hostPath"')


def run_as_non_root(spec: dict[str, Any]) -> Result:
    setters, explicit, implicit = [], [], []
    pod_value = (spec.get("securityContext") or {}).get("runAsNonRoot")
    if pod_value is False:
        setters.append("pod")
    for c in _containers(spec):
        value = _sc(c).get("runAsNonRoot")
        if value is not None:
            if value is False:
                explicit.append(c.get("name", ""))
        elif pod_value is not True:
            implicit.append(c.get("name", ""))
    if explicit:
        setters.append(_plural(explicit))
    if setters:
        return (
            "runAsNonRoot != true",
            f"{' and '.join(setters)} must not set securityContext.runAsNonRoot=false",
        )
    if implicit:
        return (
            "runAsNonRoot != true",
            f"pod or {_plural(implicit)} must set securityContext.runAsNonRoot=true",
        )
    return None


def run_as_user(spec: dict[str, Any]) -> Result:
    setters = []
    if (spec.get("securityContext") or {}).get("runAsUser") == 0:
        setters.append("pod")
    bad = [c.get("name", "") for c in _containers(spec) if _sc(c).get("runAsUser") == 0]
    if bad:
        setters.append(_plural(bad))
    return ("runAsUser=0", f"{' and '.join(setters)} must not set runAsUser=0") if setters else None


def seccomp_profile_restricted(spec: dict[str, Any]) -> Result:
    setters, bad_values, explicit, implicit = [], set(), [], []
    pod_type = _seccomp_type(spec.get("securityContext") or {})
    pod_set = False
    if pod_type is not None:
        if pod_type in ("RuntimeDefault", "Localhost"):
            pod_set = True
        else:
            setters.append("pod")
            bad_values.add(pod_type)
    for c in _containers(spec):
        kind = _seccomp_type(_sc(c))
        if kind is not None:
            if kind not in ("RuntimeDefault", "Localhost"):
                explicit.append(c.get("name", ""))
                bad_values.add(kind)
        elif not pod_set:
            implicit.append(c.get("name", ""))
    if explicit:
        setters.append(_plural(explicit))
    if setters:
        values = _quote(sorted(bad_values))
        detail = f"{' and '.join(setters)} must not set securityContext.seccompProfile.type to {values}"
        return ("seccompProfile", detail)
    if implicit:
        return (
            "seccompProfile",
            f"pod or {_plural(implicit)} must set securityContext.seccompProfile.type to "
            '"RuntimeDefault" or "Localhost"',
        )
    return None


Check = Callable[[dict[str, Any]], Result]
BASELINE: tuple[Check, ...] = (host_namespaces, host_path_volumes, privileged, seccomp_profile_baseline)
OVERLAPPING_BASELINE: tuple[Check, ...] = (capabilities_baseline,)
RESTRICTED: tuple[Check, ...] = (
    allow_privilege_escalation,
    capabilities_restricted,
    restricted_volumes,
    run_as_non_root,
    run_as_user,
    seccomp_profile_restricted,
)


def evaluate(level: str, spec: dict[str, Any]) -> list[tuple[str, str]]:
    """The failed checks at `level`, in the registry's order."""
    if level not in ("baseline", "restricted"):
        return []
    checks = BASELINE + (OVERLAPPING_BASELINE if level == "baseline" else RESTRICTED)
    return [r for r in (check(spec) for check in checks) if r is not None]


def enforce_policy(namespace_labels: dict[str, str]) -> tuple[str, str]:
    """(level, version) to enforce; a missing or unknown level is privileged (`api.PolicyToEvaluate` falls
    back to the default, privileged, and reports the bad label as an error on the namespace instead)."""
    level = namespace_labels.get(ENFORCE_LABEL, "privileged")
    if level not in LEVELS:
        level = "privileged"
    return level, namespace_labels.get(ENFORCE_VERSION_LABEL, "latest")


def admit_pod(namespace_labels: dict[str, str], pod: dict[str, Any]) -> None:
    """Raise the 403 the admission plugin answers when the pod breaks the namespace's enforced level."""
    level, version = enforce_policy(namespace_labels)
    failed = evaluate(level, pod.get("spec") or {})
    if not failed:
        return
    detail = ", ".join(f"{reason} ({d})" if d else reason for reason, d in failed)
    name = (pod.get("metadata") or {}).get("name") or ""
    raise forbidden("pods", name, f'violates PodSecurity "{level}:{version}": {detail}')


#: A container securityContext that passes the restricted level (for seeding pods in restricted namespaces).
RESTRICTED_CONTAINER_SECURITY: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
