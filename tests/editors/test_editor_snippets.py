"""Every editor snippet in docs/editors.md launches the server safely, and no page tells anyone to run
`python -m debugbox` without `-P`/`-I`.

Editors start language servers in the project folder; `python -m` would put that folder first on `sys.path`
and import a repository's `debugbox.py`/`shlex.py`. Safe: the `debugbox` console script, or a Python started
with `-P` or `-I` before `-m debugbox`. The launch command is read from each snippet the way its editor reads
it (Lua `cmd`, Helix TOML `command`/`args`, eglot's program list, Sublime's JSON `command`).
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

EDITORS = ROOT / "docs" / "editors.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)
QUOTED = re.compile(r'"([^"]*)"')
#: Every `python… [flags] -m debugbox` in prose or code, with the flags before `-m`.
PYTHON_M = re.compile(r"\bpython[\w.]*((?:\s+-[A-Za-z]+)*)\s+-m\s+debugbox\b")


def launches(language: str, code: str) -> list[list[str]]:
    """The server commands a snippet configures (argv lists), read as its editor would."""
    if language == "lua":
        return [QUOTED.findall(m) for m in re.findall(r"\bcmd\s*=\s*\{([^}]*)\}", code)]
    if language == "toml":
        servers = tomllib.loads(code).get("language-server", {})
        return [[s["command"], *s.get("args", [])] for s in servers.values() if "command" in s]
    if language == "elisp":
        # eglot-server-programs entries: (MODES . ("program" "arg" …))
        return [QUOTED.findall(m) for m in re.findall(r"\.\s*\(((?:\"[^\"]*\"\s*)+)\)", code)]
    if language == "json":
        clients = json.loads(code).get("clients", {})
        return [list(c["command"]) for c in clients.values() if "command" in c]
    return []


def safe(argv: list[str]) -> bool:
    if argv == ["debugbox", "lsp"]:
        return True
    if not argv or not Path(argv[0]).name.startswith("python") or "-m" not in argv:
        return False
    at = argv.index("-m")
    return argv[at + 1 : at + 3] == ["debugbox", "lsp"] and any(f in ("-P", "-I") for f in argv[1:at])


def snippets() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(EDITORS.read_text(encoding="utf-8"))]


def test_every_editor_snippet_launches_the_server_safely() -> None:
    found = [(lang, argv) for lang, code in snippets() for argv in launches(lang, code)]
    # Neovim twice (0.7 and 0.8+), Helix, Emacs, Sublime Text: a snippet the parser missed would pass unseen.
    assert sorted(lang for lang, _ in found) == ["elisp", "json", "lua", "lua", "toml"], found
    unsafe = [(lang, argv) for lang, argv in found if not safe(argv)]
    assert unsafe == [], unsafe


@pytest.mark.parametrize(
    ("argv", "ok"),
    [
        (["debugbox", "lsp"], True),
        (["python3", "-P", "-m", "debugbox", "lsp"], True),
        (["/usr/bin/python3.12", "-I", "-m", "debugbox", "lsp"], True),
        (["python3", "-m", "debugbox", "lsp"], False),
        (["python3", "-m", "debugbox", "-P", "lsp"], False),  # after -m it is the program's argument
        (["sh", "-c", "python3 -P -m debugbox lsp"], False),
    ],
)
def test_the_rule(argv: list[str], ok: bool) -> None:
    assert safe(argv) is ok


def test_no_page_says_python_m_debugbox_without_isolation() -> None:
    pages = [
        *sorted((ROOT / "docs").glob("*.md")),
        ROOT / "README.md",
        ROOT / "vscode-extension" / "README.md",
    ]
    unsafe = [
        f"{page.relative_to(ROOT)}: {m.group(0)}"
        for page in pages
        for m in PYTHON_M.finditer(page.read_text(encoding="utf-8"))
        if not {"-P", "-I"} & set(m.group(1).split())
    ]
    assert unsafe == [], unsafe
