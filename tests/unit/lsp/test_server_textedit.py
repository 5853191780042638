"""`debugbox.textedit`: incremental changes applied like an LSP client means them (property-tested against a
slow, obviously correct reference)."""

from __future__ import annotations

import re

from debugbox.lsp.text_changes import apply_change, offset_at
from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types as lsp


def reference_offset(text: str, line: int, column: int) -> int:
    """Walk the text character by character: LSP lines end at \\r\\n, \\r or \\n; columns count UTF-16
    units."""
    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    if line >= len(starts):
        return len(text)
    index = starts[line]
    units = 0
    while index < len(text) and text[index] not in "\r\n" and units < column:
        units += 2 if ord(text[index]) > 0xFFFF else 1
        index += 1
    return index


def pos(line: int, character: int) -> lsp.Position:
    return lsp.Position(line=line, character=character)


def change(start: lsp.Position, end: lsp.Position, text: str) -> lsp.TextDocumentContentChangePartial:
    return lsp.TextDocumentContentChangePartial(range=lsp.Range(start=start, end=end), text=text)


texts = st.text(alphabet=st.sampled_from(list("ab \t\n\r\x0c\u2028é\U0001f600")), max_size=60)
coords = st.integers(min_value=0, max_value=12)


@settings(max_examples=400, deadline=None)
@given(texts, coords, coords, coords, coords, st.text(max_size=5))
def test_matches_the_reference(text: str, l1: int, c1: int, l2: int, c2: int, new: str) -> None:
    a, b = reference_offset(text, l1, c1), reference_offset(text, l2, c2)
    a, b = min(a, b), max(a, b)

    assert offset_at(text, pos(l1, c1)) == reference_offset(text, l1, c1)
    assert apply_change(text, change(pos(l1, c1), pos(l2, c2), new)) == text[:a] + new + text[b:]


def test_long_documents_match_the_reference() -> None:
    # Lines are skipped in chunks of 10,000, 1,000, 100, 10 and 1: cross every chunk boundary, with all three
    # kinds of line break.
    breaks = ["\n", "\r\n", "\r"]
    text = "".join(f"line {i} é\U0001f600{breaks[i % 3]}" for i in range(23_457)) + "tail"
    for line in (0, 1, 9, 10, 99, 100, 9_999, 10_000, 10_001, 12_345, 23_456, 23_457, 30_000):
        for column in (0, 3, 9, 40):
            assert offset_at(text, pos(line, column)) == reference_offset(text, line, column), (line, column)
    edited = apply_change(text, change(pos(12_345, 2), pos(20_000, 1), "<>"))
    a, b = reference_offset(text, 12_345, 2), reference_offset(text, 20_000, 1)
    assert edited == text[:a] + "<>" + text[b:]


def test_insert_a_line_mid_file() -> None:
    text = "FROM alpine\nRUN true\nCMD x\n"
    assert (
        apply_change(text, change(pos(1, 0), pos(1, 0), "USER app\n"))
        == "FROM alpine\nUSER app\nRUN true\nCMD x\n"
    )


def test_form_feed_and_line_separator_are_not_line_breaks() -> None:
    # str.splitlines would count them (pygls does); LSP clients do not.
    text = "a\x0cb\u2028c\nd"
    assert apply_change(text, change(pos(1, 0), pos(1, 1), "D")) == "a\x0cb\u2028c\nD"


def test_columns_are_utf16_units() -> None:
    text = "x\U0001f600y\n"
    assert offset_at(text, pos(0, 3)) == 2  # after the emoji (2 units): before "y"


def test_full_text_change_replaces_everything() -> None:
    assert apply_change("old", lsp.TextDocumentContentChangeWholeDocument(text="new")) == "new"


def test_positions_past_the_end_append() -> None:
    assert apply_change("a\nb", change(pos(9, 0), pos(9, 4), "!")) == "a\nb!"
    assert apply_change("a\nb", change(pos(0, 99), pos(0, 99), "!")) == "a!\nb"
