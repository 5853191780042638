"""`record`: `@dataclass(frozen=True)` for the record types a terminal's `debugbox shell` creates before its exec.

Why: `dataclass` writes each method it adds as source text and compiles it (`exec`), six per frozen class
(`__init__`, `__repr__`, `__eq__`, `__hash__`, `__setattr__`, `__delattr__`), about 1.5 ms per class on the
machines measured; the ~20 record types that `debugbox shell` defines before it runs `docker` took ~30 ms of
its ~90 ms in-process start (benchmarks/README.md, "Debug session"). `record` lets `dataclass` generate only
the one method that must be written for the class, `__init__`, and gives every record the same five shared
functions for the rest (closures over the class's fields, built with `operator.attrgetter`), with the semantics
`dataclass(frozen=True)` has on Python 3.11 and 3.12:

- `__eq__`: an instance of exactly the same class, its `compare` fields equal as a tuple (so identity first, as
  tuple comparison does); `NotImplemented` otherwise.
- `__hash__`: `hash` of the tuple of the fields that `hash=` selects (`compare` when `hash` is None).
- `__repr__`: `QualName(field=value!r, ...)` over the `repr` fields, `...` for a record met again while its own
  repr is being built.
- `__setattr__` / `__delattr__`: `FrozenInstanceError` for a field, and for any name on an instance of the class
  itself (a subclass may add attributes of its own). `__init__` assigns each field once; a field is frozen from
  then on (it is in the instance's `__dict__`), which is why every field must be set by `__init__`.

As with `dataclass`, a method the class body defines itself is kept (an explicit `__hash__` too), and one that
frozen dataclasses cannot have (`__setattr__`, `__delattr__`) is refused. Everything else — `fields`, `replace`,
`asdict`, `__match_args__` — is `dataclass`'s own, because the class is one (`__dataclass_params__.frozen` reads
False: a `@dataclass(frozen=True)` cannot subclass a record). tests/unit/test_records.py compares records with
frozen dataclasses made from the same class bodies, method by method.
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar

_T = TypeVar("_T")


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The fields `names` of an instance, as a tuple (attrgetter gives a bare value for one name)."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return lambda obj: ()


def _record(cls: type[_T]) -> type[_T]:
    own = dict(cls.__dict__)  # before dataclass adds anything: what the class body defined
    for name in ("__setattr__", "__delattr__"):
        if name in own:
            raise TypeError(f"Cannot overwrite attribute {name} in class {cls.__name__}")
    cls = dataclasses.dataclass(eq=False, repr=False)(cls)  # __init__ only
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]  # a dataclass now
    missing = dataclasses.MISSING
    unset = [f.name for f in fields if not f.init and f.default is missing and f.default_factory is missing]
    if unset:
        raise TypeError(
            f"{cls.__name__}: every field of a record is set by __init__ ({', '.join(unset)} is not)"
        )
    names = frozenset(f.name for f in fields)
    compared = _getter(tuple(f.name for f in fields if f.compare))
    hashed = _getter(tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash)))
    shown = tuple(f.name for f in fields if f.repr)

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return compared(self) == compared(other)
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(hashed(self))

    @reprlib.recursive_repr()
    def __repr__(self: Any) -> str:
        return f"{self.__class__.__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in shown)})"

    def __setattr__(self: Any, name: str, value: Any) -> None:
        if (name in self.__dict__) if name in names else type(self) is cls:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)  # type: ignore[misc, arg-type]

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)  # type: ignore[misc, arg-type]

    for method in (__eq__, __repr__, __setattr__, __delattr__):
        if method.__name__ not in own:
            method.__qualname__ = f"{cls.__qualname__}.{method.__name__}"
            setattr(cls, method.__name__, method)
    # dataclass's rule: a __hash__ of the class's own is kept, unless it is the None that Python sets for a
    # class body defining __eq__ without __hash__.
    if "__hash__" not in own or (own["__hash__"] is None and "__eq__" in own):
        __hash__.__qualname__ = f"{cls.__qualname__}.__hash__"
        cls.__hash__ = __hash__  # type: ignore[assignment]
    return cls


if TYPE_CHECKING:
    from typing_extensions import dataclass_transform

    @dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
    def record(cls: type[_T], /) -> type[_T]:
        """`@dataclass(frozen=True)`, for type checkers."""
        ...

else:
    record = _record
