"""The VS Code extension's manifest and constants agree with the server: settings, defaults, enums, trust.

No editor needed: reads vscode-extension/package.json, src/common/constants.ts and docs/settings.md.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest
from debugbox.core import wire as protocol
from debugbox.core.settings import _ENUMS, EXECUTION_SETTINGS, Settings, _camel

from tests.conftest import ROOT

EXT = ROOT / "vscode-extension"
MANIFEST = json.loads((EXT / "package.json").read_text(encoding="utf-8"))
PROPERTIES: dict[str, dict[str, Any]] = MANIFEST["contributes"]["configuration"]["properties"]
CLIENT_ONLY = {"server.pythonPath"}
JSON_TYPES = {bool: "boolean", str: "string", float: "number", tuple: "array"}


def server_settings() -> dict[str, Any]:
    """Every leaf of the settings tree as `camelCase.dotted` key -> default, from core/settings.py itself."""
    out: dict[str, Any] = {}

    def walk(obj: Any, prefix: str) -> None:
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            key = prefix + _camel(f.name)
            if dataclasses.is_dataclass(value):
                walk(value, key + ".")
            else:
                out[key] = value

    walk(Settings(), "")
    return out


SERVER = server_settings()


def test_every_server_setting_is_contributed_with_the_same_default_and_type() -> None:
    for key, default in SERVER.items():
        prop = PROPERTIES.get(f"debugbox.{key}")
        assert prop is not None, f"package.json does not contribute debugbox.{key}"
        expected = list(default) if isinstance(default, tuple) else default
        assert prop["default"] == expected, key
        assert prop["type"] == JSON_TYPES[type(default)], key
        assert prop.get("description") or prop.get("markdownDescription"), (
            f"debugbox.{key} has no description"
        )


def test_no_setting_the_server_does_not_know() -> None:
    contributed = {k.removeprefix("debugbox.") for k in PROPERTIES}
    assert contributed - set(SERVER) == CLIENT_ONLY


@pytest.mark.parametrize("key", sorted(_ENUMS))
def test_enums_match(key: str) -> None:
    assert PROPERTIES[f"debugbox.{key}"]["enum"] == list(_ENUMS[key])
    descriptions = PROPERTIES[f"debugbox.{key}"].get("enumDescriptions")
    assert descriptions is None or len(descriptions) == len(_ENUMS[key])


def test_untrusted_workspaces_restrict_exactly_the_execution_settings_and_the_interpreter() -> None:
    untrusted = MANIFEST["capabilities"]["untrustedWorkspaces"]
    assert untrusted["supported"] == "limited"
    restricted = set(untrusted["restrictedConfigurations"])
    assert restricted == {f"debugbox.{k}" for k in EXECUTION_SETTINGS | CLIENT_ONLY}


def test_constants_mirror_protocol_and_client_commands_do_not_collide() -> None:
    constants = (EXT / "src" / "common" / "constants.ts").read_text(encoding="utf-8")
    for command in protocol.Command:
        assert f'"{command.value}"' in constants, command
    assert f'OPEN_TERMINAL_METHOD = "{protocol.OPEN_TERMINAL_METHOD}"' in constants
    assert f'EXPERIMENTAL_KEY = "{protocol.EXPERIMENTAL_KEY}"' in constants
    assert f'EXPERIMENTAL_OPEN_TERMINAL = "{protocol.EXPERIMENTAL_OPEN_TERMINAL}"' in constants
    contributed = [c["command"] for c in MANIFEST["contributes"]["commands"]]
    server_ids = {c.value for c in protocol.Command}
    assert contributed and all(c.startswith("debugbox.client.") for c in contributed)
    assert not server_ids & set(contributed)
    assert {c["category"] for c in MANIFEST["contributes"]["commands"]} == {"debugbox"}


def test_activation_covers_dockerfiles_and_manifests() -> None:
    events = set(MANIFEST["activationEvents"])
    assert {
        "onLanguage:dockerfile",
        "onLanguage:yaml",
        "onLanguage:json",
        "onLanguage:dockercompose",
    } <= events
    (lang,) = [lang for lang in MANIFEST["contributes"]["languages"] if lang["id"] == "dockerfile"]
    assert "Containerfile" in lang["filenames"]
    assert "*.Dockerfile" in lang["filenamePatterns"]


def test_settings_reference_documents_every_setting_with_its_default() -> None:
    doc = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    restricted = set(MANIFEST["capabilities"]["untrustedWorkspaces"]["restrictedConfigurations"])
    for name, prop in PROPERTIES.items():
        row = re.search(rf"^\| `{re.escape(name)}` \|(.*)$", doc, re.MULTILINE)
        assert row, f"docs/settings.md has no table row for {name}"
        assert f"`{json.dumps(prop['default'])}`" in row.group(1), f"{name}: default missing in its row"
        kind, _default, _applies, untrusted = (cell.strip() for cell in row.group(1).split(" | ")[:4])
        if "enum" in prop:  # the allowed values, each, and nothing else
            assert re.findall(r"`([^`]+)`", kind) == prop["enum"], (
                f"{name}: its row's values are not the enum"
            )
        else:
            assert kind.startswith(prop["type"]), f"{name}: its row's type is not {prop['type']}"
        expected = "workspace value ignored" if name in restricted else "applies"
        assert untrusted == expected, f"{name}: its row says {untrusted!r} in an untrusted workspace"


def test_the_toolbox_the_palette_builds_is_the_clis_default_tag() -> None:
    """ "Build Local Toolbox Image" offers the image `debugbox toolbox build` makes: the extension's copy of the
    name must be the server's."""
    from debugbox.core.targets.container_strategy import LOCAL_TOOLBOX

    toolbox = (EXT / "src" / "common" / "toolbox.ts").read_text(encoding="utf-8")
    assert f'export const LOCAL_TOOLBOX = "{LOCAL_TOOLBOX}";' in toolbox
    titles = {c["command"]: c["title"] for c in MANIFEST["contributes"]["commands"]}
    assert titles["debugbox.client.buildToolboxImage"] == "Build Local Toolbox Image"
    assert titles["debugbox.client.openRawShell"] == "Open Raw Shell…"


def test_every_palette_command_is_documented_by_its_title() -> None:
    """docs/vscode.md names each palette command as the palette shows it (`debugbox: TITLE`; the file view's
    **Download…** by its button)."""
    doc = " ".join((ROOT / "docs" / "vscode.md").read_text(encoding="utf-8").split())
    for command in MANIFEST["contributes"]["commands"]:
        title = command["title"]
        assert f"**debugbox: {title}**" in doc or f"**{title}**" in doc, (
            f"docs/vscode.md does not name {title}"
        )


def test_the_server_commands_page_has_a_section_per_command_in_order() -> None:
    doc = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## `(debugbox\.[A-Za-z]+)`$", doc, re.MULTILINE)
    assert sections == [command.value for command in protocol.Command]
