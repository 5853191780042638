"""What may reach a terminal as it is: the one filter for text that partly comes from files, engines or clusters.

Control characters (an OSC 52 clipboard write or a screen clear hidden in `metadata.name` or a container's log),
lone carriage returns, bidirectional overrides and lone surrogates are shown as `\\xNN` / `\\uNNNN` escapes;
newlines, tabs and CRLF stay. The CLI routes all its output through `printable` (`cli/__init__.py`); text that
reaches the user's terminal another way — the session bootstrap's banner, printed inside the toolbox
(`core/targets/session.py`) — is filtered here before it leaves debugbox.
"""

from __future__ import annotations

import re

#: C0 controls but tab and newline, a CR not before LF, DEL and C1, bidi embeddings/overrides/isolates and
#: marks, and surrogates (which cannot even be encoded).
_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]|\r(?!\n)"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every character that could act on a terminal shown as an escape (see the module doc)."""
    return _UNSAFE.sub(_escape, text)
