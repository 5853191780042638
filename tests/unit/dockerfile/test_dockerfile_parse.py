"""The hand-written Dockerfile parser: BuildKit's syntax, exact positions, and junk that must not crash it."""

from __future__ import annotations

from debugbox.core.dockerfile.analysis import analyze
from debugbox.core.dockerfile.parse import parse
from debugbox.core.settings import Settings
from hypothesis import given, settings
from hypothesis import strategies as st


def kw_lines(text: str) -> list[tuple[str, int, int]]:
    return [(i.keyword, i.line, i.end_line) for i in parse(text).instructions]


def test_lowercase_and_indented_instructions() -> None:
    text = 'from alpine as build\n  run echo hi\n\tCmd ["sh"]\n'
    assert kw_lines(text) == [("FROM", 0, 0), ("RUN", 1, 1), ("CMD", 2, 2)]
    cmd = parse(text).instructions[2]
    assert cmd.json_args == ["sh"]
    assert cmd.keyword_range.start.character == 1


def test_continuations_skip_comments_and_blank_lines() -> None:
    text = "FROM alpine\nRUN apk add \\\n# a comment\n\n    curl \\\n    jq\nUSER 1000\n"
    ins = parse(text).instructions
    assert [(i.keyword, i.line, i.end_line) for i in ins] == [("FROM", 0, 0), ("RUN", 1, 5), ("USER", 6, 6)]
    run = ins[1]
    assert run.args == "apk add     curl     jq"
    # Offsets in the joined text map back to the physical line and column.
    start = run.text.index("jq")
    assert run.range_of(start, start + 2).start.line == 5
    assert run.range_of(start, start + 2).start.character == 4


def test_escape_directive_backtick() -> None:
    text = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir `\n  c:\\\nUSER x\n"
    parsed = parse(text)
    assert parsed.escape == "`"
    assert [(i.keyword, i.line, i.end_line) for i in parsed.instructions] == [
        ("FROM", 1, 1),
        ("RUN", 2, 3),
        ("USER", 4, 4),
    ]


def test_escape_directive_after_a_comment_is_ignored() -> None:
    text = "# a comment\n# escape=`\nFROM image\nRUN a `\nRUN b\n"
    parsed = parse(text)
    assert parsed.escape == "\\"
    assert len(parsed.instructions) == 3


def test_escaped_trailing_backslash_is_not_a_continuation() -> None:
    assert kw_lines("FROM x\nENV C trailing\\\\\nENV D d\n") == [("FROM", 0, 0), ("ENV", 1, 1), ("ENV", 2, 2)]


def test_heredocs() -> None:
    text = (
        "FROM alpine\nRUN <<EOF bash\nset -e\necho hi\nEOF\n"
        "COPY <<-'CONF' /etc/x.conf\n\tkey=value\n\tCONF\nCMD [\"x\"]\n"
    )
    ins = parse(text).instructions
    assert [(i.keyword, i.line, i.end_line) for i in ins] == [
        ("FROM", 0, 0),
        ("RUN", 1, 4),
        ("COPY", 5, 7),
        ("CMD", 8, 8),
    ]
    assert ins[1].heredocs[0].content == "set -e\necho hi\n"
    # As BuildKit: the content keeps the tabs; `<<-` strips them when the heredoc is used.
    assert ins[2].heredocs[0].content == "\tkey=value\n"
    assert ins[2].heredocs[0].script == "key=value\n"
    assert ins[2].heredocs[0].strip_tabs


def test_unterminated_heredoc_runs_to_the_end_and_is_reported() -> None:
    parsed = parse("FROM alpine\nRUN <<EOF\necho hi\n")
    assert parsed.instructions[-1].end_line == 3
    assert [e.message for e in parsed.errors] == ["unterminated heredoc <<EOF"]


def test_flags_and_from_token_range() -> None:
    text = "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nCOPY --from=build --chmod=755 /a /b\n"
    frm, copy = parse(text).instructions
    assert frm.flag("platform") == "$BUILDPLATFORM"
    assert frm.args.startswith("golang:1.22")
    assert frm.range_of(frm.args_start, frm.args_start + len("golang:1.22")).start.character == 31
    assert copy.flag("from") == "build"
    assert copy.flag("chmod") == "755"


def test_crlf_and_bom() -> None:
    parsed = parse("\ufeffFROM alpine\r\nRUN echo \\\r\n  hi\r\n")
    assert [(i.keyword, i.line, i.end_line) for i in parsed.instructions] == [("FROM", 0, 0), ("RUN", 1, 2)]
    assert parsed.instructions[1].args == "echo   hi"


def test_utf16_columns_after_non_ascii() -> None:
    ins = parse('FROM alpine\nLABEL x="😀" \\\n  y=1\n').instructions[1]
    # The emoji is two UTF-16 code units: the end of line 1 is one unit further than in code points.
    assert ins.range.end.line == 2
    closing = ins.text.index('"', 9)
    assert closing == 10  # code points
    assert ins.range_of(closing, closing + 1).start.character == 11  # UTF-16 code units


def test_json_form_detection() -> None:
    a, b, c = parse('CMD ["a", "b"]\nCMD [a, b]\nENTRYPOINT echo hi\n').instructions
    assert a.json_args == ["a", "b"]
    assert b.json_args is None
    assert c.json_args is None


def test_file_ending_inside_a_continuation() -> None:
    assert kw_lines("FROM alpine:3.5\nRUN echo \\") == [("FROM", 0, 0), ("RUN", 1, 1)]


def test_bad_input_never_raises() -> None:
    for text in [
        "",
        "\n\n",
        "\0\1\2\xff",
        "RUN x",
        "FROM",
        "FROM \\",
        "#",
        "x" * 5_000_000,
        "RUN " + "a" * 5_000_000,
    ]:
        a = analyze("file:///tmp/Dockerfile", text, Settings())
        a.diagnostics()
        a.lens_anchors()


def test_five_megabyte_lines_are_parsed_whole() -> None:
    text = "FROM alpine\nENV A=" + "x" * 5_000_000 + "\nCMD " + "y " * 1_000_000 + "\n"
    ins = parse(text).instructions
    assert [i.keyword for i in ins] == ["FROM", "ENV", "CMD"]


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("FROMRUNCMDarg$ {}:-\\`#\n\t\"'[]<>=@/.AS0123 EOF")), max_size=300)
)
def test_fuzzed_text_never_raises(text: str) -> None:
    a = analyze("file:///w/Dockerfile", text, Settings())
    a.diagnostics()
    a.lens_anchors()
    for stage in a.model.stages:
        a.hover(stage.from_instruction.range.start)
