"""Load: 200 rapid didChange notifications on a large document while code actions and hovers are requested.

What must hold (through the real protocol, on a real `debugbox lsp` process):
- the latest version wins: diagnostics for the final version arrive, nothing older is published after them;
- published versions never go backwards;
- the final diagnostics are exactly those of the final text (compared with the same text opened fresh);
- no request starves: every code action / hover sent during the storm is answered (a result, or a JSON-RPC
  error such as ContentModified) within the deadline.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest
from robust_server import REQUEST_DEADLINE, ResponseError, Server

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import generate

CHANGES = 200


def _diag_key(d: dict[str, Any]) -> tuple[Any, ...]:
    r = d["range"]
    return (r["start"]["line"], r["start"]["character"], r["end"]["line"], d.get("code"), d["message"])


def _publishes(server: Server, uri: str, start: int = 0) -> list[tuple[int, dict[str, Any]]]:
    notes = server.client.notifications[start:]
    return [
        (start + i, n.params)
        for i, n in enumerate(notes)
        if n.method == "textDocument/publishDiagnostics" and n.params.get("uri") == uri
    ]


@pytest.mark.parametrize(
    ("name", "language_id", "text", "final_line"),
    [
        ("Dockerfile", "dockerfile", generate.dockerfile(10_000), "CMD echo final-version"),
        ("manifest.yaml", "yaml", generate.manifest(1_000), "# final version"),
    ],
    ids=["dockerfile-10000-lines", "manifest-1000-documents"],
)
def test_rapid_changes_latest_version_wins(
    server: Server, name: str, language_id: str, text: str, final_line: str
) -> None:
    uri = server.uri(name)
    start = server.client.mark()
    server.open(uri, text, language_id)
    kind = "dockerfile" if language_id == "dockerfile" else "manifest"
    line, new_line = generate.change_point(kind, text)
    n_lines = text.count("\n")
    pending = []
    current = text.split("\n")
    for version in range(2, CHANGES + 2):
        if version == CHANGES + 1:
            # The last change appends a line that changes the diagnostics (a shell-form CMD in a distroless
            # final stage), so stale diagnostics cannot pass for fresh ones.
            at = {"line": len(current) - 1, "character": 0}
            change = {"range": {"start": at, "end": at}, "text": final_line + "\n"}
            current.insert(len(current) - 1, final_line)
        else:
            at = {"line": line, "character": 0}
            change = {"range": {"start": at, "end": at}, "text": f"{new_line}{version}\n"}
            current.insert(line, f"{new_line}{version}")
        server.client.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]},
        )
        if version % 10 == 0:
            probe = {"line": (version * 37) % n_lines, "character": 0}
            pending.append(
                server.client.request_async(
                    "textDocument/codeAction",
                    {
                        "textDocument": {"uri": uri},
                        "range": {"start": probe, "end": probe},
                        "context": {"diagnostics": []},
                    },
                )
            )
        if version % 25 == 0:
            pending.append(
                server.client.request_async(
                    "textDocument/hover",
                    {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 1}},
                )
            )
    final_version = CHANGES + 1
    sent_all = time.perf_counter()

    # No request starves.
    for exchange in pending:
        try:
            server.client.wait(exchange, REQUEST_DEADLINE)
        except ResponseError as exc:
            assert isinstance(exc.code, int)
        except TimeoutError:
            pytest.fail(f"{exchange.method} sent during the storm not answered within {REQUEST_DEADLINE} s")

    # The final version's diagnostics arrive...
    final_index, final_note = server.client.wait_for_diagnostics(
        uri, REQUEST_DEADLINE, start, version=final_version
    )
    assert final_note.params.get("version") == final_version, final_note.params.get("version")
    # ...and nothing older follows them (give a stale publish time to show up).
    time.sleep(1.0)
    later = _publishes(server, uri, final_index + 1)
    assert all(p.get("version") == final_version for _, p in later), [p.get("version") for _, p in later]

    versions = [p.get("version") for _, p in _publishes(server, uri, start)]
    assert all(v is not None for v in versions), versions
    assert versions == sorted(versions), f"published versions went backwards: {versions}"

    # The final diagnostics are those of the final text, computed from scratch on a fresh document.
    fresh = server.uri(name)
    mark = server.client.mark()
    server.open(fresh, "\n".join(current), language_id)
    _, reference = server.client.wait_for_diagnostics(fresh, REQUEST_DEADLINE, mark, version=1)
    got = sorted(map(_diag_key, final_note.params["diagnostics"]))
    want = sorted(map(_diag_key, reference.params["diagnostics"]))
    assert got == want
    if kind == "dockerfile":
        assert any(k[0] == len(current) - 2 for k in got), "the final CMD line has no diagnostic"
    print(
        f"{name}: {CHANGES} changes → {len(versions)} publishes (versions {versions[:3]}…{versions[-3:]}); "
        f"final diagnostics {time.perf_counter() - sent_all:.2f} s after the last change was sent"
    )
    server.close(uri)
    server.close(fresh)
    server.assert_healthy()


#: Services in the large compose file: chains of five, each service `extends:` the one before it.
COMPOSE_SERVICES = 20_000


def test_large_compose_file_is_analysed_within_the_deadline(server: Server) -> None:
    """A compose file of 20,000 services, each extending and sharing the PID namespace of the one before it,
    gets its diagnostics (exactly the two its last service earns) and a hover within the request deadline.
    Looking a service up by name scanned the list, once per service and chain level: this file took over a
    minute (6,000 services took 5 to 10 s)."""
    text = generate.compose(COMPOSE_SERVICES) + (
        "  probe:\n"
        "    image: gcr.io/distroless/static-debian12\n"
        "    healthcheck:\n"
        "      test: curl -f http://localhost/ || exit 1\n"
        f"    pid: service:s{COMPOSE_SERVICES - 1}\n"
        "    network_mode: service:gone\n"
    )
    uri = server.uri("compose.yaml")
    start = server.client.mark()
    server.open(uri, text, "dockercompose")
    _, note = server.client.wait_for_diagnostics(uri, REQUEST_DEADLINE, start, version=1)
    lines = text.count("\n")
    found = sorted((d["range"]["start"]["line"], d["code"]) for d in note.params["diagnostics"])
    assert found == [(lines - 3, "DBX301"), (lines - 1, "DBX302")], found[:5]
    last = text.split("\n").index(f"  s{COMPOSE_SERVICES - 1}:")
    hover = server.ask(
        "textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": last, "character": 3}}
    )
    assert isinstance(hover, dict) and "extends" in hover["contents"]["value"], hover
    listed = server.ask(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": uri},
            "range": {"start": {"line": last, "character": 4}, "end": {"line": last, "character": 4}},
            "context": {"diagnostics": []},
        },
    )
    assert isinstance(listed, list) and any(f"debug-s{COMPOSE_SERVICES - 1}" in a["title"] for a in listed)
    server.close(uri)
    server.assert_healthy()
