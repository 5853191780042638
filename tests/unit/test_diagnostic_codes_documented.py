"""docs/diagnostics.md catalogues exactly the codes the server can publish: each `DBXnnn` constant of the core's
analysers has its `### DBXnnn` section, and no section describes a code nothing emits."""

from __future__ import annotations

import re

from tests.conftest import ROOT

CORE = ROOT / "server" / "debugbox" / "core"


def test_every_code_the_core_defines_has_a_section_and_no_other() -> None:
    defined = {
        code
        for path in CORE.rglob("*.py")
        for code in re.findall(r'^[A-Z_]+ = "(DBX\d{3})"$', path.read_text(encoding="utf-8"), re.MULTILINE)
    }
    doc = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^### (DBX\d{3}):", doc, re.MULTILINE))
    assert defined and defined == documented
