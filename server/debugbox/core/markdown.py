"""Putting file data into Markdown (hovers): the one place names, images and paths are escaped.

A hover is rendered by the editor, so text from a file is markup unless escaped: a backtick in an image name
ends its code span and lets `[x](https://…)` after it become a live link, a `|` splits a table cell, a blank
line ends a paragraph. `code(text)` makes one inline code span that nothing inside can end; `text(value)`
escapes every ASCII punctuation character Markdown could read as syntax (CommonMark allows a backslash
before any of them). Both show control characters (line breaks included) as visible escapes, so data stays
on its line.
"""

from __future__ import annotations

import re

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_PUNCTUATION = re.compile(r"""[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]""")
_BACKTICKS = re.compile("`+")


def _visible(value: str) -> str:
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", value)


def text(value: object) -> str:
    """`value` as literal text in Markdown: no emphasis, link, HTML, heading or table syntax survives."""
    return _PUNCTUATION.sub(lambda m: "\\" + m.group(), _visible(str(value)))


def code(value: object) -> str:
    """`value` as one inline code span, whatever backticks it holds (CommonMark: a longer fence).

    Not for table cells (a `|` in a code span still splits a GFM cell): use `text` there.
    """
    content = _visible(str(value))
    longest = max((len(run) for run in _BACKTICKS.findall(content)), default=0)
    fence = "`" * (longest + 1)
    if (
        content.startswith("`")
        or content.endswith("`")
        or (content.startswith(" ") and content.endswith(" "))
    ):
        content = f" {content} "  # the fence's padding, stripped again by the renderer
    return f"{fence}{content}{fence}"
