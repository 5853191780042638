"""Fuzzing through the real protocol: hostile documents and bad requests against a running `debugbox lsp`.

Two parts. The hand-picked worst cases (NUL bytes, invalid UTF-8, a 5 MB line, a 100,000-line file, YAML
nested thousands deep, billion-laughs alias bombs, unbalanced heredocs, raw garbage on the wire) each get
their own test. The structured part uses hypothesis with a fixed seed (`derandomize=True`, so CI runs the same
examples every time): documents made of mutated corpus files, random bytes and fragments of Dockerfile/YAML
syntax, fed through interleaved didOpen/didChange/codeAction/hover/codeLens/executeCommand with bad arguments.

Pass = every request answered (a result or a proper JSON-RPC error) within its deadline, the process alive,
its memory bounded, no traceback or ERROR in its stderr or log (`Server.assert_healthy`). The longer-running
variant is `benchmarks/fuzz_long.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from robust_server import ResponseError, Server

COMMANDS = (
    "debugbox.generateDebugDockerfile",
    "debugbox.addShareProcessNamespace",
    "debugbox.addDebugSidecar",
    "debugbox.listTargets",
    "debugbox.debugCommand",
    "debugbox.openDebugTerminal",
    "debugbox.noSuchCommand",
)

#: pygls' own log records for messages it could not parse or structure (client garbage, not server faults).
PYGLS_BAD_INPUT = ("pygls.server: Unable to handle message", "pygls.protocol.json_rpc: Unable to deserialize")

NAMES = (
    ("Dockerfile", "dockerfile"),
    ("api.Dockerfile", "dockerfile"),
    ("Containerfile", "dockerfile"),
    ("Dockerfile.debug", "dockerfile"),
    ("deploy.yaml", "yaml"),
    ("pod.yml", "yaml"),
    ("list.json", "json"),
    ("notes.txt", "plaintext"),
)

FRAGMENTS = (
    "FROM alpine:3.20",
    "FROM gcr.io/distroless/static-debian12 AS final",
    "FROM ${BASE:-scratch}",
    "FROM --platform=$BUILDPLATFORM golang:1.22 AS build",
    "ARG BASE=debian",
    "RUN <<EOF",
    "RUN <<-'EOT' bash",
    "EOF",
    "RUN apt-get update && \\",
    "    apt-get install -y curl \\",
    "CMD echo hi",
    'ENTRYPOINT ["/app"',
    "HEALTHCHECK CMD curl -f http://localhost/",
    "USER 0:0",
    "# escape=`",
    "COPY --from=0 / /",
    "\\",
    "---",
    "...",
    "apiVersion: v1",
    "kind: Pod",
    "kind: Deployment",
    "kind: List",
    "items:",
    "spec:",
    "  template:",
    "    spec:",
    "  containers:",
    "  - name: app",
    "    image: gcr.io/distroless/base",
    "  shareProcessNamespace: false # keep",
    "  hostPID: true",
    "  spec: {containers: [{name: a, image: b}]}",
    "a: &a [*a, *a]",
    "b: *undefined",
    "c: !!python/object:os.system echo",
    "{{ .Values.image }}",
    '{"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [',
    "\t- tab: indented",
    "key: |",
    "  kind: Pod",
    "\x00",
    "\ufeff",
    "\r",
    "é€😀",
)


def _pos(line: int, character: int) -> dict[str, int]:
    return {"line": line, "character": character}


def _check_answer(result: Any) -> None:
    assert result is None or isinstance(result, dict | list | ResponseError), type(result)


def _touch(server: Server, uri: str, lines: int) -> None:
    """A code action over everything, one on the middle line and a hover: all must be answered."""
    end = _pos(max(lines, 1), 0)
    _check_answer(
        server.ask(
            "textDocument/codeAction",
            {
                "textDocument": {"uri": uri},
                "range": {"start": _pos(0, 0), "end": end},
                "context": {"diagnostics": []},
            },
        )
    )
    mid = _pos(lines // 2, 3)
    _check_answer(
        server.ask(
            "textDocument/codeAction",
            {
                "textDocument": {"uri": uri},
                "range": {"start": mid, "end": mid},
                "context": {"diagnostics": []},
            },
        )
    )
    _check_answer(server.ask("textDocument/hover", {"textDocument": {"uri": uri}, "position": mid}))


# -- the hand-picked worst cases ----------------------------------------------------------------------------


def _nested_yaml(depth: int) -> str:
    block = "".join(f"{'  ' * i}k{i}:\n" for i in range(depth)) + f"{'  ' * depth}v\n"
    return "apiVersion: v1\nkind: ConfigMap\ndata:\n" + "".join(
        "  " + line + "\n" for line in block.splitlines()
    )


def _billion_laughs(levels: int = 12) -> str:
    lines = ["apiVersion: v1", "kind: Pod", 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    lines += [
        "spec:",
        "  containers:",
        f"  - name: bomb\n    image: *a{levels - 1}",
        f"    env: *a{levels - 1}",
    ]
    return "\n".join(lines) + "\n"


def _alias_pod_bomb(levels: int = 10) -> str:
    """Every container list is an alias of the previous one, nine times over: exponential if expanded."""
    lines = [
        "apiVersion: v1",
        "kind: List",
        "items:",
        "- &p0 {apiVersion: v1, kind: Pod, spec: {containers: [{name: a, image: 'gcr.io/distroless/base'}]}}",
    ]
    for i in range(1, levels):
        refs = ", ".join([f"*p{i - 1}"] * 9)
        lines.append(f"- &p{i} {{apiVersion: v1, kind: List, items: [{refs}]}}")
    return "\n".join(lines) + "\n"


WORST_CASES: dict[str, tuple[str, str, str]] = {
    # name → (file name, languageId, text)
    "nul-bytes-dockerfile": (
        "Dockerfile",
        "dockerfile",
        "FROM alp\x00ine\nRUN echo \x00\x00\nCMD [\x00]\n" * 50,
    ),
    "nul-bytes-yaml": (
        "nul.yaml",
        "yaml",
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: \x00\n",
    ),
    "invalid-utf8-dockerfile": (
        "Dockerfile",
        "dockerfile",
        (b"FROM \xff\xfe\xc3(alpine\nRUN \xed\xa0\x80 echo\nUSER \xf0\x28\x8c\xbc\n" * 100).decode(
            "utf-8", errors="replace"
        ),
    ),
    "invalid-utf8-yaml": (
        "bad.yaml",
        "yaml",
        b"apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: \xc3\x28\n    image: \xff\n".decode(
            "utf-8", errors="replace"
        ),
    ),
    "lone-surrogates-escaped": ("Dockerfile", "dockerfile", "FROM a\nRUN echo \udcff\ud800\n"),
    "five-mb-line-dockerfile": (
        "Dockerfile",
        "dockerfile",
        "FROM alpine\nRUN echo " + "x" * 5_000_000 + "\n",
    ),
    "five-mb-line-yaml": (
        "big.yaml",
        "yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + "n" * 5_000_000 + "\nspec: {containers: []}\n",
    ),
    "hundred-k-lines-dockerfile": (
        "Dockerfile",
        "dockerfile",
        "FROM debian AS s0\n" + "".join(f"RUN echo {i}\n" for i in range(100_000)),
    ),
    "hundred-k-lines-yaml": (
        "many.yaml",
        "yaml",
        "".join(f"---\napiVersion: v1\nkind: ConfigMap\ndata: {{k{i}: v}}\n" for i in range(25_000)),
    ),
    "deeply-nested-block-yaml": ("nested.yaml", "yaml", _nested_yaml(3_000)),
    "deeply-nested-flow-yaml": (
        "flow.yaml",
        "yaml",
        "apiVersion: v1\nkind: Pod\nspec: " + "[" * 20_000 + "]" * 20_000 + "\n",
    ),
    "deeply-nested-json": (
        "deep.json",
        "json",
        '{"apiVersion":"v1","kind":"Pod","spec":' + '{"a":' * 20_000 + "1" + "}" * 20_001,
    ),
    "billion-laughs": ("bomb.yaml", "yaml", _billion_laughs()),
    "alias-pod-bomb": ("podbomb.yaml", "yaml", _alias_pod_bomb()),
    "recursive-alias": ("rec.yaml", "yaml", "apiVersion: v1\nkind: Pod\nspec: &s\n  containers: *s\n"),
    "unbalanced-heredoc": ("Dockerfile", "dockerfile", "FROM alpine\nRUN <<EOF\necho never closed\n" * 200),
    "heredoc-flood": (
        "Dockerfile",
        "dockerfile",
        "FROM alpine\nRUN "
        + " ".join(f"<<E{i}" for i in range(2_000))
        + "\n"
        + "".join(f"E{i}\n" for i in range(2_000)),
    ),
    "endless-continuation": ("Dockerfile", "dockerfile", "FROM alpine\nRUN echo \\\n" + "  a \\\n" * 50_000),
    "only-newlines": ("Dockerfile", "dockerfile", "\n" * 200_000),
    "crlf-and-cr": ("mixed.yaml", "yaml", "apiVersion: v1\r\nkind: Pod\rspec:\r\n  containers: []\r"),
    "python-tags": (
        "tags.yaml",
        "yaml",
        "apiVersion: v1\nkind: Pod\nspec: !!python/object/apply:os.system ['touch /tmp/debugbox-pwned']\n",
    ),
}


@pytest.mark.parametrize("case", sorted(WORST_CASES))
def test_worst_case_documents_are_answered(server: Server, case: str) -> None:
    name, language_id, text = WORST_CASES[case]
    uri = server.uri(name)
    server.open(uri, text, language_id)
    lines = text.count("\n")
    _touch(server, uri, lines)
    # An edit in the middle of the hostile document, then everything again for the new version.
    mid = _pos(lines // 2, 0)
    server.client.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"range": {"start": mid, "end": mid}, "text": "RUN echo edited\n"}],
        },
    )
    _touch(server, uri, lines + 1)
    lenses = server.ask("textDocument/codeLens", {"textDocument": {"uri": uri}})
    _check_answer(lenses)
    server.close(uri)
    server.assert_healthy()
    assert not Path("/tmp/debugbox-pwned").exists()


def test_garbage_on_the_wire_is_survived(server: Server) -> None:
    """Bad JSON, wrong JSON-RPC shapes, unknown methods, missing params: answered or ignored, never fatal."""
    client = server.client
    client.send_raw(b"{this is not json")
    client.send_raw(b"\xff\xfe\x00garbage")
    client.send_raw(json.dumps([1, 2, 3]).encode())
    client.send_raw(json.dumps({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": 42}).encode())
    client.send_raw(json.dumps({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {}}).encode())
    client.send_raw(json.dumps({"jsonrpc": "2.0", "method": "$/unknownNotification"}).encode())
    unknown = server.ask("debugbox/noSuchMethod", {"x": 1})
    assert isinstance(unknown, ResponseError) and unknown.code == -32601, unknown
    for method, params in (
        ("textDocument/codeAction", {}),
        ("textDocument/codeAction", {"textDocument": {"uri": 7}, "range": None, "context": {}}),
        (
            "textDocument/hover",
            {"textDocument": {"uri": "file:///x"}, "position": {"line": -1, "character": -5}},
        ),
        ("textDocument/hover", None),
        ("workspace/executeCommand", {"command": 42}),
        ("workspace/executeCommand", {}),
        ("textDocument/codeLens", {"textDocument": {}}),
    ):
        _check_answer(server.ask(method, params))
    # pygls reports undecodable client input at ERROR with a traceback and goes on (it does not answer a parse
    # error with -32700); those records are about the client, not a server fault. Anything else still fails.
    server.assert_healthy(allow=PYGLS_BAD_INPUT)


def test_requests_on_unknown_and_closed_documents(server: Server) -> None:
    uri = server.uri("Dockerfile")
    for _ in range(2):
        _touch(server, uri, 3)
        server.open(uri, "FROM gcr.io/distroless/static\nCMD echo hi\n", "dockerfile")
        _touch(server, uri, 3)
        server.close(uri)
    # A change for a document that was never opened, and a second open of an open document.
    server.client.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": server.uri("Dockerfile"), "version": 9},
            "contentChanges": [{"text": "FROM a\n"}],
        },
    )
    other = server.uri("Dockerfile")
    server.open(other, "FROM alpine\n", "dockerfile")
    server.open(other, "FROM scratch\n", "dockerfile", version=5)
    _touch(server, other, 1)
    server.close(other)
    server.assert_healthy()


# -- the structured part (hypothesis, fixed seed) ------------------------------------------------------------


def _mutate(text: str, data: st.DataObject) -> str:
    lines = text.split("\n")
    for _ in range(data.draw(st.integers(0, 6), label="mutations")):
        op = data.draw(st.sampled_from(("delete", "duplicate", "insert", "truncate", "bytes", "swap")))
        i = data.draw(st.integers(0, max(len(lines) - 1, 0)))
        if op == "delete" and lines:
            del lines[i : i + data.draw(st.integers(1, 20))]
        elif op == "duplicate" and lines:
            lines[i:i] = lines[i : i + data.draw(st.integers(1, 10))] * data.draw(st.integers(1, 5))
        elif op == "insert":
            lines.insert(i, data.draw(st.sampled_from(FRAGMENTS)))
        elif op == "truncate" and lines:
            lines[i] = lines[i][: data.draw(st.integers(0, max(len(lines[i]), 0)))]
        elif op == "bytes":
            raw = data.draw(st.binary(max_size=40))
            lines.insert(i, raw.decode("utf-8", errors="replace"))
        elif op == "swap" and len(lines) > 1:
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def _document(data: st.DataObject, corpus_texts: list[tuple[str, str]]) -> str:
    source = data.draw(st.sampled_from(("corpus", "fragments", "bytes", "text")), label="source")
    if source == "corpus":
        _name, text = data.draw(st.sampled_from(corpus_texts))
        return _mutate(text, data)
    if source == "fragments":
        return "\n".join(data.draw(st.lists(st.sampled_from(FRAGMENTS), max_size=60)))
    if source == "bytes":
        return data.draw(st.binary(max_size=2_000)).decode("utf-8", errors="replace")
    return data.draw(st.text(max_size=500))


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)


def _command_arguments(data: st.DataObject, uri: str) -> list[Any]:
    shape = data.draw(st.sampled_from(("none", "junk", "object", "uris")), label="args")
    if shape == "none":
        return []
    if shape == "junk":
        return data.draw(st.lists(_JSON, max_size=3))
    if shape == "uris":
        bad = data.draw(
            st.sampled_from(
                (
                    "file:///etc/passwd",
                    "file:///../../etc/Dockerfile",
                    "untitled:Untitled-1",
                    "http://example.invalid/Dockerfile",
                    "not a uri",
                    "file:///" + "a/" * 2_000,
                    "file:///tmp/%00/Dockerfile",
                    uri,
                )
            )
        )
        return [
            {"uri": bad, "regenerate": data.draw(_JSON), "line": data.draw(_JSON), "target": data.draw(_JSON)}
        ]
    return [
        data.draw(st.dictionaries(st.sampled_from(("uri", "line", "target", "regenerate", "variant")), _JSON))
    ]


class CorpusTexts(list[tuple[str, str]]):
    """(file name, text) of every corpus file; a short repr keeps hypothesis' failure reports readable."""

    def __repr__(self) -> str:
        return f"<{len(self)} corpus files>"


@pytest.fixture(scope="module")
def corpus_texts(corpus: Path) -> CorpusTexts:
    files = sorted(p for d in ("dockerfiles", "k8s") for p in (corpus / d).iterdir() if p.is_file())
    return CorpusTexts((p.name, p.read_text(errors="replace")) for p in files)


#: `benchmarks/fuzz_long.py` sets this for long runs with a fresh seed; CI runs the fixed-seed 1,000 examples.
LONG_RUN_EXAMPLES = int(os.environ.get("DEBUGBOX_FUZZ_EXAMPLES", "0"))


@settings(
    derandomize=not LONG_RUN_EXAMPLES,
    # Each example drives a real server; shrinking a failure could take many minutes. The failing example and
    # the server's own traceback are reported as found.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    max_examples=LONG_RUN_EXAMPLES or 1000,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
def test_fuzzed_sessions(server: Server, corpus_texts: list[tuple[str, str]], data: st.DataObject) -> None:
    name, language_id = data.draw(st.sampled_from(NAMES), label="name")
    if data.draw(st.booleans(), label="lie about languageId"):
        language_id = data.draw(st.sampled_from(("dockerfile", "yaml", "json", "plaintext", "")))
    uri = server.uri(name)
    text = _document(data, corpus_texts)
    server.open(uri, text, language_id)
    version = 1
    for _ in range(data.draw(st.integers(1, 8), label="steps")):
        n_lines = text.count("\n") + 1
        step = data.draw(st.sampled_from(("change", "full", "codeAction", "hover", "codeLens", "command")))
        # Positions may lie past the end of the document (editors race; buggy clients exist).
        line = data.draw(st.integers(0, n_lines + 3))
        char = data.draw(st.integers(0, 200))
        if step in ("change", "full"):
            version += 1
            if step == "full":
                text = _document(data, corpus_texts)
                changes: list[dict[str, Any]] = [{"text": text}]
            else:
                end_line = data.draw(st.integers(line, line + 3))
                new = data.draw(st.sampled_from(FRAGMENTS)) + data.draw(st.sampled_from(("\n", "", "\r\n")))
                changes = [{"range": {"start": _pos(line, char), "end": _pos(end_line, 0)}, "text": new}]
                text = text + "\n" + new  # only the line count matters for the next positions
            server.client.notify(
                "textDocument/didChange",
                {"textDocument": {"uri": uri, "version": version}, "contentChanges": changes},
            )
        elif step == "codeAction":
            end = _pos(data.draw(st.integers(line, line + 50)), data.draw(st.integers(0, 200)))
            only = data.draw(
                st.sampled_from((None, ["quickfix"], ["refactor"], ["source"], [""], ["bogus.kind"]))
            )
            context: dict[str, Any] = {"diagnostics": []}
            if only is not None:
                context["only"] = only
            _check_answer(
                server.ask(
                    "textDocument/codeAction",
                    {
                        "textDocument": {"uri": uri},
                        "range": {"start": _pos(line, char), "end": end},
                        "context": context,
                    },
                )
            )
        elif step == "hover":
            _check_answer(
                server.ask("textDocument/hover", {"textDocument": {"uri": uri}, "position": _pos(line, char)})
            )
        elif step == "codeLens":
            _check_answer(server.ask("textDocument/codeLens", {"textDocument": {"uri": uri}}))
        else:
            command = data.draw(st.sampled_from(COMMANDS), label="command")
            result = server.ask(
                "workspace/executeCommand", {"command": command, "arguments": _command_arguments(data, uri)}
            )
            _check_answer(result)
            if command == "debugbox.noSuchCommand":
                assert isinstance(result, ResponseError), result
    _check_answer(server.ask("textDocument/hover", {"textDocument": {"uri": uri}, "position": _pos(0, 0)}))
    server.close(uri)
    assert server.client.alive(), server.tail()
    faults = server.faults()
    assert not faults, "\n".join(faults[:10])
