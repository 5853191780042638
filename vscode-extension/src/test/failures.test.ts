import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { failureOf } from "../common/failures";
import { targetLabel } from "../common/targetFs";

/** What vscode-jsonrpc rejects a request with: an Error with the response's code and data. */
function responseError(message: string, data?: unknown): Error {
  return Object.assign(new Error(message), { code: -32803, data });
}

describe("failed server commands", () => {
  it("says the server's sentence without the command's name", () => {
    const f = failureOf(responseError("debugbox.cleanupCopies: the cluster fake did not answer"), "debugbox.cleanupCopies");
    assert.equal(f.text, "the cluster fake did not answer");
    assert.equal(f.shown, false);
  });

  it("does not show again what the server showed", () => {
    const f = failureOf(responseError("debugbox.copyFromTarget: /x exists: pass --force", { shown: true }), "debugbox.copyFromTarget");
    assert.deepEqual(f, { text: "/x exists: pass --force", shown: true, exists: false, cancelled: false });
  });

  it("recognises the upload's exists refusal by its data, not its wording", () => {
    const exists = failureOf(responseError("debugbox.copyToTarget: /tmp/a exists in the target", { exists: true }), "debugbox.copyToTarget");
    assert.equal(exists.exists, true);
    assert.equal(exists.shown, false);
    const worded = failureOf(responseError("debugbox.copyToTarget: /tmp/a exists in the target"), "debugbox.copyToTarget");
    assert.equal(worded.exists, false);
  });

  it("knows the user's own Cancel", () => {
    const f = failureOf(responseError("debugbox.readTargetDirectory: adding debugbox-app needs your consent", { cancelled: true }), "debugbox.readTargetDirectory");
    assert.equal(f.cancelled, true);
    assert.equal(failureOf(responseError("debugbox.readTargetDirectory: no"), "debugbox.readTargetDirectory").cancelled, false);
  });

  it("keeps another command's name and reads anything thrown", () => {
    assert.equal(failureOf(responseError("debugbox.other: why"), "debugbox.copyToTarget").text, "debugbox.other: why");
    assert.deepEqual(failureOf("the language server is not running", "debugbox.listTargets"), {
      text: "the language server is not running",
      shown: false,
      exists: false,
      cancelled: false,
    });
    assert.equal(failureOf(responseError("x", { shown: "yes" }), "c").shown, false);
  });
});

describe("naming an open target file's target", () => {
  it("uses the name the user picked", () => {
    const picked = new Map([["docker://3f2a9c1b7e4d", "web"]]);
    assert.equal(targetLabel("docker://3f2a9c1b7e4d", picked), "web");
  });

  it("names a pod POD/CONTAINER, never the internal id", () => {
    assert.equal(targetLabel("k8s://kind%2Fdev/shop/web-1/app", new Map()), "web-1/app");
  });

  it("falls back to the id when nothing better is known", () => {
    assert.equal(targetLabel("docker://3f2a9c1b7e4d", new Map()), "docker://3f2a9c1b7e4d");
  });
});
