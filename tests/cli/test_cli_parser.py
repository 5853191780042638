"""The CLI builds only the parser of the subcommand it runs (`cli.build_parser(only=...)`: the others' modules
are time a terminal waits for). What a user sees must not depend on that: every `--help` and every usage
error reads exactly as the whole parser's would."""

from __future__ import annotations

import argparse

import pytest
from debugbox.cli import SUBCOMMANDS, build_parser, main


@pytest.fixture(autouse=True)
def _fixed_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")  # help is wrapped to the terminal's width


def _full_parser_says(words: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of the whole parser (every subcommand registered) on `words`."""
    parser = build_parser()
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        parser.parse_args(words)
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def _main_says(words: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(words)
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_a_subcommands_help_is_the_whole_parsers(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    words = [name.replace("_", "-"), "--help"]
    code, out, err = _main_says(words, capsys)
    assert (code, out, err) == _full_parser_says(words, capsys)
    assert code == 0 and out.startswith(f"usage: debugbox {words[0]}")


@pytest.mark.parametrize(
    "words",
    [
        ["--help"],
        ["-h"],
        [],
        ["no-such-command"],
        ["shel", "x"],
        ["shell"],  # TARGET missing
        ["shell", "x", "--strategy"],  # an option without its value
        ["shell", "x", "--no-such-option"],
        ["shell", "x", "--timeout", "soon"],
        ["check", "--no-such-option"],
    ],
)
def test_usage_and_its_errors_read_as_the_whole_parsers(
    words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert _main_says(words, capsys) == _full_parser_says(words, capsys)


def test_the_shell_parser_alone_registers_only_shell() -> None:
    parser = build_parser(only="shell")
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert list(sub.choices) == ["shell"]
    assert len(
        next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    ) == len(SUBCOMMANDS)


@pytest.mark.parametrize("value", ["0", "nan", "inf", "1e300", "-1"])
@pytest.mark.parametrize("words", [["shell", "x"], ["cp", "x:/a", "b"], ["forward", "x", "80"]])
def test_a_timeout_that_is_no_number_of_seconds_is_a_usage_error(
    words: list[str], value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`debugbox shell --timeout nan` (or inf, 1e300) ended in a socket's traceback, and `--timeout 0` silently
    meant the default; all three commands now refuse them alike, before any engine is asked."""
    code = main([*words, "--timeout", value])

    assert code == 2
    assert capsys.readouterr().err == "debugbox: --timeout must be between 0 and 3600 seconds\n"
