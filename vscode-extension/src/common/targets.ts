// Turning `debugbox.listTargets` results into the two quick picks of "Open Debug Terminal…" / "Copy Debug Command".
//
// Pure: no `vscode` import at run time, so the unit tests run under plain Node.

export interface Target {
  id: string;
  runtime: string;
  name: string;
  image: string;
  status: string;
  related: boolean;
  relatedReason?: string;
  strategies: string[];
  recommended?: string;
  /** Pods: the ways in the preflight found closed, each as "way: why not" (from the server's `ways`). */
  closed?: string[];
}

export interface TargetList {
  targets: Target[];
  /** Runtimes that could not be asked (engine down, no kubeconfig...), as the server worded them. */
  problems: string[];
}

export interface PickItem<T> {
  label: string;
  description?: string;
  detail?: string;
  value: T;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function message(v: unknown): string | undefined {
  if (typeof v === "string") {
    return v;
  }
  if (typeof v === "object" && v !== null) {
    const o = v as Record<string, unknown>;
    const text = str(o.message) ?? str(o.error) ?? str(o.detail);
    const who = str(o.runtime) ?? str(o.source);
    return text && who ? `${who}: ${text}` : text;
  }
  return undefined;
}

/** Read the server's `{"targets": [...]}` result defensively (unknown fields ignored, malformed entries dropped). */
export function parseTargetList(result: unknown): TargetList {
  const out: TargetList = { targets: [], problems: [] };
  if (typeof result !== "object" || result === null) {
    return out;
  }
  const r = result as Record<string, unknown>;
  for (const key of ["problems", "errors", "warnings"]) {
    const list = r[key];
    if (Array.isArray(list)) {
      for (const p of list) {
        const m = message(p);
        if (m) {
          out.problems.push(m);
        }
      }
    }
  }
  if (!Array.isArray(r.targets)) {
    return out;
  }
  for (const raw of r.targets) {
    if (typeof raw !== "object" || raw === null) {
      continue;
    }
    const t = raw as Record<string, unknown>;
    const id = str(t.id);
    if (!id) {
      continue;
    }
    const strategies = Array.isArray(t.strategies)
      ? t.strategies.map((s) => (typeof s === "string" ? s : str((s as Record<string, unknown>)?.name))).filter(
          (s): s is string => !!s,
        )
      : [];
    const target: Target = {
      id,
      runtime: str(t.runtime) ?? "",
      name: str(t.name) ?? id,
      image: str(t.image) ?? "",
      status: str(t.status) ?? "",
      related: t.related === true,
      strategies,
    };
    const reason = str(t.related_reason) ?? str(t.relatedReason);
    if (reason) {
      target.relatedReason = reason;
    }
    if (Array.isArray(t.ways)) {
      const closed = t.ways
        .filter((w): w is Record<string, unknown> => typeof w === "object" && w !== null && w.open === false)
        .map((w) => `${str(w.strategy) ?? "?"}: ${str(w.whyNot) ?? "closed"}`);
      if (closed.length > 0) {
        target.closed = closed;
      }
    }
    const recommended = str(t.recommended) ?? strategies[0];
    if (recommended) {
      target.recommended = recommended;
    }
    out.targets.push(target);
  }
  return out;
}

/** Related targets first (stable otherwise: the server's order). */
export function sortTargets(targets: readonly Target[]): Target[] {
  return [...targets.filter((t) => t.related), ...targets.filter((t) => !t.related)];
}

export function targetItems(targets: readonly Target[]): PickItem<Target>[] {
  return sortTargets(targets).map((t) => {
    const detail = [
      t.status || "unknown status",
      t.recommended ? `recommended: ${t.recommended}` : "no strategy available",
      t.related ? `related${t.relatedReason ? ` (${t.relatedReason})` : ""}` : undefined,
      t.closed ? `closed: ${t.closed.join("; ")}` : undefined,
    ].filter((s): s is string => !!s);
    return {
      label: `${t.related ? "$(star-full) " : ""}${t.name}`,
      description: [t.runtime, t.image].filter(Boolean).join(" · "),
      detail: detail.join(" · "),
      value: t,
    };
  });
}

export const STRATEGY_HELP: Record<string, string> = {
  exec: "run the container's own shell (docker exec / kubectl exec)",
  "docker-debug": "docker debug (Docker Desktop plugin)",
  sidecar: "a toolbox container sharing the target's PID and network namespaces",
  ephemeral: "kubectl debug: an ephemeral container targeting the container",
  copy: "kubectl debug --copy-to: a copy of the pod",
};

/** The strategy pick: the recommended one first, marked; then the other available ones. */
export function strategyItems(target: Target): PickItem<string>[] {
  const ordered = target.recommended
    ? [target.recommended, ...target.strategies.filter((s) => s !== target.recommended)]
    : [...target.strategies];
  return ordered.map((s, i) => {
    const item: PickItem<string> = { label: s, value: s };
    if (i === 0 && s === target.recommended) {
      item.description = "recommended";
    }
    const help = STRATEGY_HELP[s];
    if (help) {
      item.detail = help;
    }
    return item;
  });
}
