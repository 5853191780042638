"""Dockerfiles read exactly as BuildKit reads them (issue #12) and bounded expansion on any input (#10 §2).

Each test is one misreading seen on held-out inputs before the parser followed BuildKit's parser.go and the
stage model used the shell-word engine (`core/dockerfile/shell.py`).
"""

from __future__ import annotations

from debugbox.core.dockerfile.parse import parse
from debugbox.core.dockerfile.rules import ANALYSIS_LIMIT, BUILDKIT_REJECTS, check
from debugbox.core.dockerfile.shell import Budget, Unknown, process_word
from debugbox.core.dockerfile.stages import analyze_text
from hypothesis import given, settings
from hypothesis import strategies as st


def codes(text: str) -> list[str]:
    return sorted(str(f.diagnostic.code) for f in check(analyze_text(text)))


def errors(text: str) -> list[str]:
    return [e.message for e in parse(text).errors]


# --- heredocs ----------------------------------------------------------------------------------------


def test_quoted_heredoc_marker_inside_run_is_not_a_heredoc() -> None:
    text = (
        "FROM alpine AS build\n"
        'RUN sed -i "s/<<EOF//" /etc/x\n'
        "FROM gcr.io/distroless/static:nonroot\n"
        "COPY --from=build /etc/x /etc/x\n"
    )
    model = analyze_text(text)
    assert len(model.stages) == 2
    assert model.final is not None and model.final.info.has_shell is False
    assert codes(text) == ["DBX101"]


def test_heredocs_with_file_descriptors_are_read_as_bodies() -> None:
    text = (
        "FROM gcr.io/distroless/static:nonroot\n"
        "RUN <<EOF 3<<IN1 4<<IN2 awk -f -\n"
        "print\nEOF\nUSER root\nIN1\nUSER admin\nIN2\n"
    )
    (stage,) = analyze_text(text).stages
    run = stage.instructions[0]
    assert [(h.name, h.fd, h.content) for h in run.heredocs] == [
        ("EOF", 0, "print\n"),
        ("IN1", 3, "USER root\n"),
        ("IN2", 4, "USER admin\n"),
    ]
    assert [i.keyword for i in stage.instructions] == ["RUN"]
    assert stage.user is None


def test_heredoc_names_as_buildkit_lexes_them() -> None:
    text = (
        "FROM alpine\n"
        "RUN <<eo'f'\necho 1\neof\n"
        "RUN <<'one two'\necho 2\none two\n"
        "RUN <<$EOF\necho 3\n$EOF\n"
        "RUN <<1EOF\necho 4\n1EOF\n"
        "RUN <<-EOF\n\techo 5\n\tEOF\n"
        "USER me\n"
    )
    ins = parse(text).instructions
    got = [(h.name, h.expand, h.strip_tabs) for i in ins for h in i.heredocs]
    assert got == [
        ("eof", False, False),
        ("one two", False, False),
        ("$EOF", True, False),
        ("1EOF", True, False),
        ("EOF", True, True),
    ]
    assert [i.keyword for i in ins] == ["FROM", "RUN", "RUN", "RUN", "RUN", "RUN", "USER"]


def test_onbuild_run_heredoc_body_is_not_instructions() -> None:
    text = "FROM alpine\nONBUILD RUN <<EOF\nUSER root\nEOF\nUSER app\n"
    ins = parse(text).instructions
    assert [i.keyword for i in ins] == ["FROM", "ONBUILD", "USER"]
    assert ins[1].heredocs[0].content == "USER root\n"
    assert analyze_text(text).stages[0].user == "app"


def test_heredocs_only_on_run_copy_add() -> None:
    ins = parse("FROM alpine\nUSER <<INVALID\nINVALID\nCMD <<EOF\n").instructions
    assert [i.keyword for i in ins] == ["FROM", "USER", "INVALID", "CMD"]
    assert all(not i.heredocs for i in ins)


# --- values ------------------------------------------------------------------------------------------


def test_env_with_escaped_blanks_is_one_assignment() -> None:
    (stage,) = analyze_text("FROM alpine\nENV MY_DOG=Rex\\ The\\ Dog\nUSER $MY_DOG\n").stages
    assert dict(stage.env) == {"MY_DOG": "Rex The Dog"}
    assert stage.user == "Rex The Dog"


def test_escaped_and_quoted_image_references() -> None:
    escaped = analyze_text("ARG IMG=alpine\\:3.20\nFROM $IMG\n").final
    quoted = analyze_text('FROM "alpine:3.20"\n').final
    for stage in (escaped, quoted):
        assert stage is not None and stage.image == "alpine:3.20" and stage.info.family == "alpine"


def test_escape_directive_character_is_the_expansion_escape() -> None:
    (stage,) = analyze_text("# escape=`\nFROM alpine\nENV A=x`$y B=c:\\d\n").stages
    assert dict(stage.env) == {"A": "x$y", "B": "c:\\d"}


# --- parser directives -------------------------------------------------------------------------------


def test_indented_directive_applies_and_unknown_key_ends_directives() -> None:
    assert parse("  # escape=`\nFROM x\n").escape == "`"
    assert parse("# foo=bar\n# escape=`\nFROM x\n").escape == "\\"
    assert parse("# syntax=docker/dockerfile:1\n# escape=`\nFROM x\n").escape == "`"
    assert parse("\n# escape=`\nFROM x\n").escape == "\\"


def test_duplicate_and_invalid_directives_are_errors() -> None:
    assert errors("# escape=`\n# escape=\\\nFROM x\n") == ["only one escape parser directive can be used"]
    assert errors("# escape=x\nFROM x\n") == ["invalid escape token 'x' does not match ` or \\"]
    assert codes("# escape=x\nFROM alpine\n") == [BUILDKIT_REJECTS]


# --- files BuildKit rejects --------------------------------------------------------------------------


def test_rejected_files_are_error_diagnostics() -> None:
    cases = {
        "FROM alpine\nENV foo\n": "ENV must have two arguments",
        "FROM alpine\nCMD [1, 2]\n": "when using JSON array syntax, arrays must be comprised of strings only",
        'FROM alpine\nCMD [["a"]]\n': "when using JSON array syntax, arrays must be comprised of strings only",
        "FROM alpine\nENV a=b c\n": 'Syntax error - can\'t find = in "c". Must be of the form: name=value',
        "FROM alpine\nRUN <<EOF\necho\n": "unterminated heredoc <<EOF",
        "# only a comment\n": "file with no instructions",
    }
    for text, message in cases.items():
        assert errors(text) == [message], text
        findings = [f.diagnostic for f in check(analyze_text(text))]
        rejected = [d for d in findings if d.code == BUILDKIT_REJECTS]
        assert rejected and rejected[0].severity == 1 and message in rejected[0].message


def test_unknown_instruction_and_bad_substitution_are_errors() -> None:
    assert codes("FROM alpine\nFOO bar\n") == [BUILDKIT_REJECTS]
    assert codes("FROM alpine\nENV A=${B:=x}\n") == [BUILDKIT_REJECTS]
    assert codes("ARG X=\nFROM $X\n") == [BUILDKIT_REJECTS]  # base name should not be blank


# --- flags -------------------------------------------------------------------------------------------


def test_flags_with_quoted_values() -> None:
    run = parse('FROM alpine\nRUN --mount=type=secret,id="my id" cat /run/secrets/x\n').instructions[1]
    assert run.flag("mount") == "type=secret,id=my id"
    assert run.args == "cat /run/secrets/x"
    model = analyze_text('FROM golang AS build\nFROM scratch\nCOPY --from="build" /app /app\n')
    assert [(raw, index) for _, raw, index in model.stages[1].copies_from] == [("build", 0)]


# --- whitespace --------------------------------------------------------------------------------------


def test_carriage_returns_and_no_break_space_indentation() -> None:
    ins = parse("FROM alpine\r\r\nRUN echo hi\r\r\n\u00a0USER app\n").instructions
    assert [(i.keyword, i.text) for i in ins] == [
        ("FROM", "FROM alpine"),
        ("RUN", "RUN echo hi"),
        ("USER", "USER app"),
    ]


# --- bounded expansion (#10 §2) ----------------------------------------------------------------------


def doubling(n: int) -> str:
    lines = ["ARG A0=alpine"] + [f"ARG A{i}=${{A{i - 1}}}${{A{i - 1}}}" for i in range(1, n + 1)]
    return "\n".join([*lines, f"FROM $A{n}"]) + "\n"


def test_doubling_stops_at_the_value_cap_with_a_diagnostic() -> None:
    text = doubling(40)
    assert len(text.encode()) == 835
    model = analyze_text(text)
    assert model.final is not None and model.final.image is None
    assert isinstance(model.global_args["A40"], Unknown)
    assert "longer than 65,536 characters" in model.final.info.why  # shown in the hover
    (limit,) = [f.diagnostic for f in check(model) if f.diagnostic.code == ANALYSIS_LIMIT]
    assert "longer than 65,536 characters" in limit.message and limit.severity == 2


def test_total_expansion_work_is_capped() -> None:
    # Each value stays under the size cap, but together they would copy far more than the work cap.
    text = "ARG A=" + "x" * 60_000 + "\n" + "".join(f"ARG B{i}=$A\n" for i in range(300)) + "FROM alpine\n"
    model = analyze_text(text)
    notes = [n.message for n in model.notes]
    assert len(notes) == 1 and "characters of work" in notes[0] and "later values" in notes[0]


def test_deep_nesting_is_iterative() -> None:
    deep = "${A:-" * 100_000 + "alpine" + "}" * 100_000
    assert process_word(deep, {}).value == "alpine"
    assert process_word(deep, {"A": "x"}).value == "x"
    text = "FROM alpine\nENV B=" + "${A:-" * 3000 + "y" + "}" * 3000 + "\n"
    (stage,) = analyze_text(text).stages
    assert stage.env["B"] == "y"


def test_budget_is_shared_by_the_words_of_one_document() -> None:
    budget = Budget(max_value=100, max_work=150)
    assert process_word("$A$A", {"A": "x" * 40}, budget).value == "x" * 80
    late = process_word("$A$A", {"A": "x" * 40}, budget)
    assert late.value is None and late.limited and "work" in (late.unknown or "")
    assert process_word("$A$A$A", {"A": "x" * 40}, Budget(max_value=100)).limited


def test_stage_chains_share_their_environment() -> None:
    stages = ["FROM alpine AS s0\nENV V0=0\n"]
    stages += [f"FROM s{i - 1} AS s{i}\nENV V{i}=$V{i - 1}\n" for i in range(1, 200)]
    model = analyze_text("".join(stages))
    assert model.stages[-1].env["V199"] == "0"
    assert len(model.stages[-1].env.maps) <= 33


# --- the engine's fast path agrees with the full lexer -------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("$${}AB_1x:-+?#%/ \t\\'\"é")), max_size=40),
    st.dictionaries(
        st.sampled_from(["A", "B", "B_1", "x"]), st.sampled_from(["", "v", "a b", "${A}"]), max_size=3
    ),
)
def test_simple_path_agrees_with_the_lexer(word: str, env: dict[str, str]) -> None:
    from debugbox.core.dockerfile.shell import Lexer, _Run

    for lexer in (Lexer(), Lexer(undefined=Unknown("from the base image"))):
        fast = process_word(word, env, Budget(), lexer)
        full = _Run(word, env, lexer, Budget(), split=False).run()
        assert (fast.value, fast.error is None, fast.unknown is None) == (
            full.value,
            full.error is None,
            full.unknown is None,
        ), word


def test_variables_in_copy_from_are_rejected_as_buildkit_does() -> None:
    text = "ARG S=build\nFROM golang AS build\nFROM scratch\nARG S\nCOPY --from=$S /app /app\n"
    model = analyze_text(text)
    assert [(raw, index) for _, raw, index in model.stages[1].copies_from] == [("$S", None)]
    (rejected,) = [f.diagnostic for f in check(model) if f.diagnostic.code == BUILDKIT_REJECTS]
    assert "variable expansion is not supported for --from" in rejected.message
