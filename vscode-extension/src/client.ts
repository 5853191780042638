// The language client: find Python, spawn `python -P -m debugbox lsp` with the bundled libraries (in the
// extension's own folder, so that nothing from the workspace is ever imported), declare the
// experimental `debugbox.openTerminal` capability, answer `debugbox/openTerminal`, serve trust-filtered settings,
// and restart when (and only when) the interpreter changes.

import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import {
  CloseAction,
  DidChangeConfigurationNotification,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  RevealOutputChannelOn,
  type ServerOptions,
  State,
  type StaticFeature,
} from "vscode-languageclient/node";
import { EXPERIMENTAL_KEY, EXPERIMENTAL_OPEN_TERMINAL, OPEN_TERMINAL_METHOD, ServerCommand } from "./common/constants";
import {
  type Discovery,
  execProbe,
  findInterpreter,
  formatVersion,
  interpreterFromPythonApi,
  type Launch,
  serverLaunch,
} from "./common/python";
import { RestartPolicy } from "./common/restarts";
import {
  effectiveSettings,
  type Manifest,
  pick,
  RESTART_KEYS,
  restrictedKeys,
  SECTION,
  sectionPath,
  settingKeys,
} from "./common/settings";
import { handleOpenTerminal } from "./common/terminals";

/**
 * Dockerfiles (any name VS Code or we map to `dockerfile`, plus the usual names), YAML (compose files too) and JSON manifests; files on
 * disk and unsaved new files only (not settings, output or other virtual documents).
 */
export const DOCUMENT_SELECTOR = ["file", "untitled"].flatMap((scheme) => [
  { scheme, language: "dockerfile" },
  { scheme, pattern: "**/{Dockerfile,Containerfile,*.Dockerfile,*.dockerfile,*.Containerfile,Dockerfile.*,Containerfile.*}" },
  { scheme, language: "yaml" },
  { scheme, language: "dockercompose" }, // compose files, when the Docker extension names their language
  { scheme, language: "json" },
]);

export interface Attention {
  /** Show (or replace) the status bar item: something needs the user. */
  set(text: string, tooltip: string): void;
  clear(): void;
}

export class DebugboxClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient | undefined> | undefined;
  private restarting = false;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly keys: string[];
  private readonly restricted: Set<string>;
  private warnedIgnored = new Set<string>();
  private watchingPython = false;
  /** When to restart (crashes, trust, interpreter changes): common/restarts.ts, tested without VS Code. */
  private readonly policy: RestartPolicy;
  /** How the running server was started (interpreter, bundled libraries): the CLI runs the same way. */
  launch: Launch | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly attention: Attention,
  ) {
    const manifest = context.extension.packageJSON as Manifest;
    this.keys = settingKeys(manifest);
    this.restricted = restrictedKeys(manifest);
    this.policy = new RestartPolicy(
      {
        restart: () => void this.restart(),
        notifySettings: () => this.notifySettings(),
        info: (message) => this.log.info(message),
      },
      RESTART_KEYS,
      SECTION,
    );
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => this.policy.configurationChanged((s) => e.affectsConfiguration(s))),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.policy.trustGranted()),
    );
  }

  /** The settings the server gets, for the given scope, with the trust rule applied (and logged once per key). */
  settings(scope?: vscode.Uri, includeClientOnly = false): Record<string, unknown> {
    const cfg = vscode.workspace.getConfiguration(SECTION, scope ?? null);
    const eff = effectiveSettings(this.keys, (k) => cfg.inspect(k), vscode.workspace.isTrusted, this.restricted, {
      includeClientOnly,
    });
    for (const name of eff.ignored) {
      if (!this.warnedIgnored.has(name)) {
        this.warnedIgnored.add(name);
        this.log.warn(`untrusted workspace: ignoring the workspace value of ${name}`);
      }
    }
    return eff.settings;
  }

  get running(): LanguageClient | undefined {
    return this.client?.state === State.Running ? this.client : undefined;
  }

  /** Start the server if it is not running; resolves to the client, or undefined when it cannot start. */
  async ensureStarted(): Promise<LanguageClient | undefined> {
    if (this.running) {
      return this.client;
    }
    if (!this.starting) {
      this.starting = this.start().finally(() => {
        this.starting = undefined;
      });
    }
    return this.starting;
  }

  async restart(): Promise<void> {
    if (this.restarting) {
      return;
    }
    this.restarting = true;
    try {
      await this.stop();
      await this.ensureStarted();
    } finally {
      this.restarting = false;
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.stop(5000);
      } catch (err) {
        this.log.warn(`stopping the server: ${String(err)}`);
      }
      await client.dispose().catch(() => undefined);
    }
  }

  /** Run a server command through `workspace/executeCommand` (starting the server if needed); cancelling
   * `token` sends `$/cancelRequest` for it (the request still ends with the server's answer). */
  async executeServerCommand(command: string, args: unknown[], token?: vscode.CancellationToken): Promise<unknown> {
    const client = await this.ensureStarted();
    if (!client) {
      throw new Error("the debugbox language server is not running (see debugbox: Show Output)");
    }
    const result: unknown = await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args }, token);
    if (command === ServerCommand.generateDebugDockerfile) {
      await this.saveGenerated(result);
    }
    return result;
  }

  private async pythonFromExtension(resource: vscode.Uri | undefined): Promise<string | undefined> {
    const ext = vscode.extensions.getExtension("ms-python.python");
    if (!ext) {
      return undefined;
    }
    // The Python extension's API changed over the years; use the environments API, then the older one.
    const api = (ext.isActive ? ext.exports : await ext.activate()) as Record<string, any> | undefined;
    const envs = api?.environments;
    if (!this.watchingPython && typeof envs?.onDidChangeActiveEnvironmentPath === "function") {
      // A different interpreter selected in the Python extension: restart on it, unless the setting decides.
      this.watchingPython = true;
      this.disposables.push(envs.onDidChangeActiveEnvironmentPath(() => this.policy.pythonExtensionInterpreterChanged()));
    }
    return interpreterFromPythonApi(api, resource);
  }

  private async discover(): Promise<Discovery> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    const settings = this.settings(folder?.uri, true);
    const configured = pick(settings, ["server", "pythonPath"]);
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === "file").map((f) => f.uri.fsPath);
    return findInterpreter({
      configured: typeof configured === "string" ? configured : undefined,
      fromPythonExtension: () => this.pythonFromExtension(folder?.uri),
      probe: execProbe(this.context.extensionPath),
      workspaceFolder: folder?.uri.fsPath,
      untrustedFolders: vscode.workspace.isTrusted ? [] : folders,
    });
  }

  private async start(): Promise<LanguageClient | undefined> {
    const found = await this.discover();
    for (const note of found.notes) {
      this.log.info(`interpreter: ${note}`);
    }
    if (!found.ok) {
      this.log.error(found.message);
      this.attention.set("$(warning) debugbox: no Python", found.message);
      void vscode.window.showErrorMessage(found.message, "Open Settings", "Show Output").then((choice) => {
        if (choice === "Open Settings") {
          // A machine-scoped setting: in a remote window (SSH, WSL, containers, code-server) it lives in the
          // Remote settings, which the plain Settings editor does not show.
          const command = vscode.env.remoteName ? "workbench.action.openRemoteSettings" : "workbench.action.openSettings";
          void vscode.commands.executeCommand(command, { query: "debugbox.server.pythonPath" });
        } else if (choice === "Show Output") {
          this.log.show();
        }
      });
      return undefined;
    }

    this.policy.interpreterSource = found.source;
    const libs = path.join(this.context.extensionPath, "bundled", "libs");
    const hasLibs = fs.existsSync(libs);
    if (!hasLibs) {
      this.log.warn(`${libs} is missing (a development build?): the server must be installed in ${found.command}`);
    }
    // PYTHONPATH comes before site-packages (and the user site), so the bundled versions win; the interpreter's own
    // packages stay importable for the optional ones that are not bundled (the `kubernetes` SDK). `-P` and the
    // extension's folder as working directory: the workspace is never on sys.path (the server learns the
    // workspace folders from `initialize`, not from its working directory).
    // The executable the version check reported (not `python3` again): a shim (pyenv…) could pick another Python
    // in the workspace folder than the one that was checked.
    const launch = serverLaunch(
      found.executable,
      this.context.extensionPath,
      process.env as Record<string, string>,
      hasLibs ? libs : undefined,
    );
    this.launch = launch;
    const args = launch.args;
    this.log.info(
      vscode.workspace.isTrusted
        ? "workspace trusted: its debugbox settings apply"
        : "workspace not trusted (restricted mode): workspace values of the settings that decide what runs are ignored",
    );
    this.log.info(
      `starting the server: ${found.executable} ${args.join(" ")} (Python ${formatVersion(found.version)} from ${found.source}` +
        `${hasLibs ? `, PYTHONPATH=${libs}` : ""}; cwd ${launch.cwd})`,
    );
    const serverOptions: ServerOptions = { command: launch.command, args, options: { env: launch.env, cwd: launch.cwd } };

    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      outputChannel: this.log,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      // workspaceTrusted: in Restricted Mode the server polls only the context's own namespace for pod lenses.
      initializationOptions: { settings: this.settings(undefined), workspaceTrusted: vscode.workspace.isTrusted },
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue }),
        closed: () => {
          // Restart after a crash, but not in a loop (RestartPolicy.serverClosed): then tell the user.
          const decision = this.policy.serverClosed(Date.now());
          if (decision.restart) {
            this.log.warn(decision.note);
            return { action: CloseAction.Restart, handled: true };
          }
          this.attention.set("$(error) debugbox: server stopped", "The debugbox server stopped. Click to see its log.");
          return { action: CloseAction.DoNotRestart, message: decision.message };
        },
      },
      middleware: {
        // "Generate Dockerfile.debug" creates the file through a WorkspaceEdit (CreateFile + text edit), which VS Code
        // leaves as an unsaved editor over an empty file. Generating means writing a file, so save what the server
        // just created or regenerated, whether the command came from the palette, a quick fix or a code lens.
        executeCommand: async (command, args, next) => {
          const result: unknown = await next(command, args);
          if (command === ServerCommand.generateDebugDockerfile) {
            await this.saveGenerated(result);
          }
          return result;
        },
        workspace: {
          // Serve `debugbox` from our own reading so that untrusted workspaces never hand the server their
          // execution settings (also covered by restrictedConfigurations, but this does not depend on it).
          configuration: async (params, token, next) => {
            const result = await next(params, token);
            if (!Array.isArray(result)) {
              return result;
            }
            return params.items.map((item, i) => {
              const sub = sectionPath(item.section);
              if (sub === undefined) {
                return result[i];
              }
              const scope = item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined;
              return pick(this.settings(scope), sub);
            });
          },
        },
      },
    };

    const client = new LanguageClient("debugbox", "debugbox", serverOptions, clientOptions);
    const terminalFeature: StaticFeature = {
      fillClientCapabilities(capabilities) {
        const experimental = (capabilities.experimental ?? {}) as Record<string, unknown>;
        experimental[EXPERIMENTAL_KEY] = { [EXPERIMENTAL_OPEN_TERMINAL]: true };
        capabilities.experimental = experimental;
      },
      initialize() {},
      getState: () => ({ kind: "static" }),
      clear() {},
    };
    client.registerFeature(terminalFeature);
    client.onRequest(OPEN_TERMINAL_METHOD, (params: unknown) => {
      const result = handleOpenTerminal(params, (spec) => vscode.window.createTerminal(spec));
      if (result.opened) {
        this.log.info(`opened terminal: ${JSON.stringify((params as { argv?: unknown }).argv)}`);
      } else {
        this.log.error(result.error);
        void vscode.window.showErrorMessage(`debugbox: ${result.error}`);
      }
      return result;
    });

    this.client = client;
    try {
      await client.start();
    } catch (err) {
      const msg = `debugbox: the language server did not start (${found.executable} ${args.join(" ")}): ${
        err instanceof Error ? err.message : String(err)
      }`;
      this.log.error(msg);
      this.attention.set("$(error) debugbox", msg);
      void vscode.window.showErrorMessage(msg, "Show Output").then((c) => c && this.log.show());
      this.client = undefined;
      await client.dispose().catch(() => undefined);
      return undefined;
    }
    this.attention.clear();
    return client;
  }

  private async saveGenerated(result: unknown): Promise<void> {
    if (typeof result !== "object" || result === null) {
      return;
    }
    const r = result as Record<string, unknown>;
    if ((r.created !== true && r.regenerated !== true) || typeof r.uri !== "string") {
      return;
    }
    const fsPath = vscode.Uri.parse(r.uri).fsPath;
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.scheme === "file" && d.uri.fsPath === fsPath);
    if (doc?.isDirty && !(await doc.save())) {
      this.log.warn(`could not save ${fsPath}`);
    }
  }

  /** Tell the running server its settings changed; false when no server runs. */
  private notifySettings(): boolean {
    const client = this.running;
    if (client) {
      // The server re-pulls `workspace/configuration` (served by the middleware above); the payload is for
      // servers that do not pull.
      void client.sendNotification(DidChangeConfigurationNotification.type, {
        settings: { [SECTION]: this.settings(undefined) },
      });
    }
    return client !== undefined;
  }

  dispose(): void {
    for (const d of this.disposables) {
      d.dispose();
    }
    void this.stop();
  }
}

/** Server command ids, re-exported for the commands module. */
export { ServerCommand };
