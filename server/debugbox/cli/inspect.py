"""`debugbox inspect FILE [--json]`: what debugbox understands of a Dockerfile, a compose file or a Kubernetes
manifest (compose: each service's image or build and what its container has, `core.compose.analysis`).

For a Dockerfile: each stage with its image, family, package manager, shell and effective user (JSON schema
in docs/cli.md). For a manifest it defers to `debugbox.kubernetes.inspect.inspect_manifest`. Exit codes:
0 ok, 2 bad input (missing, directory, binary, empty, no FROM, neither a Dockerfile nor a manifest).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from debugbox.cli import UsageError, json_text
from debugbox.core.dockerfile.stages import DockerfileModel, analyze_text, inspect_dockerfile
from debugbox.core.documents import DocumentKind, kind_of
from debugbox.edge.workspace import InputError, read_text_file


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "inspect",
        help="show the stages, images, shells and users debugbox sees in a Dockerfile, compose file or manifest",
    )
    p.add_argument("file", metavar="FILE", help="a Dockerfile, a compose file or a Kubernetes manifest")
    p.add_argument("--json", action="store_true", help="print JSON (schema in docs/cli.md)")
    p.set_defaults(func=run)


def read_input(name: str) -> tuple[Path, str]:
    path = Path(name)
    try:
        return path, read_text_file(path)
    except InputError as exc:
        raise UsageError(str(exc)) from exc


def load_dockerfile(path: Path, text: str) -> DockerfileModel:
    """The model of a Dockerfile given on the command line; UsageError when it has no FROM."""
    model = analyze_text(text)
    if not model.stages:
        raise UsageError(f"{path}: no FROM instruction (not a Dockerfile?)")
    return model


def document_kind(path: Path, text: str) -> DocumentKind:
    """Like the server, by name and content; any other file counts as a Dockerfile if it has a FROM."""
    kind = kind_of(str(path), text)
    if kind is DocumentKind.OTHER and analyze_text(text).stages:
        return DocumentKind.DOCKERFILE
    return kind


def run(args: argparse.Namespace) -> int:
    path, text = read_input(args.file)
    kind = document_kind(path, text)
    if kind is DocumentKind.COMPOSE:
        from debugbox.cli.compose_file import compose_analysis
        from debugbox.core.compose.analysis import inspect_compose
        from debugbox.core.settings import Settings

        found = inspect_compose(*compose_analysis(path, text, Settings()))
        print(json_text(found) if args.json else _compose_table(found))
        return 0
    if kind is DocumentKind.MANIFEST:
        from debugbox.core.kubernetes.inspect import inspect_manifest  # only when a manifest is inspected

        result = inspect_manifest(text)
        print(json_text(result) if args.json else _manifest_table(result))
        return 0
    if kind is not DocumentKind.DOCKERFILE:
        raise UsageError(f"{path}: no FROM instruction, not a compose file and not a Kubernetes manifest")
    result = inspect_dockerfile(load_dockerfile(path, text))
    print(json_text(result) if args.json else dockerfile_table(result))
    return 0


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def _compose_table(result: dict[str, Any]) -> str:
    headers = ["SERVICE", "LINE", "IMAGE / BUILD", "BASE", "FAMILY", "SHELL", "USER"]
    rows = []
    for s in result["services"]:
        build = s["build"]
        source = s["image"] or "-"
        if build is not None:
            source = f"build {build['dockerfile']}" + (
                f" ({build['why_not_read']})" if build["why_not_read"] else ""
            )
        shell = _cell(s["has_shell"]) + (f" ({s['shell']})" if s["shell"] else "")
        rows.append(
            [s["name"], str(s["line"]), source, _cell(s["base"]), _cell(s["family"]), shell, _cell(s["user"])]
        )
    out = _table(headers, rows)
    if result["error"]:
        out += f"\nnot valid YAML at line {result['error']['line']}: {result['error']['message']}"
    return out


def dockerfile_table(result: dict[str, Any]) -> str:
    headers = ["#", "NAME", "LINE", "IMAGE", "BASE", "FAMILY", "PKG", "SHELL", "USER"]
    rows = []
    for s in result["stages"]:
        shell = _cell(s["has_shell"]) + (f" ({s['shell']})" if s["shell"] else "")
        image = s["image"] if s["image"] else f"{s['from']} (unresolved)"
        marker = "*" if s["index"] == result["final_stage"] else ""
        rows.append(
            [
                f"{s['index']}{marker}",
                _cell(s["name"]),
                str(s["line"]),
                image,
                _cell(s["base_stage"]),
                s["family"],
                s["package_manager"],
                shell,
                _cell(s["user"]),
            ]
        )
    return _table(headers, rows) + "\n* final stage"


def _manifest_table(result: Any) -> str:
    """One row per container of each pod spec; anything unexpected in the document falls back to JSON."""
    try:
        rows = []
        for spec in result["pod_specs"]:
            for c in spec["containers"]:
                extra = {k: v for k, v in c.items() if k not in ("name", "image", "line", "init")}
                rows.append(
                    [
                        f"{spec['kind']}/{spec['name']}",
                        _cell(spec.get("namespace")),
                        str(c["line"]),
                        c["name"] + (" (init)" if c.get("init") else ""),
                        _cell(c.get("image")),
                        " ".join(
                            f"{k}={_cell(v)}" for k, v in extra.items() if not isinstance(v, dict | list)
                        ),
                    ]
                )
        lines = [_table(["WORKLOAD", "NAMESPACE", "LINE", "CONTAINER", "IMAGE", ""], rows)]
        lines += [f"error: {e}" for e in result.get("errors", [])]
        return "\n".join(lines)
    except (KeyError, TypeError):
        return json_text(result)
