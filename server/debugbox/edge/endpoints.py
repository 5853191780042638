"""Where the engines listen, found the way their own CLIs find it.

Docker: `DOCKER_HOST`, else `DOCKER_CONTEXT`, else the `currentContext` of `~/.docker/config.json` (or
`$DOCKER_CONFIG/config.json`), whose endpoint is in `contexts/meta/<sha256 of the name>/meta.json` under
`Endpoints.docker.Host`; else `unix:///var/run/docker.sock`. Podman: its Docker-compatible socket,
`$XDG_RUNTIME_DIR/podman/podman.sock` (rootless) or `/run/podman/podman.sock` (root), when the file exists.
The functions read a few small files; they take the environment and home folder as arguments so tests can
point them anywhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from debugbox.edge import files
from debugbox.edge.engine_api import Endpoint

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"


@dataclass(frozen=True)
class DockerEndpoint:
    endpoint: Endpoint
    cli_args: tuple[str, ...]
    """What to put after `docker` so the terminal talks to the same engine, e.g. `("--context", "remote")`."""


#: Docker context metadata is a few hundred bytes.
MAX_CONFIG_BYTES = 1024 * 1024


def _config_dir(env: Mapping[str, str], home: Path) -> Path:
    return Path(env["DOCKER_CONFIG"]) if env.get("DOCKER_CONFIG") else home / ".docker"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(files.read_text(path, MAX_CONFIG_BYTES))
    except ValueError:  # FileRefused too
        return None


def context_host(name: str, env: Mapping[str, str], home: Path) -> str | None:
    """The docker endpoint of context `name`, or None when the context has no readable metadata."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = _read_json(_config_dir(env, home) / "contexts" / "meta" / digest / "meta.json")
    if not isinstance(meta, dict):
        return None
    host = (
        meta.get("Endpoints", {}).get("docker", {}).get("Host")
        if isinstance(meta.get("Endpoints"), dict)
        else None
    )
    return host if isinstance(host, str) and host else None


def _tls_from_env(env: Mapping[str, str], home: Path) -> ssl.SSLContext | None:
    if not env.get("DOCKER_TLS_VERIFY") and not env.get("DOCKER_CERT_PATH"):
        return None
    certs = Path(env["DOCKER_CERT_PATH"]) if env.get("DOCKER_CERT_PATH") else _config_dir(env, home)
    ctx = ssl.create_default_context(cafile=str(certs / "ca.pem") if (certs / "ca.pem").exists() else None)
    if not env.get("DOCKER_TLS_VERIFY"):
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if (certs / "cert.pem").exists():
        ctx.load_cert_chain(str(certs / "cert.pem"), str(certs / "key.pem"))
    return ctx


def docker_endpoint(env: Mapping[str, str] | None = None, home: Path | None = None) -> DockerEndpoint:
    """The engine the `docker` CLI would talk to with this environment."""
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    host = env.get("DOCKER_HOST", "")
    if host:
        tls = _tls_from_env(env, home) if host.startswith("tcp://") else None
        # Spelled out in the argv so a terminal whose environment lacks DOCKER_HOST still reaches this engine.
        return DockerEndpoint(Endpoint(host, "DOCKER_HOST", tls), ("--host", host))
    context = env.get("DOCKER_CONTEXT", "")
    source = "DOCKER_CONTEXT"
    if not context:
        config = _read_json(_config_dir(env, home) / "config.json")
        if isinstance(config, dict) and isinstance(config.get("currentContext"), str):
            context = config["currentContext"]
            source = "current context"
    if context and context != "default":
        ctx_host = context_host(context, env, home)
        if ctx_host:
            return DockerEndpoint(Endpoint(ctx_host, f"{source} {context}"), ("--context", context))
    return DockerEndpoint(Endpoint(DEFAULT_DOCKER_HOST, "default"), ())


def podman_sockets(env: Mapping[str, str] | None = None) -> list[Path]:
    """Podman's Docker-compatible sockets that exist, rootless first."""
    env = os.environ if env is None else env
    candidates: list[Path] = []
    if env.get("XDG_RUNTIME_DIR"):
        candidates.append(Path(env["XDG_RUNTIME_DIR"]) / "podman" / "podman.sock")
    candidates.append(Path("/run/podman/podman.sock"))
    return [p for p in candidates if p.is_socket()]
