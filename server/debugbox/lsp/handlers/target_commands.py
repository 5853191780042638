"""`debugbox.listTargets`, `debugbox.debugCommand`, `debugbox.openDebugTerminal`: live targets over LSP.

Arguments (one object each, see docs/commands.md):
- listTargets `{"uri"?}` → `{"targets": [...], "errors": [...]}`; with a Dockerfile `uri`, the containers
  built from it come first, `related` with a `related_reason`.
- debugCommand `{"target"?, "uri"?, "workload"?, "strategy"?, "image"?, "privileged"?, "raw"?, "ptrace"?}` →
  `{"argv", "strategy", "notes", "title", "target"}`. `raw`: the plain toolbox shell instead of the session
  bootstrap; `ptrace`: a root sidecar with SYS_PTRACE for a non-root target. Without `target`, the first
  container related to the `uri` is used: for a manifest, a pod of `workload` (the typed object the manifest
  analysis put in its "debug now" action) or else of any workload of the editor's buffer (unsaved edits count);
  for a compose file, `service` keeps that service's containers (the nerdctl action of `core/compose`).
- openDebugTerminal (same arguments): sends `debugbox/openTerminal` `{"title", "argv", "cwd"?, "env"?}` to
  clients that declared `experimental.debugbox.openTerminal`; any other client gets `window/showMessage` with
  the command line. argv[0] is an absolute path (`cli_tools.resolve_program`, workspace folders excluded), so
  the editor never looks the program up itself. The result is the plan (with that argv) plus
  `"opened": true|false`.

Engine calls block, so they run in a worker thread under a deadline: a daemon that is down or hung becomes a
`RequestFailed` error with a clear message (openDebugTerminal also shows it), and the event loop keeps
serving.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lsprotocol import types as lsp

from debugbox.core.documents import DocumentKind
from debugbox.core.wire import OPEN_TERMINAL_METHOD, Command
from debugbox.lsp.handlers.arguments import (
    CommandFailed,
    document_uri,
    invalid,
    object_argument,
    optional_bool,
    optional_str,
    shown_failure,
)
from debugbox.lsp.handlers.workspace_edits import CLIENT_TIMEOUT_SECONDS
from debugbox.lsp.server import DebugboxLanguageServer

if TYPE_CHECKING:
    from debugbox.core.kubernetes.workloads import Workload
    from debugbox.core.targets.model import DebugPlan

log = logging.getLogger(__name__)

LIST = Command.LIST_TARGETS.value
DEBUG = Command.DEBUG_COMMAND.value
OPEN = Command.OPEN_DEBUG_TERMINAL.value
TARGET_EXAMPLE = '{"target": "docker://3f2a9c1b7e4d", "strategy": "auto"}'
#: Waiting for the editor to open the terminal; one that never answers must not hold the command forever.

T = TypeVar("T")


async def off_loop(ls: DebugboxLanguageServer, command: str, work: Callable[[], T]) -> T:
    """Blocking engine work in a thread, under the engine deadline; expected failures → RequestFailed."""
    from debugbox.core.errors import RuntimeProblem
    from debugbox.edge.service import deadline

    bind_program_search(ls)
    limit = deadline(ls.settings)
    try:
        return await asyncio.wait_for(asyncio.to_thread(work), limit)
    except TimeoutError as exc:
        raise CommandFailed(f"{command}: the container engine did not answer within {limit:g} s") from exc
    except RuntimeProblem as exc:
        raise CommandFailed(f"{command}: {exc}") from exc


def bind_program_search(ls: DebugboxLanguageServer) -> None:
    """The engine CLIs the server runs itself (`run_cli`) are never looked up in its workspace folders either."""
    from debugbox.edge.cli_tools import never_search

    never_search(ls.workspace_roots)


def _document(ls: DebugboxLanguageServer, uri: str | None) -> tuple[Path | None, Path | None]:
    """The local path of `uri` and the workspace folder holding it (where the compose search stops)."""
    path = ls.path_of(uri) if uri else None
    if path is None:
        return None, None
    root = ls.workspace_root_of(path)
    return path, root


async def buffer_workloads(ls: DebugboxLanguageServer, uri: str | None) -> list[Workload] | None:
    """The workloads of the editor's buffer of `uri`, unsaved edits included; None when `uri` is not an open
    manifest (then the service reads the file, if it is one)."""
    if uri is None or ls.open_document(uri) is None:
        return None
    result = await ls.analyses.get(uri)
    if result is None or result.analysis is None or result.kind is not DocumentKind.MANIFEST:
        return None
    from debugbox.core.kubernetes.analysis import ManifestAnalysis

    analysis = result.analysis
    return analysis.workloads() if isinstance(analysis, ManifestAnalysis) else None


async def list_targets(ls: DebugboxLanguageServer, args: tuple[Any, ...]) -> dict[str, Any]:
    from debugbox.edge import service

    obj: Mapping[str, Any] = (
        {} if not args or args[0] is None else object_argument(LIST, args, '{"uri": "…"}')
    )
    uri = document_uri(LIST, obj) if obj.get("uri") is not None else None
    path, root = _document(ls, uri)
    workloads = await buffer_workloads(ls, uri)
    settings = ls.settings
    listing = await off_loop(
        ls, LIST, lambda: service.list_targets(settings, document=path, workspace=root, workloads=workloads)
    )
    return listing.to_json()


def _workload_argument(command: str, obj: Mapping[str, Any]) -> Workload | None:
    """`"workload"`: a typed workload as the manifest analysis wrote it (`Workload.to_json`)."""
    if obj.get("workload") is None:
        return None
    from debugbox.core.kubernetes.workloads import Workload, WorkloadError

    try:
        return Workload.from_json(obj["workload"])
    except WorkloadError as exc:
        raise invalid(command, f'"workload": {exc}') from exc


async def _plan_request(
    ls: DebugboxLanguageServer, command: str, args: tuple[Any, ...]
) -> Callable[[], DebugPlan]:
    """Check the arguments on the loop; return the blocking work that resolves the target and plans."""
    from debugbox.core.errors import TargetNotFound
    from debugbox.edge import service

    obj = object_argument(command, args, TARGET_EXAMPLE)
    target = optional_str(command, obj, "target")
    uri = document_uri(command, obj) if obj.get("uri") is not None else None
    if not target and not uri:
        raise invalid(command, f'"target" is required (or a Dockerfile "uri"), e.g. {TARGET_EXAMPLE}')
    strategy = optional_str(command, obj, "strategy")
    image = optional_str(command, obj, "image")
    privileged = optional_bool(command, obj, "privileged")
    raw = optional_bool(command, obj, "raw")
    ptrace = optional_bool(command, obj, "ptrace")
    compose_service = optional_str(command, obj, "service")
    workload = _workload_argument(command, obj)
    # A given workload is the one to debug (its pods only); else the buffer's workloads, when it is a manifest.
    workloads = [workload] if workload is not None else (None if target else await buffer_workloads(ls, uri))
    runtimes = ["kubernetes"] if workload is not None else None
    settings = ls.settings
    if privileged and not settings.allow_privileged:
        raise invalid(command, '"privileged" needs the setting debugbox.allowPrivileged to be true')
    options = service.plan_options(
        settings, strategy=strategy, image=image, privileged=privileged, raw=raw, ptrace=ptrace
    )
    path, root = _document(ls, uri)

    def work() -> DebugPlan:
        ref = target
        if not ref:
            listing = service.list_targets(
                settings, document=path, workspace=root, probe=False, workloads=workloads, runtimes=runtimes
            )
            related = [
                t
                for t in listing.targets
                if t.related
                and (not compose_service or t.labels.get("com.docker.compose.service") == compose_service)
            ]
            if not related:
                more = f" ({'; '.join(listing.errors)})" if listing.errors else ""
                of = f"of service {compose_service} " if compose_service else ""
                raise TargetNotFound(f"no running container {of}is related to {uri}{more}")
            ref = related[0].id
        return service.plan(settings, ref, options)

    return work


async def debug_command(ls: DebugboxLanguageServer, args: tuple[Any, ...]) -> dict[str, Any]:
    plan = await off_loop(ls, DEBUG, await _plan_request(ls, DEBUG, args))
    result: dict[str, Any] = plan.to_json()
    return result


def command_line(argv: list[str]) -> str:
    """The argv as one line a user can paste into a POSIX shell (display only: debugbox never runs it so)."""
    return shlex.join(argv)


async def open_debug_terminal(ls: DebugboxLanguageServer, args: tuple[Any, ...]) -> dict[str, Any]:
    try:
        try:
            plan = await off_loop(ls, OPEN, await _plan_request(ls, OPEN, args))
        except CommandFailed as exc:
            if await _install_chosen(ls, exc):
                raise CommandFailed(
                    f"{OPEN}: the Kubernetes client is being installed in the terminal; when pip has finished, "
                    "restart the server (debugbox: Restart Server) and open the debug terminal again"
                ) from exc
            if not await _copy_chosen(ls, exc):
                raise
            # The user chose the copy in the confirmation: that is the explicit choice consent.py asks for.
            plan = await off_loop(ls, OPEN, await _plan_request(ls, OPEN, _with_strategy(args, "copy")))
    except CommandFailed as exc:
        # The user clicked something and expects a terminal: say why there is none, then fail the request.
        raise shown_failure(ls, OPEN, exc.message.removeprefix(f"{OPEN}: ")) from exc
    result: dict[str, Any] = plan.to_json()
    argv = _absolute_argv(ls, plan.argv)
    result["argv"] = argv
    if plan.watch:  # hook: a Kubernetes debug container is asked for; never wait blind (session_watch.py)
        from debugbox.lsp.session_watch import watch_in_background

        async def offer_copy(why: str) -> None:
            await _offer_copy_instead(ls, args, why)

        watch_in_background(ls, plan, offer_copy)
    if plan.warning:
        ls.show_message(f"debugbox: {plan.warning}", lsp.MessageType.Warning)
    from debugbox.lsp.session_watch import terminal_command

    terminal_argv, env = terminal_command(plan, argv, ls.settings.kubernetes.timeout_seconds)
    opened = await open_terminal(ls, plan.title, terminal_argv, env, plan.notes)
    opened.pop("argv")  # the result names the plan's own command; the terminal may run it under `session`
    return {**result, **opened}


async def open_terminal(
    ls: DebugboxLanguageServer,
    title: str,
    argv: list[str],
    env: Mapping[str, str] | None = None,
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    """Ask the editor to run `argv` in a terminal; a client that cannot (or fails to) is shown the command line.

    Returns `{"argv", "opened"}` plus `"error"` when the editor was asked and did not open it.
    """
    result: dict[str, Any] = {"argv": argv}
    if ls.client.open_terminal:
        params: dict[str, Any] = {"title": title, "argv": argv}
        if env:
            params["env"] = dict(env)
        try:
            answer = await asyncio.wait_for(
                ls.protocol.send_request_async(OPEN_TERMINAL_METHOD, params), CLIENT_TIMEOUT_SECONDS
            )
        except Exception as exc:  # a timeout or an error response: fall back to telling the user
            log.warning("%s failed: %s", OPEN_TERMINAL_METHOD, exc)
            answer = {"opened": False, "error": str(exc) or type(exc).__name__}
        opened = _answer_field(answer, "opened") is True
        result["opened"] = opened
        if opened:
            return result
        result["error"] = str(_answer_field(answer, "error") or "the editor did not open the terminal")
    else:
        result["opened"] = False
    shown = " ".join(notes[:2])
    ls.show_message(f"{title}. Run: {command_line(argv)}" + (f"  ({shown})" if shown else ""))
    return result


#: The confirmation's button that creates a copy of the pod (`window/showMessageRequest`).
CREATE_COPY = "Create the copy"


async def _copy_chosen(ls: DebugboxLanguageServer, failure: CommandFailed) -> bool:
    """When only a copy would work (`consent.CopyNeedsConsent`), ask the user — the message says what is created
    and how to delete it — and whether they chose to create it. Any other failure, a client without
    `window/showMessageRequest`, no answer or another answer: False."""
    from debugbox.core.targets.consent import CopyNeedsConsent

    consent = failure.__cause__
    if not isinstance(consent, CopyNeedsConsent):
        return False
    message = f"debugbox: {str(consent).split('; choose it explicitly')[0]}. Create it?"
    return await _confirmed(ls, message, CREATE_COPY)


async def _offer_copy_instead(ls: DebugboxLanguageServer, args: tuple[Any, ...], why: str) -> None:
    """The session could not see the target's processes (`why`, with the CLI command): offer a copy of the pod
    with shared processes; open it only when chosen (a cluster write)."""
    if not await _confirmed(ls, f"debugbox: {why.split(': debugbox shell')[0]}. Create a copy?", CREATE_COPY):
        ls.show_message(f"debugbox: {why}", lsp.MessageType.Error)
        return
    try:
        await open_debug_terminal(ls, _with_strategy(args, "copy"))
    except CommandFailed as exc:  # open_debug_terminal has shown why
        log.info("the offered copy was not opened: %s", exc.message)


async def _confirmed(ls: DebugboxLanguageServer, message: str, button: str) -> bool:
    """Ask with `window/showMessageRequest` (buttons `button` and Cancel); True only when `button` was chosen.
    A client without that request, no answer in time or another answer: False (nothing is done)."""
    params = lsp.ShowMessageRequestParams(
        type=lsp.MessageType.Warning,
        message=message,
        actions=[lsp.MessageActionItem(title=button), lsp.MessageActionItem(title="Cancel")],
    )
    try:
        answer = await asyncio.wait_for(ls.window_show_message_request_async(params), CLIENT_TIMEOUT_SECONDS)
    except Exception as exc:  # no such request in this client, or no answer
        log.info("no answer to %r: %s", button, exc)
        return False
    return bool(_answer_field(answer, "title") == button)


#: The button that installs the missing Kubernetes client into the server's interpreter.
INSTALL_CLIENT = "Install the Kubernetes client"


async def _install_chosen(ls: DebugboxLanguageServer, failure: CommandFailed) -> bool:
    """When the `kubernetes` package is missing (#13 §6: no pip step the user has to work out), offer to install
    it into the interpreter this server runs on, in a terminal the user watches; True when that terminal opened.

    `pip install --user` outside a virtual environment (never into the system's site-packages); pip's own
    refusal (an externally managed Python) shows in that terminal."""
    import sys

    from debugbox.edge.kube_client import CLIENT_REQUIREMENT, ClientMissing

    if not isinstance(failure.__cause__, ClientMissing) or not ls.client.open_terminal:
        return False
    message = f"debugbox: {failure.__cause__}. Install {CLIENT_REQUIREMENT} into {sys.executable} now?"
    if not await _confirmed(ls, message, INSTALL_CLIENT):
        return False
    user = ["--user"] if sys.prefix == sys.base_prefix else []
    argv = [sys.executable, "-m", "pip", "install", *user, CLIENT_REQUIREMENT]
    opened = await open_terminal(ls, "debugbox: install the Kubernetes client", argv)
    return bool(opened.get("opened"))


def _with_strategy(args: tuple[Any, ...], strategy: str) -> tuple[Any, ...]:
    """The command's arguments with `strategy` set (the object form; anything else is left to be refused)."""
    if args and isinstance(args[0], Mapping):
        return ({**args[0], "strategy": strategy}, *args[1:])
    return args


def _absolute_argv(ls: DebugboxLanguageServer, argv: tuple[str, ...]) -> list[str]:
    """argv[0] as an absolute path found here, outside the workspace: the editor's terminal never looks it up."""
    from debugbox.core.errors import RuntimeProblem
    from debugbox.edge.cli_tools import resolve_program

    try:
        return list(resolve_program(argv, exclude=ls.workspace_roots()))
    except RuntimeProblem as exc:
        raise shown_failure(ls, OPEN, str(exc)) from exc


def _answer_field(answer: Any, key: str) -> Any:
    if isinstance(answer, Mapping):
        return answer.get(key)
    return getattr(answer, key, None)


def register(server: DebugboxLanguageServer) -> None:
    @server.command(LIST)
    async def _list(ls: DebugboxLanguageServer, *args: Any) -> dict[str, Any]:
        return await list_targets(ls, args)

    @server.command(DEBUG)
    async def _debug(ls: DebugboxLanguageServer, *args: Any) -> dict[str, Any]:
        return await debug_command(ls, args)

    @server.command(OPEN)
    async def _open(ls: DebugboxLanguageServer, *args: Any) -> dict[str, Any]:
        return await open_debug_terminal(ls, args)
