"""`Status` failures the way the API server writes them, and `field.Error` lists rendered like apimachinery.

Sources: `staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go` (`NewNotFound`, `NewAlreadyExists`,
`NewForbidden`, `NewInvalid`, `NewBadRequest`, `NewUnauthorized`) and
`staging/src/k8s.io/apimachinery/pkg/util/validation/field/errors.go` (`Error.ErrorBody`: "Required value",
"Invalid value: X: detail", "Duplicate value: X", "Unsupported value: X: supported values: ...").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class ApiError(Exception):
    """A `Status` failure to send back."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.details = details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def not_found(resource: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{resource} "{name}" not found', {"name": name, "kind": resource})


@dataclass(frozen=True)
class FieldError:
    """One `field.Error`, rendered the way apimachinery renders it."""

    kind: str  # Duplicate, NotFound, Forbidden, Required, Invalid, NotSupported
    field: str
    detail: str = ""
    value: Any = None

    def body(self) -> str:
        if self.kind == "Duplicate":
            return f"Duplicate value: {json.dumps(self.value)}"
        if self.kind == "NotFound":
            return f"Not found: {json.dumps(self.value)}"
        if self.kind == "Invalid":
            return f"Invalid value: {json.dumps(self.value)}: {self.detail}"
        if self.kind == "NotSupported":
            return f"Unsupported value: {json.dumps(self.value)}: supported values: {self.detail}"
        if self.kind == "Required":
            return "Required value" + (f": {self.detail}" if self.detail else "")
        return f"Forbidden: {self.detail}"

    def cause(self) -> dict[str, str]:
        return {"reason": f"FieldValue{self.kind}", "message": self.body(), "field": self.field}


def invalid(kind: str, name: str, errors: list[FieldError]) -> ApiError:
    rendered = [f"{e.field}: {e.body()}" for e in errors]
    summary = rendered[0] if len(rendered) == 1 else "[" + ", ".join(rendered) + "]"
    return ApiError(
        422,
        "Invalid",
        f'{kind} "{name}" is invalid: {summary}',
        {"name": name, "kind": kind, "causes": [e.cause() for e in errors]},
    )


def already_exists(resource: str, name: str) -> ApiError:
    """`NewAlreadyExists`: `pods "x" already exists`."""
    return ApiError(
        409, "AlreadyExists", f'{resource} "{name}" already exists', {"name": name, "kind": resource}
    )


def bad_request(message: str) -> ApiError:
    """`NewBadRequest`: no details."""
    return ApiError(400, "BadRequest", message)


def unauthorized() -> ApiError:
    """What the authentication filter answers when no authenticator accepts the request
    (`staging/src/k8s.io/apiserver/pkg/endpoints/filters/authentication.go` `Unauthorized`:
    `apierrors.NewUnauthorized("Unauthorized")`; no details)."""
    return ApiError(401, "Unauthorized", "Unauthorized")


def forbidden(resource: str, name: str, reason: str, group: str = "") -> ApiError:
    """`NewForbidden(qualifiedResource, name, err)`: `pods "web" is forbidden: <err>`, `pods is forbidden:
    <err>` without a name, `forbidden: <err>` for a non-resource path. Details name the group, the resource
    (as `kind`) and the name, each only when set."""
    qualified = f"{resource}.{group}" if group and resource else resource
    if not resource:
        message = f"forbidden: {reason}"
    elif not name:
        message = f"{qualified} is forbidden: {reason}"
    else:
        message = f'{qualified} "{name}" is forbidden: {reason}'
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    if resource:
        details["kind"] = resource
    return ApiError(403, "Forbidden", message, details)
