"""`core.records.record` against `dataclass(frozen=True)`: the same class body made both ways must compare, hash,
print and refuse assignment alike (core/records.py says why `record` exists)."""

from __future__ import annotations

import copy
import dataclasses
import math
import pickle
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
from debugbox.core import records
from debugbox.core.records import record
from debugbox.core.settings import Settings
from debugbox.core.targets.model import DebugPlan, PlanOptions, Target


def both(body: Callable[[], type]) -> tuple[Any, Any]:
    """The class `body()` returns, made once by `record` and once by `dataclass(frozen=True)`."""
    return record(body()), dataclasses.dataclass(frozen=True)(body())


def plain() -> type:
    class Plain:
        name: str
        port: int = 0
        tags: tuple[str, ...] = ()
        hidden: str = dataclasses.field(default="h", repr=False)
        loose: str = dataclasses.field(default="l", compare=False)
        unhashed: float = dataclasses.field(default=0.0, hash=False)
        kind: ClassVar[str] = "class variable, no field"

    return Plain


def one() -> type:
    class One:
        value: Any

    return One


def empty() -> type:
    class Empty:
        pass

    return Empty


def own_methods() -> type:
    class Own:
        a: int

        def __eq__(self, other: object) -> bool:
            return True

        def __repr__(self) -> str:
            return "mine"

    return Own


def own_hash() -> type:
    class OwnHash:
        a: int

        def __hash__(self) -> int:
            return 7

    return OwnHash


def no_hash() -> type:
    class NoHash:
        a: int
        __hash__ = None  # type: ignore[assignment]

    return NoHash


SAMPLES: list[tuple[Callable[[], type], list[dict[str, Any]]]] = [
    (
        plain,
        [
            {"name": "web"},
            {"name": "web", "port": 80, "tags": ("a", "b"), "hidden": "x", "loose": "y", "unhashed": 1.5},
            {"name": "web", "loose": "other"},
            {"name": "web", "unhashed": 2.5},
            {"name": "web", "hidden": "other"},
            {"name": "db", "tags": ("a",)},
            {"name": "nan", "unhashed": math.nan},
        ],
    ),
    (one, [{"value": 1}, {"value": 1.0}, {"value": "1"}, {"value": math.nan}, {"value": [1]}]),
    (empty, [{}]),
    (own_methods, [{"a": 1}, {"a": 2}]),
    (own_hash, [{"a": 1}, {"a": 2}]),
    (no_hash, [{"a": 1}]),
]


def outcome(call: Callable[..., Any], *args: Any) -> Any:
    """What `call(*args)` gives: its value, or the type and text of what it raised."""
    try:
        return call(*args)
    except Exception as exc:
        return type(exc), str(exc)


@pytest.mark.parametrize(("body", "kwargs"), SAMPLES, ids=[body.__name__ for body, _ in SAMPLES])
def test_a_record_behaves_as_a_frozen_dataclass(
    body: Callable[[], type], kwargs: list[dict[str, Any]]
) -> None:
    ours, theirs = both(body)
    a = [ours(**k) for k in kwargs]
    b = [theirs(**k) for k in kwargs]
    for x, y in zip(a, b, strict=True):
        assert repr(x) == repr(y)
        assert outcome(hash, x) == outcome(hash, y)
        assert x == x and y == y  # identity first, as tuples compare (a NaN field included)
        assert (x == object()) == (y == object())
        for name in [f.name for f in dataclasses.fields(x)] + ["other"]:
            assert outcome(setattr, x, name, 1) == outcome(setattr, y, name, 1)
            assert outcome(delattr, x, name) == outcome(delattr, y, name)
        if kwargs != [{}]:
            with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field"):
                setattr(x, next(iter(vars(x))), 1)
        assert vars(x) == vars(y)
    for i, j in [(i, j) for i in range(len(kwargs)) for j in range(len(kwargs))]:
        fresh_a, fresh_b = ours(**kwargs[i]), theirs(**kwargs[i])
        assert (fresh_a == a[j]) == (fresh_b == b[j]), (kwargs[i], kwargs[j])
        assert (fresh_a != a[j]) == (fresh_b != b[j])
    assert [f.name for f in dataclasses.fields(ours)] == [f.name for f in dataclasses.fields(theirs)]
    assert ours.__match_args__ == theirs.__match_args__


def test_a_subclass_of_a_record_may_add_attributes_but_not_change_fields() -> None:
    ours, theirs = both(plain)

    class OurSub(ours):  # type: ignore[misc, valid-type]
        pass

    class TheirSub(theirs):  # type: ignore[misc, valid-type]
        pass

    x, y = OurSub(name="a"), TheirSub(name="a")
    x.extra = 1
    y.extra = 1
    del x.extra
    del y.extra
    for name in ("name", "port"):
        assert outcome(setattr, x, name, 2) == outcome(setattr, y, name, 2)
        assert outcome(delattr, x, name) == outcome(delattr, y, name)
    assert repr(x).endswith("OurSub(name='a', port=0, tags=(), loose='l', unhashed=0.0)")
    assert x != ours(name="a") and y != theirs(name="a")  # not the same class


def test_object_setattr_still_writes_a_field_as_in_a_frozen_dataclass() -> None:
    ours, _ = both(plain)
    x = ours(name="a")
    object.__setattr__(x, "port", 3)  # what a __post_init__ of a frozen dataclass does
    assert x.port == 3


def test_what_a_record_refuses_at_definition() -> None:
    class Setter:
        a: int

        def __setattr__(self, name: str, value: Any) -> None:
            pass

    with pytest.raises(TypeError, match="__setattr__"):
        record(Setter)

    class Unset:
        a: int = dataclasses.field(init=False)

    with pytest.raises(TypeError, match="set by __init__"):
        record(Unset)


def test_a_record_of_another_class_is_not_equal_even_with_the_same_fields() -> None:
    first, second = record(one()), record(one())
    assert first(1) != second(1)
    assert first(1) == first(1)


def test_a_record_that_contains_itself_prints_an_ellipsis() -> None:
    ours, theirs = both(one)
    a, b = ours([]), theirs([])
    a.value.append(a)
    b.value.append(b)
    assert repr(a) == repr(b)
    assert repr(a).endswith(".One(value=[...])")


def test_replace_and_asdict_work_on_records() -> None:
    ours, _ = both(plain)
    x = ours(name="web", port=1)
    assert dataclasses.replace(x, port=2) == ours(name="web", port=2)
    assert dataclasses.asdict(x)["port"] == 1


def test_records_copy_and_pickle_as_frozen_dataclasses_do() -> None:
    settings = dataclasses.replace(Settings(), toolbox_image="busybox")
    for twin in (copy.copy(settings), copy.deepcopy(settings), pickle.loads(pickle.dumps(settings))):
        assert twin == settings and hash(twin) == hash(settings) and repr(twin) == repr(settings)
        with pytest.raises(dataclasses.FrozenInstanceError):
            twin.toolbox_image = "other"  # type: ignore[misc]


def test_the_start_up_path_records_keep_their_value_semantics() -> None:
    """The real records: equal by value, hashable (Settings keys caches), printed as dataclasses print."""
    assert Settings() == Settings() and hash(Settings()) == hash(Settings())
    assert Settings() != dataclasses.replace(Settings(), toolbox_image="other")
    target = Target(id="abc", name="web", runtime="docker", image="img", status="running")
    assert repr(target).startswith("Target(id='abc', runtime='docker', name='web', ")
    assert {target, dataclasses.replace(target)} == {target}
    assert PlanOptions() == PlanOptions()
    assert DebugPlan.__eq__ is not object.__eq__
    assert records.record is records._record  # at run time, the decorator is the implementation
