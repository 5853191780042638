// Find the Python that runs the bundled server: the `debugbox.server.pythonPath` setting, else the Python
// extension's active interpreter (when that extension is installed), else `python3` (then `python`) on PATH. Each
// candidate is run once to read its version; the first one >= MIN_PYTHON wins. An explicitly configured interpreter
// that fails is an error of its own (we never silently run something else than what the user asked for). In an
// untrusted workspace, no interpreter inside a workspace folder is run, not even to probe it (a user-level
// setting with `${workspaceFolder}`, or a workspace virtualenv picked by the Python extension, is skipped).
//
// `serverLaunch` says how the server is started so that nothing from the workspace is ever imported: `-P` (no
// current or script folder on sys.path), PYTHONSAFEPATH for the same, and a working directory that is the
// extension's own folder, never the workspace.
//
// Pure apart from the injected probe, so the unit tests run under plain Node.

import { execFile } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { MIN_PYTHON } from "./constants";

export type Version = readonly [number, number, number];

export type ProbeResult = { ok: true; executable: string; version: Version } | { ok: false; error: string };

/** Run `command` with Python's `-c` and report its real executable and version. */
export type Probe = (command: string) => Promise<ProbeResult>;

export interface Candidate {
  /** Where it came from, for messages: "setting debugbox.server.pythonPath", "Python extension", "PATH". */
  source: string;
  command: string;
}

export type Discovery =
  | { ok: true; command: string; executable: string; version: Version; source: string; notes: string[] }
  | { ok: false; message: string; notes: string[] };

export interface DiscoveryInput {
  /** The setting's value (already trust-filtered); empty or undefined when unset. */
  configured?: string;
  /** Asks the Python extension for its active interpreter; undefined when not installed or none selected. */
  fromPythonExtension: () => Promise<string | undefined>;
  probe: Probe;
  /** Names tried on PATH, in order. */
  pathNames?: readonly string[];
  /** For `${workspaceFolder}` in the setting. */
  workspaceFolder?: string;
  homeDir?: string;
  /** Restricted mode: interpreters inside these folders (the workspace folders) are never run. */
  untrustedFolders?: readonly string[];
}

export interface Launch {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

/**
 * How to start the server: `<python> -P -m debugbox lsp` in `safeDir` (the extension's install folder), with the
 * bundled libraries first on PYTHONPATH. `-P` keeps the working directory off sys.path, and the working
 * directory is not the workspace anyway, so a repository's `shlex.py` or `debugbox.py` is never imported.
 */
export function serverLaunch(executable: string, safeDir: string, baseEnv: Record<string, string>, libs?: string): Launch {
  const env: Record<string, string> = { ...baseEnv, PYTHONSAFEPATH: "1" };
  if (libs) {
    env.PYTHONPATH = baseEnv.PYTHONPATH ? `${libs}${path.delimiter}${baseEnv.PYTHONPATH}` : libs;
  }
  return { command: executable, args: ["-P", "-m", "debugbox", "lsp"], cwd: safeDir, env };
}

/** True when `file` (after `..` and relative parts are resolved) lies inside one of `folders`. */
export function insideAny(file: string, folders: readonly string[]): boolean {
  const abs = path.resolve(file);
  return folders.some((folder) => {
    const rel = path.relative(path.resolve(folder), abs);
    return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
  });
}

export const PROBE_SCRIPT = 'import sys; print(sys.executable); print("%d.%d.%d" % sys.version_info[:3])';

export function versionAtLeast(v: Version, min: readonly [number, number]): boolean {
  return v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1]);
}

export function formatVersion(v: Version): string {
  return v.join(".");
}

/** Expand `~` and `${workspaceFolder}` / `${userHome}` in a configured path. */
export function expandPath(value: string, workspaceFolder: string | undefined, homeDir: string): string {
  let out = value.trim();
  out = out.replace(/\$\{userHome\}/g, homeDir);
  if (workspaceFolder !== undefined) {
    out = out.replace(/\$\{workspaceFolder\}/g, workspaceFolder);
  }
  if (out === "~") {
    return homeDir;
  }
  if (out.startsWith("~/") || out.startsWith("~\\")) {
    return path.join(homeDir, out.slice(2));
  }
  return out;
}

/** Parse the probe's two output lines. */
export function parseProbeOutput(stdout: string): ProbeResult {
  const lines = stdout.trim().split(/\r?\n/);
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(lines[lines.length - 1]?.trim() ?? "");
  if (lines.length < 2 || !m) {
    return { ok: false, error: `unexpected output from the version check: ${JSON.stringify(stdout.slice(0, 200))}` };
  }
  return { ok: true, executable: lines[0].trim(), version: [Number(m[1]), Number(m[2]), Number(m[3])] };
}

/**
 * The real probe: runs the interpreter directly (argv, no shell) with a timeout, isolated (`-I`: neither the
 * working directory nor PYTHON* variables count) in `cwd` (the extension's folder, not the workspace).
 */
export function execProbe(cwd: string, timeoutMs = 15000): Probe {
  return (command) =>
    new Promise((resolve) => {
      const options = { timeout: timeoutMs, windowsHide: true, cwd };
      execFile(command, ["-I", "-c", PROBE_SCRIPT], options, (err, stdout, stderr) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException).code;
          const why =
            code === "ENOENT"
              ? "not found"
              : code === "EACCES"
                ? "not executable"
                : (String(stderr).trim().split(/\r?\n/).pop() ?? "") || err.message;
          resolve({ ok: false, error: why });
          return;
        }
        resolve(parseProbeOutput(String(stdout)));
      });
    });
}

function describe(result: ProbeResult): string {
  return result.ok ? `Python ${formatVersion(result.version)} (${result.executable})` : result.error;
}

export async function findInterpreter(input: DiscoveryInput): Promise<Discovery> {
  const min = `${MIN_PYTHON[0]}.${MIN_PYTHON[1]}`;
  const notes: string[] = [];
  const home = input.homeDir ?? os.homedir();
  const configured = input.configured?.trim();

  const untrusted = input.untrustedFolders ?? [];
  const accept = async (candidate: Candidate): Promise<Discovery | string> => {
    if (untrusted.length > 0 && candidate.command.includes(path.sep) && insideAny(candidate.command, untrusted)) {
      const why = "inside the workspace, which is not trusted (restricted mode): not run";
      notes.push(`${candidate.source}: ${candidate.command}: ${why}`);
      return why;
    }
    const result = await input.probe(candidate.command);
    if (result.ok && versionAtLeast(result.version, MIN_PYTHON)) {
      return {
        ok: true,
        command: candidate.command,
        executable: result.executable,
        version: result.version,
        source: candidate.source,
        notes,
      };
    }
    const why = result.ok ? `${describe(result)} is older than ${min}` : describe(result);
    notes.push(`${candidate.source}: ${candidate.command}: ${why}`);
    return why;
  };

  if (configured && untrusted.length > 0 && configured.includes("${workspaceFolder}")) {
    // A user-level value naming the workspace would run the workspace's own interpreter: not in restricted mode.
    notes.push(
      `setting debugbox.server.pythonPath: ${configured}: refers to \${workspaceFolder}, which is not used while ` +
        "the workspace is not trusted (restricted mode); looking for another interpreter",
    );
  } else if (configured) {
    const command = expandPath(configured, input.workspaceFolder, home);
    const outcome = await accept({ source: "setting debugbox.server.pythonPath", command });
    if (typeof outcome !== "string") {
      return outcome;
    }
    return {
      ok: false,
      notes,
      message:
        `debugbox: the Python in setting debugbox.server.pythonPath (${command}) cannot run the server: ${outcome}. ` +
        `Set it to a Python ${min} or newer, or clear it to let debugbox find one.`,
    };
  }

  let fromExtension: string | undefined;
  try {
    fromExtension = await input.fromPythonExtension();
  } catch (err) {
    notes.push(`Python extension: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (fromExtension) {
    const outcome = await accept({ source: "Python extension", command: fromExtension });
    if (typeof outcome !== "string") {
      return outcome;
    }
  } else {
    notes.push("Python extension: not installed or no interpreter selected");
  }

  for (const name of input.pathNames ?? ["python3", "python"]) {
    const outcome = await accept({ source: "PATH", command: name });
    if (typeof outcome !== "string") {
      return outcome;
    }
  }

  return {
    ok: false,
    notes,
    message:
      `debugbox needs Python ${min} or newer to run its language server, and none was found ` +
      `(tried: ${notes.join("; ")}). Install one, then set debugbox.server.pythonPath to it ` +
      `or select it in the Python extension.`,
  };
}

/**
 * The interpreter the Python extension has selected for `resource`, read from its exported API: the environments
 * API (the resolved executable, else the active environment's path), then the older `settings.getExecutionDetails`.
 * The API changed over the years and comes from another extension: anything unexpected is "no interpreter".
 */
export async function interpreterFromPythonApi(api: Record<string, any> | undefined, resource: unknown): Promise<string | undefined> {
  const envs = api?.environments;
  if (typeof envs?.getActiveEnvironmentPath === "function") {
    const envPath = envs.getActiveEnvironmentPath(resource);
    const resolved = envPath && typeof envs.resolveEnvironment === "function" ? await envs.resolveEnvironment(envPath) : undefined;
    const exe: unknown = resolved?.executable?.uri?.fsPath ?? envPath?.path;
    if (typeof exe === "string" && exe) {
      return exe;
    }
  }
  const details = typeof api?.settings?.getExecutionDetails === "function" ? api.settings.getExecutionDetails(resource) : undefined;
  const cmd: unknown = details?.execCommand;
  return Array.isArray(cmd) && typeof cmd[0] === "string" && cmd[0] ? cmd[0] : undefined;
}
