"""Nothing created in a cluster without an explicit choice (#10 §5) — pure: the strategy the ladder reached and
what the user asked for in, a refusal that says what a copy would create and how to choose it out.

An ephemeral container only adds to the pod the user picked. A copy (`kubectl debug --copy-to`) is a second
instance of the workload — same service account, secrets and volumes — that keeps running until deleted, so
the ladder may *propose* it but only an explicit `strategy: copy` (CLI `--strategy copy`, the command's
`"strategy": "copy"` argument, a picker choice) makes it. A copy carries `COPY_LABEL` so it can be listed and
removed again (`debugbox cleanup`), after the user confirmed `delete_copies_question`.
"""

from __future__ import annotations

from debugbox.core.errors import StrategyUnavailable

#: The label on every copy debugbox makes (`debugbox targets` lists them, `debugbox cleanup` removes them).
COPY_LABEL_KEY = "debugbox.dev/created-by"
COPY_LABEL_VALUE = "debugbox"
COPY_LABEL = f"{COPY_LABEL_KEY}={COPY_LABEL_VALUE}"


class CopyNeedsConsent(StrategyUnavailable):
    """Only a copy would work, and the caller did not choose it; `copy_name`/`cleanup` say what and how."""

    def __init__(self, message: str, copy_name: str, cleanup: tuple[str, ...]) -> None:
        super().__init__(message)
        self.copy_name, self.cleanup = copy_name, cleanup


def require_consent(
    strategy: str,
    requested: str,
    *,
    pod: str,
    namespace: str,
    copy_name: str,
    why: str,
    cleanup: tuple[str, ...],
) -> None:
    """Raise `CopyNeedsConsent` when `strategy` is a copy the user did not ask for (`requested`)."""
    if strategy != "copy" or requested == "copy":
        return
    because = f" because {why}" if why else ""
    raise CopyNeedsConsent(
        f"only a copy of pod {namespace}/{pod} would work{because}: it creates pod {copy_name} (same service "
        f"account, secrets and volumes, labelled {COPY_LABEL}) that runs until deleted ({' '.join(cleanup)} or "
        'debugbox cleanup); choose it explicitly with --strategy copy (the command\'s "strategy": "copy").',
        copy_name,
        cleanup,
    )


def delete_copies_question(pods: tuple[str, ...], where: str) -> str:
    """What the user confirms before debugbox deletes its copies `pods` in `where` (the same words in the
    terminal and in the editor)."""
    what = "the debug copy" if len(pods) == 1 else f"{len(pods)} debug copies"
    return f"Delete {what} in {where}: {', '.join(pods)}?"
