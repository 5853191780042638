"""The three patch formats of `PATCH` on pods: JSON merge patch (RFC 7386), strategic merge patch, and
JSON patch (RFC 6902).

Strategic merge follows `staging/src/k8s.io/apimachinery/pkg/util/strategicpatch/patch.go` for what pods need:
container lists merge by their `patchMergeKey` `name` (k8s.io/api core/v1 types.go tags on `Containers`,
`InitContainers`, `EphemeralContainers`), `$setElementOrder/<list>` orders them, `{"$patch": "delete"}` removes
one. A JSON patch that does not apply is a 422 with the library's message (`patch.go` in
`staging/src/k8s.io/apiserver/pkg/endpoints/handlers`, `jsonPatcher.applyJSPatch`).
"""

from __future__ import annotations

import copy
from typing import Any

from tests.fakes.kube.status import ApiError


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _smp_list_by_name(current: list[dict[str, Any]], patch: list[Any], order: list[Any] | None) -> list[Any]:
    merged = {c.get("name"): c for c in current}
    names = [c.get("name") for c in current]
    for item in patch:
        if not isinstance(item, dict) or "name" not in item:
            raise ApiError(400, "BadRequest", "map: map[] does not contain declared merge key: name")
        name = item["name"]
        if item.get("$patch") == "delete":
            merged.pop(name, None)
            names = [n for n in names if n != name]
            continue
        merged[name] = strategic_merge(merged.get(name, {}), item)
        if name not in names:
            names.append(name)
    if order is not None:
        wanted = [o.get("name") for o in order if isinstance(o, dict)]
        names = [n for n in wanted if n in merged] + [n for n in names if n not in wanted]
    return [merged[n] for n in names if n in merged]


def strategic_merge(target: Any, patch: Any) -> Any:
    """Strategic merge, enough for pods: container lists merge by `name`, maps merge, the rest replaces."""
    if not isinstance(patch, dict) or not isinstance(target, dict):
        return copy.deepcopy(patch)
    result = dict(target)
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key == "$patch":
            continue
        if value is None:
            result.pop(key, None)
        elif key in ("containers", "initContainers", "ephemeralContainers") and isinstance(value, list):
            result[key] = _smp_list_by_name(
                result.get(key) or [], value, patch.get(f"$setElementOrder/{key}")
            )
        elif isinstance(value, dict):
            result[key] = strategic_merge(result.get(key, {}), value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _patch_failed(message: str) -> ApiError:
    """A JSON patch that does not apply: the real server answers 422 with the library's error text
    (`NewGenericServerResponse(http.StatusUnprocessableEntity, ...)` in the patch handler)."""
    return ApiError(422, "Invalid", message)


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise _patch_failed(f"JSON pointer {path!r} does not start with /")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str], path: str) -> Any:
    for p in parts[:-1]:
        if isinstance(doc, list):
            doc = doc[int(p)] if p.isdigit() and int(p) < len(doc) else None
        elif isinstance(doc, dict):
            doc = doc.get(p)
        if doc is None:
            raise _patch_failed(f'add operation does not apply: doc is missing path: "{path}"')
    return doc


def json_patch(doc: Any, ops: list[Any]) -> Any:
    """RFC 6902 (add, remove, replace, test, copy, move)."""
    doc = copy.deepcopy(doc)

    def get(path: str) -> Any:
        parts = _pointer(path)
        parent = _parent(doc, parts, path)
        key = parts[-1]
        try:
            return parent[int(key)] if isinstance(parent, list) else parent[key]
        except (KeyError, IndexError, ValueError):
            raise _patch_failed(f'doc is missing key: "{path}"') from None

    def add(path: str, value: Any) -> None:
        parts = _pointer(path)
        parent = _parent(doc, parts, path)
        key = parts[-1]
        if isinstance(parent, list):
            if key == "-":
                parent.append(value)
            elif key.isdigit() and int(key) <= len(parent):
                parent.insert(int(key), value)
            else:
                raise _patch_failed(f'add operation does not apply: "{path}" out of bounds')
        else:
            parent[key] = value

    def remove(path: str) -> Any:
        value = get(path)
        parts = _pointer(path)
        parent = _parent(doc, parts, path)
        if isinstance(parent, list):
            parent.pop(int(parts[-1]))
        else:
            parent.pop(parts[-1])
        return value

    for op in ops:
        if not isinstance(op, dict) or "path" not in op:
            raise ApiError(
                400, "BadRequest", "the server rejected our request due to an error in our request"
            )
        kind, path = op.get("op"), op["path"]
        if kind == "add":
            add(path, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            remove(path)
        elif kind == "replace":
            remove(path)
            add(path, copy.deepcopy(op.get("value")))
        elif kind == "test":
            if get(path) != op.get("value"):
                raise _patch_failed(f"testing value {path} failed: test failed")
        elif kind in ("copy", "move"):
            value = remove(op["from"]) if kind == "move" else copy.deepcopy(get(op["from"]))
            add(path, value)
        else:
            raise _patch_failed(f"Unexpected kind: {kind}")
    return doc
