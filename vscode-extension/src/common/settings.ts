// The `debugbox.*` settings as the server receives them, with the workspace-trust rule applied.
//
// Pure: no `vscode` import at run time, so the unit tests run under plain Node. The keys, defaults and the list of
// restricted (execution) settings come from package.json (`contributes.configuration`,
// `capabilities.untrustedWorkspaces.restrictedConfigurations`), which a test checks against
// server/debugbox/settings.py.

export const SECTION = "debugbox";

/** Settings only the extension reads; never sent to the server. */
export const CLIENT_ONLY = new Set(["server.pythonPath"]);

/** Settings whose change needs a new server process (a different interpreter). */
export const RESTART_KEYS = ["server.pythonPath"];

/** The subset of `WorkspaceConfiguration.inspect()` we use. */
export interface Inspected<T = unknown> {
  defaultValue?: T;
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
}

export interface Effective {
  /** Nested, camelCase, without the `debugbox.` prefix: what `workspace/configuration` returns for `debugbox`. */
  settings: Record<string, unknown>;
  /** Full setting names whose workspace value was ignored because the workspace is not trusted. */
  ignored: string[];
}

export interface Manifest {
  contributes?: { configuration?: { properties?: Record<string, { default?: unknown }> } };
  capabilities?: { untrustedWorkspaces?: { restrictedConfigurations?: string[] } };
}

/** Setting keys (without the prefix) contributed by the manifest, in order. */
export function settingKeys(manifest: Manifest): string[] {
  const props = manifest.contributes?.configuration?.properties ?? {};
  return Object.keys(props)
    .filter((k) => k.startsWith(SECTION + "."))
    .map((k) => k.slice(SECTION.length + 1));
}

/** Keys (without the prefix) whose workspace values untrusted workspaces must not apply. */
export function restrictedKeys(manifest: Manifest): Set<string> {
  const list = manifest.capabilities?.untrustedWorkspaces?.restrictedConfigurations ?? [];
  return new Set(list.filter((k) => k.startsWith(SECTION + ".")).map((k) => k.slice(SECTION.length + 1)));
}

/**
 * Resolve each key by VS Code's precedence (folder, workspace, user, default), skipping workspace-level values of
 * restricted keys when `trusted` is false, and nest the result by its dots.
 */
export function effectiveSettings(
  keys: readonly string[],
  inspect: (key: string) => Inspected | undefined,
  trusted: boolean,
  restricted: ReadonlySet<string>,
  options: { includeClientOnly?: boolean } = {},
): Effective {
  const settings: Record<string, unknown> = {};
  const ignored: string[] = [];
  for (const key of keys) {
    if (!options.includeClientOnly && CLIENT_ONLY.has(key)) {
      continue;
    }
    const info = inspect(key);
    if (!info) {
      continue;
    }
    const guard = !trusted && restricted.has(key);
    let value: unknown;
    if (!guard && info.workspaceFolderValue !== undefined) {
      value = info.workspaceFolderValue;
    } else if (!guard && info.workspaceValue !== undefined) {
      value = info.workspaceValue;
    } else {
      if (guard && (info.workspaceFolderValue !== undefined || info.workspaceValue !== undefined)) {
        ignored.push(`${SECTION}.${key}`);
      }
      value = info.globalValue !== undefined ? info.globalValue : info.defaultValue;
    }
    if (value === undefined) {
      continue;
    }
    setPath(settings, key.split("."), value);
  }
  return { settings, ignored };
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== "object" || next === null || Array.isArray(next)) {
      node[part] = {};
    }
    node = node[part] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

/** What a `workspace/configuration` item asks for, relative to the `debugbox` section; undefined if not ours. */
export function sectionPath(section: string | undefined): string[] | undefined {
  if (section === undefined || section === "") {
    return undefined;
  }
  if (section === SECTION) {
    return [];
  }
  if (section.startsWith(SECTION + ".")) {
    return section.slice(SECTION.length + 1).split(".");
  }
  return undefined;
}

/** The value at `path` inside nested settings (`null` when absent, as VS Code answers for unknown sections). */
export function pick(settings: Record<string, unknown>, path: readonly string[]): unknown {
  let node: unknown = settings;
  for (const part of path) {
    if (typeof node !== "object" || node === null || !(part in node)) {
      return null;
    }
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}
