"""`debugbox toolbox build`: a local toolbox image for engines that cannot pull one (air-gapped, rate-limited).

Exit codes: 0 built; 1 it could not be built (one line says why); 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from debugbox.core.targets.container_strategy import LOCAL_TOOLBOX


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "toolbox",
        help="build a local toolbox image from a static busybox and this machine's tools",
        description="Build a toolbox image without a registry: a static busybox (sh and the small tools) plus "
        "the host tools you name, with their libraries, imported into the engine.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = actions.add_parser("build", help="build the image (default tag: " + LOCAL_TOOLBOX + ")")
    build.add_argument(
        "--tool", action="append", default=[], metavar="NAME", help="a host tool to add (repeat)"
    )
    build.add_argument("--tag", default=LOCAL_TOOLBOX, help=f"image name (default {LOCAL_TOOLBOX})")
    build.add_argument(
        "--runtime", choices=("docker", "podman"), default="docker", help="the engine to import into"
    )
    build.add_argument("--busybox", metavar="PATH", help="a static busybox (default: /bin/busybox)")
    build.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from debugbox.cli import UsageError
    from debugbox.core.errors import InvalidTarget, RuntimeProblem
    from debugbox.core.settings import Settings
    from debugbox.core.targets.names import validate_image
    from debugbox.edge import service
    from debugbox.edge.backends import create_backends
    from debugbox.edge.toolbox_build import build_toolbox

    try:
        tag = validate_image(args.tag)
    except InvalidTarget as exc:
        raise UsageError(str(exc)) from exc
    service.load_backends()
    backend = create_backends(Settings(), [args.runtime])[0]
    cli = tuple(getattr(backend, "cli", (args.runtime,)))
    try:
        built = build_toolbox(cli, tag, args.tool, args.busybox)
    except (RuntimeProblem, OSError) as exc:
        print(f"debugbox: the toolbox could not be built: {exc}", file=sys.stderr)
        return 1
    extra = f" + {' '.join(built.tools)}" if built.tools else ""
    print(
        f"debugbox: built {built.tag} (busybox{extra}) in {built.seconds:.1f} s; use it with --image {built.tag} "
        f"or the setting debugbox.toolboxImage"
    )
    return 0
