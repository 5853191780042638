"""How much of the cluster the pod code lenses may ask about per refresh (#10 §6) — pure.

The lenses of every open manifest share one refresh. This module decides which namespaces that refresh lists
(one pod LIST per (context, namespace), shared by every workload and manifest that names it), and says for
the others why not, in words the lens shows:

- a cap: at most `MAX_NAMESPACES` namespaces per refresh, the first ones asked about first (a manifest naming
  300 namespaces costs 20 LISTs per refresh, not 300);
- an untrusted workspace (VS Code Restricted Mode) polls only the context's own namespace: a file cannot make
  debugbox ask a cluster about namespaces the user never chose;
- back-off: a namespace whose LIST failed is skipped for `BACKOFF_BASE` * 2^(failures-1) seconds, at most
  `BACKOFF_MAX`.

Time comes in as numbers (the edge passes `time.monotonic()`), so every rule here is testable without waiting.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_NAMESPACES = 20
BACKOFF_BASE = 10.0
BACKOFF_MAX = 300.0


@dataclass
class Backoff:
    """Failures per key (a (context, namespace)) and until when the key is left alone."""

    failures: dict[object, int] = field(default_factory=dict)
    until: dict[object, float] = field(default_factory=dict)
    errors: dict[object, str] = field(default_factory=dict)
    """The last failure's message per key (what the lens says while the key waits)."""

    def failed(self, key: object, now: float, error: str = "") -> float:
        """Record a failure; the number of seconds the key now waits."""
        n = self.failures.get(key, 0) + 1
        self.failures[key] = n
        self.errors[key] = error
        wait = min(BACKOFF_BASE * float(2 ** (n - 1)), BACKOFF_MAX)
        self.until[key] = now + wait
        return wait

    def succeeded(self, key: object) -> None:
        self.failures.pop(key, None)
        self.until.pop(key, None)
        self.errors.pop(key, None)

    def waiting(self, key: object, now: float) -> float:
        """Seconds left before the key may be asked again (0: now)."""
        return max(0.0, self.until.get(key, 0.0) - now)


@dataclass(frozen=True)
class PollPlan:
    poll: tuple[str, ...]
    """Namespaces to LIST in this refresh, in order."""
    skipped: dict[str, str]
    """Namespace → why it is not polled (shown on the lens)."""


def plan_poll(
    wanted: Iterable[str],
    own_namespace: str,
    *,
    trusted: bool,
    backoff: Backoff,
    context: str,
    now: float,
    cap: int = MAX_NAMESPACES,
) -> PollPlan:
    """The namespaces one refresh lists: `wanted` (first asked first, duplicates once), minus what an
    untrusted workspace may not name, what is backing off, and what is beyond the cap."""
    poll: list[str] = []
    skipped: dict[str, str] = {}
    for ns in dict.fromkeys(wanted):
        if not trusted and ns != own_namespace:
            skipped[ns] = (
                f"namespace {ns} not polled: the workspace is not trusted, so only the context's own "
                f"namespace ({own_namespace}) is"
            )
            continue
        if backoff.waiting((context, ns), now) > 0:
            # No countdown in the words: the lens text must stay the same while it waits.
            error = backoff.errors.get((context, ns)) or "the last request failed"
            skipped[ns] = f"namespace {ns} not polled for now (backing off): {error}"
            continue
        if len(poll) >= cap:
            skipped[ns] = (
                f"namespace {ns} not polled: open manifests name more than {cap} namespaces "
                "(close some, or run debugbox targets --for FILE)"
            )
            continue
        poll.append(ns)
    return PollPlan(tuple(poll), skipped)
