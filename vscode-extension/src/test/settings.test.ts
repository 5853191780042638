import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { effectiveSettings, type Inspected, type Manifest, pick, restrictedKeys, sectionPath, settingKeys } from "../common/settings";

const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "..", "package.json"), "utf8")) as Manifest & {
  contributes: { configuration: { properties: Record<string, { default?: unknown }> } };
};
const keys = settingKeys(manifest);
const restricted = restrictedKeys(manifest);

/** An inspect() over the manifest's defaults plus the given user/workspace/folder values. */
function inspector(values: { user?: Record<string, unknown>; workspace?: Record<string, unknown>; folder?: Record<string, unknown> }) {
  return (key: string): Inspected => ({
    defaultValue: manifest.contributes.configuration.properties[`debugbox.${key}`]?.default,
    globalValue: values.user?.[key],
    workspaceValue: values.workspace?.[key],
    workspaceFolderValue: values.folder?.[key],
  });
}

describe("settings mapping", () => {
  it("nests dotted keys the way workspace/configuration returns the debugbox section", () => {
    const { settings, ignored } = effectiveSettings(keys, inspector({}), true, restricted);
    assert.deepEqual(ignored, []);
    assert.equal(settings.toolboxImage, "nicolaka/netshoot");
    assert.equal(settings.strategy, "auto");
    assert.deepEqual(pick(settings, ["debugImage", "tools"]), ["curl", "dns", "netcat", "tcpdump", "strace", "procps"]);
    assert.equal(pick(settings, ["docker", "timeoutSeconds"]), 5);
    assert.equal(pick(settings, ["kubernetes", "profile"]), "auto");
    assert.equal("server" in settings, false, "client-only settings are not sent to the server");
  });

  it("applies folder over workspace over user over default in a trusted workspace", () => {
    const { settings } = effectiveSettings(
      keys,
      inspector({ user: { toolboxImage: "u", strategy: "exec" }, workspace: { toolboxImage: "w" }, folder: { toolboxImage: "f" } }),
      true,
      restricted,
    );
    assert.equal(settings.toolboxImage, "f");
    assert.equal(settings.strategy, "exec");
  });

  it("ignores workspace-level values of execution settings in an untrusted workspace, and says which", () => {
    const { settings, ignored } = effectiveSettings(
      keys,
      inspector({
        user: { toolboxImage: "busybox:musl" },
        workspace: { toolboxImage: "evil/image", allowPrivileged: true, logLevel: "debug", "kubernetes.context": "prod" },
        folder: { "debugImage.toolsImage": "evil/tools" },
      }),
      false,
      restricted,
    );
    assert.equal(settings.toolboxImage, "busybox:musl", "user value kept");
    assert.equal(settings.allowPrivileged, false, "default kept");
    assert.equal(pick(settings, ["kubernetes", "context"]), "");
    assert.equal(pick(settings, ["debugImage", "toolsImage"]), "busybox:musl");
    assert.equal(settings.logLevel, "debug", "non-execution settings still apply");
    assert.deepEqual(ignored.sort(), [
      "debugbox.allowPrivileged",
      "debugbox.debugImage.toolsImage",
      "debugbox.kubernetes.context",
      "debugbox.toolboxImage",
    ]);
  });

  it("guards the interpreter setting too, and hands it over only on request", () => {
    assert.ok(restricted.has("server.pythonPath"));
    const untrusted = effectiveSettings(keys, inspector({ workspace: { "server.pythonPath": "./evil" } }), false, restricted, {
      includeClientOnly: true,
    });
    assert.equal(pick(untrusted.settings, ["server", "pythonPath"]), "");
    const trusted = effectiveSettings(keys, inspector({ workspace: { "server.pythonPath": "./venv/bin/python" } }), true, restricted, {
      includeClientOnly: true,
    });
    assert.equal(pick(trusted.settings, ["server", "pythonPath"]), "./venv/bin/python");
  });

  it("answers sub-sections and foreign sections", () => {
    const { settings } = effectiveSettings(keys, inspector({}), true, restricted);
    assert.deepEqual(sectionPath("debugbox"), []);
    assert.deepEqual(sectionPath("debugbox.kubernetes"), ["kubernetes"]);
    assert.equal(sectionPath("yaml"), undefined);
    assert.equal(sectionPath(undefined), undefined);
    assert.equal(pick(settings, sectionPath("debugbox.kubernetes.timeoutSeconds")!), 10);
    assert.equal(pick(settings, ["nope"]), null);
  });
});
