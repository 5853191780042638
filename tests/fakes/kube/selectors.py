"""Label and field selectors for pods: the grammar of `labels.Parse` and the pod field set.

Label selectors follow `staging/src/k8s.io/apimachinery/pkg/labels/selector.go` (`=`, `==`, `!=`, `in`,
`notin`, `key`, `!key`). Field selectors follow `staging/src/k8s.io/apimachinery/pkg/fields/selector.go`
(`=`, `==`, `!=` terms separated by commas) and, for which fields a pod list accepts, the pod field-label
conversion of `pkg/apis/core/v1/conversion.go` (`addConversionFuncs`, `AddFieldLabelConversionFunc` for
"Pod"): anything else is refused by the list handler
(`staging/src/k8s.io/apiserver/pkg/endpoints/handlers/get.go` `ListResource`: `errors.NewBadRequest` of
"field label not supported: X"). The values compared are the ones `pkg/registry/core/pod/strategy.go`
`ToSelectableFields` exposes; `status.podIPs` is accepted by the conversion but is not in that set, so on a real
server it only matches the empty string, and here too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.fakes.kube.status import ApiError

_REQ = re.compile(
    r"^\s*(?P<neg>!)?\s*(?P<key>[A-Za-z0-9][-A-Za-z0-9_./]*)\s*"
    r"(?:(?P<op>==|=|!=|\s+in\s+|\s+notin\s+)\s*(?P<val>\([^)]*\)|[-A-Za-z0-9_.]*))?\s*$"
)


def _split_requirements(selector: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in selector:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p for p in parts if p.strip()]


def parse_label_selector(selector: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """(key, op, values) per requirement; op is =, !=, in, notin, exists, !exists. Raises ApiError 400."""
    reqs: list[tuple[str, str, tuple[str, ...]]] = []
    for raw in _split_requirements(selector):
        m = _REQ.match(raw)
        if not m or (m["neg"] and m["op"]):
            raise ApiError(400, "BadRequest", f"unable to parse requirement: invalid label selector: {raw!r}")
        key, op, val = m["key"], (m["op"] or "").strip(), m["val"]
        if not op:
            reqs.append((key, "!exists" if m["neg"] else "exists", ()))
        elif op in ("in", "notin"):
            if not (val and val.startswith("(")):
                raise ApiError(
                    400, "BadRequest", f"unable to parse requirement: expected a set for {key} {op}"
                )
            values = tuple(v.strip() for v in val[1:-1].split(",") if v.strip())
            reqs.append((key, op, values))
        else:
            reqs.append((key, "!=" if op == "!=" else "=", (val or "",)))
    return reqs


def labels_match(reqs: list[tuple[str, str, tuple[str, ...]]], labels: dict[str, str]) -> bool:
    for key, op, values in reqs:
        value = labels.get(key)
        if op == "exists":
            ok = value is not None
        elif op == "!exists":
            ok = value is None
        elif op == "=":
            ok = value == values[0]
        elif op == "!=":
            ok = value != values[0]
        elif op == "in":
            ok = value is not None and value in values
        else:  # notin
            ok = value is None or value not in values
        if not ok:
            return False
    return True


#: `ToSelectableFields` (pkg/registry/core/pod/strategy.go) plus the object-meta fields
#: (`generic.AddObjectMetaFieldsSet`, with the namespace).
POD_SELECTABLE_FIELDS: dict[str, Callable[[dict[str, Any]], str]] = {
    "metadata.name": lambda p: p["metadata"]["name"],
    "metadata.namespace": lambda p: p["metadata"]["namespace"],
    "spec.nodeName": lambda p: p["spec"].get("nodeName", ""),
    "spec.restartPolicy": lambda p: p["spec"].get("restartPolicy", ""),
    "spec.schedulerName": lambda p: p["spec"].get("schedulerName", ""),
    "spec.serviceAccountName": lambda p: p["spec"].get("serviceAccountName", ""),
    "spec.hostNetwork": lambda p: "true" if p["spec"].get("hostNetwork") else "false",
    "status.phase": lambda p: p["status"].get("phase", ""),
    "status.podIP": lambda p: ((p["status"].get("podIPs") or [{}])[0]).get("ip", ""),
    "status.nominatedNodeName": lambda p: p["status"].get("nominatedNodeName", ""),
}

#: The labels the pod field-label conversion accepts (`pkg/apis/core/v1/conversion.go`); `spec.host` is the
#: old name it rewrites to `spec.nodeName`.
POD_FIELD_LABELS = (*POD_SELECTABLE_FIELDS, "status.podIPs")
_RENAMED = {"spec.host": "spec.nodeName"}


def field_filter(selector: str) -> list[tuple[str, bool, str]]:
    """(field, equal?, value) per term; 400 like the real list handler for a term it cannot use."""
    out = []
    for raw in (s for s in selector.split(",") if s):
        m = re.match(r"^([^!=]+)(==|=|!=)(.*)$", raw)
        if not m:
            # fields.ParseSelector: `invalid selector: '<whole>'; can't understand '<term>'`
            raise ApiError(400, "BadRequest", f"invalid selector: '{selector}'; can't understand '{raw}'")
        label = _RENAMED.get(m[1], m[1])
        if label not in POD_FIELD_LABELS:
            raise ApiError(400, "BadRequest", f"field label not supported: {m[1]}")
        out.append((label, m[2] != "!=", m[3]))
    return out


def fields_match(terms: list[tuple[str, bool, str]], pod: dict[str, Any]) -> bool:
    """`fields.Selector.Matches` on the selectable set: a label missing from it reads as ""."""
    for label, equal, value in terms:
        getter = POD_SELECTABLE_FIELDS.get(label)
        actual = getter(pod) if getter else ""
        if (actual == value) != equal:
            return False
    return True
