"""Every pod spec of every manifest in the shared corpus: the edits do exactly what they claim, no more."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from debugbox.core.analysis import ActionContext
from debugbox.core.kubernetes.analysis import analyze
from debugbox.core.kubernetes.edits import NothingToDo, Refused, share_pid_edits, sidecar_edits
from debugbox.core.kubernetes.inspect import inspect_manifest
from debugbox.core.kubernetes.pod_spec import DocumentScan, PodScan, Positions, ensure_full
from debugbox.core.kubernetes.yamlstream import Chunk, split_documents
from debugbox.core.settings import Settings
from k8s_support import apply_in, at_path, changed_lines, load_all, manifest_files, pods_of, read
from lsprotocol import types as lsp

TOOLBOX = "nicolaka/netshoot"


@pytest.fixture(scope="module")
def manifests(corpus: Path) -> list[Path]:
    files = manifest_files(corpus)
    assert len(files) >= 50, "the shared corpus should hold the k8s manifests"
    return files


def test_corpus_has_many_pod_specs(manifests: list[Path]) -> None:
    kinds = {pod.kind for path in manifests for _, _, pod in pods_of(read(path))}
    total = sum(len(pods_of(read(path))) for path in manifests)
    assert total >= 100
    assert {
        "Pod",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "CronJob",
        "ReplicationController",
    } <= kinds


def test_document_count_matches_pyyaml(manifests: list[Path]) -> None:
    for path in manifests:
        text = read(path)
        try:
            expected = len(load_all(text))
        except yaml.YAMLError:
            continue  # Helm templates and other broken streams: PyYAML has no count to compare with
        got = sum(1 for c in split_documents(text) if c.index is not None)
        assert got == expected, path.name


def test_pod_specs_match_pyyaml(manifests: list[Path]) -> None:
    """What the scan reports (containers, names, images, sPN) is what PyYAML reads at that path."""
    for path in manifests:
        text = read(path)
        pods = pods_of(text)
        if not pods:
            continue
        docs = load_all(text)
        for chunk, _, pod in pods:
            spec = at_path(docs[chunk.index], pod.path)
            assert isinstance(spec, dict), (path.name, pod.path)
            expected = [
                (c.get("name"), c.get("image"))
                for key in ("initContainers", "containers")
                for c in spec.get(key) or []
            ]
            got = [
                (c.name.value if c.name else None, c.image.value if c.image else None) for c in pod.containers
            ]
            assert sorted(got, key=str) == sorted(expected, key=str), (path.name, pod.path)
            assert pod.share_process_namespace == spec.get("shareProcessNamespace"), (path.name, pod.path)
            assert pod.host_pid == spec.get("hostPID"), (path.name, pod.path)


def _cases(manifests: list[Path]) -> Iterator[tuple[Path, str, Chunk, DocumentScan, PodScan]]:
    for path in manifests:
        text = read(path)
        for chunk, scan, pod in pods_of(text):
            yield path, text, chunk, scan, pod


def test_share_process_namespace_on_every_pod_spec(manifests: list[Path]) -> None:
    edited = refused = already = 0
    for path, text, chunk, scan, pod in _cases(manifests):
        try:
            edits = share_pid_edits(scan, pod)
        except Refused as exc:
            assert pod.host_pid is True, (path.name, pod.path, str(exc))
            refused += 1
            continue
        except NothingToDo:
            assert pod.share_process_namespace is True
            already += 1
            continue
        new = apply_in(text, chunk, edits)
        before, after = load_all(text), load_all(new)
        spec = at_path(after[chunk.index], pod.path)
        assert spec["shareProcessNamespace"] is True, (path.name, pod.path)
        # Otherwise identical: every document, this one with the key taken out again.
        expected = copy.deepcopy(before)
        at_path(expected[chunk.index], pod.path).pop("shareProcessNamespace", None)
        spec.pop("shareProcessNamespace")
        assert after == expected, (path.name, pod.path)
        removed, added = changed_lines(text, new)
        if pod.spn[0] is None:  # inserted: exactly one new line, nothing removed
            assert removed == [] and len(added) == 1, (path.name, pod.path, removed, added)
            line = added[0].rstrip("\r\n").strip()
            assert line in ("shareProcessNamespace: true", '"shareProcessNamespace": true,'), line
        else:  # flipped in place: the same line with the value replaced
            assert len(removed) == len(added) == 1
            assert added[0] == removed[0].replace("false", "true", 1)
        edited += 1
    assert edited >= 100 and refused >= 3 and already >= 2


def test_debug_sidecar_on_every_pod_spec(manifests: list[Path]) -> None:
    done = 0
    for path, text, chunk, scan, pod in _cases(manifests):
        try:
            edits, name = sidecar_edits(scan, pod, TOOLBOX)
        except Refused as exc:
            assert "no containers list" in str(exc), (path.name, pod.path)
            continue
        new = apply_in(text, chunk, edits)
        spec = at_path(load_all(new)[chunk.index], pod.path)
        debug = [c for c in spec["containers"] if c.get("name") == name]
        assert debug == [
            {
                "name": name,
                "image": TOOLBOX,
                "stdin": True,
                "tty": True,
                "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}},
            }
        ], (path.name, pod.path)
        if pod.host_pid is not True:
            assert spec["shareProcessNamespace"] is True
        else:
            assert "shareProcessNamespace" not in spec
        old_spec = at_path(load_all(text)[chunk.index], pod.path)
        assert len(spec["containers"]) == len(old_spec["containers"]) + 1
        done += 1
    assert done >= 90


def test_every_corpus_file_analyses_without_crashing(manifests: list[Path]) -> None:
    settings = Settings()
    for path in manifests:
        text = read(path)
        analysis = analyze(path.as_uri(), text, settings)
        analysis.diagnostics()
        analysis.lens_anchors()
        result = inspect_manifest(text)
        assert result["documents"] == analysis.documents


def test_lazy_diagnostics_equal_full_diagnostics(manifests: list[Path]) -> None:
    """The open-time shortcut (syntax check only when no image can lack a shell) never loses a diagnostic."""
    settings = Settings()
    deferred = 0
    for path in manifests:
        text = read(path)
        lazy = analyze(path.as_uri(), text, settings)
        deferred += sum(scan.deferred for scan in lazy.scans)
        prepared = analyze(path.as_uri(), text, settings)
        for scan in prepared.scans:
            ensure_full(scan)
        full = analyze(path.as_uri(), text, settings, previous=prepared)  # reuses the fully built scans
        assert not any(scan.deferred for scan in full.scans)
        assert lazy.diagnostics() == full.diagnostics(), path.name
    assert deferred >= 50  # the shortcut was really taken, for most documents with pod specs


def test_deferred_code_actions_list_what_checked_ones_do(manifests: list[Path]) -> None:
    """For an editor that resolves code actions, pod specs without YAML sharing get their edits unchecked
    (checked when chosen): the list must be the checked one's, title for title and refusal for refusal, and
    each deferred action's checked counterpart must have edits (the check passed)."""
    settings = Settings()
    eager_ctx = ActionContext(settings=settings, file_exists=lambda _uri: False)
    defer_ctx = ActionContext(settings=settings, file_exists=lambda _uri: False, defer_checks=True)
    deferred = 0
    for path in manifests:
        analysis = analyze(path.as_uri(), read(path), settings)
        for chunk, scan in zip(analysis.chunks, analysis.scans, strict=True):
            for pod in ensure_full(scan).pods:
                line = Positions(scan, chunk.line, chunk.start).lsp_line(pod.first_line)
                at = lsp.Range(start=lsp.Position(line, 0), end=lsp.Position(line, 0))
                eager, lazy = analysis.actions(at, eager_ctx), analysis.actions(at, defer_ctx)
                assert [(a.title, a.disabled_reason) for a in lazy] == [
                    (a.title, a.disabled_reason) for a in eager
                ], (path.name, pod.path)
                for checked, offered in zip(eager, lazy, strict=True):
                    if offered.deferred:
                        assert checked.edits and not offered.edits, (path.name, pod.path, offered.title)
                        deferred += 1
    assert deferred >= 150  # most pod specs of real manifests share no text
