"""`debugbox debug-image DOCKERFILE [-o OUT] [--app-image IMG] [--force] [--stdout]`: write Dockerfile.debug.

The same text the editor command generates. An existing output file is never replaced without `--force`
(exit 1, nothing written). Writes follow `edge/writes.py`: a symbolic link is written through only when its
target stays in the output's folder (a dangling link or one that leaves is refused, exit 1), and `--force` keeps
the replaced file's mode. Exit codes: 0 written (or printed), 1 refused, 2 bad input.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from debugbox.cli import UsageError
from debugbox.cli.inspect import load_dockerfile, read_input
from debugbox.core.dockerfile.debug_image import UnsupportedImage, debug_file_name, render_debug_dockerfile
from debugbox.core.settings import Settings
from debugbox.edge.workspace import find_app_image
from debugbox.edge.writes import WriteRefused, write_file


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "debug-image", help="write a Dockerfile.debug: the application image plus a shell and tools"
    )
    p.add_argument("dockerfile", metavar="DOCKERFILE")
    p.add_argument(
        "-o", "--output", metavar="OUT", help="where to write (default: DOCKERFILE.debug beside it)"
    )
    p.add_argument(
        "--app-image", metavar="IMG", help="default of ARG APP_IMAGE (else compose image, else a placeholder)"
    )
    p.add_argument(
        "--debug-variant", action="store_true", help="distroless: take busybox from the :debug variant"
    )
    p.add_argument("--force", action="store_true", help="replace OUT if it exists")
    p.add_argument("--stdout", action="store_true", help="print the result instead of writing a file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.stdout and args.output:
        # Which one was meant is a guess: neither a file written nor one left unwritten without a word.
        raise UsageError("--stdout prints the result and -o writes it to a file: give one of them")
    path, text = read_input(args.dockerfile)
    model = load_dockerfile(path, text)
    settings = Settings()
    try:
        app_image = args.app_image or find_app_image(path, settings)
        content = render_debug_dockerfile(
            text,
            settings=settings,
            app_image=app_image,
            folder_name=path.resolve().parent.name,
            use_debug_variant=args.debug_variant,
            model=model,
        )
    except UnsupportedImage as exc:
        raise UsageError(f"{path}: {exc}") from exc
    if args.stdout:
        sys.stdout.write(content)
        return 0
    target = Path(args.output) if args.output else path.with_name(debug_file_name(path.name))
    if target.is_dir():
        raise UsageError(f"{target}: is a directory")
    if target.exists() and not args.force:
        print(f"debugbox: {target} exists; not replacing it (use --force to overwrite)", file=sys.stderr)
        return 1
    try:
        # The folder the user pointed at is the boundary: a link there is followed only if it stays in it.
        write_file(target, content.encode("utf-8"), Path(os.path.abspath(target)).parent, replace=args.force)
    except WriteRefused as exc:
        print(f"debugbox: {exc}", file=sys.stderr)
        return 1
    except FileExistsError:
        print(f"debugbox: {target} exists; not replacing it (use --force to overwrite)", file=sys.stderr)
        return 1
    except OSError as exc:
        raise UsageError(f"{target}: cannot write: {exc.strerror or exc}") from exc
    print(f"wrote {target}")
    return 0
