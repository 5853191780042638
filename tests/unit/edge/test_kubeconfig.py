"""Kubeconfig lookup, merging and context choice, without a cluster or the kubernetes client."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from debugbox.edge.kubeconfig import KubeconfigError, kubeconfig_paths, load_kubeconfig, parse_kubeconfigs

ONE = """
current-context: dev
contexts:
  - {name: dev, context: {cluster: c1, namespace: team, user: u}}
  - {name: prod, context: {cluster: c2, user: u}}
clusters:
  - {name: c1, cluster: {server: "https://dev.invalid:6443"}}
  - {name: c2, cluster: {server: "https://prod.invalid:6443"}}
"""
TWO = """
current-context: prod
contexts:
  - {name: dev, context: {cluster: c2}}
  - {name: lab, context: {cluster: c3}}
clusters:
  - {name: c3, cluster: {}}
"""


def test_paths_from_the_environment() -> None:
    env = {"KUBECONFIG": os.pathsep.join(["/a/config", "", "/b/config"])}
    assert kubeconfig_paths(env) == [Path("/a/config"), Path("/b/config")]
    assert kubeconfig_paths({}, home="/home/u") == [Path("/home/u/.kube/config")]


def test_first_file_wins_for_names_and_current_context() -> None:
    cfg = parse_kubeconfigs([("one", ONE), ("two", TWO)])
    ctx = cfg.context()
    assert (ctx.name, ctx.cluster, ctx.server, ctx.namespace) == (
        "dev",
        "c1",
        "https://dev.invalid:6443",
        "team",
    )
    assert cfg.context("prod").namespace == ""
    assert ctx.files == ("one", "two")


def test_context_errors_are_clear() -> None:
    cfg = parse_kubeconfigs([("one", ONE), ("two", TWO)])
    with pytest.raises(
        KubeconfigError, match=r"context 'nope' is not in the kubeconfig .*known contexts: dev, lab, prod"
    ):
        cfg.context("nope")
    with pytest.raises(KubeconfigError, match="cluster 'c3', which has no server"):
        cfg.context("lab")
    with pytest.raises(KubeconfigError, match="sets no current-context"):
        parse_kubeconfigs([("x", "contexts: []\n")]).context()
    with pytest.raises(KubeconfigError, match="not valid YAML"):
        parse_kubeconfigs([("x", "a: [\n")])


def test_loading_skips_missing_files_and_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(KubeconfigError, match=r"no kubeconfig found \(looked at .*missing\)"):
        load_kubeconfig([tmp_path / "missing"])
    (tmp_path / "config").write_text(ONE)
    assert load_kubeconfig([tmp_path / "missing", tmp_path / "config"]).context().name == "dev"
