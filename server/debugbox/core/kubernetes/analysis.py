"""`analyze(uri, text, settings, previous)`: one manifest version → diagnostics, code actions, hover, lenses.

Incremental by construction: the stream is cut into documents (`yamlstream.split_documents`, one regular
expression), and each document's `DocumentScan` is looked up by its text in the previous version's analysis
before anything is parsed. Typing in one document of a 1,000-document file re-parses that one document; the
others are reused as they are (their positions are relative, so moving them by inserted lines costs nothing).

What the editor gets (codes in docs/diagnostics.md):

- DBX200 (information) on a container whose image has no shell: `kubectl exec` will not give a shell, an
  ephemeral container will.
- DBX201 (warning) when a document that is clearly a manifest does not parse (never for Helm/Go templates,
  which are not YAML until rendered, and never for YAML that is not a manifest).
- Code actions inside a pod spec (its `spec:` line included): "Add shareProcessNamespace: true" (or "Set …" to
  flip `false`), shown disabled with the reason where Kubernetes would reject it (`hostPID: true`), and "Add
  debug sidecar container (development only)"; for a client that resolves code actions, offered unchecked
  where the check cannot refuse them (`edits.verification_may_refuse`) and checked when chosen. The trade-offs
  of sharing the process namespace are in the hover on the pod spec's key and on `shareProcessNamespace`
  (code actions have no description field).
- Hover on a container's `name` / `image`: the image's family, package manager, shell and how to get in.
- A code-lens anchor on every container name (`k8s-container`, with its typed `Workload`).

Just over 400 lines: the hover texts (markdown) take a third of it.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from lsprotocol import types as lsp

from debugbox.core import markdown as md
from debugbox.core.analysis import Action, ActionContext, Analysis, LensAnchor
from debugbox.core.images import ImageInfo, classify_image
from debugbox.core.kubernetes.edits import (
    HOST_PID_REASON,
    Edit,
    NothingToDo,
    Plan,
    Refused,
    describe,
    plan_share_pid,
    share_pid_draft,
    share_pid_edits,
    sidecar_draft,
    sidecar_edits,
    verification_may_refuse,
)
from debugbox.core.kubernetes.pod_spec import (
    ContainerScan,
    DocumentScan,
    PodScan,
    PodSpec,
    Positions,
    ensure_full,
    public_pod,
    scan_document,
)
from debugbox.core.kubernetes.workloads import Workload, workload_of, workloads_of
from debugbox.core.kubernetes.yamlstream import Chunk, Scalar, scalar_text, split_documents
from debugbox.core.settings import Settings
from debugbox.core.wire import SOURCE, Command

NO_SHELL = "DBX200"
SYNTAX = "DBX201"
ACTION_KIND = lsp.CodeActionKind.RefactorRewrite.value
SIDECAR_TITLE = "Add debug sidecar container (development only)"
DEBUG_NOW_TITLE = "…or debug now without restarting: ephemeral container (kubectl debug --target)"
SPN_TRADEOFFS = (
    "`shareProcessNamespace: true` puts all containers of the pod in one PID namespace. Trade-offs: "
    "`/pause` becomes PID 1, so the app is no longer PID 1 (signals sent to PID 1 and init-style images "
    "behave differently); every container can see the others' processes, their command lines and environment "
    "(secrets included) and reach their files through `/proc/<pid>/root`; changing the field changes the pod "
    "template, so the pods are restarted (a rollout). To debug a running pod without a restart, use an "
    "ephemeral container instead: `kubectl debug -it <pod> --target=<container> --image=<toolbox>`."
)


@dataclass(frozen=True)
class Located:
    """A pod spec found at a position: its document chunk, scan, and the pod itself."""

    chunk: Chunk
    scan: DocumentScan
    pod: PodScan

    @property
    def positions(self) -> Positions:
        return Positions(self.scan, self.chunk.line, self.chunk.start)


@dataclass(frozen=True)
class EditOutcome:
    """What a command's edit does: the LSP edits, and one sentence per pod spec changed, refused or left."""

    edits: list[lsp.TextEdit]
    changed: list[str]
    refused: list[str]
    unchanged: list[str]


class ManifestAnalysis(Analysis):
    """One version of a manifest stream. Cheap to build when `previous` holds most of its documents;
    diagnostics, pod specs and lens anchors are computed on first use and kept."""

    def __init__(self, uri: str, text: str, settings: Settings, previous: Analysis | None = None) -> None:
        self.uri = uri
        self.text = text
        self.settings = settings
        self.chunks: list[Chunk] = split_documents(text)
        old = previous.by_text if isinstance(previous, ManifestAnalysis) else {}
        self.by_text: dict[str, DocumentScan] = {}
        self.scans: list[DocumentScan] = []
        self.reused = 0
        """How many documents were taken from `previous` instead of being parsed again."""
        for chunk in self.chunks:
            scan = self.by_text.get(chunk.text)
            if scan is None:
                scan = old.get(chunk.text)
                if scan is None:
                    scan = scan_document(chunk.text, lazy=True)
                else:
                    self.reused += 1
                self.by_text[chunk.text] = scan
            self.scans.append(scan)
        self._starts = [c.line for c in self.chunks]
        self._diagnostics: list[lsp.Diagnostic] | None = None
        self._pod_specs: list[PodSpec] | None = None

    # --- model -----------------------------------------------------------------------------------------

    @property
    def documents(self) -> int:
        return sum(1 for c in self.chunks if c.index is not None)

    def located(self) -> Iterator[Located]:
        for chunk, scan in zip(self.chunks, self.scans, strict=True):
            for pod in ensure_full(scan).pods:
                yield Located(chunk, scan, pod)

    def pod_specs(self) -> list[PodSpec]:
        """Every pod spec, with absolute positions (for code lenses and live-pod matching)."""
        if self._pod_specs is None:
            self._pod_specs = [
                public_pod(loc.pod, loc.scan, loc.chunk.index or 0, loc.positions) for loc in self.located()
            ]
        return self._pod_specs

    def workloads(self) -> list[Workload]:
        """The workloads of this version of the buffer (what the live side lists pods for)."""
        return workloads_of(self.pod_specs())

    def pods_in(self, first: int, last: int) -> list[Located]:
        """Pod specs with text on lines `first`..`last` (0-based, inclusive), `spec:` key line included."""
        out: list[Located] = []
        i = max(bisect.bisect_right(self._starts, first) - 1, 0)
        while i < len(self.chunks) and self._starts[i] <= last:
            chunk, scan = self.chunks[i], ensure_full(self.scans[i])
            pos = Positions(scan, chunk.line, chunk.start)
            for pod in scan.pods:
                if pos.lsp_line(pod.first_line) <= last and first <= pos.lsp_line(pod.last_line):
                    out.append(Located(chunk, scan, pod))
            i += 1
        return out

    # --- Analysis protocol ---------------------------------------------------------------------------

    def diagnostics(self) -> Sequence[lsp.Diagnostic]:
        if self._diagnostics is None:
            self._diagnostics = list(self._compute_diagnostics())
        return self._diagnostics

    def _compute_diagnostics(self) -> Iterator[lsp.Diagnostic]:
        for chunk, scan in zip(self.chunks, self.scans, strict=True):
            if scan.error is not None and scan.manifest and not scan.template:
                at = Positions(scan, chunk.line, chunk.start).line_of(scan.error.line, scan.error.col)
                yield lsp.Diagnostic(
                    range=lsp.Range(at, lsp.Position(at.line, at.character + 1)),
                    message=f"This manifest is not valid YAML ({scan.error.message}); "
                    "debugbox cannot find its pod specs until it parses.",
                    severity=lsp.DiagnosticSeverity.Warning,
                    code=SYNTAX,
                    source=SOURCE,
                )
            if not scan.pods:
                continue
            pos: Positions | None = None
            for pod in scan.pods:
                for c in pod.containers:
                    image = scalar_text(c.image)
                    if image is None or c.image is None or c.image_via:
                        continue
                    info = classify_image(image)
                    if info.has_shell is not False:
                        continue
                    pos = pos or Positions(scan, chunk.line, chunk.start)
                    yield self._no_shell(pos.node_range(c.image), pod, c, info)

    def _no_shell(self, rng: lsp.Range, pod: PodScan, c: ContainerScan, info: ImageInfo) -> lsp.Diagnostic:
        name = scalar_text(c.name) or "<container>"
        pod_ref = pod.name if pod.kind == "Pod" and pod.name else "<pod>"
        ns = f" -n {pod.namespace}" if pod.namespace else ""
        variant = f" (or run the image's shell variant {info.debug_variant})" if info.debug_variant else ""
        kind = "init container" if c.init else "container"
        return lsp.Diagnostic(
            range=rng,
            message=(
                f"{info.ref} has no shell ({info.why}): `kubectl exec` into {kind} {name} will not give "
                f"you a shell. Debug it with an ephemeral container that joins its processes: "
                f"kubectl debug -it {pod_ref}{ns} --target={name} "
                f"--image={self.settings.toolbox_image}{variant}"
            ),
            severity=lsp.DiagnosticSeverity.Information,
            code=NO_SHELL,
            source=SOURCE,
        )

    def actions(self, rng: lsp.Range, context: ActionContext) -> Sequence[Action]:
        # Only pod specs the whole range lies in: a selection spanning several documents (select-all) is not
        # "inside a pod spec", and answering it with every pod's edits would be slow and useless.
        found = [
            loc
            for loc in self.pods_in(rng.start.line, rng.start.line)
            if loc.positions.lsp_line(loc.pod.last_line) >= rng.end.line
        ]
        actions: list[Action] = []
        for loc in found:
            suffix = f" ({loc.pod.path})" if len(found) > 1 else ""
            # The verification loads the whole document twice (~3 ms a pod spec): where it cannot refuse what
            # the drafts allow, a client that resolves actions gets them unchecked and checked when chosen.
            defer = context.defer_checks and not verification_may_refuse(loc.scan, loc.pod)
            actions.extend(self._pod_actions(loc, context.settings, suffix, defer, context.wanted))
        return actions

    def _pod_actions(
        self, loc: Located, settings: Settings, suffix: str, defer: bool, wanted: str | None
    ) -> Iterator[Action]:
        pod, scan = loc.pod, loc.scan
        spn_value = pod.spn[1]
        verb = "Set" if spn_value is not None and pod.share_process_namespace is not True else "Add"
        title = (
            f"{verb} shareProcessNamespace: true (restarts the pods; containers see each other's processes)"
        ) + suffix
        if pod.share_process_namespace is not True and wanted in (None, title):
            yield from self._edit_action(
                loc, title, defer, lambda: share_pid_draft(scan, pod), lambda: share_pid_edits(scan, pod)
            )
        if pod.share_process_namespace is not True and wanted in (None, DEBUG_NOW_TITLE + suffix):
            workload = workload_of(public_pod(pod, scan, loc.chunk.index or 0, loc.positions))
            if workload is not None:
                # The same need without the restart: an ephemeral container beside the running pod's container.
                # The workload travels typed, from this buffer: the live side lists its pods as it is here.
                args = {"uri": self.uri, "workload": workload.to_json(), "strategy": "ephemeral"}
                yield Action(
                    title=DEBUG_NOW_TITLE + suffix,
                    kind=ACTION_KIND,
                    command=Command.OPEN_DEBUG_TERMINAL.value,
                    arguments=(args,),
                )
        if wanted in (None, SIDECAR_TITLE + suffix):
            image = settings.toolbox_image
            yield from self._edit_action(
                loc,
                SIDECAR_TITLE + suffix,
                defer,
                lambda: sidecar_draft(scan, pod, image),
                lambda: sidecar_edits(scan, pod, image)[0],
            )

    def _edit_action(
        self,
        loc: Located,
        title: str,
        defer: bool,
        draft: Callable[[], object],
        checked: Callable[[], list[Edit]],
    ) -> Iterator[Action]:
        """The action for one edit: its checked edits, or (`defer`) none yet, only the draft's own refusals now
        and the verification's when it is chosen; disabled with the reason when refused, left out when there is
        nothing to do."""
        try:
            if defer:
                draft()  # its own refusals now; the verification's when chosen
                edits: list[Edit] = []
            else:
                edits = checked()
        except Refused as exc:
            yield Action(title=title, kind=ACTION_KIND, disabled_reason=str(exc))
        except NothingToDo:
            pass
        else:
            yield Action(title=title, kind=ACTION_KIND, edits=self._lsp_edits(loc, edits), deferred=defer)

    @staticmethod
    def _lsp_edits(loc: Located, edits: list[Edit]) -> tuple[lsp.TextEdit, ...]:
        pos = loc.positions
        return tuple(
            lsp.TextEdit(range=lsp.Range(pos.position(e.start), pos.position(e.end)), new_text=e.text)
            for e in edits
        )

    def hover(self, position: lsp.Position) -> lsp.Hover | None:
        for loc in self.pods_in(position.line, position.line):
            pos = loc.positions
            for c in loc.pod.containers:
                for key, node, via in ((c.name_key, c.name, c.name_via), (c.image_key, c.image, c.image_via)):
                    if key is None or node is None or via:
                        continue
                    rng = pos.node_range(node)
                    # The key and its value: hovering `image:` or the image itself tells the same.
                    if _contains(rng, position) or _contains(pos.node_range(key), position):
                        return lsp.Hover(
                            contents=lsp.MarkupContent(
                                kind=lsp.MarkupKind.Markdown, value=self._container_hover(loc.pod, c)
                            ),
                            range=rng,
                        )
            pod = loc.pod
            for node in (pod.key, pod.spn[0]):
                if isinstance(node, Scalar):
                    rng = pos.node_range(node)
                    if _contains(rng, position):
                        return lsp.Hover(
                            contents=lsp.MarkupContent(
                                kind=lsp.MarkupKind.Markdown, value=self._pod_hover(pod)
                            ),
                            range=rng,
                        )
        return None

    def _pod_hover(self, pod: PodScan) -> str:
        state = {True: "true", False: "false", None: "not set"}[pod.share_process_namespace]
        lines = [
            f"**Pod spec** of {md.text(pod.kind)} {md.code(pod.name or '?')} ({md.code(pod.path)}): "
            f"shareProcessNamespace is {state}."
        ]
        if pod.host_pid:
            lines.append(f"\n{HOST_PID_REASON}.")
        lines.append("\n" + SPN_TRADEOFFS)
        return "\n".join(lines)

    def _container_hover(self, pod: PodScan, c: ContainerScan) -> str:
        name = scalar_text(c.name) or "<container>"
        image = scalar_text(c.image)
        kind = (
            "Native sidecar (init container, restartPolicy: Always)"
            if c.sidecar
            else ("Init container" if c.init else "Container")
        )
        ns = f" -n {pod.namespace}" if pod.namespace else ""
        pod_ref = pod.name if pod.kind == "Pod" and pod.name else "<pod>"
        exec_ref = (
            pod_ref
            if pod.kind == "Pod"
            else (f"{pod.kind.lower()}/{pod.name}" if pod.name and pod.kind in _EXEC_KINDS else "<pod>")
        )
        toolbox = self.settings.toolbox_image
        debug = md.code(f"kubectl debug -it {pod_ref}{ns} --target={name} --image={toolbox}")
        out = [f"**{kind} {md.code(name)}**"]
        if image is None:
            out.append("\nNo image set here.")
            return "\n".join(out)
        info = classify_image(image)
        shell = info.shell or ("none" if info.has_shell is False else "unknown")
        out.append(f"\nImage {md.code(info.ref)}\n")
        out.append("| | |\n|---|---|")
        out.append(f"| Family | {md.text(info.family)} |")
        out.append(f"| Package manager | {md.text(info.package_manager)} |")
        out.append(f"| Shell | {md.text(shell)} |")
        out.append(f"| Default user | {md.text(info.default_user or 'root / not known')} |")
        out.append(f"\n_{md.text(info.why)}_\n")
        if info.has_shell:
            exec_cmd = md.code(f"kubectl exec -it {exec_ref}{ns} -c {name} -- {info.shell or 'sh'}")
            out.append(f"**Debug:** {exec_cmd}; for tools the image lacks, an ephemeral container: {debug}.")
        elif info.has_shell is False:
            variant = (
                f" Or switch to the image's shell variant {md.code(info.debug_variant)}."
                if info.debug_variant
                else ""
            )
            out.append(
                f"**Debug:** no shell, so `kubectl exec` cannot open one. Use an ephemeral container that "
                f"sees its processes (no restart): {debug}.{variant}"
            )
        else:
            exec_cmd = md.code(f"kubectl exec -it {exec_ref}{ns} -c {name} -- sh")
            out.append(
                f"**Debug:** try {exec_cmd}; if that fails (exit 126/127), use an ephemeral container: {debug}."
            )
        return "\n".join(out)

    def lens_anchors(self) -> Sequence[LensAnchor]:
        anchors: list[LensAnchor] = []
        for spec in self.pod_specs():
            workload = workload_of(spec)
            if workload is None:
                continue  # no name: no running pods can be found for it
            wire = workload.to_json()
            for c in spec.containers:
                if c.name_range is None or c.name is None:
                    continue
                data = {
                    "workload": wire,
                    "uri": self.uri,
                    "container": c.name,
                    "image": c.image,
                    "init": c.init,
                    "sidecar": c.sidecar,
                }
                anchors.append(LensAnchor(range=c.name_range, purpose="k8s-container", data=data))
        return anchors

    # --- commands -----------------------------------------------------------------------------------

    def share_pid(self, line: int | None = None) -> EditOutcome:
        """`shareProcessNamespace: true` for the pod spec(s) at `line`, or for every pod spec when None."""
        found = list(self.located()) if line is None else self.pods_in(line, line)
        # One entry per document: pod specs of one document are planned (and verified) together.
        docs: list[tuple[int, int | None, DocumentScan]] = []
        where: dict[int, int] = {}
        pods: list[tuple[int, PodScan]] = []
        for loc in found:
            if loc.chunk.start not in where:
                where[loc.chunk.start] = len(docs)
                docs.append((loc.chunk.start, loc.chunk.index, loc.scan))
            pods.append((where[loc.chunk.start], loc.pod))
        plan = plan_share_pid(docs, pods)
        return self._outcome(plan, found)

    def _outcome(self, plan: Plan, found: list[Located]) -> EditOutcome:
        by_base = {loc.chunk.start: loc for loc in found}
        edits: list[lsp.TextEdit] = []
        for base, e in plan.edits:
            pos = by_base[base].positions
            edits.append(
                lsp.TextEdit(range=lsp.Range(pos.position(e.start), pos.position(e.end)), new_text=e.text)
            )
        return EditOutcome(edits, plan.changed, plan.refused, plan.unchanged)

    def sidecar(self, line: int, image: str) -> EditOutcome:
        found = self.pods_in(line, line)
        edits: list[lsp.TextEdit] = []
        changed: list[str] = []
        refused: list[str] = []
        for loc in found[:1]:
            label = describe(loc.pod, loc.chunk.index)
            try:
                side, name = sidecar_edits(loc.scan, loc.pod, image)
            except Refused as exc:
                refused.append(f"{label}: {exc}")
                continue
            edits.extend(self._lsp_edits(loc, side))
            changed.append(f"{label}: container {name}")
        return EditOutcome(edits, changed, refused, [])


_EXEC_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"}


def _contains(rng: lsp.Range, p: lsp.Position) -> bool:
    return (rng.start.line, rng.start.character) <= (p.line, p.character) <= (rng.end.line, rng.end.character)


def analyze(uri: str, text: str, settings: Settings, previous: Analysis | None = None) -> ManifestAnalysis:
    """Analyse one version of a manifest; `previous` (the same URI's last analysis) lets unchanged documents
    be reused without parsing."""
    return ManifestAnalysis(uri, text, settings, previous)
