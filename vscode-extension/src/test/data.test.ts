import assert from "node:assert/strict";
import { describe, it } from "node:test";
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
} from "../common/data";
import { parseTargetList } from "../common/targets";

describe("data command targets", () => {
  const list = parseTargetList({
    targets: [
      { id: "docker://a", runtime: "docker", name: "web", status: "running", strategies: ["sidecar"] },
      { id: "podman://b", runtime: "podman", name: "db", status: "exited", strategies: ["snapshot"] },
      { id: "pod/default/api/app", runtime: "kubernetes", name: "api", status: "running", strategies: ["ephemeral"] },
    ],
  }).targets;

  it("offers Docker and Podman containers; stopped ones only for copies", () => {
    assert.deepEqual(dataTargets(list, false).map((t) => t.id), ["docker://a", "podman://b"]);
    assert.deepEqual(dataTargets(list, true).map((t) => t.id), ["docker://a"]);
  });

  it("adds running pods for copies, forward and capture when asked", () => {
    assert.deepEqual(dataTargets(list, false, true).map((t) => t.id), ["docker://a", "podman://b", "pod/default/api/app"]);
    assert.deepEqual(dataTargets(list, true, true).map((t) => t.id), ["docker://a", "pod/default/api/app"]);
    const pending = parseTargetList({
      targets: [{ id: "k8s://c/ns/p/app", runtime: "kubernetes", name: "p/app", status: "pending", strategies: [] }],
    }).targets;
    assert.deepEqual(dataTargets(pending, false, true), []);
  });
});

describe("inputs", () => {
  it("accepts absolute paths in the target only", () => {
    assert.equal(checkTargetPath("/var/log/app log ü.txt"), undefined);
    assert.match(checkTargetPath("etc/hosts")!, /absolute/);
    assert.match(checkTargetPath("")!, /path/);
    assert.match(checkTargetPath("/a\nb")!, /control/);
  });

  it("names a download after the path's last component", () => {
    assert.equal(baseName("/var/log/app.log"), "app.log");
    assert.equal(baseName("/etc/"), "etc");
    assert.equal(baseName("/"), "root");
    assert.equal(baseName("/a/.."), "a");
    assert.equal(baseName("/odd/e\x1b[2Jx\nb"), "e_[2Jx_b"); // never a control character in the local name
  });

  it("says a cancelled download saved nothing, naming the target's path escaped", () => {
    assert.equal(
      downloadCancelled("/big/a\nb", "web", "/home/u/a.bin"),
      "debugbox: the download of /big/a\\x0ab from web was cancelled; nothing was saved at /home/u/a.bin.",
    );
  });

  it("reads ports and durations strictly", () => {
    assert.equal(parsePort("8080"), 8080);
    for (const bad of ["0", "65536", "80a", "-1", "", "1e3"]) {
      assert.equal(parsePort(bad), undefined, bad);
      assert.ok(checkPort(bad));
    }
    assert.equal(parseDuration(""), null);
    assert.equal(parseDuration("2.5"), 2.5);
    assert.equal(parseDuration("0"), undefined);
    assert.equal(parseDuration("90000"), undefined);
    assert.equal(checkDuration(""), undefined);
    assert.ok(checkDuration("soon"));
  });

  it("refuses a filter the server refuses", () => {
    assert.equal(checkFilter("tcp port 8080 and host 10.0.0.1"), undefined);
    assert.ok(checkFilter("-w /etc/passwd"));
    assert.ok(checkFilter("port 80\n-w x"));
    assert.ok(checkFilter("x".repeat(1001)));
  });

  it("makes a safe capture file name from any container name", () => {
    const when = new Date(2026, 11, 6, 1, 2, 3);
    assert.equal(captureFileName("web", when), "debugbox-web-20261206-010203.pcap");
    assert.equal(captureFileName("../../etc/x y", when), "debugbox-etc-x-y-20261206-010203.pcap");
    assert.equal(captureFileName("", when), "debugbox-target-20261206-010203.pcap");
  });
});

describe("copies", () => {
  it("reads the server's summary defensively", () => {
    assert.deepEqual(parseCopySummary({ files: 1, directories: 0, bytes: 2048, skipped: ["a link", 3] }), {
      files: 1,
      directories: 0,
      bytes: 2048,
      skipped: ["a link"],
    });
    assert.equal(parseCopySummary({ files: "1", directories: 0, bytes: 0 }), undefined);
    assert.equal(parseCopySummary(undefined), undefined);
  });

  it("says what was copied, and what was skipped", () => {
    const s = { files: 3, directories: 2, bytes: 1536, skipped: ["x"] };
    assert.equal(copyMessage(s, "from", "web"), "debugbox: copied 3 file(s) in 2 folder(s), 1.5 KiB from web; 1 skipped (see the output)");
    assert.equal(copyMessage({ files: 1, directories: 0, bytes: 10, skipped: [] }, "to", "web:/tmp/a"), "debugbox: copied 1 file(s), 10 B to web:/tmp/a");
  });

  it("names the target and the path before an upload, and lands in a folder under the file's name", () => {
    assert.equal(uploadPath("/tmp/", "a b.bin"), "/tmp/a b.bin");
    assert.equal(uploadPath("/etc/app.conf", "local.conf"), "/etc/app.conf");
    const text = uploadConfirmation("a b.bin", "web", "/tmp/a b.bin");
    assert.match(text, /into web at \/tmp\/a b\.bin/);
  });
});

describe("forward and capture", () => {
  it("offers only a localhost URL from the server's answer", () => {
    assert.equal(forwardUrl({ opened: true, url: "http://localhost:8080" }), "http://localhost:8080");
    assert.equal(forwardUrl({ opened: false, url: "http://localhost:8080" }), undefined);
    assert.equal(forwardUrl({ opened: true, url: "http://evil.example:80" }), undefined);
  });

  it("finds Wireshark first, then termshark, only in absolute PATH folders", () => {
    const present = new Set(["/opt/bin/termshark", "/usr/bin/wireshark", "rel/wireshark"]);
    const exists = (f: string): boolean => present.has(f);
    assert.deepEqual(findViewer("/w/a.pcap", "/opt/bin:/usr/bin", exists, ":"), {
      name: "wireshark",
      program: "/usr/bin/wireshark",
      inTerminal: false,
      args: ["-r", "/w/a.pcap"],
    });
    assert.equal(findViewer("/w/a.pcap", "/opt/bin", exists, ":")?.name, "termshark");
    assert.equal(findViewer("/w/a.pcap", "rel:/nowhere", exists, ":"), undefined);
    assert.equal(findViewer("/w/a.pcap", undefined, exists, ":"), undefined);
    assert.match(noViewerHint("/w/a.pcap"), /tcpdump -r \/w\/a\.pcap/);
  });
});
