// The `debugbox/openTerminal` request: the server asks the editor to open a terminal whose process IS the debug
// command (`shellPath: argv[0]`, `shellArgs: argv.slice(1)`), never a shell with the command typed into it.
//
// Pure: the terminal factory is injected, so the unit tests run under plain Node.

export interface OpenTerminalParams {
  title: string;
  argv: string[];
  cwd?: string;
  env?: Record<string, string>;
}

export type OpenTerminalResult = { opened: true } | { opened: false; error: string };

/** What `vscode.window.createTerminal` takes (the subset we set). */
export interface TerminalSpec {
  name: string;
  shellPath: string;
  shellArgs: string[];
  cwd?: string;
  env?: Record<string, string>;
}

export type TerminalFactory = (spec: TerminalSpec) => { show(preserveFocus?: boolean): void };

/** Check the request's shape; returns the params or a message saying what is wrong. */
export function validateOpenTerminal(raw: unknown): OpenTerminalParams | string {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return "params must be an object {title, argv, cwd?, env?}";
  }
  const p = raw as Record<string, unknown>;
  if (!Array.isArray(p.argv) || p.argv.length === 0) {
    return "argv must be a non-empty array of strings";
  }
  if (!p.argv.every((a): a is string => typeof a === "string")) {
    return "argv must contain only strings";
  }
  if (p.argv[0] === "") {
    return "argv[0] (the program) must not be empty";
  }
  if (p.title !== undefined && typeof p.title !== "string") {
    return "title must be a string";
  }
  if (p.cwd !== undefined && p.cwd !== null && typeof p.cwd !== "string") {
    return "cwd must be a string";
  }
  let env: Record<string, string> | undefined;
  if (p.env !== undefined && p.env !== null) {
    if (typeof p.env !== "object" || Array.isArray(p.env)) {
      return "env must be an object of strings";
    }
    env = {};
    for (const [k, v] of Object.entries(p.env as Record<string, unknown>)) {
      if (typeof v !== "string") {
        return `env.${k} must be a string`;
      }
      env[k] = v;
    }
  }
  const params: OpenTerminalParams = {
    title: typeof p.title === "string" && p.title.trim() !== "" ? p.title : `debugbox: ${p.argv[0]}`,
    argv: [...p.argv],
  };
  if (typeof p.cwd === "string" && p.cwd !== "") {
    params.cwd = p.cwd;
  }
  if (env !== undefined) {
    params.env = env;
  }
  return params;
}

export function terminalSpec(params: OpenTerminalParams): TerminalSpec {
  const spec: TerminalSpec = { name: params.title, shellPath: params.argv[0], shellArgs: params.argv.slice(1) };
  if (params.cwd !== undefined) {
    spec.cwd = params.cwd;
  }
  if (params.env !== undefined) {
    spec.env = params.env;
  }
  return spec;
}

/** Handle one request: validate, open and show the terminal, and say whether it opened. */
export function handleOpenTerminal(raw: unknown, create: TerminalFactory): OpenTerminalResult {
  const params = validateOpenTerminal(raw);
  if (typeof params === "string") {
    return { opened: false, error: `invalid debugbox/openTerminal request: ${params}` };
  }
  try {
    create(terminalSpec(params)).show(false);
    return { opened: true };
  } catch (err) {
    return { opened: false, error: `could not open the terminal: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** POSIX shell quoting, for the "Copy Debug Command" text only (terminals never go through a shell). */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((a) => (a !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}
