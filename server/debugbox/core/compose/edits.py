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

Per compose implementation (`engine_forms`, from the `debugbox.compose.engine` setting and what is installed):

- **docker** (Docker Compose v2, and v1 1.28+): `pid: "service:<s>"` and `network_mode: "service:<s>"`.
- **podman** (podman-compose 1.0.6+): podman-compose turns `network_mode: service:<s>` into
  `--network=container:<the service's first container>` itself, but passes `pid:` to `podman run --pid`
  unchanged, and Podman refuses `service:` there ("unrecognized namespace mode"); so `pid:` names the
  container: the target's `container_name`, else podman-compose's own name for it, `<project>_<s>_1`
  (`-` instead of `_` with `x-podman: {name_separator_compat: true}` or `docker_compose_compat: true`; the
  project is the top-level `name:`, interpolated as if its variables were unset (`${P:-shop}` is `shop`; a
  comment says so), else the folder's name, lower-cased, keeping `[-_a-z0-9]`). Source:
  podman_compose.py 1.6.0, `get_net_args_from_network_mode`, `container_to_args` (`--pid`),
  `_parse_compose_file` (project name) and `join_name_parts`. Starting the project with `-p` or
  `COMPOSE_PROJECT_NAME` changes that name, which a comment on the derived `pid:` line says.
- **nerdctl**: nerdctl compose accepts only `container:` in `network_mode` ("unsupported network_mode",
  nerdctl `pkg/composer/serviceparser`), and has no `service:` namespaces; no edit is offered for it
  (`NERDCTL_NOTE`): the debug terminal (a sidecar container debugbox starts) is offered instead.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from debugbox.core.compose.model import ComposeFile, interpolate_unset, read_compose
from debugbox.core.images import is_valid_reference
from debugbox.core.kubernetes.edits import Edit, Refused, apply_edits
from debugbox.core.kubernetes.pod_spec import last_line
from debugbox.core.kubernetes.verify import Unverified, first_difference, judge_load
from debugbox.core.kubernetes.yamlstream import Alias, Map, yaml_line_offset
from debugbox.core.settings import COMPOSE_ENGINES

PROFILE = "debug"
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@-]*")
_EOL = re.compile(r"\r\n|[\r\n]")
ENGINE_NOTES = (
    "Docker Compose (v1 and v2) runs it with `--profile debug`. podman-compose needs `pid: "
    '"container:<its container>"` (debugbox writes that form when the engine is Podman: setting '
    "debugbox.compose.engine or `--engine podman`). nerdctl compose has no `service:` namespaces: use the debug "
    "terminal (a sidecar container) instead."
)
#: The compose implementations whose sidecar differs (`debugbox.compose.engine`, besides `auto`).
ENGINES = COMPOSE_ENGINES[1:]
ENGINE_LABELS = {"docker": "Docker Compose", "podman": "podman-compose", "nerdctl": "nerdctl compose"}
NERDCTL_NOTE = (
    "nerdctl compose has no `service:` namespaces (its network_mode takes only `container:`), so no sidecar "
    "service is added for it: open the debug terminal, a sidecar container sharing the service's PID and "
    "network namespaces"
)
_PODMAN_PROJECT = re.compile(r"[^-_a-z0-9]")


def engine_forms(setting: str, installed: Collection[str]) -> tuple[str, ...]:
    """The sidecar forms to offer: the one the setting names, else (`auto`) one per compose implementation
    installed, in `ENGINES` order (several when ambiguous), Docker Compose's when none is."""
    if setting in ENGINES:
        return (setting,)
    return tuple(e for e in ENGINES if e in installed) or ("docker",)


def podman_container(compose: ComposeFile, target: str, folder_name: str) -> str:
    """The name podman-compose gives the first container of `target` (see the module docstring)."""
    return _podman_container(compose, target, folder_name)[0]


def _podman_container(compose: ComposeFile, target: str, folder_name: str) -> tuple[str, tuple[str, ...]]:
    """`podman_container`, and the variables its project name depends on (podman-compose interpolates
    `name:`; debugbox takes them as unset)."""
    service = compose.service(target)
    if service is not None and service.container_name is not None and service.container_name.value:
        return service.container_name.value, ()
    name = interpolate_unset(compose.name) if compose.name else None
    if name is not None and name.text is None:
        raise Refused(
            f"podman-compose's project name comes from variables here (`name: {compose.name}`): set the "
            "target's `container_name`"
        )
    project = _PODMAN_PROJECT.sub("", folder_name.lower() if name is None else name.text or "")
    compat = {
        str(compose.x_podman.get(k)).lower() for k in ("name_separator_compat", "docker_compose_compat")
    }
    separator = "-" if "true" in compat else "_"
    if not project:
        raise Refused(
            "podman-compose would find no project name here (the top-level `name:` or the folder's name keeps "
            "none of [-_a-z0-9]): set `name:` or the target's `container_name`"
        )
    return separator.join((project, target, "1")), name.variables if name is not None else ()


@dataclass(frozen=True, slots=True)
class SidecarEdit:
    service: str
    """The new service's name."""
    edit: Edit
    text: str
    """The whole edited file."""


def sidecar_name(compose: ComposeFile, target: str) -> str:
    """`debug-<target>`, or `debug-<target>-2`, … when taken: by this file, a file it includes, or the base
    file it overrides (compose would merge the new service into that one, or refuse the include's)."""
    taken = {s.name for s in (*compose.services, *compose.included)}
    # `-f base -f variant`, or an override compose merges by itself, would merge it into theirs.
    taken |= {*compose.base_services, *compose.base_only, *compose.override_only}
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


def sidecar_value(target: str, image: str, pid: str | None = None) -> dict[str, Any]:
    """The new service as loaded data (what the judge must find); `pid` defaults to `service:<target>`."""
    return {
        "image": image,
        "pid": pid or f"service:{target}",
        "network_mode": f"service:{target}",
        "cap_add": ["SYS_PTRACE"],
        "stdin_open": True,
        "tty": True,
        "profiles": [PROFILE],
    }


def _lines(name: str, target: str, image: str, pid: str, note: str, indent: str, step: str, eol: str) -> str:
    body = [
        f"image: {_quoted(image)}",
        f"pid: {json.dumps(pid)}" + (f"  # {note}" if note else ""),
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


def verification_may_refuse(compose: ComposeFile) -> bool:
    """Whether the independent check (`_verify`) could refuse a sidecar edit that `plan_sidecar`'s own checks
    allow: only YAML sharing (an anchor, so aliases and merge keys) or a tag makes the loaded file differ from
    its text's reading. Without them an editor can be offered the edit before it is checked (it is still checked
    before it is given: loading a large file twice takes seconds). Errs towards True: any `!` counts."""
    return bool(compose.anchors) or "!" in compose.text


def plan_sidecar(
    compose: ComposeFile,
    target: str,
    image: str,
    engine: str = "docker",
    folder_name: str = "",
    verify: bool = True,
) -> SidecarEdit:
    """The edit adding a debug sidecar service for `target`, in `engine`'s form (`folder_name`: the compose
    file's folder, podman-compose's default project); `Refused` with the reason when it cannot. `verify=False`
    leaves out the independent check, for an edit offered before it is checked (`verification_may_refuse`)."""
    if engine == "nerdctl":
        raise Refused(NERDCTL_NOTE)
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
    pid, note = None, ""
    if engine == "podman":
        container, variables = _podman_container(compose, target, folder_name)
        pid = f"container:{container}"
        named = (service := compose.service(target)) is not None and service.container_name is not None
        if variables:
            unset = ", ".join(variables)
            note = f"podman-compose's name for it with {unset} unset; another with -p, COMPOSE_PROJECT_NAME or {unset}"
        elif not named:
            note = "podman-compose's name for it; another with -p or COMPOSE_PROJECT_NAME"
    new = _lines(name, target, image, pid or f"service:{target}", note, indent, step, eol)
    if at >= len(chunk) and not chunk.endswith(("\n", "\r")):
        new = eol + new[: -len(eol)]  # no final newline before: none after
    edit = Edit(base + at, base + at, new)
    edited = apply_edits(text, [edit])
    refusal = _verify(compose, edited, name, sidecar_value(target, image, pid)) if verify else None
    if refusal is not None:
        raise Refused(f"debugbox will not edit this: {refusal}")
    return SidecarEdit(name, edit, edited)


@dataclass(frozen=True, slots=True)
class StartCommand:
    """How to start a sidecar: the command, and the variables its profiles name (taken as unset in it)."""

    text: str
    variables: tuple[str, ...] = ()


def start_command(
    compose: ComposeFile, target: str, sidecar: str, engine: str, docker: str = "docker compose"
) -> StartCommand:
    """The command that starts the sidecar of `target`: its `debug` profile, and the target's own profiles
    (compose will not start a service it would pull in whose profiles are all off: "Service "app" was pulled in
    as a dependency of service "debug-app" but is not enabled by the active profiles"), interpolated as compose
    does with their variables unset (`${PROFILE:-dev}` is `dev`; one that is then empty or required is left
    out). `docker`: how Docker Compose is run here (`docker compose`, or `docker-compose` where only that is
    installed)."""
    service = compose.service(target)
    names: list[str] = []
    variables: list[str] = []
    for written in service.profiles if service is not None else ():
        value = interpolate_unset(written)
        variables += value.variables
        if value.text:
            names.append(value.text)
    profiles = dict.fromkeys([*names, PROFILE])
    tool = "podman-compose" if engine == "podman" else docker
    flags = " ".join(f"--profile {shlex.quote(p)}" for p in profiles)
    return StartCommand(f"{tool} {flags} run --rm {shlex.quote(sidecar)}", tuple(dict.fromkeys(variables)))


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
