import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { interpreterFromPythonApi } from "../common/python";
import { CRASH_LIMIT, CRASH_WINDOW_MS, RestartPolicy } from "../common/restarts";
import { RESTART_KEYS, SECTION } from "../common/settings";

/** A client that records what the policy asked of it; `running` says whether a server runs. */
function recorder(running = true) {
  const calls: string[] = [];
  const messages: string[] = [];
  const policy = new RestartPolicy(
    {
      restart: () => calls.push("restart"),
      notifySettings: () => {
        calls.push("notify");
        return running;
      },
      info: (m) => messages.push(m),
    },
    RESTART_KEYS,
    SECTION,
  );
  return { policy, calls, messages };
}

/** `affectsConfiguration` for a change of the given setting ids (a change of `a.b.c` affects `a.b` and `a`). */
const changed =
  (...ids: string[]) =>
  (section: string) =>
    ids.some((id) => id === section || id.startsWith(`${section}.`));

describe("crash-restart limit", () => {
  it(`restarts ${CRASH_LIMIT} times within the window, then stops and tells the user`, () => {
    const { policy } = recorder();
    const t0 = 1_000_000;
    for (let i = 1; i <= CRASH_LIMIT; i++) {
      const d = policy.serverClosed(t0 + i * 1000);
      assert.ok(d.restart, `crash ${i} is restarted`);
      assert.match(d.note, new RegExp(`\\(${i} of ${CRASH_LIMIT}\\)`));
    }
    const last = policy.serverClosed(t0 + (CRASH_LIMIT + 1) * 1000);
    assert.equal(last.restart, false);
    assert.ok(!last.restart);
    assert.match(last.message, /stopped 4 times in 3 minutes/);
    assert.match(last.message, /Show Output, then Restart Server/);
  });

  it("forgets crashes older than the window: a server that crashes now and then keeps being restarted", () => {
    const { policy } = recorder();
    let now = 0;
    for (let i = 0; i < 10; i++) {
      now += CRASH_WINDOW_MS / CRASH_LIMIT + 1; // never CRASH_LIMIT + 1 crashes within one window
      assert.equal(policy.serverClosed(now).restart, true, `crash ${i}`);
    }
  });

  it("counts crashes within the window, a crash one window ago no longer", () => {
    for (const [last, expected] of [
      [CRASH_WINDOW_MS - 1, false],
      [CRASH_WINDOW_MS, true],
    ] as const) {
      const { policy } = recorder();
      for (let i = 0; i < CRASH_LIMIT; i++) {
        assert.equal(policy.serverClosed(0).restart, true);
      }
      assert.equal(policy.serverClosed(last).restart, expected, `a crash at ${last} ms`);
    }
  });
});

describe("restarts on trust and settings", () => {
  it("restarts when the workspace is granted trust", () => {
    const { policy, calls, messages } = recorder();
    policy.trustGranted();
    assert.deepEqual(calls, ["restart"]);
    assert.match(messages[0], /workspace trusted/);
  });

  it("restarts when the interpreter setting changes, without sending settings first", () => {
    const { policy, calls } = recorder();
    policy.configurationChanged(changed("debugbox.server.pythonPath"));
    assert.deepEqual(calls, ["restart"]);
  });

  it("sends other debugbox settings to the running server instead of restarting", () => {
    const { policy, calls, messages } = recorder();
    policy.configurationChanged(changed("debugbox.docker.timeoutSeconds"));
    assert.deepEqual(calls, ["notify"]);
    assert.match(messages[0], /notifying the server/);
  });

  it("says so when no server runs to be told", () => {
    const { policy, calls, messages } = recorder(false);
    policy.configurationChanged(changed("debugbox.strategy"));
    assert.deepEqual(calls, ["notify"]);
    assert.equal(messages[0], "debugbox settings changed");
  });

  it("ignores changes to other extensions' settings", () => {
    const { policy, calls } = recorder();
    policy.configurationChanged(changed("python.defaultInterpreterPath", "editor.fontSize"));
    assert.deepEqual(calls, []);
  });

  it("restarts on the Python extension's interpreter change only when that interpreter is in use", () => {
    for (const [source, expected] of [
      ["Python extension", ["restart"]],
      ["setting debugbox.server.pythonPath", []],
      ["PATH", []],
      [undefined, []],
    ] as const) {
      const { policy, calls } = recorder();
      policy.interpreterSource = source;
      policy.pythonExtensionInterpreterChanged();
      assert.deepEqual(calls, expected, String(source));
    }
  });
});

describe("the Python extension's interpreter (interpreterFromPythonApi)", () => {
  const resource = { fsPath: "/ws" };

  it("uses the environments API's resolved executable for the resource", async () => {
    const asked: unknown[] = [];
    const api = {
      environments: {
        getActiveEnvironmentPath: (r: unknown) => {
          asked.push(r);
          return { path: "/ws/.venv" };
        },
        resolveEnvironment: async (p: { path: string }) => ({ executable: { uri: { fsPath: `${p.path}/bin/python` } } }),
      },
      settings: { getExecutionDetails: () => ({ execCommand: ["/old/api/python"] }) },
    };
    assert.equal(await interpreterFromPythonApi(api, resource), "/ws/.venv/bin/python");
    assert.deepEqual(asked, [resource]);
  });

  it("falls back to the environment's path when it cannot be resolved", async () => {
    const api = {
      environments: { getActiveEnvironmentPath: () => ({ path: "/usr/bin/python3.12" }), resolveEnvironment: async () => undefined },
    };
    assert.equal(await interpreterFromPythonApi(api, resource), "/usr/bin/python3.12");
  });

  it("uses the older settings API when the environments API is missing", async () => {
    const api = { settings: { getExecutionDetails: () => ({ execCommand: ["/opt/py/bin/python", "-X", "utf8"] }) } };
    assert.equal(await interpreterFromPythonApi(api, resource), "/opt/py/bin/python");
  });

  it("answers no interpreter for an API it does not understand", async () => {
    for (const api of [undefined, {}, { environments: { getActiveEnvironmentPath: "nope" } }, { settings: { getExecutionDetails: () => ({ execCommand: [5] }) } }, { settings: { getExecutionDetails: () => ({ execCommand: [""] }) } }]) {
      assert.equal(await interpreterFromPythonApi(api, resource), undefined, JSON.stringify(api));
    }
  });
});
