"""`lsp/server.py` overrides pygls methods and uses a few private pieces: this fails, naming the piece, when a
pygls release drops or reshapes one (and when the installed pygls leaves the pinned minor series)."""

from __future__ import annotations

import inspect
import re
import tomllib
from importlib.metadata import version

from debugbox.lsp.server import OVERRIDDEN, PYGLS_PRIVATE, DebugboxProtocol, create_server
from pygls.protocol import LanguageServerProtocol

from tests.conftest import ROOT


def test_every_private_pygls_piece_used_is_still_there() -> None:
    proto = create_server().protocol
    assert isinstance(proto, DebugboxProtocol)
    for name in PYGLS_PRIVATE:
        assert hasattr(proto, name), f"pygls no longer has JsonRPCProtocol.{name} (used by lsp/server.py)"
    assert isinstance(proto._result_types, dict), "pygls' JsonRPCProtocol._result_types is no longer a dict"
    params = inspect.signature(proto._send_response).parameters
    assert {"msg_id", "error"} <= set(params), f"pygls' _send_response takes {list(params)} now"
    assert proto.converter is proto._converter, "pygls no longer passes its converter to the protocol"


def test_every_overridden_method_still_exists_in_pygls() -> None:
    """An override of a method pygls renamed would silently never run."""
    for name in OVERRIDDEN:
        assert name in vars(DebugboxProtocol), name
        assert any(name in vars(cls) for cls in LanguageServerProtocol.__mro__), (
            f"pygls no longer defines {name}; lsp/server.py's override of it is dead"
        )


def test_installed_pygls_is_in_the_pinned_minor_series() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (pin,) = [d for d in deps if d.startswith("pygls")]
    low, high = re.fullmatch(r"pygls>=(\d+\.\d+),<(\d+\.\d+)", pin.split("#")[0].strip()).groups()  # type: ignore[union-attr]
    installed = tuple(int(x) for x in version("pygls").split(".")[:2])
    assert tuple(map(int, low.split("."))) <= installed < tuple(map(int, high.split("."))), (pin, installed)
