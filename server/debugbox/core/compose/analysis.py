"""`analyze(uri, text, settings, previous, dockerfiles)`: one compose file version → diagnostics, the debug
sidecar action, hover and code-lens anchors.

What a service's container has (a shell or not) comes from the image table (`core/images.py`) for `image:`
services, and from the Dockerfile analysis (`core/dockerfile/`, the stage `build.target` names, else the final
one) for `build:` services, whose Dockerfile texts the caller read (`dockerfiles`, by service name; the core
never reads the disk). Codes (docs/diagnostics.md):

- DBX301 (error) a `healthcheck` test that runs `/bin/sh -c` (a string, or `CMD-SHELL`), or a `command` /
  `entrypoint` that starts a shell (`sh -c …`), for a service whose image has no `/bin/sh`.
- DBX302 (error) `pid: service:x` / `network_mode: service:x` naming a service that is not in the file nor in
  a file it includes (a name with a variable, `service:${DB:-db}`, is the environment's: not checked); a
  warning when `x` is in the base file of a variant that may be used alone (found only with `-f base -f it`).

`extends:` is followed and included services are added (`core/compose/includes.py`) from the other files the
caller read (`related`); the sidecar action's form follows `debugbox.compose.engine` (`core/compose/edits.py`):
one action per compose implementation installed with `auto` (`installed`, as the caller found them), and
for nerdctl the debug terminal of the service instead of an edit.
- DBX303 (warning) the file does not parse.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

from lsprotocol import types as lsp

from debugbox.core import markdown as md
from debugbox.core.analysis import Action, ActionContext, Analysis, LensAnchor
from debugbox.core.compose.edits import (
    ENGINE_LABELS,
    ENGINE_NOTES,
    NERDCTL_NOTE,
    engine_forms,
    plan_sidecar,
    sidecar_name,
    verification_may_refuse,
)
from debugbox.core.compose.includes import base_files, references, resolve
from debugbox.core.compose.model import (
    ComposeFile,
    Lines,
    Service,
    build_dockerfile,
    interpolate_unset,
    read_compose,
)
from debugbox.core.dockerfile.analysis import hover_markdown
from debugbox.core.dockerfile.rules import lacks_bin_sh
from debugbox.core.dockerfile.stages import DockerfileModel, Stage, analyze_text
from debugbox.core.images import ImageInfo, classify_image
from debugbox.core.kubernetes.edits import Refused
from debugbox.core.settings import Settings
from debugbox.core.wire import SOURCE, Command

SHELL_FORM = "DBX301"
MISSING_SERVICE = "DBX302"
SYNTAX = "DBX303"
SIDECAR_TITLE = "Add a debug sidecar service (profile debug)"
TERMINAL_TITLE = "Debug service {service} in a terminal (nerdctl compose has no `service:` namespaces)"
LENS_PURPOSE = "compose-service"
_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh"})
#: The service names a DBX302 message offers at most.
_NAMED = 12
_BIN_SH = frozenset({"/bin/sh", "/bin/bash"})


@dataclass(frozen=True, slots=True)
class ServiceFacts:
    """What the container of a service runs: from its Dockerfile's stage, else its image."""

    label: str
    info: ImageInfo
    stage: Stage | None = None
    model: DockerfileModel | None = None

    @property
    def lacks_sh(self) -> bool:
        if self.stage is not None:
            return lacks_bin_sh(self.stage)
        info = self.info
        if info.family == "windows":
            return False
        return info.has_shell is False or (info.has_shell is True and info.shell not in _BIN_SH)


def service_facts(service: Service, dockerfile: str | None) -> ServiceFacts | None:
    """The facts of `service` (`dockerfile`: the text of its build's Dockerfile, when the caller read it)."""
    if service.build is not None and dockerfile is not None:
        model = analyze_text(dockerfile)
        stage = model.final
        if service.build.target is not None:
            stage = next((s for s in model.stages if s.name == service.build.target), None)
        if stage is not None:
            return ServiceFacts(stage.image or stage.from_text, stage.info, stage, model)
        return None
    if service.build is None and service.image is not None:
        return ServiceFacts(service.image.value, classify_image(service.image.value))
    return None


def _diag(rng: lsp.Range, severity: lsp.DiagnosticSeverity, code: str, message: str) -> lsp.Diagnostic:
    return lsp.Diagnostic(range=rng, message=message, severity=severity, code=code, source=SOURCE)


def _found_with_another_file(
    compose: ComposeFile, reference: str, other: str, service: str, own_name: str
) -> str | None:
    """Why `reference` to `other` works in one way of running this file and not in another, when `other` is a
    service of the file compose merges with it (a DBX302 warning), or None."""
    override, base = compose.override_only.get(other), compose.base_only.get(other)
    if override is not None:
        # compose merges the override by itself; `-f` naming only this file leaves it out.
        where, alone = override, f"`-f {own_name}`"
        how = f"when it merges {override} by itself (`docker compose` without `-f`)"
    elif base is not None:  # a variant that may be used alone
        where, alone = base, "this file"
        how = f"only with both files (`docker compose -f {base} -f {own_name}`)"
    else:
        return None
    return (
        f"{reference} names a service of {where}, not of this file: compose finds it {how}; with {alone} alone "
        f"it refuses to start {service}."
    )


def findings(
    compose: ComposeFile, facts: Mapping[str, ServiceFacts], lines: Lines, own_name: str = "FILE"
) -> list[lsp.Diagnostic]:
    """The diagnostics of `compose` (named `own_name`, for the `-f` command a message gives)."""
    out: list[lsp.Diagnostic] = []
    if compose.error is not None:
        pos = lsp.Position(line=compose.error.line, character=compose.error.col)
        message = f"This compose file is not valid YAML: {compose.error.message}."
        out.append(_diag(lsp.Range(start=pos, end=pos), lsp.DiagnosticSeverity.Warning, SYNTAX, message))
        return out
    names = {s.name for s in (*compose.services, *compose.included)} | set(compose.base_services)
    # Named once for every DBX302, and at most `_NAMED` of them: a message listing them all made a file of
    # thousands of services with broken references publish hundreds of megabytes.
    shown = sorted(names)
    more = f" (and {len(shown) - _NAMED} more)" if len(shown) > _NAMED else ""
    choices = (", ".join(shown[:_NAMED]) or "no services") + more
    elsewhere = " nor in the files it includes" if compose.includes else ""
    if compose.base_services:
        elsewhere += " nor in the base file it overrides"
    for service in compose.services:
        for key, value in (("pid", service.pid), ("network_mode", service.network_mode)):
            if value is not None and value.value.startswith("service:"):
                other = value.value.removeprefix("service:")
                # `service:${DB:-db}` names what the environment says: compose interpolates it, debugbox cannot.
                if other in names or interpolate_unset(other).variables:
                    continue
                rng = lines.range(value.start, value.end)
                reference = f"{key}: service:{other}"
                warning = _found_with_another_file(compose, reference, other, service.name, own_name)
                if warning is not None:
                    out.append(_diag(rng, lsp.DiagnosticSeverity.Warning, MISSING_SERVICE, warning))
                    continue
                message = (
                    f"{reference} names a service that is not in this file{elsewhere}: compose refuses to "
                    f"start {service.name}. Use one of: {choices}."
                )
                out.append(_diag(rng, lsp.DiagnosticSeverity.Error, MISSING_SERVICE, message))
        fact = facts.get(service.name)
        if fact is None or not fact.lacks_sh:
            continue
        where = (
            "has no shell"
            if fact.info.has_shell is False
            else f"has its shell at {fact.info.shell}, not /bin/sh"
        )
        for command in service.commands:
            shell = command.shell or (bool(command.words) and posixpath.basename(command.words[0]) in _SHELLS)
            if not shell:
                continue
            what = (
                "the health check runs /bin/sh -c"
                if command.shell
                else f"{command.key} starts {command.words[0]}"
            )
            consequence = (
                "the health check will always fail" if command.shell else "the container will not start"
            )
            fix = (
                'Use the exec form: test: ["CMD", "/app", "--health"].'
                if command.shell
                else "Run the program directly, without a shell."
            )
            message = f"In service {service.name}, {what}, but {fact.label} {where}: {consequence}. {fix}"
            rng = lines.range(command.where.start, command.where.end)
            out.append(_diag(rng, lsp.DiagnosticSeverity.Error, SHELL_FORM, message))
    return out


def service_hover(service: Service, fact: ServiceFacts | None, dockerfile_path: str | None) -> str:
    lines = [f"**Compose service {md.code(service.name)}**", ""]
    if service.origin is not None:
        lines.append(f"- included from {md.code(service.origin)}")
    if service.inherited is not None:
        lines.append(f"- extends {md.code(service.inherited)}")
    if service.over is not None:
        lines.append(f"- overrides {md.code(service.over)}")
    if service.build is not None:
        where = md.code(dockerfile_path) if dockerfile_path else "a Dockerfile debugbox did not read"
        lines.append(
            f"- builds {where}" + (f", stage {md.code(service.build.target)}" if service.build.target else "")
        )
    if service.image is not None:
        lines.append(f"- image: {md.code(service.image.value)}")
    if fact is not None and fact.stage is not None and fact.model is not None:
        lines += ["", hover_markdown(fact.stage, fact.model)]
    elif fact is not None:
        info = fact.info
        shell = {True: "yes", False: "no", None: "unknown"}[info.has_shell]
        lines.append(f"- family: {md.text(info.family)}")
        lines.append(f"- shell: {shell}" + (f" ({md.code(info.shell)})" if info.shell else ""))
        lines.append(f"- user: {md.code(info.default_user)}" if info.default_user else "- user: not known")
    return "\n".join(lines)


class ComposeAnalysis(Analysis):
    def __init__(
        self,
        uri: str,
        text: str,
        settings: Settings,
        dockerfiles: Mapping[str, tuple[str, str]] | None = None,
        installed: Collection[str] = (),
        related: Mapping[str, str] | None = None,
        folder_name: str | None = None,
    ) -> None:
        self.uri, self.text, self.settings = uri, text, settings
        self.installed = frozenset(installed)
        """The compose implementations installed (for `debugbox.compose.engine` = auto; the caller looked)."""
        path = PurePosixPath(unquote(urlparse(uri).path))
        folder = path.parent
        self.folder_name = folder_name or folder.name
        """The compose file's folder's name after following links (the caller looked; else the URI's), which
        podman-compose makes the project's name (`os.path.realpath` of the file's folder)."""
        # `extends:` followed, included services added, an override read over its base files, from the files
        # the caller read (`related`).
        own = read_compose(text)
        bases = base_files(path)
        self.compose = resolve(own, folder, related or {}, bases)
        self.lines = Lines(text)
        self.dockerfiles = dict(dockerfiles or {})
        self.facts: dict[str, ServiceFacts] = {}
        for service in (*self.compose.services, *self.compose.included):
            read = self.dockerfiles.get(service.name)
            fact = service_facts(service, read[1] if read else None)
            if fact is not None:
                self.facts[service.name] = fact
        self._diagnostics = findings(self.compose, self.facts, self.lines, path.name)
        built = (
            build_dockerfile(folder, s.build)
            for s in self.compose.services + self.compose.included
            if s.build
        )
        self.inputs = frozenset(
            [str(b.dockerfile) for b in built if b is not None]
            + [str(p) for p in (*references(own, folder), *bases.paths, *bases.overrides)]
            + list(related or {})
        )
        """The files on disk this analysis read or looked for (Dockerfiles, included and extended files): when
        one changes, the compose file is analysed again (`lsp/handlers/watched_files.py`)."""
        self._sidecars: dict[tuple[str, str, str, bool, bool], Action] = {}

    def diagnostics(self) -> Sequence[lsp.Diagnostic]:
        return self._diagnostics

    def service_at(self, position: lsp.Position) -> Service | None:
        for service in self.compose.services:
            rng = self.lines.range(service.start, service.end)
            if (
                (rng.start.line, rng.start.character)
                <= (position.line, position.character)
                <= (
                    rng.end.line,
                    rng.end.character,
                )
            ):
                return service
        return None

    def actions(self, rng: lsp.Range, context: ActionContext) -> Sequence[Action]:
        service = self.service_at(rng.start)
        kind = lsp.CodeActionKind.RefactorRewrite.value
        if service is None or (
            context.only is not None and not any(kind.startswith(o) for o in context.only)
        ):
            return ()
        forms = engine_forms(context.settings.compose.engine, self.installed)
        # Checking the edit loads the whole file twice (seconds for thousands of services): a client that
        # resolves actions gets it unchecked where the check cannot refuse it, and checked when chosen.
        defer = context.defer_checks and not verification_may_refuse(self.compose)
        image = context.settings.toolbox_image
        actions = (
            self.terminal_action(service.name)
            if form == "nerdctl"
            else self.sidecar_action(service.name, image, form, len(forms) > 1, defer, context.wanted)
            for form in forms
        )
        return tuple(a for a in actions if a is not None)

    def sidecar_action(
        self,
        service: str,
        image: str,
        engine: str = "docker",
        named: bool = False,
        defer: bool = False,
        wanted: str | None = None,
    ) -> Action | None:
        """The action for `service` in `engine`'s form (`named`: say which implementation, as when several are
        offered); computed once per image: an editor asks again on every cursor move. `defer`: without the
        independent check (and the edit), which comes when it is chosen; `wanted`: None unless its title is that
        one (the action being resolved)."""
        label = f" for {ENGINE_LABELS[engine]}" if named or engine != "docker" else ""
        title = f"{SIDECAR_TITLE}{label}: {sidecar_name(self.compose, service)}"
        if wanted is not None and wanted != title:
            return None
        key = (service, image, engine, named, defer)
        if key not in self._sidecars:
            kind = lsp.CodeActionKind.RefactorRewrite.value
            try:
                planned = plan_sidecar(
                    self.compose, service, image, engine, self.folder_name, verify=not defer
                )
            except Refused as exc:
                self._sidecars[key] = Action(title=title, kind=kind, disabled_reason=str(exc))
            else:
                edit = planned.edit
                text_edit = lsp.TextEdit(range=self.lines.range(edit.start, edit.end), new_text=edit.text)
                edits = () if defer else (text_edit,)
                self._sidecars[key] = Action(title=title, kind=kind, edits=edits, deferred=defer)
        return self._sidecars[key]

    def terminal_action(self, service: str) -> Action:
        """For nerdctl compose: the debug terminal on the service's running container instead of an edit."""
        return Action(
            title=TERMINAL_TITLE.format(service=service),
            kind=lsp.CodeActionKind.RefactorRewrite.value,
            command=Command.OPEN_DEBUG_TERMINAL.value,
            arguments=({"uri": self.uri, "service": service},),
        )

    def hover(self, position: lsp.Position) -> lsp.Hover | None:
        """On a service's name; on an `include:` entry, each service that file gives."""
        found: list[str] = []
        at: lsp.Range | None = None
        for service in (*self.compose.services, *self.compose.included):
            rng = self.lines.range(service.key.start, service.key.end)
            if (
                rng.start.line == position.line
                and rng.start.character <= position.character <= rng.end.character
            ):
                read = self.dockerfiles.get(service.name)
                found.append(service_hover(service, self.facts.get(service.name), read[0] if read else None))
                at = rng
        if at is None:
            return None
        value = "\n\n---\n\n".join(found)
        return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=value), range=at)

    def lens_anchors(self) -> Sequence[LensAnchor]:
        """One per service at its name; an included service's at its `include:` entry, marked `included`."""
        out = []
        for service in (*self.compose.services, *self.compose.included):
            data: dict[str, Any] = {"uri": self.uri, "service": service.name, "project": self.compose.name}
            read = self.dockerfiles.get(service.name)
            if service.origin is not None:
                data["included"] = service.origin
            elif read is not None:
                data["dockerfile"] = read[0]
            rng = self.lines.range(service.key.start, service.key.end)
            out.append(LensAnchor(range=rng, purpose=LENS_PURPOSE, data=data))
        return out


def analyze(
    uri: str,
    text: str,
    settings: Settings,
    previous: Analysis | None = None,
    dockerfiles: Mapping[str, tuple[str, str]] | None = None,
    installed: Collection[str] = (),
    related: Mapping[str, str] | None = None,
    folder_name: str | None = None,
) -> ComposeAnalysis:
    """Analyse one compose file version; `dockerfiles` maps a `build:` service to (path, text) of its
    Dockerfile, as the caller read it; `installed`: the compose implementations installed; `related`: the
    files it includes or extends, as the caller read them (`core/compose/includes.py`); `folder_name`: the name
    of the file's folder after following links, as the caller found it. `previous` is not needed (compose files
    are small)."""
    del previous
    return ComposeAnalysis(uri, text, settings, dockerfiles, installed, related, folder_name)


def inspect_compose(analysis: ComposeAnalysis, skipped: Mapping[str, str]) -> dict[str, Any]:
    """What `debugbox inspect` prints for a compose file (schema in docs/cli.md): each service with its image
    or build, and what its container has (from the Dockerfile's stage or the image table)."""
    services = []
    for service in (*analysis.compose.services, *analysis.compose.included):
        fact = analysis.facts.get(service.name)
        read = analysis.dockerfiles.get(service.name)
        build = service.build
        entry: dict[str, Any] = {
            "name": service.name,
            "line": analysis.lines.position(service.key.start).line + 1,
            "image": service.image.value if service.image else None,
            "build": None
            if build is None
            else {
                "context": build.context,
                "dockerfile": read[0] if read else build.dockerfile,
                "target": build.target,
                "read": read is not None,
                "why_not_read": skipped.get(service.name),
            },
            "base": fact.label if fact else None,
            "family": fact.info.family if fact else None,
            "shell": fact.info.shell if fact and fact.info.has_shell else None,
            "has_shell": fact.info.has_shell if fact else None,
            "user": (fact.stage.user if fact and fact.stage and fact.stage.user else None)
            or (fact.info.default_user if fact else None),
            "pid": service.pid.value if service.pid else None,
            "network_mode": service.network_mode.value if service.network_mode else None,
            "profiles": list(service.profiles),
            "extends": service.inherited,
            "included_from": service.origin,
        }
        services.append(entry)
    error = analysis.compose.error
    names = {entry["name"] for entry in services}
    return {
        "kind": "compose",
        "name": analysis.compose.name,
        "services": services,
        "files_not_read": {
            k: v for k, v in skipped.items() if k not in names and k not in analysis.dockerfiles
        },
        "error": None if error is None else {"line": error.line + 1, "message": error.message},
    }


__all__ = [
    "ENGINE_NOTES",
    "NERDCTL_NOTE",
    "ComposeAnalysis",
    "analyze",
    "findings",
    "inspect_compose",
    "service_facts",
]
