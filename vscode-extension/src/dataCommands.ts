// The palette's data commands: "Copy File from Target…", "Copy File to Target…", "Forward Port…", "Capture
// Traffic…" and "Browse Target Files…" (the read-only `debugbox-target:` file view, with Download…/Upload…) — the
// user's picks and dialogs here, the work in the server (`debugbox.copyFromTarget` and friends:
// copies through the engine's archive API; forward and capture as the documented CLI in a terminal).
//
// Nothing is written without the user's choice: a download goes where the save dialog said (VS Code's dialog asks
// before replacing a file); an upload is confirmed with the target and path named, and an existing file in the
// target is replaced only after a second confirmation. Restricted Mode: as "Open Debug Terminal…" (the server
// gets trust-filtered settings; VS Code itself asks before a terminal process starts).

import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { spawn } from "node:child_process";
import * as vscode from "vscode";
import { ClientCommand, ServerCommand } from "./common/constants";
import {
  baseName,
  captureFileName,
  checkDuration,
  checkFilter,
  checkPort,
  checkTargetPath,
  copyMessage,
  dataTargets,
  downloadCancelled,
  findViewer,
  forwardUrl,
  noViewerHint,
  parseCopySummary,
  parseDuration,
  parsePort,
  uploadConfirmation,
  uploadPath,
} from "./common/data";
import { isCaptureTerminal, RunningCaptures } from "./common/captures";
import { forwardEndedMessage, forwardItem, forwardUpMessage, type RunningForward, RunningForwards } from "./common/forwards";
import { cleanupArgs } from "./common/cleanup";
import { parseTargetList, type Target, targetItems } from "./common/targets";
import { failureOf } from "./common/failures";
import {
  decodeTarget,
  FileKind,
  joinPath,
  parentPath,
  shownLabel,
  shownText,
  TARGET_FS_SCHEME,
  targetLabel,
  targetPathOf,
  targetUriParts,
  toListing,
} from "./common/targetFs";
import { reportFailure } from "./report";
import { TargetFileSystem } from "./targetFs";
import { whenTerminalEnds } from "./terminalEnd";

export interface DataDeps {
  /** `workspace/executeCommand` on the server; rejects with the server's message. `token`: its cancellation
   * sends `$/cancelRequest` (a download stops and answers once it has removed what it wrote). */
  execute(command: string, args: unknown[], token?: vscode.CancellationToken): Promise<unknown>;
  log: vscode.LogOutputChannel;
}

function workspaceFolder(): vscode.Uri | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri;
}

export function registerDataCommands(context: vscode.ExtensionContext, deps: DataDeps): void {
  const { log } = deps;
  const files = new TargetFileSystem(deps.execute, log);

  /** Run a server command; on failure report it once (`reportFailure`) and return undefined. */
  const run = async (command: string, args: Record<string, unknown>): Promise<unknown> => {
    try {
      return await deps.execute(command, [args]);
    } catch (err) {
      reportFailure(log, command, err);
      return undefined;
    }
  };

  /** The name the user picked each target by (its listing's name), for messages about an open target file. */
  const pickedNames = new Map<string, string>();

  /** A Docker or Podman container (running ones only for forward and capture), or with `pods` also a running
   * pod's container; undefined when cancelled. */
  const pickContainer = async (title: string, running: boolean, pods = false): Promise<Target | undefined> => {
    const raw = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: "debugbox: listing containers" },
      () => run(ServerCommand.listTargets, {}),
    );
    if (raw === undefined) {
      return undefined;
    }
    const list = parseTargetList(raw);
    const targets = dataTargets(list.targets, running, pods);
    if (targets.length === 0) {
      const why = list.problems.length > 0 ? ` (${list.problems.join("; ")})` : "";
      const engines = running ? "running Docker or Podman containers" : "Docker or Podman containers";
      const which = pods ? `${engines} or running pods` : engines;
      void vscode.window.showInformationMessage(`debugbox: no ${which} found${why}.`);
      return undefined;
    }
    const chosen = await vscode.window.showQuickPick(targetItems(targets), {
      title,
      placeHolder: pods
        ? "Docker and Podman containers, pods (related to this file first)"
        : "Docker and Podman containers (related to this file first)",
      matchOnDescription: true,
      matchOnDetail: true,
    });
    if (chosen) {
      pickedNames.set(chosen.value.id, chosen.value.name);
    }
    return chosen?.value;
  };

  /** Save `where` of `target` where the save dialog says (VS Code's dialog asks before replacing a file). The
   * progress notification's Cancel stops the copy: the server removes what it wrote, then answers. */
  const download = async (target: Target, where: string): Promise<void> => {
    const folder = workspaceFolder();
    const shown = shownText(where); // a path from a listing of the target may hold anything
    const dest = await vscode.window.showSaveDialog({
      title: `debugbox: save ${shown} from ${target.name} as`,
      saveLabel: "Save",
      defaultUri: folder ? vscode.Uri.joinPath(folder, baseName(where)) : undefined,
    });
    if (!dest) {
      return;
    }
    // The save dialog asked before pointing at an existing file: choosing it is the user's explicit choice.
    const args = { target: target.id, path: where, dest: dest.toString(), force: true };
    const title = `debugbox: copying ${shown} from ${target.name}`;
    let stopped = false;
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title, cancellable: true },
      async (_progress, token) => {
        try {
          return await deps.execute(ServerCommand.copyFromTarget, [args], token);
        } catch (err) {
          stopped = token.isCancellationRequested && failureOf(err, ServerCommand.copyFromTarget).cancelled;
          reportFailure(log, ServerCommand.copyFromTarget, err);
          return undefined;
        }
      },
    );
    if (stopped) {
      void vscode.window.showInformationMessage(downloadCancelled(where, target.name, dest.fsPath));
      return;
    }
    const summary = parseCopySummary(result);
    if (summary) {
      for (const s of summary.skipped) {
        log.warn(`copy from ${target.name}: skipped ${s}`);
      }
      log.info(`copied ${where} from ${target.id} to ${dest.fsPath}: ${JSON.stringify(summary)}`);
      void vscode.window.showInformationMessage(copyMessage(summary, "from", target.name));
    }
  };

  const copyFrom = async (): Promise<void> => {
    const target = await pickContainer("debugbox: copy a file from which container?", false, true);
    if (!target) {
      return;
    }
    const where = await vscode.window.showInputBox({
      title: `debugbox: path in ${target.name}`,
      prompt: "An absolute path of a file or folder in the container (nothing runs inside it)",
      value: "/",
      valueSelection: [1, 1],
      validateInput: checkTargetPath,
    });
    if (where !== undefined) {
      await download(target, where);
    }
  };

  const chooseSource = async (): Promise<vscode.Uri | undefined> => {
    const picked = await vscode.window.showOpenDialog({
      title: "debugbox: copy which file or folder into a container?",
      canSelectFiles: true,
      canSelectFolders: true,
      canSelectMany: false,
      defaultUri: workspaceFolder(),
      openLabel: "Choose",
    });
    return picked?.[0];
  };

  /** Copy `src` into `target` at a path the user confirms (named in the confirmation); never replaces silently. */
  const upload = async (target: Target, src: vscode.Uri, suggested: string): Promise<void> => {
    const name = path.basename(src.fsPath);
    const typed = await vscode.window.showInputBox({
      title: `debugbox: where in ${target.name}?`,
      prompt: "An absolute path; ending in / copies into that folder under the same name",
      value: suggested,
      validateInput: checkTargetPath,
    });
    if (typed === undefined) {
      return;
    }
    const where = uploadPath(typed, name);
    const ok = await vscode.window.showWarningMessage(uploadConfirmation(name, target.name, where), { modal: true }, "Copy");
    if (ok !== "Copy") {
      return;
    }
    const args = { target: target.id, src: src.toString(), path: where };
    const title = `debugbox: copying ${name} to ${target.name}`;
    let result: unknown;
    let replaced = false;
    try {
      result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, () =>
        deps.execute(ServerCommand.copyToTarget, [args]),
      );
    } catch (err) {
      // Only "exists in the target" is a question (the server showed nothing for it); anything else is reported.
      if (!failureOf(err, ServerCommand.copyToTarget).exists) {
        reportFailure(log, ServerCommand.copyToTarget, err);
        return;
      }
      const replace = await vscode.window.showWarningMessage(
        `${where} already exists in ${target.name}. Replace it with ${name}?`,
        { modal: true },
        "Replace",
      );
      if (replace !== "Replace") {
        return;
      }
      replaced = true;
      result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, () =>
        run(ServerCommand.copyToTarget, { ...args, force: true }),
      );
    }
    const summary = parseCopySummary(result);
    if (summary) {
      files.uploaded(target.id, where, replaced); // an open editor of the replaced file shows the new bytes
      void vscode.window.showInformationMessage(copyMessage(summary, "to", `${target.name}:${where}`));
    }
  };

  const copyTo = async (): Promise<void> => {
    const src = await chooseSource();
    if (!src) {
      return;
    }
    const target = await pickContainer("debugbox: copy into which container?", false, true);
    if (target) {
      await upload(target, src, "/tmp/");
    }
  };

  /** A quick-pick walk through the container's folders (the read-only file view): open, download, upload. */
  const browse = async (): Promise<void> => {
    const target = await pickContainer("debugbox: browse the files of which container?", false, true);
    if (!target) {
      return;
    }
    const downloadButton = { iconPath: new vscode.ThemeIcon("cloud-download"), tooltip: "Download…" };
    type Item = vscode.QuickPickItem & { action: "up" | "upload" | "open"; path: string; fileKind: number };
    let dir = "/";
    for (;;) {
      const raw = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: `debugbox: reading ${shownText(dir)} in ${target.name}` },
        () => run(ServerCommand.readTargetDirectory, { target: target.id, path: dir }),
      );
      if (raw === undefined) {
        return; // refused or cancelled (reported once by `run`): no empty listing that looks like an empty folder
      }
      const listing = toListing(raw);
      const items: Item[] = [];
      if (dir !== "/") {
        items.push({ label: "$(arrow-up) ..", action: "up", path: parentPath(dir), fileKind: FileKind.Directory });
      }
      items.push({ label: "$(cloud-upload) Upload a file or folder here…", action: "upload", path: dir, fileKind: 0 });
      for (const [name, kind] of listing.entries) {
        const icon = kind & FileKind.SymbolicLink ? "file-symlink-file" : kind === FileKind.Directory ? "folder" : "file";
        items.push({
          label: `$(${icon}) ${shownLabel(name)}`, // a name from the target: never raw control characters or icons
          action: "open",
          path: joinPath(dir, name),
          fileKind: kind,
          buttons: kind === FileKind.Directory ? [] : [downloadButton],
        });
      }
      const pick = vscode.window.createQuickPick<Item>();
      pick.title = `debugbox: ${target.name}:${shownText(dir)} (read-only)${listing.truncated ? " — incomplete listing" : ""}`;
      pick.placeholder = "Enter opens a file or folder; the cloud button downloads a file";
      pick.items = items;
      const chosen = await new Promise<Item | undefined>((resolve) => {
        pick.onDidTriggerItemButton((e) => {
          pick.hide();
          void download(target, e.item.path);
          resolve(undefined);
        });
        pick.onDidAccept(() => resolve(pick.selectedItems[0]));
        pick.onDidHide(() => resolve(undefined));
        pick.show();
      });
      pick.dispose();
      if (!chosen) {
        return;
      }
      if (chosen.action === "upload") {
        const src = await chooseSource();
        if (src) {
          await upload(target, src, joinPath(dir, ""));
        }
        return;
      }
      let kind = chosen.fileKind;
      if (chosen.action === "open" && kind & FileKind.SymbolicLink) {
        const uri = vscode.Uri.from(targetUriParts(target.id, chosen.path));
        kind = (await vscode.workspace.fs.stat(uri).then((st) => st.type, () => FileKind.File)) & ~FileKind.SymbolicLink;
      }
      if (chosen.action === "up" || kind === FileKind.Directory) {
        dir = chosen.path;
        continue;
      }
      const uri = vscode.Uri.from(targetUriParts(target.id, chosen.path));
      await vscode.commands.executeCommand("vscode.open", uri);
      return;
    }
  };

  /** "Download…" on an open `debugbox-target:` file. */
  const downloadOpen = async (arg?: unknown): Promise<void> => {
    const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
    const id = uri?.scheme === TARGET_FS_SCHEME ? decodeTarget(uri.authority) : undefined;
    if (!uri || id === undefined) {
      void vscode.window.showWarningMessage("debugbox: open a file of a container first (debugbox: Browse Target Files…).");
      return;
    }
    const name = targetLabel(id, pickedNames);
    await download({ id, name, runtime: "", image: "", status: "", related: false, strategies: [] }, targetPathOf(uri));
  };

  /** Run a server command that asks the editor for a terminal, and find that terminal: VS Code reports it
   * (onDidOpenTerminal) around the command's answer, possibly after it, so each one opened meanwhile is kept and
   * the one whose process is the answer's argv taken (another may be starting at the same time). */
  const runInTerminal = async (
    command: string,
    args: Record<string, unknown>,
  ): Promise<{ result: unknown; terminal: vscode.Terminal | undefined } | undefined> => {
    const before = new Set(vscode.window.terminals);
    const seen: vscode.Terminal[] = [];
    let wanted: unknown;
    let found: (t: vscode.Terminal) => void = () => undefined;
    const terminalOpened = new Promise<vscode.Terminal | undefined>((resolve) => {
      found = resolve;
    });
    const ours = (t: vscode.Terminal): boolean => {
      const options = t.creationOptions as vscode.TerminalOptions;
      return isCaptureTerminal(options.shellPath, options.shellArgs, wanted);
    };
    const opened = vscode.window.onDidOpenTerminal((t) => {
      seen.push(t);
      if (ours(t)) {
        found(t);
      }
    });
    try {
      const result = await run(command, args);
      if (typeof result !== "object" || result === null || (result as { opened?: unknown }).opened !== true) {
        return undefined;
      }
      wanted = (result as { argv?: unknown }).argv;
      const already = [...seen, ...vscode.window.terminals.filter((t) => !before.has(t))].find(ours);
      const terminal =
        already ?? (await Promise.race([terminalOpened, new Promise<undefined>((r) => setTimeout(() => r(undefined), 10000))]));
      return { result, terminal };
    } finally {
      opened.dispose();
    }
  };

  /** Whether something accepts connections on this machine's 127.0.0.1:`port` (the forward's local end). */
  const listening = (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const socket = net.connect({ host: "127.0.0.1", port });
      const done = (up: boolean): void => {
        socket.destroy();
        resolve(up);
      };
      socket.once("connect", () => done(true));
      socket.once("error", () => done(false));
      socket.setTimeout(1000, () => done(false));
    });

  const forwards = new RunningForwards();

  const forward = async (): Promise<void> => {
    const target = await pickContainer("debugbox: forward a port of which container?", true, true);
    if (!target) {
      return;
    }
    const port = await vscode.window.showInputBox({
      title: `debugbox: which port of ${target.name}?`,
      prompt: "A port that listens inside the container (also one bound to its 127.0.0.1 only)",
      placeHolder: "8080",
      validateInput: checkPort,
    });
    if (port === undefined) {
      return;
    }
    const local = await vscode.window.showInputBox({
      title: "debugbox: on which local port?",
      prompt: "Listens on this machine's 127.0.0.1 only",
      value: port,
      validateInput: checkPort,
    });
    if (local === undefined) {
      return;
    }
    const remote = parsePort(port) as number;
    const localPort = parsePort(local) as number;
    const started = await runInTerminal(ServerCommand.forwardPort, { target: target.id, port: remote, local: localPort });
    const url = forwardUrl(started?.result);
    if (!started || !url) {
      return;
    }
    const terminal = started.terminal;
    // Up means its local port accepts connections: the helper container starts after the terminal opens, and may
    // fail to (its terminal says why). Until then nothing is offered.
    // No deadline while its terminal runs (a toolbox image may take minutes to pull); one when it was not seen.
    let ended = false;
    const watch = terminal ? whenTerminalEnds(terminal, () => (ended = true)) : undefined;
    const deadline = terminal ? Infinity : Date.now() + 180_000;
    let up = false;
    while (!ended && Date.now() < deadline && !(up = await listening(localPort))) {
      await new Promise((r) => setTimeout(r, 300));
    }
    watch?.dispose();
    if (!up) {
      void vscode.window.showWarningMessage(forwardEndedMessage(localPort, target.name, remote));
      return;
    }
    // The closest thing to VS Code's own forwarded ports that the stable API has: resolving the URL through
    // asExternalUri makes a Remote-SSH window forward the port and list it in its Ports view now, not at the first
    // "Open in Browser" (code-server's auto-forward lists it by itself, seconds later). A local window has no Ports
    // view: the status bar item below is the list there (and everywhere: it stops the forward, which the Ports
    // view cannot).
    const external = await vscode.env.asExternalUri(vscode.Uri.parse(url));
    log.info(`forward ${url} → ${target.id}:${remote} is up (external ${external.toString(true)})`);
    if (terminal) {
      watchForward(forwards.add(localPort, url, target.name, remote, () => terminal.dispose()), terminal, external);
    }
    const open = await vscode.window.showInformationMessage(forwardUpMessage(url, target.name, remote), "Open in Browser");
    if (open === "Open in Browser") {
      await vscode.env.openExternal(external);
    }
  };

  /** A forward's status bar item while its terminal runs: a click offers Open in Browser and Stop Forward. */
  const watchForward = (running: RunningForward, terminal: vscode.Terminal, external: vscode.Uri): void => {
    const item = vscode.window.createStatusBarItem(`debugbox.forward.${running.id}`, vscode.StatusBarAlignment.Left, 9);
    const shown = forwardItem(running);
    item.name = "debugbox port forward";
    item.text = shown.text;
    item.tooltip = shown.tooltip;
    item.command = { title: "Port Forward", command: ClientCommand.stopForward, arguments: [running.id, external.toString()] };
    item.show();
    let done = false;
    let ended: vscode.Disposable | undefined;
    const finish = (): void => {
      if (!done) {
        done = true;
        ended?.dispose();
        item.dispose();
        forwards.remove(running);
      }
    };
    ended = whenTerminalEnds(terminal, finish);
    context.subscriptions.push({ dispose: finish });
  };

  /** "Stop Port Forward": from its status bar item (with Open in Browser offered first), else the only forward,
   * else the one the user picks. */
  const stopForward = async (arg?: unknown, external?: unknown): Promise<void> => {
    const choice = forwards.choose(arg);
    if (choice.kind === "none") {
      void vscode.window.showInformationMessage("debugbox: no port forward is running.");
      return;
    }
    if (choice.kind === "pick") {
      const picked = await vscode.window.showQuickPick(
        choice.all.map((f) => ({ label: forwardItem(f).text, description: f.url, forward: f })),
        { title: "debugbox: stop which port forward?" },
      );
      picked?.forward.stop();
      return;
    }
    const f = choice.one;
    if (typeof arg === "string" && typeof external === "string") {
      const what = await vscode.window.showQuickPick(["Open in Browser", "Stop Forward"], {
        title: `debugbox: ${f.url} → ${f.name}:${f.port}`,
      });
      if (what === "Open in Browser") {
        await vscode.env.openExternal(vscode.Uri.parse(external));
      } else if (what === "Stop Forward") {
        f.stop();
      }
      return;
    }
    f.stop();
  };

  const capture = async (): Promise<void> => {
    const target = await pickContainer("debugbox: capture the traffic of which container?", true, true);
    if (!target) {
      return;
    }
    const filter = await vscode.window.showInputBox({
      title: `debugbox: capture filter for ${target.name} (optional)`,
      prompt: "A tcpdump filter; empty captures everything",
      placeHolder: "tcp port 8080",
      validateInput: checkFilter,
    });
    if (filter === undefined) {
      return;
    }
    const duration = await vscode.window.showInputBox({
      title: "debugbox: stop after how many seconds? (optional)",
      prompt: "Empty: until you stop it (the status bar's Stop Capture, or Ctrl-C in its terminal)",
      validateInput: checkDuration,
    });
    if (duration === undefined) {
      return;
    }
    const folder = workspaceFolder();
    const fileName = captureFileName(target.name, new Date());
    const output = folder
      ? vscode.Uri.joinPath(folder, fileName)
      : await vscode.window.showSaveDialog({ title: "debugbox: save the capture as", filters: { pcap: ["pcap"] } });
    if (!output) {
      return;
    }
    const args: Record<string, unknown> = { target: target.id, output: output.toString() };
    if (filter.trim() !== "") {
      args.filter = filter.trim();
    }
    const seconds = parseDuration(duration);
    if (seconds) {
      args.duration = seconds;
    }
    const started = await runInTerminal(ServerCommand.captureTraffic, args);
    if (!started) {
      return;
    }
    const terminal = started.terminal;
    if (!terminal) {
      log.warn("capture: its terminal was not seen; stop it with Ctrl-C in the terminal");
    }
    watchCapture(terminal, output, target.name);
  };

  /** The visible stop (a status bar item of its own: several captures may run) while the capture's terminal
   * runs; at its end, the viewer offer. */
  const watchCapture = (terminal: vscode.Terminal | undefined, output: vscode.Uri, name: string): void => {
    // Ctrl-C in the terminal: the CLI stops tcpdump, keeps the file and prints the summary.
    const running = captures.add(name, output.fsPath, () => terminal?.sendText("\x03", false));
    const item = vscode.window.createStatusBarItem(`debugbox.capture.${running.id}`, vscode.StatusBarAlignment.Left, 9);
    item.name = "debugbox capture";
    item.text = `$(debug-stop) Stop capture of ${name}`;
    item.tooltip = `debugbox is capturing ${name}'s traffic to ${output.fsPath}; click to stop`;
    item.command = { title: "Stop Capture", command: ClientCommand.stopCapture, arguments: [running.id] };
    item.show();
    let done = false;
    let ended: vscode.Disposable | undefined;
    const finish = (): void => {
      if (done) {
        return;
      }
      done = true;
      ended?.dispose();
      item.dispose();
      captures.remove(running);
      void offerViewer(output.fsPath);
    };
    // The process may end (duration reached) while its terminal stays open to show the summary.
    ended = terminal ? whenTerminalEnds(terminal, finish) : undefined;
    if (!terminal) {
      finish();
    }
    context.subscriptions.push({ dispose: finish });
  };

  /** "Stop Capture": a status bar item's own capture, else the only one running, else the one the user picks. */
  const stopCapture = async (arg?: unknown): Promise<void> => {
    const choice = captures.choose(arg);
    if (choice.kind === "none") {
      void vscode.window.showInformationMessage("debugbox: no capture is running.");
      return;
    }
    if (choice.kind === "stop") {
      choice.one.stop();
      return;
    }
    const picked = await vscode.window.showQuickPick(
      choice.all.map((c) => ({ label: c.name, description: c.output, capture: c })),
      { title: "debugbox: stop which capture?" },
    );
    picked?.capture.stop();
  };

  const offerViewer = async (pcap: string): Promise<void> => {
    if (!fs.existsSync(pcap)) {
      void vscode.window.showWarningMessage(`debugbox: the capture wrote no file (${pcap}); see its terminal.`);
      return;
    }
    const viewer = findViewer(pcap, process.env.PATH, (f) => {
      try {
        fs.accessSync(f, fs.constants.X_OK);
        return fs.statSync(f).isFile();
      } catch {
        return false;
      }
    });
    const reveal = "Reveal in Explorer";
    if (!viewer) {
      const c = await vscode.window.showInformationMessage(noViewerHint(pcap), reveal);
      if (c === reveal) {
        await vscode.commands.executeCommand("revealInExplorer", vscode.Uri.file(pcap));
      }
      return;
    }
    const open = `Open in ${viewer.name === "wireshark" ? "Wireshark" : "termshark"}`;
    const c = await vscode.window.showInformationMessage(`debugbox: capture saved to ${path.basename(pcap)}.`, open, reveal);
    if (c === reveal) {
      await vscode.commands.executeCommand("revealInExplorer", vscode.Uri.file(pcap));
    } else if (c === open) {
      log.info(`opening ${pcap} with ${viewer.program}`);
      if (viewer.inTerminal) {
        vscode.window.createTerminal({ name: `termshark ${path.basename(pcap)}`, shellPath: viewer.program, shellArgs: viewer.args }).show();
      } else {
        const child = spawn(viewer.program, viewer.args, { detached: true, stdio: "ignore" });
        child.on("error", (err) => void vscode.window.showErrorMessage(`debugbox: ${viewer.program}: ${err.message}`));
        child.unref();
      }
    }
  };

  /** "Clean Up Debug Copies": the server lists the labelled copies, asks Delete/Cancel
   * (`window/showMessageRequest`) and reports what it deleted, or why not, as a message of its own. */
  const cleanup = async (): Promise<void> => {
    const config = vscode.workspace.getConfiguration("debugbox");
    const args = cleanupArgs(config.get("kubernetes.context"), config.get("kubernetes.namespace"));
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: "debugbox: cleaning up debug copies" },
      () => run(ServerCommand.cleanupCopies, args),
    );
  };

  const captures = new RunningCaptures();

  context.subscriptions.push(
    vscode.commands.registerCommand(ClientCommand.copyFromTarget, copyFrom),
    vscode.commands.registerCommand(ClientCommand.copyToTarget, copyTo),
    vscode.commands.registerCommand(ClientCommand.forwardPort, forward),
    vscode.commands.registerCommand(ClientCommand.captureTraffic, capture),
    vscode.commands.registerCommand(ClientCommand.browseTargetFiles, browse),
    vscode.commands.registerCommand(ClientCommand.downloadTargetFile, downloadOpen),
    vscode.commands.registerCommand(ClientCommand.cleanupCopies, cleanup),
    vscode.workspace.registerFileSystemProvider(TARGET_FS_SCHEME, files, {
      isCaseSensitive: true,
      isReadonly: true,
    }),
    vscode.commands.registerCommand(ClientCommand.stopCapture, stopCapture),
    vscode.commands.registerCommand(ClientCommand.stopForward, stopForward),
  );
}
