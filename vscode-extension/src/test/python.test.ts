import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { expandPath, findInterpreter, parseProbeOutput, type Probe, type ProbeResult, serverLaunch } from "../common/python";

/** A probe answering from a table; records what it was asked. */
function fakeProbe(table: Record<string, ProbeResult>): Probe & { asked: string[] } {
  const asked: string[] = [];
  const probe = (async (cmd: string) => {
    asked.push(cmd);
    return table[cmd] ?? { ok: false, error: "not found" };
  }) as Probe & { asked: string[] };
  probe.asked = asked;
  return probe;
}

const py = (executable: string, v: [number, number, number]): ProbeResult => ({ ok: true, executable, version: v });

describe("findInterpreter", () => {
  it("uses the configured interpreter when it is new enough, without asking anything else", async () => {
    const probe = fakeProbe({ "/opt/py/bin/python": py("/opt/py/bin/python", [3, 12, 1]) });
    let askedExtension = false;
    const found = await findInterpreter({
      configured: "/opt/py/bin/python",
      fromPythonExtension: async () => {
        askedExtension = true;
        return "/other";
      },
      probe,
    });
    assert.equal(found.ok, true);
    assert.ok(found.ok && found.source === "setting debugbox.server.pythonPath");
    assert.deepEqual(probe.asked, ["/opt/py/bin/python"]);
    assert.equal(askedExtension, false);
  });

  it("fails with an actionable message when the configured interpreter is too old (no silent fallback)", async () => {
    const probe = fakeProbe({ "/usr/bin/python3.9": py("/usr/bin/python3.9", [3, 9, 18]), python3: py("/usr/bin/python3", [3, 12, 0]) });
    const found = await findInterpreter({ configured: "/usr/bin/python3.9", fromPythonExtension: async () => undefined, probe });
    assert.equal(found.ok, false);
    assert.ok(!found.ok);
    assert.match(found.message, /debugbox\.server\.pythonPath/);
    assert.match(found.message, /3\.9\.18/);
    assert.match(found.message, /3\.11 or newer/);
    assert.deepEqual(probe.asked, ["/usr/bin/python3.9"]);
  });

  it("prefers the Python extension's interpreter over PATH", async () => {
    const probe = fakeProbe({ "/venv/bin/python": py("/venv/bin/python", [3, 11, 4]), python3: py("/usr/bin/python3", [3, 13, 0]) });
    const found = await findInterpreter({ fromPythonExtension: async () => "/venv/bin/python", probe });
    assert.ok(found.ok);
    assert.equal(found.command, "/venv/bin/python");
    assert.equal(found.source, "Python extension");
  });

  it("falls back to python3 on PATH when the extension's interpreter is too old", async () => {
    const probe = fakeProbe({ "/venv/bin/python": py("/venv/bin/python", [3, 10, 2]), python3: py("/usr/bin/python3", [3, 11, 2]) });
    const found = await findInterpreter({ fromPythonExtension: async () => "/venv/bin/python", probe });
    assert.ok(found.ok);
    assert.equal(found.command, "python3");
    assert.equal(found.executable, "/usr/bin/python3");
    assert.ok(found.notes.some((n) => /3\.10\.2.*older than 3\.11/.test(n)));
  });

  it("tries python after python3, and survives a throwing Python extension", async () => {
    const probe = fakeProbe({ python: py("C:\\Python312\\python.exe", [3, 12, 0]) });
    const found = await findInterpreter({
      fromPythonExtension: async () => {
        throw new Error("API not ready");
      },
      probe,
    });
    assert.ok(found.ok);
    assert.equal(found.command, "python");
    assert.deepEqual(probe.asked, ["python3", "python"]);
  });

  it("names everything it tried when nothing works", async () => {
    const probe = fakeProbe({ python3: py("/usr/bin/python3", [3, 8, 10]) });
    const found = await findInterpreter({ fromPythonExtension: async () => undefined, probe });
    assert.ok(!found.ok);
    assert.match(found.message, /needs Python 3\.11 or newer/);
    assert.match(found.message, /Python extension: not installed/);
    assert.match(found.message, /python3: Python 3\.8\.10/);
    assert.match(found.message, /python: not found/);
    assert.match(found.message, /set debugbox\.server\.pythonPath/);
  });

  it("accepts 4.0 and rejects 3.10", async () => {
    const ok = await findInterpreter({ fromPythonExtension: async () => undefined, probe: fakeProbe({ python3: py("p", [4, 0, 0]) }) });
    assert.ok(ok.ok);
    const old = await findInterpreter({ fromPythonExtension: async () => undefined, probe: fakeProbe({ python3: py("p", [3, 10, 99]) }) });
    assert.ok(!old.ok);
  });
});

describe("expandPath and parseProbeOutput", () => {
  it("expands ~ and ${workspaceFolder}", () => {
    assert.equal(expandPath("~/venv/bin/python", "/ws", "/home/u"), "/home/u/venv/bin/python");
    assert.equal(expandPath(" ${workspaceFolder}/.venv/bin/python ", "/ws", "/home/u"), "/ws/.venv/bin/python");
    assert.equal(expandPath("${userHome}/py", undefined, "/home/u"), "/home/u/py");
    assert.equal(expandPath("python3.12", "/ws", "/home/u"), "python3.12");
  });

  it("parses the probe's output and rejects garbage", () => {
    assert.deepEqual(parseProbeOutput("/usr/bin/python3\n3.11.2\n"), { ok: true, executable: "/usr/bin/python3", version: [3, 11, 2] });
    assert.deepEqual(parseProbeOutput("C:\\py\\python.exe\r\n3.12.0\r\n"), { ok: true, executable: "C:\\py\\python.exe", version: [3, 12, 0] });
    assert.equal(parseProbeOutput("Python 2.7.18").ok, false);
  });
});

describe("restricted mode (untrusted workspace)", () => {
  const wsPython = "/home/u/repo/.venv/bin/python";
  const table = { [wsPython]: py(wsPython, [3, 12, 0]), python3: py("/usr/bin/python3", [3, 11, 9]) };

  it("a user-level pythonPath with ${workspaceFolder} is not applied: the workspace's interpreter is never run", async () => {
    const probe = fakeProbe(table);
    const found = await findInterpreter({
      configured: "${workspaceFolder}/.venv/bin/python",
      workspaceFolder: "/home/u/repo",
      untrustedFolders: ["/home/u/repo"],
      fromPythonExtension: async () => undefined,
      probe,
    });
    assert.ok(found.ok);
    assert.equal(found.command, "python3");
    assert.ok(!probe.asked.includes(wsPython), `probed ${probe.asked.join(", ")}`);
    assert.ok(found.notes.some((n) => n.includes("${workspaceFolder}") && n.includes("not trusted")));
  });

  it("the same setting applies once the workspace is trusted", async () => {
    const probe = fakeProbe(table);
    const found = await findInterpreter({
      configured: "${workspaceFolder}/.venv/bin/python",
      workspaceFolder: "/home/u/repo",
      untrustedFolders: [],
      fromPythonExtension: async () => undefined,
      probe,
    });
    assert.ok(found.ok);
    assert.equal(found.command, wsPython);
  });

  it("skips the Python extension's interpreter when it lies inside the untrusted workspace", async () => {
    const probe = fakeProbe(table);
    const found = await findInterpreter({
      untrustedFolders: ["/home/u/repo"],
      fromPythonExtension: async () => "/home/u/repo/sub/../.venv/bin/python",
      probe,
    });
    assert.ok(found.ok);
    assert.equal(found.command, "python3");
    assert.ok(!probe.asked.some((c) => c.startsWith("/home/u/repo")), `probed ${probe.asked.join(", ")}`);
  });

  it("an absolute user-level path inside the untrusted workspace is an error naming the setting, never run", async () => {
    const probe = fakeProbe(table);
    const found = await findInterpreter({
      configured: wsPython,
      untrustedFolders: ["/home/u/repo"],
      fromPythonExtension: async () => undefined,
      probe,
    });
    assert.ok(!found.ok);
    assert.match(found.message, /debugbox\.server\.pythonPath/);
    assert.match(found.message, /not trusted/);
    assert.deepEqual(probe.asked, []);
  });
});

describe("serverLaunch", () => {
  it("keeps the working directory and the workspace off sys.path: -P, PYTHONSAFEPATH, the extension's folder as cwd", () => {
    const launch = serverLaunch("/usr/bin/python3", "/ext/debugbox", { PATH: "/usr/bin", PYTHONPATH: "/user/lib" }, "/ext/debugbox/bundled/libs");
    assert.equal(launch.command, "/usr/bin/python3");
    assert.deepEqual(launch.args, ["-P", "-m", "debugbox", "lsp"]);
    assert.equal(launch.cwd, "/ext/debugbox");
    assert.equal(launch.env.PYTHONSAFEPATH, "1");
    assert.equal(launch.env.PYTHONPATH, "/ext/debugbox/bundled/libs:/user/lib");
    assert.equal(launch.env.PATH, "/usr/bin");
  });

  it("without bundled libraries leaves PYTHONPATH as it was", () => {
    const launch = serverLaunch("/usr/bin/python3", "/ext/debugbox", { PATH: "/usr/bin" });
    assert.equal(launch.env.PYTHONPATH, undefined);
    assert.equal(launch.args[0], "-P");
  });
});

describe("interpreter discovery order: setting, then the Python extension, then PATH", () => {
  /** Records, in order, the Python extension being asked and each interpreter probed. */
  function ordered(extension: string | undefined, table: Record<string, ProbeResult>) {
    const order: string[] = [];
    const probe = (async (cmd: string) => {
      order.push(`probe ${cmd}`);
      return table[cmd] ?? { ok: false, error: "not found" };
    }) as Probe;
    const fromPythonExtension = async () => {
      order.push("ask the Python extension");
      return extension;
    };
    return { order, probe, fromPythonExtension };
  }

  it("with the setting: only the setting", async () => {
    const o = ordered("/venv/bin/python", { "/opt/py": py("/opt/py", [3, 12, 0]) });
    const found = await findInterpreter({ configured: "/opt/py", fromPythonExtension: o.fromPythonExtension, probe: o.probe });
    assert.ok(found.ok && found.source === "setting debugbox.server.pythonPath");
    assert.deepEqual(o.order, ["probe /opt/py"]);
  });

  it("without it: the Python extension's interpreter, then python3 and python on PATH", async () => {
    const o = ordered("/venv/bin/python", { python: py("/usr/bin/python", [3, 11, 0]) });
    const found = await findInterpreter({ fromPythonExtension: o.fromPythonExtension, probe: o.probe });
    assert.ok(found.ok && found.source === "PATH" && found.command === "python");
    assert.deepEqual(o.order, ["ask the Python extension", "probe /venv/bin/python", "probe python3", "probe python"]);
  });

  it("stops at the first interpreter that works", async () => {
    const o = ordered("/venv/bin/python", { "/venv/bin/python": py("/venv/bin/python", [3, 13, 0]), python3: py("/usr/bin/python3", [3, 12, 0]) });
    const found = await findInterpreter({ fromPythonExtension: o.fromPythonExtension, probe: o.probe });
    assert.ok(found.ok && found.source === "Python extension");
    assert.deepEqual(o.order, ["ask the Python extension", "probe /venv/bin/python"]);
  });
});
