"""Checking `workspace/executeCommand` arguments, for every command module.

Commands take one JSON object (`{"uri": ..., ...}`). Anything else is answered with a JSON-RPC InvalidParams
error whose message names the command and what was wrong, so a bad call from any editor or script gets a clear
answer and the server carries on. `CommandFailed` (LSP RequestFailed) is for well-formed requests that cannot
be done; `shown_failure` is the one way a command both shows its sentence (`window/showMessage`, for every
editor) and fails, marking the error `{"shown": true}` so that a client showing its own errors does not show it a
second time (the VS Code extension: `failureOf` in `vscode-extension/src/common/failures.ts`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

if TYPE_CHECKING:
    from debugbox.lsp.server import DebugboxLanguageServer

_SHOWN_CHARS = 80


class CommandFailed(JsonRpcException):
    """The request was valid but could not be carried out (LSP `RequestFailed`)."""

    CODE = -32803
    MESSAGE = "Request failed"


#: `ResponseError.data` of a failure whose sentence the server has already shown to the user.
SHOWN = {"shown": True}


def shown_failure(ls: DebugboxLanguageServer, command: str, why: str) -> CommandFailed:
    """Show `why` (one sentence) as an error message, and the failure to raise for `command`: marked `SHOWN`,
    with the command in its message for logs and scripts (the user sees `why` once, without it)."""
    from lsprotocol import types as lsp

    from debugbox.core.printable import printable

    # `why` may name a path from the target (a file view's download): its control characters are shown escaped.
    ls.show_message(f"debugbox: {printable(why)}", lsp.MessageType.Error)
    return CommandFailed(f"{command}: {why}", data=SHOWN)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


def invalid(command: str, problem: str) -> JsonRpcInvalidParams:
    return JsonRpcInvalidParams(f"{command}: {problem}")


def object_argument(command: str, args: Sequence[Any], example: str) -> Mapping[str, Any]:
    """The single object argument of `command`; `example` shows its shape in the error message."""
    if len(args) != 1 or not isinstance(args[0], Mapping):
        got = "no arguments" if not args else f"{len(args)} argument(s), first {_shown(args[0])}"
        raise invalid(command, f"expected one object argument like {example}, got {got}")
    return args[0]


def optional_str(command: str, obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(command, f'"{key}" must be a string, got {_shown(value)}')
    return value


def required_str(command: str, obj: Mapping[str, Any], key: str) -> str:
    value = optional_str(command, obj, key)
    if not value:
        raise invalid(command, f'"{key}" is required (a non-empty string)')
    return value


def optional_bool(command: str, obj: Mapping[str, Any], key: str, default: bool = False) -> bool:
    value = obj.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise invalid(command, f'"{key}" must be true or false, got {_shown(value)}')
    return value


def optional_choice(command: str, obj: Mapping[str, Any], key: str, choices: Sequence[str]) -> str | None:
    value = optional_str(command, obj, key)
    if value is not None and value not in choices:
        raise invalid(command, f'"{key}" must be one of {", ".join(choices)}; got {_shown(value)}')
    return value


def document_uri(command: str, obj: Mapping[str, Any], key: str = "uri") -> str:
    """A document URI argument: a string with a scheme (`file:///…`, `untitled:…`)."""
    uri = required_str(command, obj, key)
    # `%00` decodes to a NUL byte in the path, which no file system call accepts (ValueError in os.path).
    if len(uri) > 4096 or "\x00" in unquote(uri) or not urlparse(uri).scheme:
        raise invalid(
            command, f'"{key}" must be a document URI such as file:///path/Dockerfile, got {_shown(uri)}'
        )
    return uri
