"""The one way debugbox loads YAML into Python data (manifests read from disk, kubeconfigs; compose files are read
by `core/compose/model.py` over the positioned tree instead).

PyYAML's composer recurses once per nesting level, so a file of 10,000 `[` (or maps nested as deep) raises
`RecursionError`, which no caller expects: a CLI traceback, a -32603 over LSP. `load_all` / `load` bound the
nesting depth while composing and raise `yaml.YAMLError` (with the position) past `MAX_NESTING`, so every
caller's existing "not valid YAML" path gives the message. Aliases are refused on request (`aliases=False`),
for callers that must not let a file multiply its size. (The analysers in `core/kubernetes` do not build
Python data: `yamlstream` walks libyaml's events and has its own depth limit.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

#: Nesting deeper than this is refused. Real compose files, manifests and kubeconfigs nest about 15 levels;
#: the pure-Python composer needs three stack frames per level, well inside Python's default limit of 1000.
MAX_NESTING = 100


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader with a nesting limit (and optionally no aliases)."""

    allow_aliases = True

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def _refuse(self, problem: str) -> None:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        raise yaml.MarkedYAMLError(problem=problem, problem_mark=event.start_mark)

    def compose_node(self, parent: Any, index: Any) -> Any:
        if not self.allow_aliases and self.check_event(yaml.AliasEvent):
            self._refuse("YAML aliases are not followed here")
        if self._depth >= MAX_NESTING:
            self._refuse(f"nested more than {MAX_NESTING} levels deep")
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _NoAliasLoader(_BoundedLoader):
    allow_aliases = False


def _loader(aliases: bool) -> type[_BoundedLoader]:
    return _BoundedLoader if aliases else _NoAliasLoader


def load(text: str, *, aliases: bool = True) -> Any:
    """The single document of `text` as Python data; yaml.YAMLError when it is invalid or nested too deep."""
    return yaml.load(text, Loader=_loader(aliases))  # noqa: S506 - a SafeLoader subclass


def load_all(text: str, *, aliases: bool = True) -> Iterator[Any]:
    """Every document of `text`, in order; yaml.YAMLError at the first invalid or too deeply nested one."""
    yield from yaml.load_all(text, Loader=_loader(aliases))


def describe_error(exc: Exception) -> str:
    """A YAML error as one clause (`expected …, but found ':' at line 1, column 4`): PyYAML's own text spans
    several lines and quotes the input, which a one-line message can't carry."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{context}: {problem}{where}" if context else f"{problem}{where}"
