import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LOCAL_TOOLBOX, openTerminalArgs, toolboxBuildTerminal, toolboxOffer } from "../common/toolbox";

const launch = {
  command: "/usr/bin/python3.12",
  args: ["-P", "-m", "debugbox", "lsp"],
  cwd: "/ext/debugbox",
  env: { PYTHONPATH: "/ext/debugbox/bundled/libs", PYTHONSAFEPATH: "1" },
};

describe("Build Local Toolbox Image", () => {
  it("runs debugbox toolbox build with the server's interpreter, libraries and folder", () => {
    assert.deepEqual(toolboxBuildTerminal(launch, "podman"), {
      name: `debugbox: build ${LOCAL_TOOLBOX}`,
      shellPath: "/usr/bin/python3.12",
      shellArgs: ["-P", "-m", "debugbox", "toolbox", "build", "--runtime", "podman", "--tag", LOCAL_TOOLBOX],
      cwd: "/ext/debugbox",
      env: { PYTHONPATH: "/ext/debugbox/bundled/libs", PYTHONSAFEPATH: "1" },
    });
  });

  it("offers the built image only after a successful build", () => {
    const offer = toolboxOffer(0, "nicolaka/netshoot");
    assert.equal(offer?.button, "Use It");
    assert.match(offer?.message ?? "", /built debugbox\/toolbox:local\. Use it as debugbox\.toolboxImage .*now nicolaka\/netshoot/);
    assert.equal(toolboxOffer(1, "nicolaka/netshoot"), undefined);
    assert.equal(toolboxOffer(undefined, "nicolaka/netshoot"), undefined); // killed: no exit code
  });

  it("has nothing to set when the setting already names the image", () => {
    const offer = toolboxOffer(0, LOCAL_TOOLBOX);
    assert.equal(offer?.button, undefined);
    assert.match(offer?.message ?? "", /already is debugbox\.toolboxImage/);
  });
});

describe("Open Raw Shell", () => {
  it("asks for the plain shell only when raw", () => {
    assert.deepEqual(openTerminalArgs("k8s://c/ns/web/app", "ephemeral", true), {
      target: "k8s://c/ns/web/app",
      strategy: "ephemeral",
      raw: true,
    });
    assert.deepEqual(openTerminalArgs("docker://web", "sidecar", false), { target: "docker://web", strategy: "sidecar" });
  });
});
