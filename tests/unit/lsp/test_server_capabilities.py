"""`debugbox.capabilities`: what real editors' recorded capabilities (as pytest-lsp ships them) allow."""

from __future__ import annotations

import pytest
from debugbox.lsp.client_features import ClientFeatures, read_client_features
from lsprotocol import types as lsp
from pytest_lsp import client_capabilities


def test_vscode_can_do_everything_debugbox_uses_except_the_terminal_without_opting_in() -> None:
    features = read_client_features(client_capabilities("visual-studio-code"))

    assert features.can_create_files and features.show_document and features.configuration
    assert features.code_action_literals and features.code_action_disabled and features.code_lens_refresh
    assert features.open_terminal is False  # only the debugbox extension declares it


def test_the_experimental_opt_in_is_read() -> None:
    caps = client_capabilities("visual-studio-code")
    caps.experimental = {"debugbox": {"openTerminal": True}}
    assert read_client_features(caps).open_terminal is True


@pytest.mark.parametrize(
    "experimental",
    [
        None,
        "yes",
        {"debugbox": True},
        {"debugbox": {"openTerminal": "true"}},
        {"other": {"openTerminal": True}},
    ],
)
def test_malformed_or_foreign_experimental_capabilities_mean_no(experimental: object) -> None:
    caps = lsp.ClientCapabilities(experimental=experimental)
    assert read_client_features(caps).open_terminal is False


def test_neovim_declares_create_but_not_document_changes() -> None:
    # Neovim 0.11 lists resourceOperations but not workspaceEdit.documentChanges: it gets plain `changes`, and
    # Dockerfile.debug is written by the server instead of through a CreateFile edit.
    features = read_client_features(client_capabilities("neovim@v0.11"))

    assert features.apply_edit and features.create_files and not features.document_changes
    assert not features.can_create_files


def test_emacs_has_document_changes_but_no_create() -> None:
    features = read_client_features(client_capabilities("emacs"))

    assert features.apply_edit and features.document_changes and not features.create_files
    assert not features.show_document


def test_nothing_declared_means_nothing_allowed() -> None:
    assert read_client_features(lsp.ClientCapabilities()) == ClientFeatures()
    assert read_client_features(None) == ClientFeatures()


@pytest.mark.parametrize(("client", "resolves"), [("visual-studio-code", True), ("neovim@v0.11", True)])
def test_editors_that_complete_a_chosen_code_actions_edit(client: str, resolves: bool) -> None:
    assert read_client_features(client_capabilities(client)).code_action_resolve_edit is resolves


def test_resolving_other_properties_or_without_data_is_not_resolving_the_edit() -> None:
    caps = client_capabilities("visual-studio-code")
    assert caps.text_document is not None and caps.text_document.code_action is not None
    action = caps.text_document.code_action
    action.resolve_support = lsp.ClientCodeActionResolveOptions(properties=["command"])
    assert read_client_features(caps).code_action_resolve_edit is False
    action.resolve_support = lsp.ClientCodeActionResolveOptions(properties=["edit"])
    action.data_support = False  # `data` would not come back to find the action again
    assert read_client_features(caps).code_action_resolve_edit is False
