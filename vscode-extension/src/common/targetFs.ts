// The `debugbox-target:` file system's pure parts: which target and path a URI names, and how the server's
// answers (`debugbox.statTargetPath`, `readTargetDirectory`, `readTargetFile`) become VS Code's stat, listing and
// bytes, and its refusals the file-system errors VS Code understands.
//
// A URI is `debugbox-target://<hex of the target id>/<path in the target>`: target ids hold `:` and `/`
// (`docker://web`), and an authority in hex survives every URI round trip VS Code makes (it lowercases
// authorities). Pure: no `vscode` import at run time, so the unit tests run under plain Node.

export const TARGET_FS_SCHEME = "debugbox-target";

/** VS Code's FileType bits (vscode.FileType), repeated here so that this module stays pure. */
export const FileKind = { Unknown: 0, File: 1, Directory: 2, SymbolicLink: 64 } as const;

/** VS Code's FileChangeType values (vscode.FileChangeType), repeated here for the same reason. */
export const FileChange = { Changed: 1, Created: 2, Deleted: 3 } as const;

/** What an upload to `targetPath` changed in the view, as change events: the path (created, or changed when it
 * replaced a file) and its folder. The archive API has no change events, so without these an open editor tab of
 * the replaced file kept showing the old bytes. */
export function uploadChanges(
  id: string,
  targetPath: string,
  replaced: boolean,
): { type: number; uri: TargetUriParts }[] {
  return [
    { type: replaced ? FileChange.Changed : FileChange.Created, uri: targetUriParts(id, targetPath) },
    { type: FileChange.Changed, uri: targetUriParts(id, parentPath(targetPath)) },
  ];
}

export function encodeTarget(id: string): string {
  return Buffer.from(id, "utf8").toString("hex");
}

export function decodeTarget(authority: string): string | undefined {
  if (authority === "" || !/^([0-9a-f]{2})+$/.test(authority)) {
    return undefined;
  }
  return Buffer.from(authority, "hex").toString("utf8");
}

// C0 and C1 controls (tab and newline included: a label is one line), DEL, the bidirectional embeddings,
// overrides, isolates and marks, and lone surrogates: what the server's `core/printable.py` escapes, plus the
// newline and tab it keeps for terminals.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `text` (a name from the target) with every character that could act on the display shown as `\xNN` /
 * `\uNNNN`, as the CLI shows it: a hostile image's `a<newline>b` is listed as `a\x0ab`, never as two lines. */
export function shownText(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/** A name from the target as a quick-pick label: `shownText`, and `$(…)` kept as text (VS Code would draw a
 * file named `$(check) done` as an icon). */
export function shownLabel(name: string): string {
  return shownText(name).replace(/\$\(/g, "\\$(");
}

export interface TargetUriParts {
  scheme: string;
  authority: string;
  path: string;
  query: string;
}

/** The URI parts for a path in a target. A path that `shownText` would change (a control character in a name)
 * shows its escaped form as the URI's path — what VS Code puts in the tab and title — and carries its exact
 * characters in the query (`path=` and four hex digits per UTF-16 code unit: exact even for a lone surrogate,
 * and nothing VS Code re-encodes), which `targetPathOf` reads back. */
export function targetUriParts(id: string, targetPath: string): TargetUriParts {
  const exact = targetPath.startsWith("/") ? targetPath : `/${targetPath}`;
  const shown = shownText(exact);
  let query = "";
  if (shown !== exact) {
    const units = Array.from({ length: exact.length }, (_, i) => exact.charCodeAt(i).toString(16).padStart(4, "0"));
    query = `path=${units.join("")}`;
  }
  return { scheme: TARGET_FS_SCHEME, authority: encodeTarget(id), path: shown, query };
}

/** The exact path in the target a `debugbox-target:` URI names (see `targetUriParts`). */
export function targetPathOf(uri: { path: string; query: string }): string {
  const exact = /^path=((?:[0-9a-f]{4})+)$/.exec(uri.query);
  if (!exact) {
    return uri.path || "/";
  }
  const units = exact[1].match(/.{4}/g) ?? [];
  return String.fromCharCode(...units.map((u) => parseInt(u, 16)));
}

function kindBits(type: unknown, resolved: unknown): number {
  const base = (t: unknown): number => (t === "directory" ? FileKind.Directory : t === "file" ? FileKind.File : FileKind.Unknown);
  if (type === "symlink") {
    return FileKind.SymbolicLink | base(resolved);
  }
  return base(type);
}

export interface Stat {
  type: number;
  ctime: number;
  mtime: number;
  size: number;
  /** Always read-only (vscode.FilePermission.Readonly = 1). */
  permissions: 1;
}

/** `statTargetPath`'s answer as a vscode.FileStat; undefined when malformed. */
export function toStat(raw: unknown): Stat | undefined {
  if (typeof raw !== "object" || raw === null) {
    return undefined;
  }
  const r = raw as Record<string, unknown>;
  if (typeof r.type !== "string") {
    return undefined;
  }
  const mtime = typeof r.mtime === "number" && Number.isFinite(r.mtime) ? Math.round(r.mtime * 1000) : 0;
  const size = typeof r.size === "number" && r.size >= 0 ? r.size : 0;
  return { type: kindBits(r.type, r.resolvedType), ctime: mtime, mtime, size, permissions: 1 };
}

export interface Listing {
  entries: [string, number][];
  truncated: boolean;
}

/** `readTargetDirectory`'s answer as vscode's `[name, FileType][]` (folders first, then by name). */
export function toListing(raw: unknown): Listing {
  const out: Listing = { entries: [], truncated: false };
  if (typeof raw !== "object" || raw === null) {
    return out;
  }
  const r = raw as Record<string, unknown>;
  out.truncated = r.truncated === true;
  if (!Array.isArray(r.entries)) {
    return out;
  }
  for (const e of r.entries) {
    if (typeof e !== "object" || e === null) {
      continue;
    }
    const name = (e as Record<string, unknown>).name;
    // A name from the target is data: never a path (no separators, no dot entries).
    if (typeof name !== "string" || name === "" || name === "." || name === ".." || name.includes("/")) {
      continue;
    }
    out.entries.push([name, kindBits((e as Record<string, unknown>).type, undefined)]);
  }
  out.entries.sort((a, b) => Number(b[1] === FileKind.Directory) - Number(a[1] === FileKind.Directory) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return out;
}

/** `readTargetFile`'s answer as bytes; undefined when malformed. */
export function toBytes(raw: unknown): Uint8Array | undefined {
  if (typeof raw !== "object" || raw === null || typeof (raw as { data?: unknown }).data !== "string") {
    return undefined;
  }
  return new Uint8Array(Buffer.from((raw as { data: string }).data, "base64"));
}

export type FsErrorKind = "FileNotFound" | "FileIsADirectory" | "FileNotADirectory" | "Unavailable" | "NoPermissions";

/** Which vscode.FileSystemError a server message becomes (the server's wording is in file_view.py). */
export function errorKind(message: string): FsErrorKind {
  if (message.includes("does not exist in the target") || message.includes("not a regular file")) {
    return "FileNotFound";
  }
  if (message.includes("is a directory in the target")) {
    return "FileIsADirectory";
  }
  if (message.includes("not a directory in the target")) {
    return "FileNotADirectory";
  }
  return "Unavailable";
}

/** The parent folder of a path in the target (`/a/b` → `/a`, `/a` → `/`). */
export function parentPath(p: string): string {
  const cut = p.replace(/\/+$/, "").lastIndexOf("/");
  return cut <= 0 ? "/" : p.slice(0, cut);
}

export function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") ? `${dir}${name}` : `${dir}/${name}`;
}

/** How messages name the target of an open `debugbox-target:` file: the name the user picked it by (`picked`, id →
 * name), else a pod's `POD/CONTAINER` from its `k8s://CONTEXT/NAMESPACE/POD/CONTAINER` id, else the id itself. */
export function targetLabel(id: string, picked: ReadonlyMap<string, string>): string {
  const known = picked.get(id);
  if (known) {
    return known;
  }
  const pod = /^k8s:\/\/[^/]+\/[^/]+\/([^/]+)\/([^/]+)$/.exec(id);
  return pod ? `${pod[1]}/${pod[2]}` : id;
}
