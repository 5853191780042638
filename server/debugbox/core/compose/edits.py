"""The "debug sidecar service" edit of a compose file: one new service, inserted as new lines, verified.

The new service joins the target's PID and network namespaces (`pid: "service:<s>"`, `network_mode:
"service:<s>"`), can trace its processes (`cap_add: [SYS_PTRACE]`), keeps a terminal (`stdin_open`, `tty`) and
sits in the `debug` profile, so a plain `docker compose up` does not start it (`--profile debug` does).

Where it goes: after the last line holding text of the last service in `services:` and the comment lines
indented under it (they describe that service); comments at the service keys' indentation or less, and blank
lines before them, stay below the new service (they describe what follows). Indented like the other service
keys, its keys indented like the first block-style service's keys (two spaces when none is). Line endings
follow the file; a file without a final newline keeps having none. Refused: a flow-style or aliased
`services:` mapping, an unknown service, an invalid toolbox image.

The one gate (`verified`), as for the manifest edits (`core/kubernetes/verify.py`): the edited text is loaded
by an independent judge (PyYAML's safe loader, which follows aliases and merge keys) and must equal the
original plus exactly the new service; debugbox's own reader must then find the same services plus the new
one. Only one edit is ever made (an insertion), so the rest of the file stays byte-identical.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from debugbox.core.compose.model import ComposeFile, read_compose
from debugbox.core.images import is_valid_reference
from debugbox.core.kubernetes.edits import Edit, Refused, apply_edits
from debugbox.core.kubernetes.pod_spec import last_line
from debugbox.core.kubernetes.verify import Unverified, first_difference, judge_load
from debugbox.core.kubernetes.yamlstream import Alias, Map, yaml_line_offset

PROFILE = "debug"
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@-]*")
_EOL = re.compile(r"\r\n|[\r\n]")
ENGINE_NOTES = (
    "Docker Compose (v1 and v2) runs it with `--profile debug`. podman-compose names containers, not services: "
    'write `pid: "container:<project>_<service>_1"` (and the same for network_mode) there. nerdctl compose has no '
    "`service:` namespaces: use the debug terminal (a sidecar container) instead."
)


@dataclass(frozen=True, slots=True)
class SidecarEdit:
    service: str
    """The new service's name."""
    edit: Edit
    text: str
    """The whole edited file."""


def sidecar_name(compose: ComposeFile, target: str) -> str:
    """`debug-<target>`, or `debug-<target>-2`, … when taken."""
    taken = {s.name for s in compose.services}
    name, n = f"debug-{target}", 2
    while name in taken:
        name, n = f"debug-{target}-{n}", n + 1
    return name


def _quoted(value: str) -> str:
    return (
        value
        if _PLAIN.fullmatch(value) and value not in ("true", "false", "null", "yes", "no")
        else json.dumps(value)
    )


def sidecar_value(target: str, image: str) -> dict[str, Any]:
    """The new service as loaded data (what the judge must find)."""
    return {
        "image": image,
        "pid": f"service:{target}",
        "network_mode": f"service:{target}",
        "cap_add": ["SYS_PTRACE"],
        "stdin_open": True,
        "tty": True,
        "profiles": [PROFILE],
    }


def _lines(name: str, target: str, image: str, indent: str, step: str, eol: str) -> str:
    body = [
        f"image: {_quoted(image)}",
        f"pid: {json.dumps('service:' + target)}",
        f"network_mode: {json.dumps('service:' + target)}",
        "cap_add: [SYS_PTRACE]",
        "stdin_open: true",
        "tty: true",
        f"profiles: [{PROFILE}]",
    ]
    return f"{indent}{_quoted(name)}:{eol}" + "".join(f"{indent}{step}{line}{eol}" for line in body)


_LINE = re.compile(r"([ \t]*)([^\r\n]*)(\r\n|[\r\n]|$)")


def _after_own_comments(text: str, at: int, key_col: int) -> int:
    """`at`, moved past the comment lines indented deeper than the service keys that follow it (they belong to
    the last service: `    # the API answers on 8080`); blank lines count only when such a comment follows."""
    pos = at
    while pos < len(text):
        m = _LINE.match(text, pos)
        if m is None or m.end() == pos:
            break
        indent, body = m.group(1), m.group(2)
        if body.startswith("#") and len(indent.expandtabs()) > key_col:
            at = m.end()
        elif body.strip():
            break
        pos = m.end()
    return at


def plan_sidecar(compose: ComposeFile, target: str, image: str) -> SidecarEdit:
    """The edit adding a debug sidecar service for `target`; `Refused` with the reason when it cannot."""
    if compose.error is not None:
        raise Refused(
            f"the compose file does not parse (line {compose.error.line + 1}: {compose.error.message})"
        )
    if compose.service(target) is None:
        raise Refused(f"there is no service {target!r} in this compose file")
    if not is_valid_reference(image):
        raise Refused(
            f"the toolbox image {image!r} is not a valid image reference (setting debugbox.toolboxImage)"
        )
    node = compose.services_node
    if isinstance(node, Alias):
        raise Refused("`services:` comes from a YAML alias; add the service by hand")
    if not isinstance(node, Map) or node.flow or not node.pairs:
        raise Refused("`services:` is not a block mapping; add the service by hand")
    text, base = compose.text, compose.doc_start
    chunk = text[base:]
    first_key = node.pairs[0][0]
    indent = " " * first_key.col
    step = "  "
    for _, value in node.pairs:
        if isinstance(value, Map) and not value.flow and value.pairs:
            step = " " * max(1, value.pairs[0][0].col - first_key.col)
            break
    last = last_line(node.pairs[-1][1], chunk)
    if last is None:
        last = node.pairs[-1][0].end_line
    at = _after_own_comments(chunk, yaml_line_offset(chunk, last + 1), first_key.col)
    m = _EOL.search(text)
    eol = m.group(0) if m else "\n"
    name = sidecar_name(compose, target)
    new = _lines(name, target, image, indent, step, eol)
    if at >= len(chunk) and not chunk.endswith(("\n", "\r")):
        new = eol + new[: -len(eol)]  # no final newline before: none after
    edit = Edit(base + at, base + at, new)
    edited = apply_edits(text, [edit])
    refusal = _verify(compose, edited, name, sidecar_value(target, image))
    if refusal is not None:
        raise Refused(f"debugbox will not edit this: {refusal}")
    return SidecarEdit(name, edit, edited)


def _verify(compose: ComposeFile, edited: str, name: str, value: dict[str, Any]) -> str | None:
    """Why the edited text is not the original plus exactly the new service, or None."""
    try:
        before = judge_load(compose.text)
        after = judge_load(edited)
    except Unverified as exc:
        return str(exc)
    if len(before) != len(after) or not before or not isinstance(before[0], dict):
        return "it would change the YAML documents of the file"
    expected = dict(before[0])
    services = expected.get("services")
    if not isinstance(services, dict) or name in services:
        return "the loaded file has no plain services mapping"
    expected["services"] = {**services, name: value}
    for old, new in zip(before[1:], after[1:], strict=True):
        if first_difference(old, new) is not None:
            return "it would change a later YAML document"
    diff = first_difference(expected, after[0])
    if diff is not None:
        where = ".".join(str(p) for p in diff) or "the file"
        return f"it would also change {where}"
    reread = read_compose(edited)
    if [s.name for s in reread.services] != [*(s.name for s in compose.services), name]:
        return "debugbox's own reading of the edited file differs from the intended change"
    return None
