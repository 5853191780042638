// activate/deactivate: the output channel, the status bar item, the palette commands, and the client.

import * as vscode from "vscode";
import { type Attention, DebugboxClient } from "./client";
import { ClientCommand, ServerCommand } from "./common/constants";
import { registerDataCommands } from "./dataCommands";
import { shellQuote } from "./common/terminals";
import { reportFailure } from "./report";
import { whenTerminalEnds } from "./terminalEnd";
import { parseTargetList, type Target, strategyItems, targetItems } from "./common/targets";
import { type Engine, ENGINES, LOCAL_TOOLBOX, openTerminalArgs, toolboxBuildTerminal, toolboxOffer } from "./common/toolbox";

let debugbox: DebugboxClient | undefined;


export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel("debugbox", { log: true });
  context.subscriptions.push(log);

  // Shown only when something needs the user (no Python, server stopped, an engine that does not answer).
  const status = vscode.window.createStatusBarItem("debugbox.attention", vscode.StatusBarAlignment.Left, 10);
  status.name = "debugbox";
  status.command = ClientCommand.showOutput;
  context.subscriptions.push(status);
  const attention: Attention = {
    set(text, tooltip) {
      status.text = text;
      status.tooltip = tooltip;
      status.show();
    },
    clear() {
      status.hide();
    },
  };

  debugbox = new DebugboxClient(context, log, attention);
  context.subscriptions.push(debugbox);
  const dbx = debugbox;

  const run = async (command: string, args: Record<string, unknown>): Promise<unknown> => {
    try {
      return await dbx.executeServerCommand(command, [args]);
    } catch (err) {
      reportFailure(log, command, err);
      return undefined;
    }
  };

  const activeUri = (languages?: string[]): vscode.Uri | undefined => {
    const editor = vscode.window.activeTextEditor;
    if (!editor || (languages && !languages.includes(editor.document.languageId))) {
      return undefined;
    }
    return editor.document.uri;
  };

  /** Pick a live target (related first), then a strategy (recommended first). Undefined when cancelled. */
  const pickTarget = async (uri: string | undefined): Promise<{ target: Target; strategy: string } | undefined> => {
    const raw = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: "debugbox: listing running containers" },
      () => run(ServerCommand.listTargets, uri ? { uri } : {}),
    );
    if (raw === undefined) {
      return undefined;
    }
    const list = parseTargetList(raw);
    if (list.problems.length > 0) {
      for (const p of list.problems) {
        log.warn(`listTargets: ${p}`);
      }
      attention.set("$(warning) debugbox", list.problems.join("\n"));
    } else {
      attention.clear();
    }
    if (list.targets.length === 0) {
      const why = list.problems.length > 0 ? ` (${list.problems.join("; ")})` : "";
      void vscode.window.showInformationMessage(`debugbox: no running containers or pods found${why}.`);
      return undefined;
    }
    const chosen = await vscode.window.showQuickPick(targetItems(list.targets), {
      title: "debugbox: debug which container?",
      placeHolder: "Running containers and pods (related to this file first)",
      matchOnDescription: true,
      matchOnDetail: true,
    });
    if (!chosen) {
      return undefined;
    }
    const target = chosen.value;
    const strategies = strategyItems(target);
    if (strategies.length === 0) {
      void vscode.window.showWarningMessage(
        `debugbox: no way into ${target.name} is available now (status: ${target.status || "unknown"}).`,
      );
      return undefined;
    }
    if (strategies.length === 1) {
      return { target, strategy: strategies[0].value };
    }
    const strategy = await vscode.window.showQuickPick(strategies, {
      title: `debugbox: how to get into ${target.name}?`,
      placeHolder: "Enter keeps the recommended strategy",
    });
    return strategy ? { target, strategy: strategy.value } : undefined;
  };

  const docUriArg = (arg: unknown): string | undefined => {
    if (arg instanceof vscode.Uri) {
      return arg.toString();
    }
    if (typeof arg === "string") {
      return arg;
    }
    if (typeof arg === "object" && arg !== null && typeof (arg as { uri?: unknown }).uri === "string") {
      return (arg as { uri: string }).uri;
    }
    return undefined;
  };

  /** "Open Debug Terminal…" and "Open Raw Shell…": the same picks; raw is the toolbox's plain shell. */
  const openTerminal = async (arg: unknown, raw: boolean): Promise<void> => {
    const picked = await pickTarget(docUriArg(arg) ?? activeUri()?.toString());
    if (picked) {
      log.info(`open ${raw ? "raw shell" : "debug terminal"}: ${picked.target.id} (${picked.strategy})`);
      await run(ServerCommand.openDebugTerminal, openTerminalArgs(picked.target.id, picked.strategy, raw));
    }
  };

  /** `debugbox toolbox build` in a terminal the user watches; once it succeeded, offer the image as the setting. */
  const buildToolbox = async (): Promise<void> => {
    const launch = dbx.launch;
    if (!launch) {
      void vscode.window.showErrorMessage(
        "debugbox: no Python runs the server yet, so the toolbox cannot be built; see the debugbox output.",
        "Show Output",
      ).then((c) => c && log.show());
      return;
    }
    const engine = await vscode.window.showQuickPick([...ENGINES], {
      title: `debugbox: build ${LOCAL_TOOLBOX} into which engine?`,
      placeHolder: "A static busybox from this machine, imported into the engine (no registry)",
    });
    if (!engine) {
      return;
    }
    const terminal = vscode.window.createTerminal(toolboxBuildTerminal(launch, engine as Engine));
    terminal.show(false);
    log.info(`building ${LOCAL_TOOLBOX} into ${engine} in a terminal`);
    const offerImage = (): void => {
      const config = vscode.workspace.getConfiguration("debugbox");
      const offer = toolboxOffer(terminal.exitStatus?.code, config.inspect<string>("toolboxImage")?.globalValue);
      if (!offer) {
        return;
      }
      const buttons = offer.button ? [offer.button] : [];
      void vscode.window.showInformationMessage(offer.message, ...buttons).then(async (choice) => {
        if (choice && choice === offer.button) {
          // User settings: toolboxImage decides what runs, so a workspace value is ignored in untrusted folders.
          await config.update("toolboxImage", LOCAL_TOOLBOX, vscode.ConfigurationTarget.Global);
          log.info(`debugbox.toolboxImage set to ${LOCAL_TOOLBOX} (user settings)`);
        }
      });
    };
    context.subscriptions.push(whenTerminalEnds(terminal, offerImage));
  };

  context.subscriptions.push(
    vscode.commands.registerCommand(ClientCommand.showOutput, () => log.show()),
    vscode.commands.registerCommand(ClientCommand.restartServer, async () => {
      log.info("restart requested");
      await dbx.restart();
      if (dbx.running) {
        void vscode.window.setStatusBarMessage("debugbox: server restarted", 3000);
      }
    }),
    vscode.commands.registerCommand(ClientCommand.generateDebugDockerfile, async (arg?: unknown) => {
      const uri = docUriArg(arg) ?? activeUri(["dockerfile"])?.toString();
      if (!uri) {
        void vscode.window.showWarningMessage("debugbox: open a Dockerfile first.");
        return;
      }
      const result = (await run(ServerCommand.generateDebugDockerfile, { uri })) as Record<string, unknown> | undefined;
      // Without `regenerate` the server never overwrites an existing file (and says so); offer the explicit way.
      if (result && result.created === false && result.reason === "exists") {
        const name = typeof result.uri === "string" ? vscode.Uri.parse(result.uri).path.split("/").pop() : undefined;
        const choice = await vscode.window.showInformationMessage(
          `debugbox: replace the content of ${name ?? "Dockerfile.debug"}? (the edit can be undone)`,
          "Regenerate",
        );
        if (choice === "Regenerate") {
          await run(ServerCommand.generateDebugDockerfile, { uri, regenerate: true });
        }
      }
    }),
    vscode.commands.registerCommand(ClientCommand.addShareProcessNamespace, async (arg?: unknown) => {
      const uri = docUriArg(arg) ?? activeUri(["yaml", "json"])?.toString();
      if (!uri) {
        void vscode.window.showWarningMessage("debugbox: open a Kubernetes manifest first.");
        return;
      }
      // No `line`: every pod spec in the file (the quick fix on a pod spec does one).
      await run(ServerCommand.addShareProcessNamespace, { uri });
    }),
    vscode.commands.registerCommand(ClientCommand.openDebugTerminal, (arg?: unknown) => openTerminal(arg, false)),
    vscode.commands.registerCommand(ClientCommand.openRawShell, (arg?: unknown) => openTerminal(arg, true)),
    vscode.commands.registerCommand(ClientCommand.buildToolboxImage, () => buildToolbox()),
    vscode.commands.registerCommand(ClientCommand.copyDebugCommand, async (arg?: unknown) => {
      const picked = await pickTarget(docUriArg(arg) ?? activeUri()?.toString());
      if (!picked) {
        return;
      }
      const result = (await run(ServerCommand.debugCommand, {
        target: picked.target.id,
        strategy: picked.strategy,
      })) as { argv?: unknown; notes?: unknown } | undefined;
      const argv = result?.argv;
      if (!Array.isArray(argv) || !argv.every((a) => typeof a === "string")) {
        return;
      }
      const line = shellQuote(argv);
      await vscode.env.clipboard.writeText(line);
      const notes = Array.isArray(result?.notes) ? result.notes.filter((n) => typeof n === "string") : [];
      void vscode.window.showInformationMessage(`debugbox: copied \`${line}\`${notes.length ? ` — ${notes.join(" ")}` : ""}`);
    }),
  );

  registerDataCommands(context, { execute: (command, args, token) => dbx.executeServerCommand(command, args, token), log });

  // Start right away: activation happens only for Dockerfiles and YAML/JSON documents.
  void dbx.ensureStarted();
}

export async function deactivate(): Promise<void> {
  await debugbox?.stop();
}
