"""`debugbox compose-sidecar COMPOSE SERVICE [--image IMG] [--engine E] [--write]`: add a debug sidecar service for
SERVICE.

The same verified, minimal edit as the editor's action (docs/compose.md): a `debug-SERVICE` service in the
`debug` profile sharing SERVICE's PID and network namespaces. The edited text goes to stdout, byte for byte,
or with `--write` back into the file (`edge/writes.py`: atomically, its mode kept, a link only followed inside
the file's folder). The image is `--image`, else the `debugbox.toolboxImage` default. `--engine` picks the
compose implementation's form (`core/compose/edits.py`): `docker`, `podman` (podman-compose), `nerdctl` (refused:
no `service:` namespaces, use `debugbox shell`); `auto` (the default) takes the first one installed, in that
order. Exit codes: 0 changed, 1 refused (the reason on stderr), 2 bad input.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from debugbox.cli import UsageError
from debugbox.cli.inspect import read_input
from debugbox.core.documents import DocumentKind, kind_of
from debugbox.core.settings import COMPOSE_ENGINES


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "compose-sidecar",
        help="add a debug sidecar service (profile debug) sharing a compose service's PID and network namespaces",
    )
    p.add_argument("compose", metavar="COMPOSE", help="a compose file (compose.yaml, docker-compose.yml, …)")
    p.add_argument("service", metavar="SERVICE", help="the service to debug")
    p.add_argument(
        "--image", metavar="IMG", help="the toolbox image (default: the debugbox.toolboxImage default)"
    )
    p.add_argument(
        "--engine",
        choices=COMPOSE_ENGINES,
        default="auto",
        help="the compose implementation to write it for (default: the first installed of docker, podman, nerdctl)",
    )
    p.add_argument("--write", action="store_true", help="edit the file in place instead of printing it")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from debugbox.cli.compose_file import compose_analysis
    from debugbox.core.compose.edits import (
        ENGINE_LABELS,
        ENGINE_NOTES,
        engine_forms,
        plan_sidecar,
        start_command,
    )
    from debugbox.core.kubernetes.edits import Refused
    from debugbox.core.settings import Settings
    from debugbox.edge.compose import docker_compose_program, installed_engines
    from debugbox.edge.writes import WriteRefused, write_file

    path, text = read_input(args.compose)
    if kind_of(str(path), text) is not DocumentKind.COMPOSE:
        raise UsageError(f"{path}: not a compose file by its name (compose.yaml, docker-compose.yml, …)")
    image = args.image or Settings().toolbox_image
    engine = engine_forms(args.engine, installed_engines() if args.engine == "auto" else ())[0]
    folder = Path(os.path.abspath(path)).parent
    # As in the editor: `extends:` followed and included files read (an inherited `container_name` or
    # `profiles` decides the sidecar's form and how it is started).
    analysis = compose_analysis(path, text, Settings())[0]
    compose = analysis.compose
    try:
        planned = plan_sidecar(compose, args.service, image, engine, analysis.folder_name)
    except Refused as exc:
        hint = " (`debugbox shell <its container>`)" if engine == "nerdctl" else ""
        print(f"debugbox: {path}: {exc}{hint}", file=sys.stderr)
        return 1
    if args.write:
        try:
            write_file(path, planned.text.encode("utf-8"), folder, replace=True)
        except WriteRefused as exc:
            print(f"debugbox: {exc}", file=sys.stderr)
            return 1
        except OSError as exc:
            raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from exc
        command = start_command(compose, args.service, planned.service, engine, docker_compose_program())
        unset = ", ".join(command.variables)
        # Compose interpolates `profiles:` from the environment and `.env`, which debugbox does not read.
        which = f" ({args.service}'s profiles with {unset} unset; set, they name others)" if unset else ""
        print(
            f"debugbox: added service {planned.service} for {ENGINE_LABELS[engine]}; start it with "
            f"`{command.text}`{which}. {ENGINE_NOTES}",
            file=sys.stderr,
        )
    else:
        sys.stdout.buffer.write(planned.text.encode("utf-8"))
        sys.stdout.flush()
    return 0
