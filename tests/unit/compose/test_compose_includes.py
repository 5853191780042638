"""`extends:` and `include:` (core/compose/includes.py, read by edge/workspace.compose_related): inherited and
included services get facts, hovers, lenses and diagnostics; what is followed is bounded and stays in the
workspace. `extends` is checked against the real `docker-compose config` (1.29); `include` (which 1.29 does
not know) against the compose spec's text (14-include.md)."""

from __future__ import annotations

import os
from pathlib import Path, PurePath

import pytest
import yaml
from debugbox.core.compose.analysis import ComposeAnalysis, analyze, inspect_compose
from debugbox.core.compose.edits import plan_sidecar
from debugbox.core.compose.includes import MAX_DEPTH, MAX_FILES, resolve
from debugbox.core.compose.model import build_dockerfile, read_compose
from debugbox.core.settings import Settings
from debugbox.edge.workspace import compose_inputs, compose_related
from lsprotocol import types as lsp

from tests.unit.compose.compose_support import compose_config, run_merged_config

DISTROLESS = "gcr.io/distroless/static-debian12"


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def _analysis(root: Path, name: str = "compose.yaml", boundary: Path | None = None) -> ComposeAnalysis:
    path = root / name
    text = path.read_text()
    read = compose_inputs(text, path, boundary or root)
    return analyze(path.as_uri(), text, Settings(), None, read.dockerfiles, (), read.related)


EXTENDS = {
    "compose.yaml": (
        "services:\n"
        "  web:\n"
        "    extends:\n"
        "      file: common/base.yaml\n"
        "      service: app\n"
        "    command: [serve, --port, '80']\n"
        "  worker:\n"
        "    extends: web\n"
        "    container_name: the-worker\n"
        "  sidecar:\n"
        "    image: busybox\n"
        "    pid: service:worker\n"
        "  quiet:\n"
        "    extends: web\n"
        "    healthcheck:\n"
        "      disable: true\n"
    ),
    "common/base.yaml": (
        "services:\n"
        "  app:\n"
        "    build: ./app\n"
        "    pid: host\n"
        "    healthcheck:\n"
        "      test: curl -f http://localhost/\n"
        "    command: [old]\n"
    ),
    "common/app/Dockerfile": f"FROM {DISTROLESS}\n",
}


def test_extends_agrees_with_docker_compose_config(tmp_path: Path) -> None:
    _write(tmp_path, EXTENDS)
    analysis = _analysis(tmp_path)
    judged = compose_config(tmp_path, "compose.yaml")["services"]
    for service in analysis.compose.services:
        theirs = judged[service.name]
        assert (service.pid.value if service.pid else None) == theirs.get("pid"), service.name
        assert (service.image.value if service.image else None) == theirs.get("image"), service.name
        name = service.container_name.value if service.container_name else None
        assert name == theirs.get("container_name"), service.name
        commands = {c.key: list(c.words) for c in service.commands if c.key == "command"}
        assert commands.get("command") == theirs.get("command"), service.name
        if service.build is not None:  # the context is relative to the base's file, as compose has it
            found = build_dockerfile(PurePath(tmp_path), service.build)
            assert found is not None and str(PurePath(found.dockerfile).parent) == theirs["build"]["context"]
        else:
            assert "build" not in theirs
    # The inherited build's Dockerfile was read: its facts (no shell) make the inherited shell-form health
    # check an error, shown on the `extends:` of each service that inherits it.
    assert set(analysis.dockerfiles) == {"web", "worker", "quiet"}
    found = [(d.code, d.range.start.line) for d in analysis.diagnostics()]
    assert found == [("DBX301", 3), ("DBX301", 7)]  # not `quiet`: its own healthcheck turns the base's off
    assert judged["quiet"]["healthcheck"] == {"test": ["NONE"]}  # compose: no health check either
    hover = analysis.hover(lsp.Position(line=1, character=3))
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    assert "extends `app in common/base.yaml`" in hover.contents.value and DISTROLESS in hover.contents.value


INCLUDE = {
    "compose.yaml": (
        "include:\n"
        "  - db/compose.yaml\n"
        "  - path: [queue/compose.yaml]\n"
        "services:\n"
        "  api:\n"
        "    image: busybox\n"
        "    network_mode: service:postgres\n"
        "    pid: service:rabbit\n"
        "  debug:\n"
        "    image: busybox\n"
        "    pid: service:nowhere\n"
    ),
    # Relative paths of an included file are resolved against its own folder (14-include.md).
    "db/compose.yaml": "services:\n  postgres:\n    build: .\n",
    "db/Dockerfile": "FROM postgres:16\n",
    "queue/compose.yaml": "include:\n  - ../more/compose.yaml\nservices:\n  rabbit:\n    image: rabbitmq:3\n",
    "more/compose.yaml": "services:\n  cache:\n    image: redis:7\n",
}


def test_included_services_count_and_show_at_their_include_entry(tmp_path: Path) -> None:
    _write(tmp_path, INCLUDE)
    analysis = _analysis(tmp_path)
    assert [s.name for s in analysis.compose.included] == ["postgres", "rabbit", "cache"]
    # DBX302 only for the service that is nowhere.
    [missing] = analysis.diagnostics()
    assert (
        missing.code == "DBX302" and "service:nowhere" in missing.message and missing.range.start.line == 10
    )
    assert "nor in the files it includes" in missing.message and "postgres" in missing.message
    # The included build's Dockerfile is read relative to the included file.
    assert analysis.dockerfiles["postgres"][0] == str(tmp_path / "db" / "Dockerfile")
    hover = analysis.hover(lsp.Position(line=1, character=6))
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    assert "`postgres`" in hover.contents.value and "postgres:16" in hover.contents.value
    nested = analysis.hover(lsp.Position(line=2, character=14))
    assert nested is not None and isinstance(nested.contents, lsp.MarkupContent)
    assert "`rabbit`" in nested.contents.value and "`cache`" in nested.contents.value
    anchors = {(a.range.start.line, a.data["service"]): a.data for a in analysis.lens_anchors()}
    assert set(anchors) == {(4, "api"), (8, "debug"), (1, "postgres"), (2, "rabbit"), (2, "cache")}
    assert anchors[(1, "postgres")]["included"] == str(tmp_path / "db" / "compose.yaml")
    assert "dockerfile" not in anchors[(1, "postgres")]
    listed = inspect_compose(analysis, {})["services"]
    assert [(s["name"], s["included_from"]) for s in listed][-1] == (
        "cache",
        str(tmp_path / "more/compose.yaml"),
    )


def test_nothing_outside_the_workspace_or_through_a_link_out_is_read(tmp_path: Path) -> None:
    work, outside = tmp_path / "work", tmp_path / "outside"
    _write(outside, {"compose.yaml": "services:\n  secret:\n    image: busybox\n"})
    _write(
        work,
        {
            "compose.yaml": (
                "include:\n  - ../outside/compose.yaml\n  - linked/compose.yaml\n  - /etc/hostname\n"
                "  - oci://registry.invalid/app:1\n"
                "services:\n  api:\n    image: busybox\n    pid: service:secret\n"
                "    extends: {file: ../outside/compose.yaml, service: secret}\n"
            )
        },
    )
    os.symlink(outside, work / "linked")
    related, skipped = compose_related(
        read_compose((work / "compose.yaml").read_text()), work / "compose.yaml", work
    )
    assert related == {}
    assert set(skipped) == {str(outside / "compose.yaml"), str(work / "linked/compose.yaml"), "/etc/hostname"}
    assert all("outside the workspace" in why for why in skipped.values())
    analysis = _analysis(work)
    assert [d.code for d in analysis.diagnostics()] == ["DBX302"]  # `secret` was not read, so it is missing


def test_cycles_depth_and_count_are_bounded(tmp_path: Path) -> None:
    files = {
        "compose.yaml": (
            "include:\n  - compose.yaml\n  - a.yaml\nservices:\n  x:\n    extends: y\n  y:\n    extends: x\n"
        ),
        "a.yaml": "include:\n  - a.yaml\n  - compose.yaml\nservices:\n  z:\n    extends: {file: a.yaml, service: z}\n",
    }
    # A chain of includes longer than MAX_DEPTH, and more files than MAX_FILES.
    chain = [f"c{i}.yaml" for i in range(MAX_DEPTH + 3)]
    files["compose.yaml"] = files["compose.yaml"].replace("  - a.yaml\n", "  - a.yaml\n  - c0.yaml\n")
    for i, name in enumerate(chain):
        nxt = f"include:\n  - {chain[i + 1]}\n" if i + 1 < len(chain) else ""
        files[name] = f"{nxt}services:\n  s{i}:\n    image: busybox\n"
    _write(tmp_path, files)
    analysis = _analysis(tmp_path)
    names = [s.name for s in analysis.compose.included]
    assert "z" in names and "s0" in names and f"s{len(chain) - 1}" not in names
    assert len(names) == len(
        set(names)
    )  # a file included again (or including itself) gives its services once
    assert [s.name for s in analysis.compose.services] == ["x", "y"]
    many = "include:\n" + "".join(f"  - m{i}.yaml\n" for i in range(MAX_FILES + 4)) + "services: {}\n"
    _write(
        tmp_path,
        {
            "many.yaml": many,
            **{f"m{i}.yaml": f"services:\n  m{i}:\n    image: busybox\n" for i in range(MAX_FILES + 4)},
        },
    )
    related, _ = compose_related(read_compose(many), tmp_path / "many.yaml", tmp_path)
    assert len(related) == MAX_FILES
    assert len(resolve(read_compose(many), PurePath(tmp_path), related).included) <= MAX_FILES


@pytest.mark.parametrize(
    "extends", ["extends: 5", "extends: {file: common.yaml}", "extends: []", "extends: ''"]
)
def test_odd_extends_are_ignored(extends: str) -> None:
    compose = read_compose(f"services:\n  a:\n    image: busybox\n    {extends}\n")
    assert (
        resolve(compose, PurePath("/w"), {"/w/common.yaml": "services: {}\n"}).services[0].inherited is None
    )


def test_a_nul_in_a_path_is_not_read_and_not_a_crash(tmp_path: Path) -> None:
    text = (
        'include: ["a\\0b.yaml"]\nservices:\n  a:\n    build: "x\\0y"\n'
        '    extends: {file: "q\\0.yaml", service: a}\n'
    )
    _write(tmp_path, {"compose.yaml": text})
    analysis = _analysis(tmp_path)
    assert analysis.diagnostics() == [] and analysis.dockerfiles == {} and analysis.compose.included == []


OVERRIDE = {
    "docker-compose.yml": (
        f"services:\n  api:\n    image: {DISTROLESS}\n    container_name: the-api\n    profiles: [dev]\n"
        "  db:\n    image: postgres:16\n"
    ),
    "docker-compose.override.yml": (
        "services:\n  api:\n    network_mode: service:db\n    command: [sh, -c, serve]\n"
        "  cache:\n    image: redis\n    pid: service:db\n"
    ),
}


def test_an_override_file_is_read_over_its_base(tmp_path: Path) -> None:
    # Compose merges the override over the base: `db` is there, `api` runs the base's distroless image. The
    # override alone said DBX302 twice (compose starts it) and nothing about the shell `api` cannot start.
    _write(tmp_path, OVERRIDE)
    code, merged = run_merged_config(tmp_path, ("docker-compose.yml", "docker-compose.override.yml"), "dev")
    assert code == 0, merged
    api = yaml.safe_load(merged)["services"]["api"]
    assert (api["image"], api["network_mode"], api["command"]) == (
        DISTROLESS,
        "service:db",
        ["sh", "-c", "serve"],
    )
    override = tmp_path / "docker-compose.override.yml"
    override.write_text(override.read_text() + "    network_mode: service:gone\n")
    analysis = _analysis(tmp_path, "docker-compose.override.yml")
    found = [(d.range.start.line, d.code) for d in analysis.diagnostics()]
    assert found == [(3, "DBX301"), (7, "DBX302")]  # `command` in the override; `service:gone` is missing
    assert "nor in the base file it overrides" in analysis.diagnostics()[1].message
    api_facts = analysis.compose.service("api")
    assert api_facts is not None and api_facts.over == "api in docker-compose.yml"
    assert api_facts.container_name is not None and api_facts.container_name.value == "the-api"
    # What the base gives is located at the service's name in this file.
    assert analysis.lines.position(api_facts.image.start if api_facts.image else -1).line == 1
    # Its base is one of the analysis' inputs, as the files it includes are (a change there re-analyses it).
    assert str(tmp_path / "docker-compose.yml") in analysis.inputs
    assert str(tmp_path / "compose.yaml") in analysis.inputs  # looked for: creating it changes the result
    # The base file itself is not read over anything.
    assert [d.code for d in _analysis(tmp_path, "docker-compose.yml").diagnostics()] == []


def test_the_sidecar_of_an_override_takes_a_name_its_base_leaves_free(tmp_path: Path) -> None:
    # `debug-api` is the base file's own service: a `debug-api` added to the override would be merged into it
    # (compose kept its command under the toolbox image). The new one is `debug-api-2`.
    _write(
        tmp_path,
        {
            "compose.yaml": "services:\n  api:\n    image: busybox\n  debug-api:\n    image: busybox\n"
            "    command: [my, own, debugger]\n",
            "compose.override.yaml": "services:\n  api:\n    environment: {A: b}\n",
        },
    )
    analysis = _analysis(tmp_path, "compose.override.yaml")
    planned = plan_sidecar(analysis.compose, "api", "nicolaka/netshoot")
    assert planned.service == "debug-api-2"
    (tmp_path / "compose.override.yaml").write_text(planned.text)
    code, merged = run_merged_config(tmp_path, ("compose.yaml", "compose.override.yaml"), "debug")
    assert code == 0, merged
    services = yaml.safe_load(merged)["services"]
    assert services["debug-api"] == {"image": "busybox", "command": ["my", "own", "debugger"]}
    assert services["debug-api-2"]["pid"] == "service:api"


def test_a_variant_file_is_read_alone_only_when_compose_can_use_it_alone(tmp_path: Path) -> None:
    # `docker-compose.ci.yml` whose services all run alone may be used alone (`-f docker-compose.ci.yml`): its
    # `api` does not take the base's shell command (no DBX301 for a command compose would not run with it) nor
    # its `container_name`. Once it has a `worker` that sets neither image nor build, compose refuses it alone:
    # it is only ever used over the base, where `api` does run the base's shell command on its distroless image
    # (debugbox read `api` alone there too, and said nothing about a container that cannot start).
    _write(
        tmp_path,
        {
            "docker-compose.yml": "services:\n  api:\n    image: alpine\n    command: [sh, -c, serve]\n"
            "    container_name: prod-api\n  worker:\n    image: alpine\n    container_name: prod-worker\n",
            "docker-compose.ci.yml": f"services:\n  api:\n    image: {DISTROLESS}\n",
        },
    )
    code, alone = run_merged_config(tmp_path, ("docker-compose.ci.yml",))
    assert code == 0 and "command" not in yaml.safe_load(alone)["services"]["api"], alone
    analysis = _analysis(tmp_path, "docker-compose.ci.yml")
    assert analysis.diagnostics() == []
    (api,) = analysis.compose.services
    assert api.over is None and api.container_name is None

    ci = tmp_path / "docker-compose.ci.yml"
    ci.write_text(ci.read_text() + "  worker:\n    environment: {CI: '1'}\n")
    code, refused = run_merged_config(tmp_path, ("docker-compose.ci.yml",))
    assert code != 0 and "neither an image nor a build context" in refused, refused
    code, merged = run_merged_config(tmp_path, ("docker-compose.yml", "docker-compose.ci.yml"))
    assert code == 0, merged
    services = yaml.safe_load(merged)["services"]
    assert (services["api"]["image"], services["api"]["command"]) == (DISTROLESS, ["sh", "-c", "serve"])
    assert services["worker"]["container_name"] == "prod-worker"
    analysis = _analysis(tmp_path, "docker-compose.ci.yml")
    assert [(d.range.start.line, d.code) for d in analysis.diagnostics()] == [(1, "DBX301")]
    api, worker = analysis.compose.services
    assert api.over == "api in docker-compose.yml" and api.container_name is not None
    assert worker.over == "worker in docker-compose.yml" and worker.container_name is not None


@pytest.mark.parametrize(
    ("name", "extra", "found"),
    [
        # May be used alone: compose refuses it alone and starts it with `-f compose.yaml -f compose.prod.yaml`.
        ("compose.prod.yaml", "", [(4, "DBX302", lsp.DiagnosticSeverity.Warning)]),
        # A service that cannot run alone: the file is only used over the base, where `db` is.
        ("compose.prod.yaml", "  api:\n    environment: {A: b}\n", []),
        # compose merges the override over compose.yaml by itself.
        ("compose.override.yaml", "", []),
    ],
    ids=["variant-alone", "variant-over-base", "override"],
)
def test_a_service_only_the_base_file_has(
    tmp_path: Path, name: str, extra: str, found: list[tuple[int, str, lsp.DiagnosticSeverity]]
) -> None:
    _write(
        tmp_path,
        {
            "compose.yaml": "services:\n  db:\n    image: postgres:16\n  api:\n    image: busybox\n",
            name: "services:\n  monitor:\n    image: busybox\n    command: [sleep, '1000']\n"
            f"    pid: service:db\n{extra}",
        },
    )
    code, out = run_merged_config(tmp_path, ("compose.yaml", name))
    assert code == 0, out
    if name != "compose.override.yaml":
        code, out = run_merged_config(tmp_path, (name,))
        assert code != 0 and "which is undefined" in out, out  # alone, `db` is not there
    analysis = _analysis(tmp_path, name)
    diagnostics = analysis.diagnostics()
    assert [(d.range.start.line, d.code, d.severity) for d in diagnostics] == found
    if found:
        assert diagnostics[0].message == (
            "pid: service:db names a service of compose.yaml, not of this file: compose finds it only with both "
            "files (`docker compose -f compose.yaml -f compose.prod.yaml`); with this file alone it refuses to "
            "start monitor."
        )
        assert analysis.compose.base_only == {"db": "compose.yaml", "api": "compose.yaml"}
        assert analysis.compose.base_services == {}


def test_a_base_file_naming_a_service_only_its_override_has(tmp_path: Path) -> None:
    # `docker compose` without `-f` merges compose.override.yaml over compose.yaml: `api` shares the PID
    # namespace of the override's `tracer` there, and only `-f compose.yaml` alone refuses it. debugbox said
    # "compose refuses to start api", an error, for the way the folder is normally started.
    _write(
        tmp_path,
        {
            "compose.yaml": "services:\n  api:\n    image: busybox\n    pid: service:tracer\n",
            "compose.override.yaml": "services:\n  tracer:\n    image: busybox\n",
        },
    )
    code, out = run_merged_config(tmp_path, ())
    assert code == 0 and yaml.safe_load(out)["services"]["api"]["pid"] == "service:tracer", out
    code, out = run_merged_config(tmp_path, ("compose.yaml",))
    assert code != 0 and "which is undefined" in out, out
    analysis = _analysis(tmp_path)
    (found,) = analysis.diagnostics()
    assert (found.range.start.line, found.code, found.severity) == (
        3,
        "DBX302",
        lsp.DiagnosticSeverity.Warning,
    )
    assert found.message == (
        "pid: service:tracer names a service of compose.override.yaml, not of this file: compose finds it when it "
        "merges compose.override.yaml by itself (`docker compose` without `-f`); with `-f compose.yaml` alone it "
        "refuses to start api."
    )
    assert str(tmp_path / "compose.override.yaml") in analysis.inputs  # a change there re-analyses it
    (tmp_path / "compose.override.yaml").unlink()
    assert [d.severity for d in _analysis(tmp_path).diagnostics()] == [lsp.DiagnosticSeverity.Error]
