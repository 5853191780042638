"""Running engine CLIs with a timeout, finding them safely, and detecting the `docker debug` plugin.

`resolve_program` is the one place that turns a program name (`docker`, `kubectl`, `podman`, `nerdctl`) into
the absolute path that is executed — by the server's own calls (`run_cli`), by the editor's terminal
(`debugbox/openTerminal`) and by `debugbox shell`. Only PATH's absolute folders are searched and workspace
folders never are, so a `./docker` in a cloned repository can never be what runs (an editor's terminal or
`execvp` would otherwise look a bare name up itself, relative PATH entries included).

`docker debug --help` exits 0 even when the plugin is missing (it prints the top-level usage), so the
detection looks for a `docker-debug` executable where the CLI loads plugins from, and only then confirms with
the help text, whose `Usage:` line must name `docker debug`. The answer is cached for a few minutes: it costs
a process start.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from debugbox.core.errors import RuntimeUnavailable
from debugbox.edge import files

_PLUGIN_DIRS = (
    "/usr/local/lib/docker/cli-plugins",
    "/usr/local/libexec/docker/cli-plugins",
    "/usr/lib/docker/cli-plugins",
    "/usr/libexec/docker/cli-plugins",
)
_USAGE = r"^Usage:\s+docker debug\b"  # compiled when a plugin is found (re caches it), not at import
_CACHE_SECONDS = 300.0
_cache: dict[tuple[str, ...], tuple[float, bool]] = {}
_lock = threading.Lock()
_never_searched: Callable[[], Sequence[Path]] = tuple


def never_search(folders: Callable[[], Sequence[Path]]) -> None:
    """Register where programs are never looked up, on top of each call's `exclude`: the language server's
    workspace folders (read at each lookup, so folders added later count), also for its own `run_cli` calls."""
    global _never_searched
    _never_searched = folders


class ProgramMissing(RuntimeUnavailable):
    """The program to run is not installed: not to be read as an answer of that program ("not found")."""


def resolve_program(
    argv: Sequence[str], *, exclude: Sequence[Path] = (), path: str | None = None
) -> tuple[str, ...]:
    """`argv` with argv[0] made absolute: the first executable file of that name in PATH's absolute folders.

    Relative PATH entries (`.`, an empty entry, `bin`) are skipped, and so is any folder inside `exclude` (the
    workspace folders). An argv[0] that is already absolute is kept unless it lies in `exclude`; a relative
    path (`./docker`) is refused. RuntimeUnavailable says why when nothing qualifies.
    """
    if not argv:
        raise RuntimeUnavailable("nothing to run (an empty command)")
    name = argv[0]
    roots = [Path(os.path.realpath(r)) for r in (*exclude, *_never_searched())]

    def excluded(folder: str) -> bool:
        real = Path(os.path.realpath(folder))
        return any(real.is_relative_to(r) for r in roots)

    if os.path.isabs(name):
        if excluded(os.path.dirname(name)):
            raise RuntimeUnavailable(f"refusing to run {name}: it lies inside the workspace")
        return tuple(argv)
    if os.sep in name or (os.altsep and os.altsep in name):
        raise RuntimeUnavailable(f"refusing to run {name}: a relative path (name a program on PATH instead)")
    folders = (os.environ.get("PATH", os.defpath) if path is None else path).split(os.pathsep)
    for folder in folders:
        if not folder or not os.path.isabs(folder) or excluded(folder):
            continue
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return (candidate, *argv[1:])
    raise ProgramMissing(
        f"{name} is not installed (not found in the absolute folders of PATH, workspace folders excluded)"
    )


def find_program(name: str) -> str | None:
    """Where `resolve_program` would find `name` (the same folders, the same refusals), or None. Used for "is it
    installed" questions, so the answer matches what would run (`shutil.which` also searches relative PATH
    entries such as `.`)."""
    try:
        return resolve_program((name,))[0]
    except RuntimeUnavailable:
        return None


def run_cli(argv: Sequence[str], timeout: float, what: str) -> str:
    """stdout of `argv`; RuntimeUnavailable when the CLI is missing, times out or fails (with its stderr)."""
    try:
        resolved = resolve_program(argv)
    except ProgramMissing as exc:
        raise ProgramMissing(f"{what}: {exc}") from exc
    except RuntimeUnavailable as exc:
        raise RuntimeUnavailable(f"{what}: {exc}") from exc
    import subprocess  # here: `debugbox shell` on a container runs no CLI before its exec, and need not load it

    try:
        proc = subprocess.run(
            list(resolved),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError as exc:
        raise ProgramMissing(f"{what}: {argv[0]} is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise RuntimeUnavailable(
            f"{what}: `{' '.join(argv[:3])}` did not finish within {timeout:g} s"
        ) from exc
    if proc.returncode != 0:
        detail = (
            proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit code {proc.returncode}"
        )
        raise RuntimeUnavailable(f"{what}: {detail}")
    return proc.stdout


def plugin_dirs(env: Mapping[str, str], home: Path) -> list[Path]:
    config_dir = Path(env["DOCKER_CONFIG"]) if env.get("DOCKER_CONFIG") else home / ".docker"
    dirs = [config_dir / "cli-plugins"]
    try:
        config = json.loads(files.read_text(config_dir / "config.json", files.MAX_INPUT_BYTES))
        extra = config.get("cliPluginsExtraDirs", []) if isinstance(config, dict) else []
        dirs += [Path(d) for d in extra if isinstance(d, str)]
    except ValueError:  # FileRefused too
        pass
    return dirs + [Path(d) for d in _PLUGIN_DIRS]


def _plugin_file(env: Mapping[str, str], home: Path) -> Path | None:
    for folder in plugin_dirs(env, home):
        candidate = folder / "docker-debug"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def help_names_docker_debug(help_text: str) -> bool:
    """True when `docker debug --help` printed the plugin's own usage, not the top-level one."""
    return bool(re.search(_USAGE, help_text, re.MULTILINE))


def docker_debug_available(
    cli: Sequence[str] = ("docker",),
    timeout: float = 5.0,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> bool:
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    key = (*cli, env.get("DOCKER_CONFIG", ""), str(home))
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
        if hit and now - hit[0] < _CACHE_SECONDS:
            return hit[1]
    found = False
    if find_program(cli[0]) and _plugin_file(env, home) is not None:
        try:
            found = help_names_docker_debug(run_cli([*cli, "debug", "--help"], timeout, "docker debug"))
        except RuntimeUnavailable:
            found = False
    with _lock:
        _cache[key] = (now, found)
    return found
