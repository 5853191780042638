"""Module loggers that import `logging` on first use.

`debugbox shell` in a terminal runs a few modules before it execs the engine's CLI, and they log only when
something goes wrong. Importing `logging` (and the `traceback`, `string` and `weakref` it brings) costs that
path several milliseconds for nothing; `get(__name__)` gives the same logger, created when it is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import logging


class _Deferred:
    """Stands for `logging.getLogger(name)`; every attribute is the real logger's."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        import logging

        return getattr(logging.getLogger(self._name), attr)


def get(name: str) -> logging.Logger:
    """`logging.getLogger(name)`, imported and created when first used."""
    return _Deferred(name)  # type: ignore[return-value]
