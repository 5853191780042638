"""Running engine CLIs with a timeout, and detecting the `docker debug` plugin without trusting exit codes.

`docker debug --help` exits 0 even when the plugin is missing (it prints the top-level usage), so the
detection looks for a `docker-debug` executable where the CLI loads plugins from, and only then confirms with
the help text, whose `Usage:` line must name `docker debug`. The answer is cached for a few minutes: it costs
a process start.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from debugbox.core.errors import RuntimeUnavailable
from debugbox.edge import files

_PLUGIN_DIRS = (
    "/usr/local/lib/docker/cli-plugins",
    "/usr/local/libexec/docker/cli-plugins",
    "/usr/lib/docker/cli-plugins",
    "/usr/libexec/docker/cli-plugins",
)
_USAGE = re.compile(r"^Usage:\s+docker debug\b", re.MULTILINE)
_CACHE_SECONDS = 300.0
_cache: dict[tuple[str, ...], tuple[float, bool]] = {}
_lock = threading.Lock()


def run_cli(argv: Sequence[str], timeout: float, what: str) -> str:
    """stdout of `argv`; RuntimeUnavailable when the CLI is missing, times out or fails (with its stderr)."""
    try:
        proc = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False
        )
    except FileNotFoundError as exc:
        raise RuntimeUnavailable(f"{what}: {argv[0]} is not installed") from exc
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
    return bool(_USAGE.search(help_text))


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
    if shutil.which(cli[0]) and _plugin_file(env, home) is not None:
        try:
            found = help_names_docker_debug(run_cli([*cli, "debug", "--help"], timeout, "docker debug"))
        except RuntimeUnavailable:
            found = False
    with _lock:
        _cache[key] = (now, found)
    return found
