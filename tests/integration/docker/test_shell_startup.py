"""What `debugbox shell` loads before it execs the engine's CLI: every module is time a terminal waits for
(benchmarks/bench_session.py measures it; the target is at most +10 % over the same `docker run` by hand).
The heavy parts of the standard library and every optional dependency stay out of that path."""

from __future__ import annotations

import json
import textwrap

from debugbox.core.targets.process_identity import may_remap, remapped_root

from tests.conftest import python_answer
from tests.integration.docker.engine import DISTROLESS, TOOLBOX, Containers, docker

#: Modules the container path must not import: logging (deferred_log), shutil and the compression modules
#: (argparse's formatter, which programs are installed), subprocess (no CLI runs before the exec), the
#: http.client/email/ssl stack (engine_http), the language server's and Kubernetes' dependencies, the other
#: subcommands (only the chosen one's parser is built), the document patterns (a listing's, not a session's)
#: and the thread pool (listings ask backends in parallel; a session asks one). `inspect` itself stays a
#: stand-in (`cli.defer_import`): `ast`, `dis` and `tokenize` are what importing it for real would load.
NOT_ON_THE_PATH = (
    "ast",
    "dis",
    "tokenize",
    "logging",
    "shutil",
    "bz2",
    "lzma",
    "subprocess",
    "http.client",
    "email",
    "ssl",
    "yaml",
    "lsprotocol",
    "pygls",
    "debugbox.edge.kube_backend",
    "debugbox.core.documents",
    "debugbox.core.dockerfile",
    "debugbox.cli.check",
    "debugbox.cli.inspect",
    "debugbox.cli.lsp",
    "concurrent.futures",
)


def test_shell_on_a_container_imports_none_of_the_heavy_modules(containers: Containers) -> None:
    target = containers.run(DISTROLESS)
    code = textwrap.dedent(
        f"""
        import contextlib, io, json, sys
        from debugbox.cli import main
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(["shell", {target!r}, "--image", {TOOLBOX!r}, "--print"])
        # A frozen dataclass compiles six methods as it is defined; a record (core/records.py) one.
        frozen = sorted(
            f"{{module.__name__}}.{{name}}"
            for module in list(sys.modules.values())
            if getattr(module, "__name__", "").startswith("debugbox")
            for name, value in vars(module).items()
            if isinstance(value, type) and value.__module__ == module.__name__
            and getattr(getattr(value, "__dataclass_params__", None), "frozen", False)
        )
        print(json.dumps({{"code": code, "argv": json.loads(out.getvalue()), "frozen": frozen,
                          "loaded": sorted(m for m in {NOT_ON_THE_PATH!r} if m in sys.modules)}}))
        """
    )
    answer = python_answer(code)
    # The plan is the real one (a sidecar joining the target's namespaces), so the path measured is the real one.
    assert answer["code"] == 0
    assert any(word.startswith("--pid") for word in answer["argv"]), answer["argv"]
    assert answer["loaded"] == [], answer["loaded"]
    # The record types on this path are `core.records.record`s, not frozen dataclasses.
    assert answer["frozen"] == [], answer["frozen"]


def test_a_root_target_on_a_daemon_without_remap_is_planned_without_asking_get_info(
    containers: Containers,
) -> None:
    """`GET /info` is the slowest engine call (~10 ms): the target's own paths rule the remap out here."""
    target = containers.run(DISTROLESS)
    code = textwrap.dedent(
        f"""
        import contextlib, io, json
        from debugbox.cli import main
        from debugbox.edge import engine_api
        asked = []
        request = engine_api.EngineClient.request
        def recorded(self, method, path, *args, **kwargs):
            asked.append(path.split("?")[0])
            return request(self, method, path, *args, **kwargs)
        engine_api.EngineClient.request = recorded
        with contextlib.redirect_stdout(io.StringIO()):
            code = main(["shell", {target!r}, "--image", {TOOLBOX!r}, "--print"])
        print(json.dumps({{"code": code, "asked": asked}}))
        """
    )
    answer = python_answer(code)
    assert answer["code"] == 0
    assert f"/containers/{target}/json" in answer["asked"] and "/info" not in answer["asked"], answer
    # What it relies on, from this real daemon: the target's paths rule the remap out, and the daemon agrees.
    inspect = json.loads(docker("inspect", target))[0]
    assert may_remap(inspect) is False, inspect["HostsPath"]
    assert remapped_root(json.loads(docker("info", "--format", "{{json .}}"))) is None
