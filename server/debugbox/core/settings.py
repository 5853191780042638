"""The `debugbox.*` settings: one typed tree, its defaults, and parsing from what editors send.

Editors send settings either nested (`{"debugImage": {"tools": [...]}}`, as `workspace/configuration` returns the
`debugbox` section) or flat with dotted keys (`{"debugImage.tools": [...]}`); both are accepted, with or without the
`debugbox.` prefix. A value of the wrong type is dropped with a warning and the default is used: bad settings never
stop the server.

Settings are data from the user's or the workspace's configuration, so each is checked for what it is used as,
not only for its JSON type: numbers of seconds must be finite and within `TIMEOUT_RANGE` (1e300 overflowed the
socket layer), image references go through `names.validate_image` (a newline in `debugImage.toolsImage` wrote
an extra instruction into Dockerfile.debug), context and namespace through their `names` validators, enums
must be one of their values, booleans must be JSON booleans (not the string "true"). `kubernetes.toolboxImages`
is checked entry by entry (a bad entry is left out, the others apply).

The toolbox image a pod gets is decided here, in `toolbox_image_for` (an explicit `--image`, else the most
specific `kubernetes.toolboxImages` entry, else `toolboxImage`), with the clause that says what to change.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import field
from typing import Any

from debugbox import deferred_log
from debugbox.core.errors import InvalidTarget
from debugbox.core.records import record
from debugbox.core.targets.names import validate_context, validate_image, validate_label

log = deferred_log.get(__name__)

STRATEGIES = ("auto", "exec", "docker-debug", "sidecar", "snapshot", "ephemeral", "copy")
KUBE_PROFILES = ("auto", "general", "baseline", "restricted", "netadmin", "sysadmin")
#: `compose.engine`: which compose implementation the debug sidecar service is written for (core/compose/edits).
COMPOSE_ENGINES = ("auto", "docker", "podman", "nerdctl")
DEFAULT_TOOLS = ("curl", "dns", "netcat", "tcpdump", "strace", "procps")


@record
class DebugImageSettings:
    """`debugbox.debugImage.*`: what a generated Dockerfile.debug installs and starts from."""

    tools: tuple[str, ...] = DEFAULT_TOOLS
    """Abstract tool names for Dockerfile.debug (per-family names: `PACKAGES` in core/dockerfile/debug_image.py)."""
    app_image: str = ""
    """Default for `ARG APP_IMAGE` in Dockerfile.debug; empty means derive it (compose file, folder name)."""
    tools_image: str = "busybox:musl"
    """Where a static busybox is copied from when the image has no package manager."""


@record
class DockerSettings:
    """`debugbox.docker.*`: how debugbox talks to container engines."""

    timeout_seconds: float = 5.0
    """Per call to an engine; a hanging daemon gives a clear message after this."""


@record
class ToolboxImageRule:
    """One entry of `debugbox.kubernetes.toolboxImages`: the toolbox for a context, a namespace, or both."""

    image: str
    context: str = ""
    """Empty: any context."""
    namespace: str = ""
    """Empty: any namespace."""

    @property
    def rank(self) -> int:
        """How specific the entry is (higher wins): context and namespace > context > namespace. A context is a
        cluster, and which registries a cluster can pull from is the reason for these entries."""
        return (2 if self.context else 0) + (1 if self.namespace else 0)

    def matches(self, context: str, namespace: str) -> bool:
        return self.context in ("", context) and self.namespace in ("", namespace)

    def describe(self) -> str:
        where = [f"context {self.context}"] if self.context else []
        where += [f"namespace {self.namespace}"] if self.namespace else []
        return ", ".join(where)


@record
class KubernetesSettings:
    """`debugbox.kubernetes.*`: the cluster, namespace, profile and toolbox images for pod sessions."""

    context: str = ""
    namespace: str = ""
    profile: str = "auto"
    timeout_seconds: float = 10.0
    toolbox_images: tuple[ToolboxImageRule, ...] = ()
    """Toolbox images per context and/or namespace (private registries, air-gapped clusters); see
    `toolbox_image_for` for which one applies."""


@record
class SessionSettings:
    """`debugbox.session.*`: how a debug session is set up."""

    raw: bool = False
    """Sidecar sessions without the bootstrap: the toolbox's plain shell, the target's files at /proc/1/root."""


@record
class ComposeSettings:
    """`debugbox.compose.*`: the compose implementation the debug sidecar service is written for."""

    engine: str = "auto"
    """The compose implementation the debug sidecar service is written for; `auto`: each one installed."""


@record
class Settings:
    """Every `debugbox.*` setting, defaults included (`parse_settings` reads them and names what it refused)."""

    toolbox_image: str = "nicolaka/netshoot"
    """Image of the sidecar / ephemeral debug container."""
    strategy: str = "auto"
    """Preferred way in; `auto` walks the ladder exec → docker debug → sidecar."""
    allow_privileged: bool = False
    """Privileged sidecars and kubectl profiles (sysadmin, SYS_ADMIN) only when this is true."""
    log_level: str = "info"
    debug_image: DebugImageSettings = field(default_factory=DebugImageSettings)
    docker: DockerSettings = field(default_factory=DockerSettings)
    kubernetes: KubernetesSettings = field(default_factory=KubernetesSettings)
    session: SessionSettings = field(default_factory=SessionSettings)
    compose: ComposeSettings = field(default_factory=ComposeSettings)


#: Settings that decide what gets executed or built. Editors must not apply workspace-level values of these in
#: untrusted workspaces (the VS Code extension filters them; see docs/security.md).
EXECUTION_SETTINGS = frozenset(
    {
        "toolboxImage",
        "strategy",
        "allowPrivileged",
        "debugImage.appImage",
        "debugImage.toolsImage",
        "debugImage.tools",
        "kubernetes.context",
        "kubernetes.namespace",
        "kubernetes.profile",
        "kubernetes.toolboxImages",
    }
)

_ENUMS: dict[str, tuple[str, ...]] = {
    "strategy": STRATEGIES,
    "kubernetes.profile": KUBE_PROFILES,
    "logLevel": ("error", "warning", "info", "debug"),
    "compose.engine": COMPOSE_ENGINES,
}


#: Every number setting is a timeout in seconds: finite and within this range.
TIMEOUT_RANGE = (0.1, 600.0)

#: String settings checked for what they become (an image reference, a context or namespace name); an empty
#: value means "not set" for those whose default is empty.
_STRING_CHECKS: dict[str, tuple[Callable[[str], object], str]] = {
    "toolboxImage": (validate_image, "an image reference"),
    "debugImage.toolsImage": (validate_image, "an image reference"),
    "debugImage.appImage": (validate_image, "an image reference, or empty"),
    "kubernetes.context": (validate_context, "a kubeconfig context name, or empty"),
    "kubernetes.namespace": (lambda name: validate_label(name, "namespace"), "a namespace name, or empty"),
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


#: Keys whose value is a group of settings (`server` holds the VS Code-only settings the server never uses).
_SECTIONS = frozenset({"debugImage", "docker", "kubernetes", "session", "compose", "debugbox", "server"})


def _flatten(raw: Mapping[str, Any], problems: list[str], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in raw.items():
        if not isinstance(key, str):
            continue
        name = f"{prefix}{key}"
        if name.startswith("debugbox."):
            name = name[len("debugbox.") :]
        if name in _SECTIONS:
            if isinstance(value, Mapping):
                flat.update(_flatten(value, problems, "" if name == "debugbox" else f"{name}."))
            elif value is not None:  # `"docker": "fast"` would otherwise drop every docker.* value silently
                shown = _shown(value)
                what = "debugbox" if name == "debugbox" else f"debugbox.{name}"
                problems.append(f"invalid value for {what}: {shown} (expected an object of settings)")
        else:
            flat[name] = value
    return flat


def _shown(value: Any) -> str:
    return repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."


def _coerce(key: str, value: Any, default: Any) -> Any:
    """Return `value` as the type of `default`, or raise ValueError saying what is expected."""
    expected = "a JSON value of the right type"
    if isinstance(default, bool):
        expected = "a JSON boolean true or false, not a string"
        if isinstance(value, bool):
            return value
    elif isinstance(default, float):
        low, high = TIMEOUT_RANGE
        expected = f"a number of seconds from {low:g} to {high:g}"
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            if low <= value <= high:
                return float(value)
    elif isinstance(default, str):
        allowed = _ENUMS.get(key)
        check, expected = _STRING_CHECKS.get(key, (None, "a string"))
        if allowed is not None:
            expected = "one of " + ", ".join(allowed)
        if isinstance(value, str):
            if allowed is not None:
                if value in allowed:
                    return value
            elif check is None or (value == "" and default == ""):
                return value
            else:
                try:
                    check(value)
                    return value
                except InvalidTarget:
                    pass
    elif isinstance(default, tuple):
        expected = "a list of non-empty strings"
        if isinstance(value, list | tuple) and all(isinstance(v, str) and v for v in value):
            return tuple(value)
    raise ValueError(f"invalid value for debugbox.{key}: {_shown(value)} (expected {expected})")


TOOLBOX_IMAGES = "kubernetes.toolboxImages"
#: Bad entries named one by one; the rest are counted in one line.
_MAX_RULE_PROBLEMS = 5
_RULE_KEYS = ("context", "namespace", "image")
_RULE_EXPECTED = (
    'a list of {"context", "namespace", "image"} objects: image an image reference, context a kubeconfig '
    "context name and/or namespace a namespace name"
)


def _toolbox_rule(entry: Any) -> ToolboxImageRule:
    """One `toolboxImages` entry, or ValueError saying what is wrong with it. Unknown keys are refused: a typo
    (`"namespaces"`) would otherwise turn an entry for one namespace into one for every namespace."""
    if not isinstance(entry, Mapping):
        raise ValueError("not an object")
    unknown = sorted(str(k) for k in entry if k not in _RULE_KEYS)
    if unknown:
        raise ValueError(f"unknown key {_shown(unknown[0])}")
    values: dict[str, str] = {}
    for name in _RULE_KEYS:
        value = entry.get(name, "")
        if not isinstance(value, str):
            raise ValueError(f"{name} {_shown(value)} is not a string")
        check, what = _STRING_CHECKS["toolboxImage" if name == "image" else f"kubernetes.{name}"]
        if value or name == "image":
            try:
                check(value)
            except InvalidTarget:
                raise ValueError(f"{name} {_shown(value)} is not {what.removesuffix(', or empty')}") from None
        values[name] = value
    if not values["context"] and not values["namespace"]:
        raise ValueError("names neither a context nor a namespace (that is debugbox.toolboxImage)")
    return ToolboxImageRule(**values)


def _toolbox_rules(value: Any, problems: list[str]) -> tuple[ToolboxImageRule, ...]:
    """The valid entries; one message per entry left out (the others still apply)."""
    if not isinstance(value, list | tuple):
        problems.append(
            f"invalid value for debugbox.{TOOLBOX_IMAGES}: {_shown(value)} (expected {_RULE_EXPECTED})"
        )
        return ()
    rules: list[ToolboxImageRule] = []
    bad = 0
    for index, entry in enumerate(value):
        try:
            rules.append(_toolbox_rule(entry))
        except ValueError as exc:
            bad += 1
            if bad <= _MAX_RULE_PROBLEMS:
                problems.append(
                    f"invalid value for debugbox.{TOOLBOX_IMAGES}[{index}]: {_shown(entry)}: {exc} "
                    f"(expected {_RULE_EXPECTED}); entry ignored"
                )
    if bad > _MAX_RULE_PROBLEMS:  # a hostile list of thousands of entries is one more line, not thousands
        problems.append(
            f"invalid value for debugbox.{TOOLBOX_IMAGES}: {bad - _MAX_RULE_PROBLEMS} more entries ignored"
        )
    return tuple(rules)


@record
class ToolboxChoice:
    """The toolbox image for one pod, and the setting that decides it there (for the sentences that say
    what to change)."""

    image: str
    rule: ToolboxImageRule | None
    """The `toolboxImages` entry that matched; None: `debugbox.toolboxImage` (or its default)."""
    context: str
    namespace: str
    explicit: bool = False
    """The image was given for this one run (`--image`, a command's `image` argument)."""

    def fix(self) -> str:
        """What to change so another image is used for this context and namespace (a clause of a sentence)."""
        entry = json.dumps(
            {"context": self.context, "namespace": self.namespace, "image": "…"}, ensure_ascii=False
        )
        if self.rule is not None:
            how = (
                f"change the debugbox.{TOOLBOX_IMAGES} entry for {self.rule.describe()} to an image in a "
                "registry the cluster can pull from"
            )
        else:
            how = (
                f"add {entry} to debugbox.{TOOLBOX_IMAGES} (or set debugbox.toolboxImage) with an image in a "
                "registry the cluster can pull from"
            )
        return f"pass another --image, or {how}" if self.explicit else f"{how} (or pass --image)"


def toolbox_image_for(settings: Settings, context: str, namespace: str, given: str = "") -> ToolboxChoice:
    """The toolbox image for a pod in `namespace` of `context`: `given` (an explicit `--image`) wins; else the
    most specific matching `kubernetes.toolboxImages` entry (context and namespace, then context, then
    namespace; the first listed among equals); else `toolboxImage`."""
    matching = [r for r in settings.kubernetes.toolbox_images if r.matches(context, namespace)]
    rule = max(matching, key=lambda r: r.rank, default=None)  # max keeps the first of equal ranks
    if given:
        return ToolboxChoice(given, rule, context, namespace, explicit=True)
    return ToolboxChoice(rule.image if rule else settings.toolbox_image, rule, context, namespace)


def _build(cls: type[Any], flat: dict[str, Any], prefix: str, problems: list[str]) -> Any:
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        key = prefix + _camel(f.name)
        default = getattr(cls(), f.name)
        if dataclasses.is_dataclass(default):
            kwargs[f.name] = _build(type(default), flat, key + ".", problems)
        elif key == TOOLBOX_IMAGES and flat.get(key) is not None:
            kwargs[f.name] = _toolbox_rules(flat[key], problems)
        elif key in flat and flat[key] is not None:
            try:
                kwargs[f.name] = _coerce(key, flat[key], default)
            except ValueError as exc:
                problems.append(str(exc))
    return cls(**kwargs)


def parse_settings(raw: Any) -> tuple[Settings, list[str]]:
    """Settings from an editor payload, plus one message per value that was ignored."""
    problems: list[str] = []
    if raw is None:
        return Settings(), problems
    if not isinstance(raw, Mapping):
        return Settings(), [f"debugbox settings must be an object, got {type(raw).__name__}"]
    settings = _build(Settings, _flatten(raw, problems), "", problems)
    for problem in problems:
        log.warning("%s; using the default", problem)
    return settings, problems
