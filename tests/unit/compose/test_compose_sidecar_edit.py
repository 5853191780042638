"""The "debug sidecar service" edit: one insertion, the rest byte-identical, checked by a YAML loader and by the
real `docker-compose config` (Debian's docker-compose 1.29)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from debugbox.core.compose.edits import plan_sidecar, sidecar_value
from debugbox.core.compose.model import read_compose
from debugbox.core.kubernetes.edits import Refused

from tests.unit.compose.compose_support import REAL_FILES, compose_config, run_config

TOOLBOX = "nicolaka/netshoot"


def _check(text: str, service: str, tmp_path: Path, name: str = "compose.yaml") -> str:
    planned = plan_sidecar(read_compose(text), service, TOOLBOX)
    edit = planned.edit
    # One insertion; everything around it byte-identical.
    assert edit.start == edit.end
    assert planned.text[: edit.start] == text[: edit.start]
    assert planned.text[edit.start + len(edit.text) :] == text[edit.start :]
    # A YAML loader sees the original plus exactly the new service.
    before = list(yaml.safe_load_all(text))
    after = list(yaml.safe_load_all(planned.text))
    new = after[0]["services"].pop(planned.service)
    assert new == sidecar_value(service, TOOLBOX)
    assert after == before
    # The real compose implementation accepts it, with the sidecar in the debug profile. (1.29's `config`
    # lists every service whatever the profiles; that `up` leaves it out is the real-engine test's job.)
    (tmp_path / name).write_text(text)
    code, verdict = run_config(tmp_path, name, "debug")
    (tmp_path / name).write_text(planned.text)
    if code != 0:  # a real file compose already rejects: the edit must not change why
        assert run_config(tmp_path, name, "debug") == (code, verdict)
        return planned.text
    debug = compose_config(tmp_path, name, "debug")
    sidecar = debug["services"][planned.service]
    assert sidecar["profiles"] == ["debug"]
    assert sidecar["pid"] == f"service:{service}"
    assert sidecar["network_mode"] == f"service:{service}"
    assert sidecar["cap_add"] == ["SYS_PTRACE"]
    assert sidecar["image"] == TOOLBOX
    return planned.text


def test_block_file_with_comments_and_other_top_level_keys(tmp_path: Path) -> None:
    text = (
        "# the app\n"
        "services:\n"
        "  api:\n"
        "    image: busybox\n"
        "    # trailing comment of api\n"
        "\n"
        "  db:\n"
        "      image: postgres:16   # four-space keys\n"
        "# volumes below\n"
        "volumes:\n"
        "  data: {}\n"
    )
    edited = _check(text, "api", tmp_path)
    assert edited == text.replace(
        "      image: postgres:16   # four-space keys\n",
        "      image: postgres:16   # four-space keys\n"
        "  debug-api:\n"
        "    image: nicolaka/netshoot\n"
        '    pid: "service:api"\n'
        '    network_mode: "service:api"\n'
        "    cap_add: [SYS_PTRACE]\n"
        "    stdin_open: true\n"
        "    tty: true\n"
        "    profiles: [debug]\n",
    )


def test_comments_indented_under_the_last_service_stay_with_it(tmp_path: Path) -> None:
    text = (
        "services:\n  api:\n    image: busybox\n    # the API answers on 8080\n\n      # still about api\n"
        "\n# about the volumes\nvolumes: {}\n"
    )
    edited = _check(text, "api", tmp_path)
    head = "services:\n  api:\n    image: busybox\n    # the API answers on 8080\n\n      # still about api\n"
    assert edited.startswith(head + "  debug-api:\n")
    assert edited.endswith("    profiles: [debug]\n\n# about the volumes\nvolumes: {}\n")
    # The same with no final newline after the comment.
    bare = "services:\n  api:\n    image: busybox\n    # last words"
    assert _check(bare, "api", tmp_path).startswith(bare + "\n  debug-api:\n")


def test_crlf_and_no_final_newline(tmp_path: Path) -> None:
    text = "services:\r\n    api:\r\n        image: busybox"
    edited = _check(text, "api", tmp_path)
    assert "\n" not in edited.replace("\r\n", "")
    assert not edited.endswith("\n")
    assert edited.endswith("        profiles: [debug]")


def test_unique_name(tmp_path: Path) -> None:
    text = "services:\n  api:\n    image: busybox\n  debug-api:\n    image: busybox\n"
    planned = plan_sidecar(read_compose(text), "api", TOOLBOX)
    assert planned.service == "debug-api-2"
    _check(text, "api", tmp_path)


def test_refusals() -> None:
    with pytest.raises(Refused, match="no service 'nope'"):
        plan_sidecar(read_compose("services:\n  a:\n    image: x\n"), "nope", TOOLBOX)
    with pytest.raises(Refused, match="not a block mapping"):
        plan_sidecar(read_compose("services: {a: {image: x}}\n"), "a", TOOLBOX)
    with pytest.raises(Refused, match="alias"):
        plan_sidecar(read_compose("x: &s\n  a:\n    image: x\nservices: *s\n"), "a", TOOLBOX)
    with pytest.raises(Refused, match="not a valid image reference"):
        plan_sidecar(read_compose("services:\n  a:\n    image: x\n"), "a", "Bad Image!")
    with pytest.raises(Refused, match="does not parse"):
        plan_sidecar(read_compose("services:\n  a: [\n"), "a", TOOLBOX)


def test_duplicate_keys_that_would_change_meaning_are_refused() -> None:
    # Two `services:` keys: the loader keeps the last, the edit goes to the one the reader saw. Either it is
    # refused, or the loader's view must be the original plus the service.
    text = "services:\n  a:\n    image: x\nservices:\n  b:\n    image: y\n"
    try:
        planned = plan_sidecar(read_compose(text), "b", TOOLBOX)
    except Refused:
        return
    after = yaml.safe_load(planned.text)
    assert set(after["services"]) == {"b", planned.service}


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.parent.name)
def test_real_files(path: Path, tmp_path: Path) -> None:
    text = path.read_text()
    services = read_compose(text).services
    for service in {s.name: s for s in (services[0], services[-1])}.values():  # the first and the last
        folder = tmp_path / service.name
        folder.mkdir()
        for extra in path.parent.iterdir():
            if extra.is_dir():
                shutil.copytree(extra, folder / extra.name)
        _check(text, service.name, folder, path.name)
