"""`debugbox.kubernetes.toolboxImages`: which toolbox image a pod gets (the most specific entry wins), the
sentence that says what to change for this context and namespace, and the setting's parsing (core/settings.py).
"""

from __future__ import annotations

import dataclasses

import pytest
from debugbox.core.settings import Settings, ToolboxImageRule, parse_settings, toolbox_image_for
from debugbox.core.targets.debug_failures import WatchSpec, explain

RULES = [
    {"namespace": "shop", "image": "ns.example/tools:1"},
    {"context": "prod", "image": "prod.example/tools:1"},
    {"context": "prod", "namespace": "shop", "image": "prod.example/shop-tools:1"},
    {"context": "prod", "image": "prod.example/second:1"},  # the same rank as the first prod entry: loses
]


def settings() -> Settings:
    parsed, problems = parse_settings(
        {"toolboxImage": "busybox:1.36", "kubernetes": {"toolboxImages": RULES}}
    )
    assert problems == []
    return parsed


@pytest.mark.parametrize(
    ("context", "namespace", "image"),
    [
        ("prod", "shop", "prod.example/shop-tools:1"),  # context and namespace
        ("prod", "web", "prod.example/tools:1"),  # context beats namespace; first of equals
        ("dev", "shop", "ns.example/tools:1"),  # namespace only
        ("dev", "web", "busybox:1.36"),  # nothing matches: debugbox.toolboxImage
    ],
)
def test_the_most_specific_entry_wins(context: str, namespace: str, image: str) -> None:
    choice = toolbox_image_for(settings(), context, namespace)
    assert choice.image == image and not choice.explicit


def test_an_explicit_image_wins_over_every_entry() -> None:
    choice = toolbox_image_for(settings(), "prod", "shop", "mine:1")
    assert choice.image == "mine:1" and choice.explicit
    assert choice.fix().startswith("pass another --image")


def test_parsed_entries_keep_their_order_and_fields() -> None:
    assert settings().kubernetes.toolbox_images[2] == ToolboxImageRule(
        image="prod.example/shop-tools:1", context="prod", namespace="shop"
    )


def test_a_bad_entry_is_left_out_and_the_others_still_apply() -> None:
    raw = {
        "kubernetes.toolboxImages": [
            {"namespace": "shop", "image": "a b"},
            {"namespace": "web", "image": "t:1"},
        ]
    }
    parsed, problems = parse_settings(raw)
    (problem,) = problems
    assert "debugbox.kubernetes.toolboxImages[0]" in problem and "entry ignored" in problem
    assert parsed.kubernetes.toolbox_images == (ToolboxImageRule(image="t:1", namespace="web"),)


def _spec(fix: str) -> WatchSpec:
    return WatchSpec("prod", "shop", "web", "debugbox-app", True, "nicolaka/netshoot", fix)


def test_the_cannot_pull_sentence_names_the_setting_for_this_context_and_namespace() -> None:
    fix = toolbox_image_for(Settings(), "prod", "shop").fix()
    line = explain(_spec(fix), "ErrImagePull", "")
    assert "cannot pull nicolaka/netshoot" in line
    assert '{"context": "prod", "namespace": "shop", "image": "…"}' in line
    assert "debugbox.kubernetes.toolboxImages" in line


def test_the_sentence_names_the_entry_that_chose_the_image() -> None:
    fix = toolbox_image_for(settings(), "dev", "shop").fix()
    line = explain(_spec(fix), "ImagePullBackOff", "")
    assert "change the debugbox.kubernetes.toolboxImages entry for namespace shop" in line


def test_the_watch_carries_the_fix_through_json() -> None:
    spec = _spec("set it")
    assert WatchSpec.from_json(spec.to_json()) == spec
    old = {k: v for k, v in spec.to_json().items() if k != "fix"}  # a watch written before the field
    assert WatchSpec.from_json(old) == dataclasses.replace(spec, fix="")


def test_thousands_of_bad_entries_are_a_few_lines() -> None:
    raw = {"kubernetes": {"toolboxImages": [{"namespace": "-n", "image": "t:1"}] * 5000}}
    parsed, problems = parse_settings(raw)
    assert parsed.kubernetes.toolbox_images == ()
    assert len(problems) == 6 and problems[-1].endswith("4995 more entries ignored")
