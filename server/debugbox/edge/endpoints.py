"""Where the engines listen, found the way their own CLIs find it.

Docker: `DOCKER_HOST`, else `DOCKER_CONTEXT`, else the `currentContext` of `~/.docker/config.json` (or
`$DOCKER_CONFIG/config.json`), whose endpoint is in `contexts/meta/<sha256 of the name>/meta.json` under
`Endpoints.docker.Host`; else `unix:///var/run/docker.sock`. TLS for a `tcp://` engine comes from
`DOCKER_TLS_VERIFY`/`DOCKER_TLS` with the PEM files of `DOCKER_CERT_PATH` (default: the config folder) for
`DOCKER_HOST`, and from `contexts/tls/<sha256 of the name>/docker/` with the meta's `SkipTLSVerify` for a
context — the docker CLI's rules (docker/cli `cli/flags/options.go`, `cli/context/docker/load.go`).
Podman: `CONTAINER_HOST` when set (the podman CLI then talks to that service, not to this machine's), else its
Docker-compatible socket, `$XDG_RUNTIME_DIR/podman/podman.sock` (rootless) or `/run/podman/podman.sock` (root),
when the file exists. The functions read a few small files; they take
the environment and home folder as arguments so tests can point them anywhere.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from debugbox.core.records import record
from debugbox.edge import files
from debugbox.edge.engine_api import Endpoint, TlsFiles

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"


@record
class DockerEndpoint:
    """The Docker engine debugbox talks to, and how the docker CLI is told to talk to the same one."""

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


def _digest(name: str) -> str:
    import hashlib  # only for named contexts: loading OpenSSL's hashes is a cost every CLI start would pay

    return hashlib.sha256(name.encode()).hexdigest()


def _context_meta(name: str, env: Mapping[str, str], home: Path) -> dict[str, Any]:
    """The `Endpoints.docker` entry of context `name`'s metadata, or {} when there is none."""
    meta = _read_json(_config_dir(env, home) / "contexts" / "meta" / _digest(name) / "meta.json")
    endpoints = meta.get("Endpoints") if isinstance(meta, dict) else None
    docker = endpoints.get("docker") if isinstance(endpoints, dict) else None
    return docker if isinstance(docker, dict) else {}


def context_host(name: str, env: Mapping[str, str], home: Path) -> str | None:
    """The docker endpoint of context `name`, or None when the context has no readable metadata."""
    host = _context_meta(name, env, home).get("Host")
    return host if isinstance(host, str) and host else None


def _pem(folder: Path, name: str) -> str | None:
    return str(folder / name) if (folder / name).is_file() else None


def context_tls(name: str, env: Mapping[str, str], home: Path) -> TlsFiles | None:
    """The TLS of context `name`: its files in `contexts/tls/<digest>/docker/`, verified unless the meta says
    `SkipTLSVerify`; None (plain TCP) when there are no files and verification is not skipped, as the CLI does.
    """
    folder = _config_dir(env, home) / "contexts" / "tls" / _digest(name) / "docker"
    ca, cert, key = _pem(folder, "ca.pem"), _pem(folder, "cert.pem"), _pem(folder, "key.pem")
    skip = _context_meta(name, env, home).get("SkipTLSVerify") is True
    if not (ca or cert or skip):
        return None
    return TlsFiles(f"the TLS files of context {name} ({folder})", ca, cert, key, verify=not skip)


def _tls_from_env(env: Mapping[str, str], home: Path) -> TlsFiles | None:
    """`DOCKER_TLS_VERIFY` (any value: verify) or `DOCKER_TLS` (encrypt only), files in `DOCKER_CERT_PATH`.

    A `DOCKER_CERT_PATH` alone also means TLS (debugbox has always read it so; the CLI wants one of the two
    switches, which the terminal's argv then spells out as flags).
    """
    verify = bool(env.get("DOCKER_TLS_VERIFY"))
    if not verify and not env.get("DOCKER_TLS") and not env.get("DOCKER_CERT_PATH"):
        return None
    certs = Path(env["DOCKER_CERT_PATH"]) if env.get("DOCKER_CERT_PATH") else _config_dir(env, home)
    origin = f"DOCKER_CERT_PATH {certs}" if env.get("DOCKER_CERT_PATH") else f"the TLS files in {certs}"
    return TlsFiles(origin, _pem(certs, "ca.pem"), _pem(certs, "cert.pem"), _pem(certs, "key.pem"), verify)


def tls_cli_args(tls: TlsFiles) -> tuple[str, ...]:
    """The docker CLI's TLS flags for these files, so a terminal without the TLS variables reaches the engine."""
    args: list[str] = ["--tlsverify" if tls.verify else "--tls"]
    for flag, path in (("--tlscacert", tls.ca), ("--tlscert", tls.cert), ("--tlskey", tls.key)):
        if path:
            args.append(f"{flag}={path}")
    return tuple(args)


def docker_endpoint(env: Mapping[str, str] | None = None, home: Path | None = None) -> DockerEndpoint:
    """The engine the `docker` CLI would talk to with this environment."""
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    host = env.get("DOCKER_HOST", "")
    if host:
        tls = _tls_from_env(env, home) if host.startswith("tcp://") else None
        # Spelled out in the argv so a terminal whose environment lacks DOCKER_HOST (or the TLS variables)
        # still reaches this engine.
        cli = ("--host", host, *(tls_cli_args(tls) if tls else ()))
        return DockerEndpoint(Endpoint(host, "DOCKER_HOST", tls), cli)
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
            tls = context_tls(context, env, home) if ctx_host.startswith("tcp://") else None
            # `--context` carries the host and the TLS files to the terminal's docker CLI.
            return DockerEndpoint(Endpoint(ctx_host, f"{source} {context}", tls), ("--context", context))
        # The docker CLI refuses to start ("context not found"): asking the default engine instead would list
        # one engine while the terminals' docker fails, or reaches another.
        fix = "unset DOCKER_CONTEXT" if source == "DOCKER_CONTEXT" else "choose one with `docker context use`"
        problem = f"docker context {context!r} ({source}) does not exist: create it, or {fix}"
        endpoint = Endpoint(DEFAULT_DOCKER_HOST, f"{source} {context}", problem=problem)
        return DockerEndpoint(endpoint, ("--context", context))
    return DockerEndpoint(Endpoint(DEFAULT_DOCKER_HOST, "default"), ())


def podman_sockets(env: Mapping[str, str] | None = None) -> list[Path]:
    """Podman's Docker-compatible sockets that exist, rootless first."""
    env = os.environ if env is None else env
    candidates: list[Path] = []
    if env.get("XDG_RUNTIME_DIR"):
        candidates.append(Path(env["XDG_RUNTIME_DIR"]) / "podman" / "podman.sock")
    candidates.append(Path("/run/podman/podman.sock"))
    return [p for p in candidates if p.is_socket()]


def podman_endpoint(env: Mapping[str, str] | None = None) -> Endpoint | None:
    """Where Podman's API is, as the podman CLI finds it: `CONTAINER_HOST` when set — the CLI then works
    remotely, against that service, so listing this machine's socket instead would open terminals on another
    engine than the one listed — else the first of `podman_sockets`; None when there is neither."""
    env = os.environ if env is None else env
    host = env.get("CONTAINER_HOST", "")
    if host:
        return Endpoint(host, "CONTAINER_HOST")
    sockets = podman_sockets(env)
    return Endpoint(f"unix://{sockets[0]}", "podman socket") if sockets else None
