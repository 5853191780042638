"""`cli.defer_import`: a module the CLI's path does not use is a stand-in until one of its names is used, and
then behaves as the real module for every kind of use (its first user in each test is a different one)."""

from __future__ import annotations

import textwrap

import pytest

from tests.conftest import python_answer

PREAMBLE = """
import json, sys
from debugbox.cli import defer_import
defer_import("inspect")
stand_in = sys.modules["inspect"]
"""

USES = {
    # dataclasses' own use: the docstring of a class without one (the signature, as without the stand-in).
    "dataclass_doc": """
import dataclasses
@dataclasses.dataclass
class Point:
    x: int
    y: str = "a"
value = Point.__doc__
""",
    "attribute": "import inspect\nvalue = str(inspect.signature(lambda a, b=2: None))",
    "from_import": "from inspect import signature\nvalue = str(signature(lambda a, b=2: None))",
    "class_identity": "import inspect\nvalue = inspect.Parameter is sys.modules['inspect'].Parameter",
}

EXPECTED = {
    "dataclass_doc": "Point(x: int, y: str = 'a')",
    "attribute": "(a, b=2)",
    "from_import": "(a, b=2)",
    "class_identity": True,
}


@pytest.mark.parametrize("use", sorted(USES))
def test_the_stand_in_loads_the_real_module_at_its_first_use(use: str) -> None:
    code = (
        PREAMBLE
        + textwrap.dedent(USES[use])
        + textwrap.dedent(
            """
        print(json.dumps({
            "value": value,
            "real_now": sys.modules["inspect"] is not stand_in and "ast" in sys.modules,
            "stand_in_works": callable(stand_in.signature) and stand_in.getmodule is sys.modules["inspect"].getmodule,
        }))
        """
        )
    )
    answer = python_answer(code)
    assert answer == {"value": EXPECTED[use], "real_now": True, "stand_in_works": True}


def test_nothing_is_loaded_until_a_name_is_used_and_a_loaded_module_is_left_alone() -> None:
    code = PREAMBLE + textwrap.dedent(
        """
        import dataclasses  # its `import inspect` takes the stand-in
        @dataclasses.dataclass(frozen=True)
        class Documented:
            \"\"\"Has its own docstring, so dataclasses does not ask inspect for one.\"\"\"
            x: int
        before = {"ast": "ast" in sys.modules, "same": sys.modules["inspect"] is stand_in}
        import inspect as real_one
        real_one.isclass(int)  # loads it
        loaded = sys.modules["inspect"]
        defer_import("inspect")  # already loaded: nothing changes
        print(json.dumps({**before, "kept": sys.modules["inspect"] is loaded}))
        """
    )
    assert python_answer(code) == {"ast": False, "same": True, "kept": True}
