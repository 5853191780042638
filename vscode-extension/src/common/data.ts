// The decisions behind the palette's data commands ("Copy File from/to Target…", "Forward Port…", "Capture
// Traffic…"): which targets they apply to, what the user typed (a path in the target, a port, a filter, a
// duration), the server commands' arguments and results, and which pcap viewer to offer.
//
// Pure: no `vscode` import at run time, so the unit tests run under plain Node. The server checks every argument
// again (these checks only give the user an answer while typing).

import * as path from "node:path";
import { shownText } from "./targetFs";
import type { Target } from "./targets";

/** Runtimes whose containers the engine's archive API and the capture/forward helpers reach (the server's rule). */
export const ENGINE_RUNTIMES: ReadonlySet<string> = new Set(["docker", "podman"]);

/** The runtime of pods: copies, the file view and capture reach them through debugbox's debug container (the
 * server adds one only after asking), forward through `kubectl port-forward`; only running pods are offered. */
export const POD_RUNTIME = "kubernetes";

/** Containers the data commands can work on; `running` for forward and capture (copies also reach stopped ones);
 * `pods` adds running pods' containers. */
export function dataTargets(targets: readonly Target[], running: boolean, pods = false): Target[] {
  return targets.filter(
    (t) =>
      (ENGINE_RUNTIMES.has(t.runtime) || (pods && t.runtime === POD_RUNTIME && t.status === "running")) &&
      (!running || t.status === "running"),
  );
}

/** An input box's check of a path in the target: a message, or undefined when it is acceptable. */
export function checkTargetPath(value: string): string | undefined {
  if (value === "") {
    return "a path in the target, e.g. /etc/hosts";
  }
  if (!value.startsWith("/")) {
    return "the path must be absolute (start with /)";
  }
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value)) {
    return "the path must not hold control characters";
  }
  return undefined;
}

/** The last component of a path in the target (`/var/log/app.log` → `app.log`), for a save dialog's default:
 * a control or bidirectional character in it (a hostile image's file name) becomes `_`, so that the local file
 * the user saves is not named with it unless they type it. */
export function baseName(targetPath: string): string {
  const parts = targetPath.split("/").filter((p) => p !== "" && p !== "." && p !== "..");
  const name = parts.length > 0 ? parts[parts.length - 1] : "root";
  // eslint-disable-next-line no-control-regex
  return name.replace(/[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "_");
}

/** Said after the user cancelled a download and the server confirmed it stopped (it removed what it wrote). */
export function downloadCancelled(targetPath: string, targetName: string, dest: string): string {
  return `debugbox: the download of ${shownText(targetPath)} from ${targetName} was cancelled; nothing was saved at ${dest}.`;
}

export function parsePort(value: string): number | undefined {
  const v = value.trim();
  if (!/^\d{1,5}$/.test(v)) {
    return undefined;
  }
  const n = Number(v);
  return n >= 1 && n <= 65535 ? n : undefined;
}

export function checkPort(value: string): string | undefined {
  return parsePort(value) === undefined ? "a port number between 1 and 65535" : undefined;
}

/** tcpdump's filter language is its own; refused only what the server refuses too (see core/targets/capture.py). */
export function checkFilter(value: string): string | undefined {
  const v = value.trim();
  if (v.length > 1000) {
    return "the filter is longer than 1000 characters";
  }
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(v) || v.startsWith("-")) {
    return "the filter must not hold control characters or start with '-'";
  }
  return undefined;
}

/** Empty: no limit (stop by hand); otherwise seconds, 1 to 86400. */
export function parseDuration(value: string): number | null | undefined {
  const v = value.trim();
  if (v === "") {
    return null;
  }
  if (!/^\d+(\.\d+)?$/.test(v)) {
    return undefined;
  }
  const n = Number(v);
  return n > 0 && n <= 86400 ? n : undefined;
}

export function checkDuration(value: string): string | undefined {
  return parseDuration(value) === undefined ? "seconds (1-86400), or empty to stop it yourself" : undefined;
}

/** `debugbox-web-20261206-014500.pcap`: a file name from a container name that may hold anything. */
export function captureFileName(targetName: string, now: Date): string {
  const safe = targetName.replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^[-.]+/, "").slice(0, 60) || "target";
  const p = (n: number): string => String(n).padStart(2, "0");
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return `debugbox-${safe}-${stamp}.pcap`;
}

export interface CopySummary {
  files: number;
  directories: number;
  bytes: number;
  skipped: string[];
}

/** The server's `{"files", "directories", "bytes", "skipped"}`, read defensively; undefined when malformed. */
export function parseCopySummary(raw: unknown): CopySummary | undefined {
  if (typeof raw !== "object" || raw === null) {
    return undefined;
  }
  const r = raw as Record<string, unknown>;
  const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined);
  const files = num(r.files);
  const directories = num(r.directories);
  const bytes = num(r.bytes);
  if (files === undefined || directories === undefined || bytes === undefined) {
    return undefined;
  }
  const skipped = Array.isArray(r.skipped) ? r.skipped.filter((s): s is string => typeof s === "string") : [];
  return { files, directories, bytes, skipped };
}

export function humanSize(n: number): string {
  let size = n;
  for (const unit of ["B", "KiB", "MiB", "GiB"]) {
    if (size < 1024 || unit === "GiB") {
      return unit === "B" ? `${size} B` : `${size.toFixed(1)} ${unit}`;
    }
    size /= 1024;
  }
  return `${n} B`;
}

/** One line for the notification after a copy. */
export function copyMessage(summary: CopySummary, direction: "from" | "to", where: string): string {
  const what = summary.directories > 0 ? `${summary.files} file(s) in ${summary.directories} folder(s)` : `${summary.files} file(s)`;
  const skipped = summary.skipped.length > 0 ? `; ${summary.skipped.length} skipped (see the output)` : "";
  return `debugbox: copied ${what}, ${humanSize(summary.bytes)} ${direction} ${where}${skipped}`;
}

/** The confirmation before anything is written into a target: it names the target and the path. */
export function uploadConfirmation(localName: string, targetName: string, targetPath: string): string {
  return `Copy ${localName} into ${targetName} at ${targetPath}? An existing file there is not replaced.`;
}

/** Where an upload lands: into a folder path (`/tmp/`) under the file's own name, else the path as typed. */
export function uploadPath(targetPath: string, localName: string): string {
  return targetPath.endsWith("/") ? `${targetPath}${localName}` : targetPath;
}

export interface Viewer {
  name: "wireshark" | "termshark";
  program: string;
  /** termshark is a terminal program; wireshark opens its own window. */
  inTerminal: boolean;
  args: string[];
}

/** The first pcap viewer on PATH (Wireshark, then termshark), found by `exists`; undefined when neither is. */
export function findViewer(
  pcap: string,
  pathEnv: string | undefined,
  exists: (file: string) => boolean,
  delimiter: string = path.delimiter,
): Viewer | undefined {
  const dirs = (pathEnv ?? "").split(delimiter).filter((d) => d !== "" && path.isAbsolute(d));
  for (const name of ["wireshark", "termshark"] as const) {
    for (const dir of dirs) {
      const program = path.join(dir, name);
      if (exists(program)) {
        return { name, program, inTerminal: name === "termshark", args: ["-r", pcap] };
      }
    }
  }
  return undefined;
}

/** Said when no viewer is installed. */
export function noViewerHint(pcap: string): string {
  return `debugbox: open ${path.basename(pcap)} in Wireshark (not found on PATH), or read it with \`tcpdump -r ${pcap}\` or termshark.`;
}

/** The server's `forwardPort` result: the local URL to offer, when the terminal opened. */
export function forwardUrl(raw: unknown): string | undefined {
  if (typeof raw !== "object" || raw === null) {
    return undefined;
  }
  const r = raw as Record<string, unknown>;
  return r.opened === true && typeof r.url === "string" && /^http:\/\/localhost:\d+$/.test(r.url) ? r.url : undefined;
}
