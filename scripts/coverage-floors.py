"""Print the test run's line coverage by layer and exit 1 when a layer is below its floor.

Run by scripts/test after pytest (pytest-cov, with subprocesses measured: see [tool.coverage.run] in
pyproject.toml). The data file is $COVERAGE_FILE. Floors are what each layer's tests must keep covering; a floor
below the target (pure core 95 %, edge 85 %, LSP handlers 85 %) is the measured value, named in docs/testing.md.
"""

from __future__ import annotations

import io
import sys

import coverage

#: Layer name -> (file pattern, floor in %).
FLOORS: dict[str, tuple[str, float]] = {
    "pure core   server/debugbox/core": ("*/debugbox/core/*", 95.0),
    "edge        server/debugbox/edge": ("*/debugbox/edge/*", 85.0),
    "handlers    server/debugbox/lsp/handlers": ("*/debugbox/lsp/handlers/*", 85.0),
    "LSP layer   server/debugbox/lsp (all)": ("*/debugbox/lsp/*", 0.0),
    "CLI         server/debugbox/cli": ("*/debugbox/cli/*", 0.0),
}


def main() -> int:
    cov = coverage.Coverage()
    cov.load()
    total = cov.report(file=io.StringIO())
    failed = []
    print("== coverage (lines, all test tiers, subprocesses included)")
    for name, (pattern, floor) in FLOORS.items():
        percent = cov.report(include=[pattern], file=io.StringIO())
        verdict = "" if not floor else ("ok" if percent >= floor else "BELOW FLOOR")
        floor_text = f"floor {floor:4.1f} %" if floor else ""
        print(f"  {name:44} {percent:5.1f} %  {floor_text:13} {verdict}")
        if floor and percent < floor:
            failed.append(f"{' '.join(name.split())} {percent:.1f} % < {floor:g} %")
    print(f"  {'total       server/debugbox':44} {total:5.1f} %")
    if failed:
        print("coverage below its floor: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
