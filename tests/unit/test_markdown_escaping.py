"""Hovers are Markdown the editor renders: names and images from a file must stay text.

Rendered with markdown-it-py (the Python port of markdown-it, the renderer VS Code uses for hovers), with
tables on as in VS Code: whatever the file holds, the hover has no link, image or HTML that the file put there,
and the hostile value is shown literally.
"""

from __future__ import annotations

import pytest
from debugbox.core import markdown as md
from debugbox.core.dockerfile.analysis import analyze as analyze_dockerfile
from debugbox.core.kubernetes.analysis import analyze as analyze_manifest
from debugbox.core.settings import Settings
from lsprotocol import types as lsp
from markdown_it import MarkdownIt

HOSTILE = [
    "a`[click](https://evil.example/steal)`b",
    "``[click](https://evil.example)``",
    "x<img src=https://evil.example/p.png>",
    "![p](https://evil.example/p.png)",
    "<https://evil.example>",
    "a|b\n\n[click](https://evil.example)",
    "`",
    " `x` ",
]


def render(markdown: str) -> str:
    html: str = MarkdownIt("commonmark").enable("table").render(markdown)
    return html


@pytest.mark.parametrize("value", HOSTILE)
def test_code_and_text_keep_any_value_literal(value: str) -> None:
    for markup in (md.code(value), md.text(value)):
        html = render(f"before {markup} after")
        assert "<a " not in html and "<img" not in html and "<p>before" in html and "after</p>" in html
        assert html.count("<p>") == 1  # one paragraph: no line break in the value ended it


def _hover(analysis: object, line: int, character: int) -> str:
    hover = analysis.hover(lsp.Position(line, character))  # type: ignore[attr-defined]
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    return str(hover.contents.value)


@pytest.mark.parametrize("value", HOSTILE[:5])
def test_manifest_hovers_show_hostile_names_and_images_as_text(value: str) -> None:
    quoted = value.replace("\\", "\\\\").replace('"', '\\"')
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n"
        f'  name: "{quoted}"\nspec:\n  containers:\n'
        f'  - name: "{quoted}"\n    image: "{quoted}"\n'
    )
    analysis = analyze_manifest("file:///m.yaml", text, Settings())
    for line in (6, 7):
        html = render(_hover(analysis, line, 6))
        assert "<a " not in html and "<img" not in html, html


@pytest.mark.parametrize("value", HOSTILE[:5])
def test_dockerfile_hovers_show_hostile_images_and_users_as_text(value: str) -> None:
    text = f"FROM {value.replace(chr(10), ' ')}\nUSER {value.replace(chr(10), ' ')}\n"
    html = render(_hover(analyze_dockerfile("file:///Dockerfile", text, Settings()), 0, 2))
    assert "<a " not in html and "<img" not in html, html
