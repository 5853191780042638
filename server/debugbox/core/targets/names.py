"""Names that end up in an argv, and the one check each must pass before it gets there.

Container names and IDs (Docker's rule), Kubernetes names (DNS-1123 labels and subdomains), kubeconfig context
names and image references. Anything that passes starts with an alphanumeric character and holds no whitespace,
shell metacharacter or control character, so it can never read as an option or split into two words. Invalid
names are refused (`InvalidTarget`), never cleaned up into something else.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from debugbox.core.errors import InvalidTarget

#: Docker's rule for container names (validContainerNamePattern); Podman and nerdctl use the same.
_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*\Z")
#: A full or abbreviated container ID.
_HEX_ID = re.compile(r"[0-9a-f]{1,64}\Z")
_MAX_NAME = 255


def validate_container_ref(ref: str) -> str:
    """Return `ref` (a container name or hex ID, an optional leading `/` removed) or raise InvalidTarget.

    Validation is what keeps a name like `-v` or `x; rm -rf /` from changing the meaning of an argv: anything
    that passes starts with an alphanumeric character and contains no whitespace or shell metacharacters.
    """
    name = ref[1:] if ref.startswith("/") else ref
    if len(name) <= _MAX_NAME and (_NAME.match(name) or _HEX_ID.match(name)):
        return name
    raise InvalidTarget(
        f"{ref!r} is not a valid container name or ID (names match [a-zA-Z0-9][a-zA-Z0-9_.-]*, IDs are hex)"
    )


def validate_container_id(value: str) -> str:
    """A container ID as engines report it: hex only (full or abbreviated)."""
    if _HEX_ID.match(value):
        return value
    raise InvalidTarget(f"{value!r} is not a container ID (hex digits)")


def from_answer(value: object, check: Callable[[str], str], source: str) -> str:
    """A name or ID taken from an engine's or API server's answer, put through `check` like user input.

    What an engine answers is data like any other: a hostile or broken engine saying `"Id": "--privileged"`
    must not be able to put an option into an argv. InvalidTarget names `source` (e.g. the engine's label).
    """
    if isinstance(value, str):
        try:
            return check(value)
        except InvalidTarget as exc:
            raise InvalidTarget(f"{source} answered an unusable name or ID: {exc}") from None
    raise InvalidTarget(f"{source} answered a {type(value).__name__} where a name or ID belongs")


# The Kubernetes patterns are compiled on first use (`re`'s own cache keeps them): a container session
# never needs them, and its terminal waits for every compile at import.
_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z"
_DNS_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z"
# Kubeconfig context names are free-form, but an argv value must not look like an option or hold
# control characters.
_CONTEXT = r"[A-Za-z0-9_][^\x00-\x1f\x7f]*\Z"
_IMAGE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._/:@+-]*\Z")


def validate_label(name: str, what: str) -> str:
    """A DNS-1123 label (container and namespace names): lower-case alphanumerics and '-', at most 63."""
    if len(name) <= 63 and re.match(_DNS_LABEL, name):
        return name
    raise InvalidTarget(
        f"{name!r} is not a valid {what} name (a DNS-1123 label: [a-z0-9-], at most 63 characters)"
    )


def validate_pod_name(name: str) -> str:
    """A DNS-1123 subdomain (pod names): labels joined by dots, at most 253."""
    if len(name) <= 253 and re.match(_DNS_SUBDOMAIN, name):
        return name
    raise InvalidTarget(f"{name!r} is not a valid pod name (a DNS-1123 subdomain, at most 253 characters)")


def validate_context(name: str) -> str:
    if re.match(_CONTEXT, name):
        return name
    raise InvalidTarget(f"{name!r} is not a usable kubeconfig context name")


def validate_image(ref: str) -> str:
    if len(ref) <= 512 and _IMAGE.match(ref):
        return ref
    raise InvalidTarget(f"{ref!r} is not a valid image reference")
