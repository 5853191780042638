"""Decode the Kubernetes protobuf request bodies that kubectl >= 1.32 sends (`POST pods` for `--copy-to`).

Layout (see the Kubernetes testing guide, §7): the magic `k8s\\0`, then a `runtime.Unknown` message {1
TypeMeta {1 apiVersion, 2 kind}, 2 raw object bytes, 3 contentEncoding, 4 contentType}. The raw bytes are a
`v1.Pod`. Only the fields the tests assert on are mapped (from k8s.io/api `generated.proto`); unknown fields
are skipped, so the decoded dict is a faithful *subset* of what kubectl sent, never an invention.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

MAGIC = b"k8s\x00"


class DecodeError(ValueError):
    """The bytes are not a well-formed protobuf message (or not the k8s envelope)."""


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise DecodeError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise DecodeError("varint too long")


def fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) for each field; length-delimited values are bytes."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 2:
            length, pos = _varint(buf, pos)
            if pos + length > len(buf):
                raise DecodeError("truncated length-delimited field")
            value, pos = buf[pos : pos + length], pos + length
        elif wire == 1:
            value, pos = int.from_bytes(buf[pos : pos + 8], "little"), pos + 8
        elif wire == 5:
            value, pos = int.from_bytes(buf[pos : pos + 4], "little"), pos + 4
        else:
            raise DecodeError(f"unsupported wire type {wire}")
        yield number, wire, value


# A schema maps field number -> (json name, kind); kind is "str", "int", "bool", "strs" (repeated string),
# "map" (map<string,string>), a nested schema (dict), or ("list", nested schema) for repeated messages.
Schema = dict[int, tuple[str, Any]]

CAPABILITIES: Schema = {1: ("add", "strs"), 2: ("drop", "strs")}
SECCOMP_PROFILE: Schema = {1: ("type", "str"), 2: ("localhostProfile", "str")}
SECURITY_CONTEXT: Schema = {
    1: ("capabilities", CAPABILITIES),
    2: ("privileged", "bool"),
    4: ("runAsUser", "int"),
    5: ("runAsNonRoot", "bool"),
    6: ("readOnlyRootFilesystem", "bool"),
    7: ("allowPrivilegeEscalation", "bool"),
    8: ("runAsGroup", "int"),
    11: ("seccompProfile", SECCOMP_PROFILE),
}
CONTAINER: Schema = {
    1: ("name", "str"),
    2: ("image", "str"),
    3: ("command", "strs"),
    4: ("args", "strs"),
    5: ("workingDir", "str"),
    # EnvVar {1 name, 2 value, 3 valueFrom (not mapped: skipped)}
    7: ("env", ("list", {1: ("name", "str"), 2: ("value", "str")})),
    13: ("terminationMessagePath", "str"),
    14: ("imagePullPolicy", "str"),
    15: ("securityContext", SECURITY_CONTEXT),
    16: ("stdin", "bool"),
    17: ("stdinOnce", "bool"),
    18: ("tty", "bool"),
    20: ("terminationMessagePolicy", "str"),
}
POD_SECURITY_CONTEXT: Schema = {
    2: ("runAsUser", "int"),
    3: ("runAsNonRoot", "bool"),
    6: ("runAsGroup", "int"),
    10: ("seccompProfile", SECCOMP_PROFILE),
}
#: Volume {1 name, 2 volumeSource (inlined in JSON)}; VolumeSource {1 hostPath {1 path, 2 type}, 2 emptyDir}.
VOLUME_SOURCE: Schema = {1: ("hostPath", {1: ("path", "str"), 2: ("type", "str")}), 2: ("emptyDir", {})}
POD_SPEC: Schema = {
    1: ("volumes", ("list", {1: ("name", "str"), 2: ("volumeSource", VOLUME_SOURCE)})),
    2: ("containers", ("list", CONTAINER)),
    3: ("restartPolicy", "str"),
    4: ("terminationGracePeriodSeconds", "int"),
    6: ("dnsPolicy", "str"),
    10: ("nodeName", "str"),
    11: ("hostNetwork", "bool"),
    12: ("hostPID", "bool"),
    13: ("hostIPC", "bool"),
    14: ("securityContext", POD_SECURITY_CONTEXT),
    19: ("schedulerName", "str"),
    20: ("initContainers", ("list", CONTAINER)),
    27: ("shareProcessNamespace", "bool"),
}
OBJECT_META: Schema = {
    1: ("name", "str"),
    2: ("generateName", "str"),
    3: ("namespace", "str"),
    11: ("labels", "map"),
    12: ("annotations", "map"),
}
POD: Schema = {1: ("metadata", OBJECT_META), 2: ("spec", POD_SPEC)}
TYPE_META: Schema = {1: ("apiVersion", "str"), 2: ("kind", "str")}
#: authorization/v1: SelfSubjectAccessReview {1 metadata, 2 spec}, its spec {1 resourceAttributes,
#: 2 nonResourceAttributes}.
RESOURCE_ATTRIBUTES: Schema = {
    1: ("namespace", "str"),
    2: ("verb", "str"),
    3: ("group", "str"),
    4: ("version", "str"),
    5: ("resource", "str"),
    6: ("subresource", "str"),
    7: ("name", "str"),
}
SELF_SUBJECT_ACCESS_REVIEW: Schema = {
    1: ("metadata", OBJECT_META),
    2: (
        "spec",
        {
            1: ("resourceAttributes", RESOURCE_ATTRIBUTES),
            2: ("nonResourceAttributes", {1: ("path", "str"), 2: ("verb", "str")}),
        },
    ),
}
KINDS: dict[str, Schema] = {"Pod": POD, "SelfSubjectAccessReview": SELF_SUBJECT_ACCESS_REVIEW}


def _as_bytes(value: int | bytes) -> bytes:
    if not isinstance(value, bytes):
        raise DecodeError("expected a length-delimited field")
    return value


def _scalar(kind: str, value: int | bytes) -> Any:
    if kind == "str":
        return _as_bytes(value).decode("utf-8")
    if not isinstance(value, int):
        raise DecodeError("expected a varint field")
    return bool(value) if kind == "bool" else value


def decode_message(buf: bytes, schema: Schema) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for number, _wire, value in fields(buf):
        if number not in schema:
            continue  # a field the tests don't need
        name, kind = schema[number]
        if kind == "strs":
            out.setdefault(name, []).append(_scalar("str", value))
        elif kind == "map":
            entry = {n: _scalar("str", v) for n, _w, v in fields(_as_bytes(value))}
            out.setdefault(name, {})[entry.get(1, "")] = entry.get(2, "")
        elif isinstance(kind, dict):
            out[name] = decode_message(_as_bytes(value), kind)
        elif isinstance(kind, tuple):
            out.setdefault(name, []).append(decode_message(_as_bytes(value), kind[1]))
        else:
            out[name] = _scalar(kind, value)
    return out


def _inline_volume_sources(obj: dict[str, Any]) -> dict[str, Any]:
    for volume in (obj.get("spec") or {}).get("volumes") or []:
        volume.update(volume.pop("volumeSource", {}))
    return obj


def decode_object(body: bytes) -> dict[str, Any]:
    """A `k8s\\0`-enveloped Pod or SelfSubjectAccessReview as a JSON-shaped dict (the mapped subset of its
    fields)."""
    if not body.startswith(MAGIC):
        raise DecodeError("missing the k8s protobuf magic")
    unknown = {n: v for n, _w, v in fields(body[len(MAGIC) :])}
    type_meta = decode_message(_as_bytes(unknown.get(1, b"")), TYPE_META)
    kind = type_meta.get("kind", "")
    if kind not in KINDS:
        raise DecodeError(f"expected kind Pod or SelfSubjectAccessReview, got {kind!r}")
    obj = decode_message(_as_bytes(unknown.get(2, b"")), KINDS[kind])
    return _inline_volume_sources({"apiVersion": type_meta.get("apiVersion", "v1"), "kind": kind, **obj})


def decode_pod(body: bytes) -> dict[str, Any]:
    """A `k8s\\0`-enveloped v1.Pod as a JSON-shaped dict (the mapped subset of its fields)."""
    obj = decode_object(body)
    if obj["kind"] != "Pod":
        raise DecodeError(f"expected kind Pod, got {obj['kind']!r}")
    return obj
