"""What the CLI prints from data it did not write (file names, container names, engine messages): no control
characters, so a hostile name cannot move the cursor, set the title or write the clipboard (OSC 52)."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """`text` with C0/C1 control characters (but tab and newline) shown as `\\xNN` escapes."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
