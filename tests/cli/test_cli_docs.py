"""docs/cli.md tells the truth about the parser: one section per subcommand, in `SUBCOMMANDS` order, and every
option a subcommand takes is named in its section (an option added without a word in the docs fails here)."""

from __future__ import annotations

import argparse
import re

import pytest
from debugbox.cli import SUBCOMMANDS, build_parser

from tests.conftest import ROOT

DOC = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
#: `## \`debugbox NAME …\`` headings, in the page's order.
SECTIONS = [
    (m.group(1), m.start()) for m in re.finditer(r"^## `debugbox ([a-z-]+)[^`]*`$", DOC, re.MULTILINE)
]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _section(command: str) -> str:
    names = [name for name, _ in SECTIONS]
    start = SECTIONS[names.index(command)][1]
    later = [pos for _, pos in SECTIONS if pos > start]
    return DOC[start : later[0] if later else len(DOC)]


def _options(parser: argparse.ArgumentParser) -> list[list[str]]:
    """Each option's spellings (`["-o", "--output"]`), `--help` left out; a subcommand with subcommands of its
    own (`toolbox build`) contributes theirs."""
    found: list[list[str]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += _options(sub)
        elif action.option_strings and not isinstance(action, argparse._HelpAction):
            found.append(list(action.option_strings))
    return found


def _named(option: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text) is not None


def test_one_section_per_subcommand_in_the_parsers_order() -> None:
    assert [name for name, _ in SECTIONS] == [name.replace("_", "-") for name in SUBCOMMANDS]


@pytest.mark.parametrize("command", [name.replace("_", "-") for name in SUBCOMMANDS])
def test_every_option_is_named_in_its_section(command: str) -> None:
    section = _section(command)
    options = _options(_subparsers(build_parser())[command])
    missing = [o[-1] for o in options if not any(_named(spelling, section) for spelling in o)]
    assert not missing, f"docs/cli.md's section on debugbox {command} does not name {missing}"
