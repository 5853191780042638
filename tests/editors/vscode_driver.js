// Drive real VS Code (code-server, already started by tests/editors/test_vscode.py with the built .vsix installed)
// through Debian's Chromium with playwright-core, as a user would: command palette, quick fix, quick picks,
// terminal. Effects are checked outside the browser where possible (files on disk).
//
// Environment (all set by the pytest wrapper):
//   E2E          the .e2e folder (playwright-core under tools/)
//   CS_URL       http://127.0.0.1:PORT
//   WS           the workspace folder code-server opened
//   SCENARIOS    comma list: dockerfile,manifest,terminal,copyout,fileview,upload,forward,hostile,capture,compose,interpreter,session,untrusted
//   FORWARD_LOCAL  a free local port for the forward scenario
//   HOSTILE_TARGET  the container with a file named with a newline and an 8 GiB file (the hostile scenario)
//   SHOTS        folder for screenshots
//   TARGET_NAME  the distroless-like container for the terminal scenario
//   LOG          file for the page's console/network log
//   MANIFEST_LINE  1-based line inside the pod spec where the quick fix is asked for
//   TOOLBOX_IMAGE, CS_LOGS, CS_DATA  for the settings changes (code-server's log and user-data folders)
//   UPLOAD_SNAPSHOT  where the upload scenario saves the target's file after the cancelled "Replace?" (docker cp)
//
// Output: one "PASS <scenario>" or "FAIL <scenario>: <why>" line per scenario, then "N passed, N failed".
// Exit code 0 only when every scenario passed.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const E2E = process.env.E2E;
const { chromium } = require(path.join(E2E, "tools", "node_modules", "playwright-core"));

const CS_URL = process.env.CS_URL;
const WS = process.env.WS;
const SHOTS = process.env.SHOTS;
const LOG = process.env.LOG;
/** The name the copied file gets in the workspace (also in tests/editors/test_vscode.py). */
const COPY_OUT_NAME = "copied httpd ü.bin";
/** The name the pod's file is downloaded as (also in tests/editors/test_vscode.py). */
const KUBE_FILES_NAME = "from the pod ü.html";
/** The local files' name in the upload scenario, in upload-a/ and upload-b/ (also in tests/editors/test_vscode.py). */
const UPLOAD_NAME = "uploaded ü.bin";
const SCENARIOS = (process.env.SCENARIOS || "dockerfile,manifest,terminal").split(",").filter(Boolean);

const logLines = [];
function note(line) {
  logLines.push(`${new Date().toISOString()} ${line}`);
}

async function until(what, fn, timeoutMs = 30000, stepMs = 200) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) {
        return last;
      }
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${last instanceof Error ? ` (${last.message})` : ""}`);
}

const quickInput = ".quick-input-widget";

async function runCommand(page, title) {
  // Right after the workbench shows, the extension host may not have registered our commands yet: reopen the
  // palette until the command is listed (bounded by the deadline), then run it.
  await until(`"${title}" in the command palette`, async () => {
    await page.keyboard.press("F1");
    await page.locator(`${quickInput} .quick-input-box input`).waitFor({ state: "visible", timeout: 15000 });
    await page.keyboard.type(title, { delay: 5 });
    const row = page.locator(`${quickInput} .monaco-list-row`, { hasText: title }).first();
    if (await row.waitFor({ timeout: 5000 }).then(() => true, () => false)) {
      return true;
    }
    await page.keyboard.press("Escape");
    return false;
  }, 60000, 500);
  await page.keyboard.press("Enter");
}

/** The quick input whose title holds `text`. */
function quickTitle(page, text) {
  return page.locator(`${quickInput} .quick-input-title`, { hasText: text });
}

/** In the quick pick titled `heading` (within `timeout` ms), type `label` and take the row that shows it. */
async function choosePick(page, heading, label, timeout = 60000) {
  await quickTitle(page, heading).waitFor({ timeout });
  await page.keyboard.type(label, { delay: 5 });
  await page.locator(`${quickInput} .monaco-list-row`, { hasText: label }).first().waitFor({ timeout: 15000 });
  await page.keyboard.press("Enter");
}

/** code-server's simple save dialog titled `heading`: once it shows its default path (ending in `suggested`; a
 * value typed before that gets both), `dest` replaces it and Enter saves. */
async function saveAs(page, heading, suggested, dest) {
  await quickTitle(page, heading).waitFor({ timeout: 15000 });
  const input = page.locator(`${quickInput} .quick-input-box input`);
  await until("the save dialog's default path", async () => (await input.inputValue()).endsWith(suggested), 15000);
  await input.fill(dest);
  await until("the save dialog to take the path", async () => (await input.inputValue()) === dest, 5000);
  await page.keyboard.press("Enter");
}

async function openFile(page, name) {
  // Quick Open, then click the row whose file name is exactly `name` (a prefix like Dockerfile.debug may rank
  // first), and wait until that file is the active tab.
  await until(`"${name}" to open`, async () => {
    const tab = page.locator(`.tabs-container .tab.active[data-resource-name="${name}"]`);
    // Already open in a tab (a later scenario in the same window): click that tab; Quick Open's ranking of
    // "Dockerfile" against the recently opened "Dockerfile.debug" is not something to depend on.
    const existing = page.locator(`.tabs-container .tab[data-resource-name="${name}"]`).first();
    if ((await existing.count()) > 0) {
      await existing.click();
      return tab.waitFor({ timeout: 10000 }).then(() => true, () => false);
    }
    await page.keyboard.press("Control+P");
    await page.locator(`${quickInput} .quick-input-box input`).waitFor({ state: "visible", timeout: 15000 });
    await page.keyboard.type(name, { delay: 5 });
    // Match the label's whole text: the typed query is highlighted in a child span, so an exact text match on
    // descendants would also hit the "Dockerfile" span inside the label "Dockerfile.debug".
    const whole = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
    const label = page.locator(`${quickInput} .monaco-list-row .label-name`).filter({ hasText: whole }).first();
    if (!(await label.waitFor({ timeout: 10000 }).then(() => true, () => false))) {
      await page.keyboard.press("Escape");
      return false;
    }
    await label.click();
    return tab.waitFor({ timeout: 10000 }).then(() => true, () => false);
  }, 60000, 500);
  await page.locator(".editor-group-container.active .monaco-editor .view-lines").first().waitFor({ timeout: 15000 });
}

async function focusEditor(page) {
  await page.locator(".editor-group-container.active .monaco-editor .view-lines").first().click();
}

async function problemsRows(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll(".markers-panel .monaco-list-row")].map((r) => r.textContent || ""),
  );
}

async function terminalRows(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll(".xterm .xterm-rows > div")]
      .map((d) => (d.textContent || "").replace(/\u00a0/g, " ").trimEnd())
      .filter(Boolean),
  );
}

/** The debugbox diagnostics of the Problems panel as "DBX101 7:6" (code, line and column as the panel shows them). */
function debugboxProblems(rows) {
  return rows
    .map((t) => /debugbox(DBX\d+)\[Ln (\d+), Col (\d+)\]/.exec(t))
    .filter(Boolean)
    .map((m) => `${m[1]} ${m[2]}:${m[3]}`)
    .sort();
}

/**
 * The Problems panel shows exactly the debugbox diagnostics the CLI finds in the open Dockerfile (EXPECTED_PROBLEMS:
 * `debugbox check --json`, run by the test): the server runs, and it reports the same codes at the same places.
 */
async function waitForDiagnostic(page, screenshot) {
  const expected = JSON.parse(process.env.EXPECTED_PROBLEMS || "[]")
    .map((f) => `${f.code} ${f.line}:${f.column}`)
    .sort();
  if (expected.length === 0) {
    throw new Error("EXPECTED_PROBLEMS is empty: nothing to check the Problems panel against");
  }
  await page.keyboard.press("Control+Shift+M"); // Problems panel
  let rows = [];
  try {
    await until(`the Problems panel to show ${expected.join(", ")}`, async () => {
      rows = await problemsRows(page);
      return JSON.stringify(debugboxProblems(rows)) === JSON.stringify(expected) ? rows : undefined;
    }, 60000);
  } finally {
    note(`problems: ${JSON.stringify(rows)}`);
  }
  await shot(page, screenshot);
}

async function shot(page, name) {
  const file = path.join(SHOTS, name);
  await page.screenshot({ path: file });
  note(`screenshot ${file}`);
}

/** The extension's output channel as written to code-server's log folder (client and server log lines). */
function outputLog() {
  const found = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(full);
      } else if (/debugbox.*\.log$/.test(entry.name)) {
        found.push(fs.readFileSync(full, "utf8"));
      }
    }
  };
  walk(process.env.CS_LOGS);
  return found.join("\n");
}

function readIfExists(file) {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

const scenarios = {
  // Open a distroless Dockerfile, see debugbox's diagnostic, run "Generate Dockerfile.debug" from the palette,
  // and find the file on disk.
  async dockerfile(page) {
    await openFile(page, "Dockerfile");
    await waitForDiagnostic(page, "vscode-dockerfile-diagnostic.png");
    await focusEditor(page);
    const target = path.join(WS, "Dockerfile.debug");
    if (fs.existsSync(target)) {
      throw new Error("Dockerfile.debug exists before the command ran");
    }
    await runCommand(page, "debugbox: Generate Dockerfile.debug");
    const text = await until("Dockerfile.debug on disk", async () => {
      const t = readIfExists(target);
      return t && t.trim() ? t : undefined;
    });
    note(`Dockerfile.debug:\n${text}`);
    await page.locator(".tabs-container .tab", { hasText: "Dockerfile.debug" }).first().waitFor({ timeout: 15000 }).catch(() => {
      throw new Error("Dockerfile.debug was written but no editor tab shows it");
    });
    // The tab is the active editor, and it shows the file's content (not an empty, unsaved buffer).
    const active = page.locator(".tabs-container .tab.active", { hasText: "Dockerfile.debug" }).first();
    await active.waitFor({ timeout: 15000 }).catch(() => {
      throw new Error("Dockerfile.debug is open but not the active editor");
    });
    const firstLine = text.split("\n").find((l) => l.startsWith("FROM ")) || "";
    await until("the Dockerfile.debug editor to show the file", async () => {
      const shown = (await page.locator(".editor-group-container.active .view-lines").first().textContent()) || "";
      return shown.replace(/\u00a0/g, " ").includes(firstLine.slice(0, 30)) ? true : undefined;
    }, 15000);
    await shot(page, "vscode-dockerfile-generated.png");
  },

  // Open a Deployment, apply the "Add shareProcessNamespace" quick fix, save, and find it in the file on disk.
  async manifest(page) {
    const file = path.join(WS, "k8s", "deployment.yaml");
    const before = fs.readFileSync(file, "utf8");
    await openFile(page, "deployment.yaml");
    await focusEditor(page);
    await page.keyboard.press("Control+G");
    await page.locator(`${quickInput} .quick-input-box input`).waitFor({ state: "visible", timeout: 15000 });
    await page.keyboard.type(String(process.env.MANIFEST_LINE || "1"));
    await page.keyboard.press("Enter");
    // The server needs a moment after didOpen; ask again until the action shows.
    const item = await until("the Add shareProcessNamespace quick fix", async () => {
      await page.keyboard.press("Control+.");
      const loc = page.locator(".action-widget .monaco-list-row", { hasText: "shareProcessNamespace" }).first();
      try {
        await loc.waitFor({ state: "visible", timeout: 3000 });
        return loc;
      } catch {
        await page.keyboard.press("Escape");
        return undefined;
      }
    }, 60000, 500);
    await shot(page, "vscode-manifest-quickfix.png");
    await item.click();
    await until("the editor to show the edit", async () =>
      (await page.locator(".editor-group-container.active .view-lines").first().textContent()).includes("shareProcessNamespace"),
    );
    await page.keyboard.press("Control+S");
    const after = await until("shareProcessNamespace in the file on disk", async () => {
      const t = readIfExists(file);
      return t && t !== before && t.includes("shareProcessNamespace") ? t : undefined;
    });
    note(`deployment.yaml after save:\n${after}`);
    await shot(page, "vscode-manifest-saved.png");

    // The palette command does the same for every pod spec of the active manifest.
    const podFile = path.join(WS, "k8s", "pod.yaml");
    const podBefore = fs.readFileSync(podFile, "utf8");
    await openFile(page, "pod.yaml");
    await focusEditor(page);
    await runCommand(page, "debugbox: Add shareProcessNamespace");
    await until("the palette command's edit in the editor", async () =>
      (await page.locator(".editor-group-container.active .view-lines").first().textContent()).includes("shareProcessNamespace"),
    );
    await page.keyboard.press("Control+S");
    const podAfter = await until("shareProcessNamespace in pod.yaml on disk", async () => {
      const t = readIfExists(podFile);
      return t && t !== podBefore && t.includes("shareProcessNamespace") ? t : undefined;
    });
    note(`pod.yaml after save:\n${podAfter}`);
  },

  // With a distroless-like container running: "Open Debug Terminal…", pick it, and read the sidecar's `ps` output
  // (the target's PID 1) in the terminal.
  async terminal(page) {
    const name = process.env.TARGET_NAME;
    if (!name) {
      throw new Error("TARGET_NAME is not set");
    }
    // Settings reach the running server without a restart: the toolbox image is set only now (the default,
    // nicolaka/netshoot, is not on this engine and cannot be pulled, so the sidecar only starts if the change
    // arrived). Wait for the server to be up first, so that this is a live change and not its initial read.
    await openFile(page, "Dockerfile"); // what a user has open; it also activates the extension
    const lifecycleLine = /debugbox\.lsp\.handlers\.lifecycle: debugbox \S+ \(pid/;
    await until("the language server to start", async () => lifecycleLine.test(outputLog()), 60000, 250);
    const applied = () => (outputLog().match(/settings from (workspace\/configuration|workspace\/didChangeConfiguration) applied/g) || []).length;
    const before = applied();
    // Through the Settings editor, as a user would (code-server does not notice settings.json written behind its
    // back).
    await setSetting(page, "debugbox.toolboxImage", "Toolbox Image", process.env.TOOLBOX_IMAGE);
    await until("the server to apply the changed settings", async () => applied() > before, 30000, 250);
    note(`settings applied live (${before} -> ${applied()})`);
    await openDebugTerminal(page, name, "vscode-debug-terminal.png");

    // Copy Debug Command: the same picks; the command line is copied (read back from the browser's clipboard,
    // which held a sentinel before) and shown in a notification.
    const sentinel = `debugbox-e2e-sentinel-${Date.now()}`;
    await page.evaluate((s) => navigator.clipboard.writeText(s), sentinel);
    await pickTarget(page, name, "vscode-copy-command-pick.png", "debugbox: Copy Debug Command");
    const toast = page.locator(".notifications-toasts .notification-toast", { hasText: "debugbox: copied" }).first();
    await toast.waitFor({ timeout: 30000 });
    const text = (await toast.textContent()) || "";
    note(`copy notification: ${text}`);
    if (!/copied docker run .*--pid=container:\S+ .*debugbox-e2e-toolbox:test/.test(text.replace(/`/g, ""))) {
      throw new Error(`unexpected Copy Debug Command notification: ${text}`);
    }
    const copied = await until("the debug command on the clipboard", async () => {
      const c = await page.evaluate(() => navigator.clipboard.readText());
      return c && c !== sentinel ? c : undefined;
    }, 15000);
    note(`clipboard: ${copied}`);
    if (!/^docker run [^\n]*--pid=container:\S+ [^\n]*debugbox-e2e-toolbox:test/.test(copied)) {
      throw new Error(`unexpected command on the clipboard: ${copied}`);
    }
  },

  // A container compose labelled as the workspace's `web` service (LENS_TARGET) is related to the Dockerfile: its
  // "Debug running container (1)" code lens shows on the final FROM; clicking it opens a session in that container
  // (after the terminal scenario, so the toolbox image setting is the local one).
  async lens(page) {
    const name = process.env.LENS_TARGET;
    if (!name) {
      throw new Error("LENS_TARGET is not set");
    }
    await openFile(page, "Dockerfile");
    const lens = await until("the Debug running container code lens", async () => {
      const loc = page.locator(".codelens-decoration a", { hasText: "Debug running container (1)" }).first();
      return (await loc.count()) > 0 ? loc : undefined;
    }, 60000, 500);
    await shot(page, "vscode-code-lens.png");
    await lens.click();
    // The session's prompt names the container it is in: this terminal is the lens's, not an earlier one.
    const rows = await until(`a session in ${name} showing the target's PID 1`, async () => {
      const r = await terminalRows(page);
      return r.some((l) => l.includes(`[debug ${name}]`)) && r.some((l) => /^\s*1\s+\S+\s+\/httpd\b/.test(l)) ? r : undefined;
    }, 90000, 500);
    note(`lens terminal rows: ${JSON.stringify(rows)}`);
    await shot(page, "vscode-code-lens-terminal.png");
  },

  // The session bootstrap in the editor's terminal, with the real Debian toolbox (debugbox.toolboxImage is a user
  // setting of this run): the banner, `/target` and the target's working directory, then `strace -p` on the
  // target's process while a request is served. The terminal panel's screenshot is the one in the docs.
  async session(page) {
    const name = process.env.TARGET_NAME;
    if (!name) {
      throw new Error("TARGET_NAME is not set");
    }
    await openFile(page, "Dockerfile");
    await pickTarget(page, name, "vscode-session-pick.png");
    await until("the session's prompt in the terminal", async () => {
      const r = await terminalRows(page);
      return r.some((l) => l.includes(`[debug ${name}]`)) ? r : undefined;
    }, 90000, 500);
    // Only the visible rows are in the page: a maximized panel without the side bar shows the whole banner.
    await runCommand(page, "View: Toggle Maximized Panel");
    await runCommand(page, "View: Close Primary Side Bar");
    await until("the session's banner in the terminal", async () => {
      const r = await terminalRows(page);
      return r.some((l) => l.includes(`debugbox: inside ${name}`)) ? r : undefined;
    }, 30000, 500);
    await page.locator(".terminal-wrapper.active .xterm").first().click();
    await page.keyboard.type("ls /target; pwd\n", { delay: 5 });
    await until("ls /target and the working directory", async () => {
      const r = await terminalRows(page);
      return r.some((l) => /\bhttpd\b.*\bwww\b|\bwww\b.*\bhttpd\b/.test(l) || l.trim() === "httpd") && r.some((l) => l.trim() === "/target/www") ? r : undefined;
    }, 30000, 500);
    await page.keyboard.type(
      "strace -f -e trace=accept,read,write,sendfile -p $TARGET_PID & sleep 1; curl -s localhost:8080 >/dev/null; sleep 1; kill $!\n",
      { delay: 5 },
    );
    // Syscalls of the request (the forked child reading it and writing the answer), and the command is over:
    // strace detached.
    const rows = await until("strace output of the target's syscalls", async () => {
      const r = await terminalRows(page);
      return r.some((l) => /strace: Process \d+ attached/.test(l)) &&
        r.some((l) => /write\(\d+, "HTTP\/1\.1 200 OK/.test(l)) &&
        r.some((l) => /read\(\d+, "GET \/ HTTP/.test(l)) &&
        r.some((l) => /strace: Process \d+ detached/.test(l)) ? r : undefined;
    }, 30000, 500);
    note(`session terminal rows: ${JSON.stringify(rows)}`);
    await shot(page, "vscode-session-terminal.png");
    const panel = page.locator(".part.panel").first();
    await panel.screenshot({ path: path.join(SHOTS, "vscode-session-panel.png") });
  },

  // "Copy File from Target…": pick the distroless-like container, type the path of its (binary) /httpd, answer
  // the save dialog (code-server's simple dialog: a path in a quick input) with a name holding a space and
  // non-ASCII; the notification says what was copied. The bytes are compared by the pytest side.
  async copyout(page) {
    const name = process.env.TARGET_NAME;
    if (!name) {
      throw new Error("TARGET_NAME is not set");
    }
    const dest = path.join(WS, COPY_OUT_NAME);
    await openFile(page, "Dockerfile"); // activates the extension
    await runCommand(page, "debugbox: Copy File from Target");
    const title = (text) => page.locator(`${quickInput} .quick-input-title`, { hasText: text });
    await title("copy a file from which container?").waitFor({ timeout: 60000 });
    await page.keyboard.type(name, { delay: 5 });
    await page.locator(`${quickInput} .monaco-list-row`, { hasText: name }).first().waitFor({ timeout: 15000 });
    await page.keyboard.press("Enter");
    await title(`path in ${name}`).waitFor({ timeout: 15000 });
    await page.keyboard.press("Control+A");
    await page.keyboard.type("/httpd", { delay: 5 });
    await page.keyboard.press("Enter");
    await title("save /httpd from").waitFor({ timeout: 15000 });
    const input = page.locator(`${quickInput} .quick-input-box input`);
    // The simple dialog fills in its own path (the default: the workspace's `httpd`) once it has read the folder;
    // replacing the value before that gets both.
    await until("the save dialog's default path", async () => (await input.inputValue()).endsWith("/httpd"), 15000);
    await input.fill(dest);
    await shot(page, "vscode-copyout-save.png");
    await until("the save dialog to take the path", async () => (await input.inputValue()) === dest, 5000);
    await page.keyboard.press("Enter");
    const toast = page.locator(".notifications-toasts .notification-toast", { hasText: "debugbox: copied" }).first();
    await toast.waitFor({ timeout: 60000 });
    const text = (await toast.textContent()) || "";
    note(`copy notification: ${text}`);
    if (!text.includes(`1 file(s)`) || !text.includes(`from ${name}`) || !fs.existsSync(dest)) {
      throw new Error(`unexpected copy result: ${text} (file there: ${fs.existsSync(dest)})`);
    }
    await shot(page, "vscode-copyout-done.png");
  },

  // "Browse Target Files…": pick the distroless-like container, walk from / into www, open index.html: the editor
  // tab shows the target's page, read through the engine's archive API (the target has no shell and no ls).
  async fileview(page) {
    const name = process.env.TARGET_NAME;
    if (!name) {
      throw new Error("TARGET_NAME is not set");
    }
    await openFile(page, "Dockerfile"); // activates the extension
    await runCommand(page, "debugbox: Browse Target Files");
    const title = (text) => quickTitle(page, text);
    const choose = (heading, label) => choosePick(page, heading, label);
    await choose("browse the files of which container?", name);
    await choose(`${name}:/ (read-only)`, "www");
    await shot(page, "vscode-fileview-www.png").catch(() => undefined);
    await choose(`${name}:/www (read-only)`, "index.html");
    await page.locator('.tabs-container .tab.active[data-resource-name="index.html"]').waitFor({ timeout: 30000 });
    const text = await until("the target's page in the editor", async () => {
      const t = await page.locator(".editor-group-container.active .view-lines").first().textContent();
      return t && t.includes("hello") ? t : undefined;
    });
    note(`opened from the target: ${JSON.stringify(text)}`);
    await shot(page, "vscode-fileview-open.png");
  },

  // The file view's "Upload a file or folder here…" in /www of the distroless-like container: the open dialog (code-server's
  // simple dialog: a path in a quick input) takes upload-a/UPLOAD_NAME, the path box keeps /www/, the modal
  // confirmation names /www/UPLOAD_NAME → Copy. Again with upload-b/UPLOAD_NAME (other bytes, same name): only the
  // "Replace?" question shows, no error beside it → Cancel → the target's file is read with `docker cp` into
  // UPLOAD_SNAPSHOT (the pytest side compares it with upload-a's); once more → Replace → copied. The final bytes are
  // compared by the pytest side.
  async upload(page) {
    const name = process.env.TARGET_NAME;
    const snapshot = process.env.UPLOAD_SNAPSHOT;
    if (!name || !snapshot) {
      throw new Error("TARGET_NAME or UPLOAD_SNAPSHOT is not set");
    }
    const where = `/www/${UPLOAD_NAME}`;
    const title = (text) => quickTitle(page, text);
    const choose = (heading, label) => choosePick(page, heading, label);
    const toasts = page.locator(".notifications-toasts .notification-toast");
    const errors = async () => {
      const shown = [];
      for (const t of await toasts.all()) {
        // An information toast may hide itself between the listing and this read (once: after "copied"): a
        // toast no longer shown is not an error beside anything, and must not be waited for.
        const text = await t.locator(".notification-list-item-message").first().textContent({ timeout: 2000 }).catch(() => null);
        if (text === null) {
          continue;
        }
        if ((await t.locator(".codicon-error").count()) > 0 || text.includes("debugbox.copyToTarget")) {
          shown.push(text);
        }
      }
      return shown;
    };
    const dialog = (text) => page.locator(".monaco-dialog-box", { hasText: text }).first();
    const button = (box, label) => box.locator(".dialog-buttons .monaco-button", { hasText: label }).first();
    // Browse → www → "Upload a file or folder here…" → the open dialog takes `local` → the path box → the confirmation.
    const uploadFrom = async (local) => {
      await runCommand(page, "Notifications: Clear All Notifications");
      await runCommand(page, "debugbox: Browse Target Files");
      await choose("browse the files of which container?", name);
      await choose(`${name}:/ (read-only)`, "www");
      await choose(`${name}:/www (read-only)`, "Upload a file or folder here");
      await title("copy which file or folder into a container?").waitFor({ timeout: 15000 });
      const input = page.locator(`${quickInput} .quick-input-box input`);
      // As in copyout: the dialog fills in its own path (the workspace folder) once it has read it.
      await until("the open dialog's default path", async () => (await input.inputValue()).startsWith(WS), 15000);
      await input.fill(local);
      await until("the open dialog to take the path", async () => (await input.inputValue()) === local, 5000);
      // Typing into the dialog makes it read the folder named so far; an Enter before it has listed the file is
      // taken as part of that walk, not as the choice.
      await page.locator(`${quickInput} .monaco-list-row`, { hasText: UPLOAD_NAME }).first().waitFor({ timeout: 15000 });
      const asked = title(`where in ${name}?`);
      await until("the open dialog to take the file", async () => {
        if ((await input.inputValue()) === local) {
          await page.keyboard.press("Enter");
        }
        return asked.waitFor({ timeout: 2000 }).then(() => true, () => false);
      }, 15000, 0);
      const suggested = await input.inputValue();
      if (suggested !== "/www/") {
        throw new Error(`the path box does not suggest the folder shown: ${suggested}`);
      }
      await page.keyboard.press("Enter");
      const confirm = dialog(`Copy ${UPLOAD_NAME} into ${name} at ${where}?`);
      await confirm.waitFor({ timeout: 15000 }).catch(async () => {
        const shown = await page.locator(".monaco-dialog-box").allTextContents();
        throw new Error(`no confirmation naming ${where} (dialogs: ${JSON.stringify(shown)})`);
      });
      return confirm;
    };
    const copied = async () => {
      const toast = toasts.filter({ hasText: "debugbox: copied" }).first();
      await toast.waitFor({ timeout: 60000 });
      const text = (await toast.locator(".notification-list-item-message").first().textContent()) || "";
      note(`upload notification: ${text}`);
      if (!text.includes("1 file(s)") || !text.includes(`to ${name}:${where}`)) {
        throw new Error(`unexpected upload result: ${text}`);
      }
    };

    await openFile(page, "Dockerfile"); // activates the extension
    const first = await uploadFrom(path.join(WS, "upload-a", UPLOAD_NAME));
    await shot(page, "vscode-upload-confirm.png");
    await button(first, "Copy").click();
    await copied();
    // The uploaded file, opened from the file view: its editor tab must follow the replacement below.
    await runCommand(page, "debugbox: Browse Target Files");
    await choose("browse the files of which container?", name);
    await choose(`${name}:/ (read-only)`, "www");
    await choose(`${name}:/www (read-only)`, UPLOAD_NAME);
    await page.locator(`.tabs-container .tab.active[data-resource-name="${UPLOAD_NAME}"]`).waitFor({ timeout: 30000 });
    const shown = async () =>
      ((await page.locator(".editor-group-container.active .view-lines").first().textContent()) || "").replace(/\u00a0/g, " ");
    await until("the uploaded file in its editor tab", async () => (await shown()).includes("first upload"));

    // Onto the existing file: the only thing shown is the question (the server's refusal carries `exists`).
    const again = await uploadFrom(path.join(WS, "upload-b", UPLOAD_NAME));
    await button(again, "Copy").click();
    const replace = dialog(`${where} already exists in ${name}. Replace it with ${UPLOAD_NAME}?`);
    await replace.waitFor({ timeout: 60000 });
    await new Promise((r) => setTimeout(r, 1500)); // an error reported beside the question would show by now
    const beside = await errors();
    if (beside.length > 0) {
      throw new Error(`an error shows beside the Replace? question: ${JSON.stringify(beside)}`);
    }
    await shot(page, "vscode-upload-replace.png");
    await button(replace, "Cancel").click();
    await replace.waitFor({ state: "hidden", timeout: 15000 });
    await new Promise((r) => setTimeout(r, 1500));
    const after = await errors();
    const more = await toasts.filter({ hasText: "debugbox: copied" }).count();
    if (after.length > 0 || more > 0) {
      throw new Error(`after Cancel: errors ${JSON.stringify(after)}, ${more} "copied" message(s)`);
    }
    const { execFileSync } = require("node:child_process");
    execFileSync("docker", ["cp", `${name}:${where}`, snapshot], { timeout: 30000 });
    note(`upload: the target's file after Cancel saved to ${snapshot} (${fs.statSync(snapshot).size} bytes)`);

    const third = await uploadFrom(path.join(WS, "upload-b", UPLOAD_NAME));
    await button(third, "Copy").click();
    await replace.waitFor({ timeout: 60000 });
    await button(replace, "Replace").click();
    await copied();
    const end = await errors();
    if (end.length > 0) {
      throw new Error(`errors after Replace: ${JSON.stringify(end)}`);
    }
    // The tab of the replaced file shows the new bytes without being reopened (the file view has no change
    // events of its own: the extension reports the upload).
    await until("the open tab to show the replaced file", async () => (await shown()).includes("second upload"), 15000)
      .catch(async (err) => {
        await shot(page, "vscode-upload-stale-tab.png");
        throw err;
      });
    await shot(page, "vscode-upload-replaced.png");
  },

  // "Forward Port…" of the distroless-like container's httpd (8080) to FORWARD_LOCAL: its own status bar item shows
  // by the time the local port answers, and the Ports view lists it without "Open in Browser" having been clicked
  // (code-server's auto-forward lists it by itself too, some seconds later: that part is a check of the documented
  // behaviour, not of this change); the item's "Stop Forward" ends it (the port stops answering; the pytest side
  // checks that the helper is gone).
  async forward(page) {
    const name = process.env.TARGET_NAME;
    const local = process.env.FORWARD_LOCAL;
    if (!name || !local) {
      throw new Error("TARGET_NAME or FORWARD_LOCAL is not set");
    }
    const http = require("node:http");
    const get = () =>
      new Promise((resolve) => {
        const req = http.get({ host: "127.0.0.1", port: Number(local), path: "/", timeout: 3000 }, (res) => {
          let body = "";
          res.on("data", (c) => (body += c));
          res.on("end", () => resolve(body));
        });
        req.on("error", () => resolve(undefined));
        req.on("timeout", () => req.destroy());
      });
    await openFile(page, "Dockerfile"); // activates the extension
    // The helper's image: the local toolbox (the terminal scenario sets the same; this one may run alone).
    await setSetting(page, "debugbox.toolboxImage", "Toolbox Image", process.env.TOOLBOX_IMAGE);
    await runCommand(page, "debugbox: Forward Port");
    await choosePick(page, "forward a port of which container?", name);
    await quickTitle(page, `which port of ${name}?`).waitFor({ timeout: 15000 });
    await page.keyboard.type("8080", { delay: 5 });
    await page.keyboard.press("Enter");
    await quickTitle(page, "on which local port?").waitFor({ timeout: 15000 });
    const input = page.locator(`${quickInput} .quick-input-box input`);
    await input.fill(local);
    await page.keyboard.press("Enter");
    const item = page.locator(".statusbar-item", { hasText: `${local} → ${name}:8080` }).first();
    await item.waitFor({ timeout: 120000 });
    const body = await until("the forward to serve the target's page", get, 30000, 300);
    note(`forward: ${JSON.stringify(body)}`);
    await runCommand(page, "Ports: Focus on Ports View");
    const listed = await until(
      "the forwarded port in the Ports view",
      async () => {
        const rows = await page.locator(".monaco-table .monaco-list-row, .ports-view .monaco-list-row").allInnerTexts();
        return rows.find((r) => r.includes(local));
      },
      60000,
      500,
    ).catch(async (err) => {
      await shot(page, "vscode-forward-ports-missing.png");
      throw err;
    });
    note(`forward: the Ports view lists ${JSON.stringify(listed)}`);
    await shot(page, "vscode-forward-ports.png");
    await item.click();
    await choosePick(page, `localhost:${local} → ${name}:8080`, "Stop Forward");
    await item.waitFor({ state: "detached", timeout: 60000 });
    await until("the local port to stop answering", async () => (await get()) === undefined, 30000, 300);
    note("forward: stopped from its status bar item");
  },

  // A hostile image's files (HOSTILE_TARGET, made by tests/editors/test_vscode.py): /odd holds a file named
  // `a<newline>b`, listed escaped (`a\x0ab`, one line) and opened in an editor tab (its exact path travels in the
  // URI's query); /zz/big.bin is 8 GiB (sparse in the target, every byte streamed): "Download…" into the workspace,
  // then the progress notification's Cancel once bytes have landed: the notification says nothing was saved and
  // the file is not there (checked here and by the pytest side).
  async hostile(page) {
    const name = process.env.HOSTILE_TARGET;
    if (!name) {
      throw new Error("HOSTILE_TARGET is not set");
    }
    const choose = (heading, label) => choosePick(page, heading, label);
    await openFile(page, "Dockerfile"); // activates the extension
    await runCommand(page, "debugbox: Browse Target Files");
    await choose("browse the files of which container?", name);
    await choose(`${name}:/ (read-only)`, "odd");
    await quickTitle(page, `${name}:/odd (read-only)`).waitFor({ timeout: 60000 });
    const rows = await page.locator(`${quickInput} .monaco-list-row`).allInnerTexts();
    note(`hostile: /odd lists ${JSON.stringify(rows)}`);
    if (!rows.some((r) => r.includes("a\\x0ab")) || rows.some((r) => /a\r?\nb/.test(r))) {
      throw new Error(`the name is not listed escaped on one line: ${JSON.stringify(rows)}`);
    }
    await page.keyboard.type("a\\x0ab", { delay: 5 });
    await page.locator(`${quickInput} .monaco-list-row`, { hasText: "a\\x0ab" }).first().waitFor({ timeout: 15000 });
    await page.keyboard.press("Enter");
    const text = await until("the file named with a newline in an editor tab", async () => {
      const t = ((await page.locator(".editor-group-container.active .view-lines").first().textContent()) || "").replace(/\u00a0/g, " ");
      return t.includes("opened despite a newline") ? t : undefined;
    });
    note(`hostile: opened ${JSON.stringify(text)}`);
    await shot(page, "vscode-hostile-open.png");

    const dest = path.join(WS, "big.bin");
    await runCommand(page, "debugbox: Browse Target Files");
    await choose("browse the files of which container?", name);
    await choose(`${name}:/ (read-only)`, "zz");
    await quickTitle(page, `${name}:/zz (read-only)`).waitFor({ timeout: 60000 });
    await page.keyboard.type("big.bin", { delay: 5 });
    const row = page.locator(`${quickInput} .monaco-list-row`, { hasText: "big.bin" }).first();
    await row.waitFor({ timeout: 15000 });
    await row.hover();
    await row.locator(".action-label.codicon-cloud-download").first().click();
    await saveAs(page, "save /zz/big.bin from", "/big.bin", dest);
    const progress = page.locator(".notifications-toasts .notification-toast", { hasText: "copying /zz/big.bin" }).first();
    await progress.waitFor({ timeout: 30000 });
    const landed = await until("the download to write bytes", async () => fs.existsSync(dest) && fs.statSync(dest).size, 60000, 50);
    note(`hostile: ${landed} bytes written before Cancel`);
    await shot(page, "vscode-hostile-download.png");
    await progress.hover();
    await progress.locator(".monaco-button", { hasText: "Cancel" }).first().click();
    const said = page.locator(".notifications-toasts .notification-toast", { hasText: "was cancelled; nothing was saved" }).first();
    await said.waitFor({ timeout: 60000 });
    note(`hostile: ${(await said.textContent()) || ""}`);
    const left = fs.readdirSync(WS).filter((f) => f.includes("big.bin"));
    if (left.length > 0) {
      throw new Error(`the cancelled download left ${JSON.stringify(left)} in the workspace`);
    }
    await shot(page, "vscode-hostile-cancelled.png");
  },

  // "Capture Traffic…" with the toolbox built from Debian's packages (it has tcpdump): pick the container, a
  // filter, no duration; requests flow to the target while the terminal captures; the status bar's "Stop capture"
  // ends it; the pcap is in the workspace and debugbox says how to open it (no Wireshark on this machine). The
  // file itself is checked by the pytest side (the host's tcpdump reads it).
  async capture(page) {
    const name = process.env.TARGET_NAME;
    const toolbox = process.env.DEBIAN_TOOLBOX;
    if (!name || !toolbox) {
      throw new Error("TARGET_NAME or DEBIAN_TOOLBOX is not set");
    }
    await openFile(page, "Dockerfile");
    const lifecycleLine = /debugbox\.lsp\.handlers\.lifecycle: debugbox \S+ \(pid/;
    await until("the language server to start", async () => lifecycleLine.test(outputLog()), 60000, 250);
    const applied = () => (outputLog().match(/settings from (workspace\/configuration|workspace\/didChangeConfiguration) applied/g) || []).length;
    const before = applied();
    await setSetting(page, "debugbox.toolboxImage", "Toolbox Image", toolbox);
    await until("the server to apply the changed settings", async () => applied() > before, 30000, 250);
    await runCommand(page, "debugbox: Capture Traffic");
    const title = (text) => page.locator(`${quickInput} .quick-input-title`, { hasText: text });
    await title("capture the traffic of which container?").waitFor({ timeout: 60000 });
    await page.keyboard.type(name, { delay: 5 });
    await page.locator(`${quickInput} .monaco-list-row`, { hasText: name }).first().waitFor({ timeout: 15000 });
    await page.keyboard.press("Enter");
    await title("capture filter").waitFor({ timeout: 15000 });
    await page.keyboard.type("tcp port 8080", { delay: 5 });
    await page.keyboard.press("Enter");
    await title("stop after how many seconds?").waitFor({ timeout: 15000 });
    await page.keyboard.press("Enter");
    const stop = page.locator(".statusbar-item", { hasText: `Stop capture of ${name}` });
    await stop.waitFor({ timeout: 30000 });
    // Requests from inside the target's network namespace (a toolbox sharing it, busybox wget to localhost): the
    // capture sees them on the target's loopback whatever the host's route to the engine's bridge is.
    const { execFile } = require("node:child_process");
    const request = () =>
      new Promise((resolve) => {
        const argv = ["run", "--rm", "--network", `container:${name}`, process.env.TOOLBOX_IMAGE, "wget", "-qO-", "http://127.0.0.1:8080/"];
        execFile("docker", argv, { timeout: 30000 }, (err) => resolve(!err));
      });
    const pcap = () => fs.readdirSync(WS).find((f) => f.startsWith(`debugbox-${name}-`) && f.endsWith(".pcap"));
    let answered = 0;
    const size = () => (pcap() ? fs.statSync(path.join(WS, pcap())).size : 0);
    await until("packets in the workspace's pcap", async () => {
      answered += (await request()) ? 1 : 0;
      return size() > 200;
    }, 120000, 300);
    note(`capture file ${pcap()} (${size()} bytes) after ${answered} request(s)`);
    await shot(page, "vscode-capture-running.png");
    await stop.click();
    await stop.waitFor({ state: "hidden", timeout: 60000 });
    const toast = page.locator(".notifications-toasts .notification-toast", { hasText: pcap() }).first();
    await toast.waitFor({ timeout: 30000 });
    const text = (await toast.locator(".notification-list-item-message").first().textContent()) || "";
    note(`capture ended: ${text}`);
    if (!text.includes("tcpdump -r") && !text.includes("capture saved")) {
      throw new Error(`unexpected message at the capture's end: ${text}`);
    }
    await shot(page, "vscode-capture-done.png");
  },

  // Open a compose file, apply "Add a debug sidecar service" from the quick-fix menu inside a service, save, and
  // find the new service in the file on disk.
  async compose(page) {
    const file = path.join(WS, "compose", "compose.yaml");
    const before = fs.readFileSync(file, "utf8");
    // The new service's image is this setting (the terminal scenario sets the same value when it runs).
    await setSetting(page, "debugbox.toolboxImage", "Toolbox Image", process.env.TOOLBOX_IMAGE);
    await openFile(page, "compose.yaml");
    await focusEditor(page);
    await page.keyboard.press("Control+G");
    await page.locator(`${quickInput} .quick-input-box input`).waitFor({ state: "visible", timeout: 15000 });
    await page.keyboard.type("4"); // `image:` of the api service
    await page.keyboard.press("Enter");
    const item = await until("the Add a debug sidecar service action", async () => {
      await page.keyboard.press("Control+.");
      const loc = page.locator(".action-widget .monaco-list-row", { hasText: "debug sidecar service" }).first();
      try {
        await loc.waitFor({ state: "visible", timeout: 3000 });
        return loc;
      } catch {
        await page.keyboard.press("Escape");
        return undefined;
      }
    }, 60000, 500);
    await shot(page, "vscode-compose-action.png");
    await item.click();
    await until("the editor to show the new service", async () =>
      (await page.locator(".editor-group-container.active .view-lines").first().textContent()).includes("debug-api"),
    );
    await page.keyboard.press("Control+S");
    const after = await until("the debug-api service in the file on disk", async () => {
      const t = readIfExists(file);
      return t && t !== before && t.includes("debug-api") ? t : undefined;
    });
    note(`compose.yaml after save:\n${after}`);
    await shot(page, "vscode-compose-saved.png");
  },

  // An unusable interpreter in debugbox.server.pythonPath: the server restarts on the change, an actionable error
  // names the setting, and the status bar item appears; clearing the setting restarts a working server and the
  // item goes away (it is there only while something needs attention).
  async interpreter(page) {
    await openFile(page, "Dockerfile");
    const starts = () => (outputLog().match(/\] starting the server: /g) || []).length;
    await until("the language server to start", async () => starts() > 0, 60000, 250);
    const before = starts();
    const statusItem = page.locator(".statusbar-item", { hasText: "debugbox: no Python" });
    if (await statusItem.isVisible()) {
      throw new Error("the status bar item shows while the server runs fine");
    }
    await setSetting(page, "debugbox.server.pythonPath", "Python Path", "/nonexistent/bin/python3", { remote: true });
    const toast = page.locator(".notifications-toasts .notification-toast", { hasText: "debugbox.server.pythonPath" }).first();
    await toast.waitFor({ timeout: 30000 });
    const text = (await toast.textContent()) || "";
    note(`interpreter error: ${text}`);
    if (!text.includes("/nonexistent/bin/python3") || !text.includes("not found") || !text.includes("3.11")) {
      throw new Error(`the error does not say what is wrong and what to do: ${text}`);
    }
    await statusItem.waitFor({ timeout: 15000 });
    await shot(page, "vscode-interpreter-error.png");
    await setSetting(page, "debugbox.server.pythonPath", "Python Path", "", { remote: true });
    await until("the server to start again on the default interpreter", async () => starts() > before, 60000, 250);
    await statusItem.waitFor({ state: "hidden", timeout: 30000 });
  },

  // Restricted mode: the server runs (a debugbox diagnostic shows); the workspace's .vscode/settings.json names a
  // toolbox image that does not exist; the user settings name the local one. The argv debugbox hands to the editor must use the user's image. (VS Code itself
  // then asks whether to trust the folder before it starts any terminal process; the test cancels that.)
  async untrusted(page) {
    const name = process.env.TARGET_NAME;
    await openFile(page, "Dockerfile");
    await until("the extension to report restricted mode", async () =>
      outputLog().includes("workspace not trusted (restricted mode)"),
    60000, 250);
    // The server runs in restricted mode too (the workspace's poisoned modules must not stop or hijack it).
    await waitForDiagnostic(page, "vscode-untrusted-diagnostic.png");
    await focusEditor(page);
    await pickTarget(page, name, "vscode-untrusted-pick.png");
    const line = await until("the debugbox/openTerminal request", async () =>
      outputLog().split("\n").find((l) => l.includes("opened terminal: [")), 60000, 250);
    const argv = JSON.parse(line.slice(line.indexOf("opened terminal: ") + "opened terminal: ".length));
    note(`argv in restricted mode: ${JSON.stringify(argv)}`);
    // The toolbox image follows `--entrypoint=sh` (the session bootstrap is its command) or ends a raw argv.
    const at = argv.indexOf("--entrypoint=sh");
    const image = at >= 0 ? argv[at + 1] : argv[argv.length - 1];
    if (image !== process.env.TOOLBOX_IMAGE || argv.some((a) => a.includes("untrusted.invalid"))) {
      throw new Error(`the workspace's toolbox image was not ignored: ${JSON.stringify(argv)}`);
    }
    const dialog = page.locator(".monaco-dialog-box", { hasText: "trust" });
    if (await dialog.waitFor({ timeout: 10000 }).then(() => true, () => false)) {
      await shot(page, "vscode-untrusted-trust-dialog.png");
      await page.keyboard.press("Escape");
    }
  },

  // Kubernetes (the fake API server, docker-backed pods): a restricted namespace whose target runs as 65532 → the
  // manifest's "Debug pod…" lens → the terminal's shell runs as 65532 and lists the target's files.
  async "kube-identity"(page) {
    await openFile(page, "secure-pod.yaml");
    await clickPodLens(page);
    // kubectl attached (its hint shows): the terminal has taken the focus, so the palette's keys go to the palette.
    await waitForAttach(page);
    await runCommand(page, "View: Toggle Maximized Panel"); // wide rows: the answer on one line, for the screenshot
    await runCommand(page, "View: Close Primary Side Bar");
    // $TARGET_ROOT: the bootstrap's path to the target's files (a non-root session cannot create /target).
    const rows = await typeUntil(page, 'echo "uid=$(id -u) files=$(ls $TARGET_ROOT/www)"',
      (r) => squeezed(r).includes("uid=65532files=index.html"), Number(process.env.KUBE_SESSION_MS || 60000));
    note(`kube-identity rows: ${JSON.stringify(rows)}`);
    await shot(page, "vscode-kube-restricted-65532.png");
    await runCommand(page, "View: Toggle Maximized Panel");
  },

  // The namespace's toolbox (debugbox.kubernetes.toolboxImages) cannot be pulled: the lens's terminal ends with the
  // sentence, and the same sentence shows as a notification, within the start deadline the test derived.
  async "kube-pull"(page) {
    const image = process.env.UNPULLABLE_TOOLBOX;
    const bound = Number(process.env.KUBE_FAILURE_MS || 60000);
    await openFile(page, "airgap-pod.yaml");
    const clicked = await clickPodLens(page);
    const rows = await until(`"cannot pull ${image}" in the terminal`, async () => {
      const r = await terminalRows(page);
      return squeezed(r).includes(`cannotpull${image}`) ? r : undefined;
    }, bound, 200);
    note(`kube-pull terminal after ${(Date.now() - clicked) / 1000}s: ${JSON.stringify(rows)}`);
    const toast = page.locator(".notifications-toasts .notification-toast", { hasText: `cannot pull ${image}` }).first();
    await toast.waitFor({ timeout: Math.max(1000, bound - (Date.now() - clicked)) }).catch(() => {
      throw new Error(`no notification saying "cannot pull ${image}" within ${bound / 1000}s of the click`);
    });
    const text = (await toast.textContent()) || "";
    note(`kube-pull notification after ${(Date.now() - clicked) / 1000}s: ${text}`);
    if (!text.includes("debugbox.kubernetes.toolboxImages entry for namespace airgap")) {
      throw new Error(`the notification does not name the setting for this namespace: ${text}`);
    }
    // The terminal stays to be read (`debugbox session --hold`): VS Code would close it with the ended process.
    await until("the terminal to hold the sentence until Enter", async () =>
      squeezed(await terminalRows(page)).includes("pressEntertoclosethisterminal"), 15000, 200);
    await shot(page, "vscode-kube-unpullable.png");
  },

  // "debugbox: Open Raw Shell…": the picks of Open Debug Terminal…, then the toolbox's plain shell (no banner, the
  // target's files at /proc/1/root, the toolbox's own working directory).
  async "raw-shell"(page) {
    await openFile(page, "raw-pod.yaml"); // the picker lists the pods of the open manifest
    // "POD/CONTAINER" names the pod; the docker-backed fake's own containers on the engine never have a "/".
    await pickTarget(page, "rawtarget/app", "vscode-raw-shell-pick.png", "debugbox: Open Raw Shell");
    await waitForAttach(page); // input sent before the attach can be answered before anyone listens
    // The session bootstrap would set TARGET_ROOT (and start in the target's working directory): raw has neither.
    const rows = await typeUntil(page, 'echo "raw=$(pwd) root=${TARGET_ROOT:-none} $(ls /proc/1/root/www)"',
      (r) => squeezed(r).includes("raw=/root=noneindex.html"), Number(process.env.KUBE_SESSION_MS || 60000));
    note(`raw-shell rows: ${JSON.stringify(rows)}`);
  },

  // The read-only file view of a pod (docker-backed, distroless-like): "Browse Target Files…" → the pod → the
  // server asks before adding its ephemeral debug container (the notification names it). Cancel first: nothing is
  // added (kubectl reads the pod's ephemeralContainers). Then "Add the debug container" → www → index.html opens
  // in an editor tab → the title bar's "Download…" saves it into the workspace under a name with a space and
  // non-ASCII; the notification names the pod as picked. The bytes are compared by the pytest side (docker cp).
  async "kube-files"(page) {
    const pod = process.env.KUBE_FILES_POD;
    const name = `${pod}/app`;
    const dest = path.join(WS, KUBE_FILES_NAME);
    const title = (text) => quickTitle(page, text);
    const choose = (heading, label, timeout) => choosePick(page, heading, label, timeout);
    const consent = page.locator(".notifications-toasts .notification-toast", { hasText: "add ephemeral container" }).first();
    const ephemeral = () => {
      const { execFileSync } = require("node:child_process");
      const pod = JSON.parse(execFileSync("kubectl", ["get", "pod", process.env.KUBE_FILES_POD, "-o", "json"], { encoding: "utf8", timeout: 30000 }));
      return (pod.spec.ephemeralContainers || []).map((c) => c.name);
    };
    await openFile(page, "raw-pod.yaml"); // the extension is active
    await runCommand(page, "View: Hide Panel"); // the earlier scenarios' terminals: not part of the docs' screenshot
    await runCommand(page, "debugbox: Browse Target Files");
    await choose("browse the files of which container?", name);
    await consent.waitFor({ timeout: 60000 });
    const question = (await consent.locator(".notification-list-item-message").first().textContent()) || "";
    note(`kube-files consent: ${question}`);
    if (!question.includes("debugbox-app") || !question.includes("cannot be removed")) {
      throw new Error(`the consent does not name the debug container or say it stays: ${question}`);
    }
    await shot(page, "vscode-kube-files-consent.png");
    await consent.locator(".monaco-button", { hasText: "Cancel" }).first().click();
    await consent.waitFor({ state: "hidden", timeout: 15000 });
    // The user's own Cancel: no error about it, and no listing as if the pod's / were empty (both came within a
    // second before they were fixed).
    await new Promise((r) => setTimeout(r, 3000));
    const complaints = await page.locator(".notifications-toasts .notification-toast", { hasText: "consent" }).count();
    if (complaints !== 0 || (await title(`${name}:/`).count()) !== 0) {
      throw new Error(`after Cancel: ${complaints} message(s) about the consent, or a listing showed`);
    }
    const after = ephemeral();
    note(`kube-files ephemeral containers after Cancel: ${JSON.stringify(after)}`);
    if (after.length !== 0) {
      throw new Error(`Cancel added to the pod: ${JSON.stringify(after)}`);
    }
    await page.keyboard.press("Escape");

    await runCommand(page, "debugbox: Browse Target Files");
    await choose("browse the files of which container?", name);
    await consent.waitFor({ timeout: 60000 });
    await consent.locator(".monaco-button", { hasText: "Add the debug container" }).first().click();
    const accepted = Date.now();
    // The debug container starts before the first listing (kube_data waits for it): the budget is the start deadline.
    await choose(`${name}:/ (read-only)`, "www", Number(process.env.KUBE_FILES_MS || 60000));
    note(`kube-files: listing after ${(Date.now() - accepted) / 1000}s from the consent`);
    await title(`${name}:/www (read-only)`).waitFor({ timeout: 60000 });
    await page.keyboard.type("index.html", { delay: 5 });
    // The filtered row is the active one: it shows its Download… button (the docs' screenshot).
    await page.locator(`${quickInput} .monaco-list-row.focused`, { hasText: "index.html" }).first().waitFor({ timeout: 15000 });
    await shot(page, "vscode-kube-file-view.png");
    await page.keyboard.press("Enter");
    await page.locator('.tabs-container .tab.active[data-resource-name="index.html"]').waitFor({ timeout: 30000 });
    const text = await until("the pod's page in the editor", async () => {
      const t = await page.locator(".editor-group-container.active .view-lines").first().textContent();
      return t && t.includes("hello") ? t : undefined;
    });
    note(`kube-files opened from the pod: ${JSON.stringify(text)}`);
    await shot(page, "vscode-kube-file-open.png");

    // "Download…" in the open file's editor title bar.
    await page.locator('.editor-group-container.active .editor-actions .action-label[aria-label^="Download"]').first().click();
    await saveAs(page, `save /www/index.html from ${name}`, "/index.html", dest);
    const toast = page.locator(".notifications-toasts .notification-toast", { hasText: "debugbox: copied" }).first();
    await toast.waitFor({ timeout: 60000 });
    const done = (await toast.textContent()) || "";
    note(`kube-files download: ${done}`);
    if (!done.includes(`from ${name}`) || done.includes("k8s://") || !fs.existsSync(dest)) {
      throw new Error(`unexpected download result: ${done} (file there: ${fs.existsSync(dest)})`);
    }
    if (JSON.stringify(ephemeral()) !== JSON.stringify(["debugbox-app"])) {
      throw new Error(`the pod's ephemeral containers are not exactly debugbox's one: ${JSON.stringify(ephemeral())}`);
    }
  },

  // "Clean Up Debug Copies": a copy made by `debugbox shell --strategy copy` and an unlabelled pod named like one;
  // the server names the copy and asks; "Delete" → it says what it deleted. The pytest side checks the store.
  async "kube-cleanup"(page) {
    const copy = process.env.KUBE_COPY;
    await openFile(page, "raw-pod.yaml");
    await runCommand(page, "debugbox: Clean Up Debug Copies");
    const ask = page.locator(".notifications-toasts .notification-toast", { hasText: "Delete the debug copy" }).first();
    await ask.waitFor({ timeout: 60000 });
    const question = (await ask.locator(".notification-list-item-message").first().textContent()) || "";
    note(`kube-cleanup question: ${question}`);
    if (!question.includes(`: ${copy}?`) || question.includes(process.env.KUBE_STRAY)) {
      throw new Error(`the question does not name exactly the copy: ${question}`);
    }
    await shot(page, "vscode-kube-cleanup-ask.png");
    await ask.locator(".monaco-button", { hasText: "Delete" }).first().click();
    const done = page.locator(".notifications-toasts .notification-toast", { hasText: `deleted ${copy}` }).first();
    await done.waitFor({ timeout: 60000 });
    note(`kube-cleanup: ${await done.textContent()}`);
    // One message: no second, client-side one for the same outcome.
    const errors = await page.locator(".notifications-toasts .notification-toast", { hasText: "debugbox.cleanupCopies" }).count();
    if (errors !== 0) {
      throw new Error("a message names the command id");
    }
  },
};

/** The terminal's text without any whitespace: a long line wraps over rows at any character. */
function squeezed(rows) {
  return rows.join("").replace(/\s/g, "");
}

/** kubectl's attach hint ("If you don't see a command prompt…") in the active terminal: the session is attached. */
async function waitForAttach(page) {
  await until("kubectl's attach hint in the active terminal", async () => {
    const rows = await page.evaluate(() =>
      [...document.querySelectorAll(".terminal-wrapper.active .xterm .xterm-rows > div")].map((d) => d.textContent || ""),
    );
    return squeezed(rows).includes("Ifyoudon'tseeacommandprompt");
  }, Number(process.env.KUBE_SESSION_MS || 60000), 250);
}

/** Click the manifest's "Debug pod…" code lens (once the server has polled the cluster); when it was clicked. */
async function clickPodLens(page) {
  const lens = await until("the Debug pod… code lens", async () => {
    const loc = page.locator(".codelens-decoration a", { hasText: "Debug pod…" }).first();
    return (await loc.count()) > 0 ? loc : undefined;
  }, 60000, 500);
  note(`pod lens: ${await lens.textContent()}`);
  const clicked = Date.now();
  await lens.click();
  return clicked;
}

/**
 * In the active terminal, end a line (a kubectl session shows nothing until then) and type `line` until `seen(rows)`
 * holds: the first keys can arrive before kubectl attached, so the line is typed again every few seconds.
 *
 * Lines end with Ctrl+J (a newline), not Enter: kubectl puts the local terminal in raw mode, where Enter is a
 * carriage return that only a terminal on the container's side turns into a newline, and the fake's docker-backed
 * kubelet runs `tty: true` containers without one (tests/fakes/README.md). A shell reads a newline as the end of a
 * line with or without a terminal. The session's user settings let Ctrl+J through to the terminal.
 */
async function typeUntil(page, line, seen, timeoutMs) {
  await page.locator(".terminal-wrapper.active .xterm").first().waitFor({ timeout: 30000 });
  let typed = 0;
  return until(`the terminal to answer ${line}`, async () => {
    const rows = await terminalRows(page);
    if (seen(rows)) {
      return rows;
    }
    if (typed++ % 15 === 0) {
      await page.locator(".terminal-wrapper.active .xterm").first().click();
      await page.keyboard.press("Control+J");
      await page.keyboard.type(line, { delay: 5 });
      await page.keyboard.press("Control+J");
    }
    return undefined;
  }, timeoutMs, 200);
}

/**
 * Set a setting in the Settings editor (search, type, Tab), wait until it is saved, then close the editor. Empty
 * `value` clears it. `remote`: the "Remote" tab (machine settings: where a remote window such as code-server keeps
 * machine-scoped settings like debugbox.server.pythonPath) instead of "User".
 */
async function setSetting(page, key, title, value, { remote = false } = {}) {
  const file = path.join(process.env.CS_DATA, remote ? "Machine" : "User", "settings.json");
  const saved = () => {
    let data = {};
    try {
      data = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch {
      // not written yet
    }
    return value ? data[key] === value : !(key in data) || data[key] === "";
  };
  await runCommand(page, "Preferences: Open User Settings");
  await page.locator(".settings-editor").waitFor({ timeout: 15000 });
  if (remote) {
    await page.locator(".settings-editor .settings-tabs-widget .action-label", { hasText: "Remote" }).first().click();
    await page.locator(".settings-editor .suggest-input-container").first().click(); // back to the search box
  }
  await page.keyboard.press("Control+A"); // the search box has the focus and may keep an earlier query
  await page.keyboard.type(key, { delay: 5 });
  const input = page.locator(".settings-editor .setting-item-contents", { hasText: title }).locator("input").first();
  await input.waitFor({ timeout: 15000 });
  // `fill` focuses, replaces the whole value and fires the input event in one step: typed keys can arrive before
  // the focus on a loaded machine (the first characters were lost, the old value kept).
  await input.fill(value || "");
  await page.keyboard.press("Tab");
  await until(`${key} saved in ${file}`, async () => saved(), 15000, 200);
  await shot(page, `vscode-setting-${key.replace(/^debugbox\./, "").replace(/\W+/g, "-")}.png`);
  await page.keyboard.press("Control+W");
}

/** "Open Debug Terminal…" → type `name` into the pick → Enter (→ Enter again keeps the recommended strategy). */
async function pickTarget(page, name, screenshot, command = "debugbox: Open Debug Terminal") {
  await runCommand(page, command);
  await page.locator(`${quickInput} .quick-input-title`, { hasText: "debug which container?" }).waitFor({ timeout: 60000 });
  // Other containers may run on a shared engine and the list only renders visible rows: filter to ours first.
  await page.keyboard.type(name, { delay: 5 });
  const row = page.locator(`${quickInput} .monaco-list-row`, { hasText: name }).first();
  await row.waitFor({ timeout: 15000 });
  await shot(page, screenshot);
  await page.keyboard.press("Enter");
  // A second pick (strategy) appears when more than one strategy works; Enter keeps the recommended one.
  const second = page.locator(`${quickInput} .quick-input-title`, { hasText: "how to get into" });
  if (await second.waitFor({ state: "visible", timeout: 3000 }).then(() => true, () => false)) {
    await page.keyboard.press("Enter");
  }
}

/** "Open Debug Terminal…" → pick `name` → the sidecar's `ps` shows the target's PID 1 in the terminal. */
async function openDebugTerminal(page, name, screenshot) {
  await pickTarget(page, name, screenshot.replace(/\.png$/, "-pick.png"));
  const rows = await until("the target's PID 1 (/httpd) in the terminal", async () => {
    const r = await terminalRows(page);
    return r.some((l) => /^\s*1\s+\S+\s+\/httpd\b/.test(l)) ? r : undefined;
  }, 90000, 500);
  note(`terminal rows: ${JSON.stringify(rows)}`);
  await shot(page, screenshot);
}

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  const udd = fs.mkdtempSync(path.join(E2E, "chrome-udd-"));
  const offLoopback = [];
  const ctx = await chromium.launchPersistentContext(udd, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
    ],
  });
  ctx.on("request", (req) => {
    const url = req.url();
    if (!/^(https?|wss?):\/\/(127\.0\.0\.1|localhost)[:/]|^(data|blob|vscode-[a-z-]+|chrome[a-z-]*):/.test(url)) {
      offLoopback.push(url);
    }
  });
  let passed = 0;
  let failed = 0;
  // "Copy Debug Command" goes through the browser's clipboard (code-server's clipboard service): let the page use it.
  await ctx.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(CS_URL).origin });
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.on("console", (m) => note(`console.${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => note(`pageerror: ${e.message}`));
  try {
    await page.goto(`${CS_URL}/?folder=${encodeURIComponent(WS)}`);
    await page.locator(".monaco-workbench").waitFor({ timeout: 60000 });
    await page.locator(".explorer-folders-view").waitFor({ timeout: 60000 });
    for (const name of SCENARIOS) {
      const started = Date.now();
      try {
        if (!scenarios[name]) {
          throw new Error(`unknown scenario ${name}`);
        }
        await scenarios[name](page);
        passed++;
        console.log(`PASS ${name} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
      } catch (err) {
        failed++;
        console.log(`FAIL ${name}: ${String(err && err.message ? err.message : err).split("\n")[0]}`);
        note(`FAIL ${name}: ${err && err.stack ? err.stack : err}`);
        await shot(page, `vscode-${name}-FAILED.png`).catch(() => undefined);
      }
      await page.keyboard.press("Escape").catch(() => undefined);
    }
    if (offLoopback.length > 0) {
      failed++;
      console.log(`FAIL network: the page made requests off loopback: ${offLoopback.slice(0, 5).join(" ")}`);
    }
  } catch (err) {
    failed++;
    console.log(`FAIL workbench: ${err && err.message ? err.message : err}`);
    await shot(page, "vscode-workbench-FAILED.png").catch(() => undefined);
  } finally {
    await ctx.close().catch(() => undefined);
    fs.rmSync(udd, { recursive: true, force: true });
    if (LOG) {
      fs.writeFileSync(LOG, logLines.join("\n") + "\n");
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 && passed === SCENARIOS.length ? 0 : 1;
}

main().catch((err) => {
  console.log(`FAIL driver: ${err && err.stack ? err.stack : err}`);
  process.exitCode = 1;
});
