import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { handleOpenTerminal, shellQuote, type TerminalSpec, validateOpenTerminal } from "../common/terminals";

function recorder() {
  const specs: TerminalSpec[] = [];
  let shown = 0;
  const create = (spec: TerminalSpec) => {
    specs.push(spec);
    return { show: () => void shown++ };
  };
  return { specs, create, shown: () => shown };
}

describe("debugbox/openTerminal", () => {
  it("runs argv[0] as the terminal's process with the rest as its arguments", () => {
    const r = recorder();
    const argv = ["docker", "run", "-it", "--rm", "--pid=container:web", "--net=container:web", "busybox"];
    const result = handleOpenTerminal({ title: "Debug: web", argv, cwd: "/srv", env: { DOCKER_HOST: "unix:///x.sock" } }, r.create);
    assert.deepEqual(result, { opened: true });
    assert.deepEqual(r.specs, [
      {
        name: "Debug: web",
        shellPath: "docker",
        shellArgs: ["run", "-it", "--rm", "--pid=container:web", "--net=container:web", "busybox"],
        cwd: "/srv",
        env: { DOCKER_HOST: "unix:///x.sock" },
      },
    ]);
    assert.equal(r.shown(), 1);
  });

  it("passes arguments with spaces and metacharacters through untouched (no shell in between)", () => {
    const r = recorder();
    handleOpenTerminal({ title: "t", argv: ["kubectl", "exec", "-it", "pod; rm -rf /", "--", "sh", "-c", "echo $HOME"] }, r.create);
    assert.deepEqual(r.specs[0].shellArgs, ["exec", "-it", "pod; rm -rf /", "--", "sh", "-c", "echo $HOME"]);
    assert.equal("cwd" in r.specs[0], false);
    assert.equal("env" in r.specs[0], false);
  });

  it("refuses malformed requests with a reason and opens nothing", () => {
    const r = recorder();
    for (const bad of [null, [], "docker", { argv: [] }, { argv: "docker run" }, { argv: ["docker", 1] }, { argv: [""] }, { argv: ["x"], env: { A: 1 } }, { argv: ["x"], cwd: 3 }]) {
      const result = handleOpenTerminal(bad, r.create);
      assert.equal(result.opened, false, JSON.stringify(bad));
      assert.ok(!result.opened && /invalid debugbox\/openTerminal request/.test(result.error));
    }
    assert.equal(r.specs.length, 0);
  });

  it("reports a failure of the editor to open the terminal", () => {
    const result = handleOpenTerminal({ title: "t", argv: ["docker"] }, () => {
      throw new Error("no terminal support");
    });
    assert.deepEqual(result, { opened: false, error: "could not open the terminal: no terminal support" });
  });

  it("names an untitled terminal after its program", () => {
    const v = validateOpenTerminal({ argv: ["podman", "exec"], title: " " });
    assert.ok(typeof v !== "string");
    assert.equal(v.title, "debugbox: podman");
  });
});

describe("shellQuote", () => {
  it("quotes only what needs it, POSIX style", () => {
    assert.equal(shellQuote(["docker", "run", "--pid=container:web", "busybox"]), "docker run --pid=container:web busybox");
    assert.equal(shellQuote(["sh", "-c", "ps; ls /proc/1/root"]), "sh -c 'ps; ls /proc/1/root'");
    assert.equal(shellQuote(["echo", "it's", ""]), "echo 'it'\\''s' ''");
  });
});
