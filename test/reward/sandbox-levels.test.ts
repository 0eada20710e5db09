// The isolation ladder, the explicit opt-out, the bubblewrap command line, the pool bound, and runPython.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { codeReward } from "../../lib/reward/code.js";
import { bwrapArgs } from "../../lib/reward/sandbox-args.js";
import { closeSandboxes, sandboxStatus } from "../../lib/reward/sandbox.js";
import { poolStats } from "../../lib/reward/sandbox-pool.js";
import { runPython } from "../../lib/reward/sandbox-python.js";
import { CellrlError } from "../../lib/core/errors.js";
import { resetWarnings } from "../../lib/core/warn.js";

const fence = (code: string) => "```python\n" + code + "\n```";
const GT = { test: "assert f(2) == 4", entry_point: "f" };
const RIGHT = fence("def f(x):\n    return x * x");
after(() => closeSandboxes());

test("without bubblewrap the code reward refuses, naming the cause and the opt-out", async () => {
  const opts = { bwrap: "/nonexistent/bwrap" };
  const status = await sandboxStatus(opts);
  assert.equal(status.level, null);
  assert.match(status.reasons.join(" "), /bubblewrap not runnable/);
  await assert.rejects(
    codeReward(RIGHT, GT, undefined, opts),
    (e: unknown) =>
      e instanceof CellrlError &&
      e.code === "sandbox" &&
      /no sandbox is available/.test(e.message) &&
      /\{sandbox: "none"\}/.test(e.message),
  );
});

test("{sandbox: 'none'} runs unsandboxed only when asked, with a warning", async () => {
  const seen: string[] = [];
  resetWarnings((m) => seen.push(m));
  try {
    const r = await codeReward(RIGHT, GT, undefined, { sandbox: "none" });
    assert.equal(r.score, 1);
    assert.equal(r.details.sandbox, "none");
    assert.equal(seen.length, 1);
    assert.match(seen[0], /WITHOUT a sandbox/);
  } finally {
    resetWarnings(null);
    resetWarnings((m) => console.warn(m));
  }
});

test(
  "bwrap-root (root without user namespaces) isolates too: per-slot uid, process limit holds",
  { skip: process.getuid?.() !== 0 },
  async () => {
    const opts = { sandbox: "bwrap-root" as const, timeoutMs: 1500 };
    const r = await codeReward(RIGHT, GT, undefined, opts);
    assert.equal(r.score, 1);
    assert.equal(r.details.sandbox, "bwrap-root");
    const uid = await codeReward(
      fence("import os\ndef f(x):\n    return 4 if os.getuid() == 0 else 0"),
      GT,
      undefined,
      opts,
    );
    assert.equal(uid.score, 0, "the program ran as root");
    const bomb = await codeReward(
      fence(
        "import os\ndef f(x):\n    n = 0\n    for _ in range(200):\n        try:\n            if os.fork() == 0:\n" +
          "                import time\n                time.sleep(5)\n                os._exit(0)\n            n += 1\n        except OSError:\n            break\n    return 4 if n >= 100 else n",
      ),
      GT,
      undefined,
      opts,
    );
    assert.equal(bomb.score, 0);
    assert.match(String(bomb.details.firstFailure), /AssertionError/);
  },
);

test("reuse: false gives every job a fresh sandbox and the same verdicts", async () => {
  const rs = await Promise.all(
    [RIGHT, fence("def f(x):\n    return x + x + 1")].map((p) => codeReward(p, GT, undefined, { reuse: false })),
  );
  assert.deepEqual(
    rs.map((r) => r.score),
    [1, 0],
  );
});

test("never more sandboxes at once than `concurrency`", async () => {
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, poolStats().active)), 1);
  const jobs = Array.from({ length: 12 }, (_, i) =>
    codeReward(fence(`import time\ndef f(x):\n    time.sleep(0.05)\n    return x * x + ${i % 2}`), GT, undefined, {
      concurrency: 2,
    }),
  );
  const rs = await Promise.all(jobs);
  clearInterval(timer);
  assert.deepEqual(
    rs.map((r) => r.score),
    Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? 1 : 0)),
  );
  assert.ok(peak <= 2 && peak >= 1, `peak ${peak}`);
  assert.deepEqual(poolStats(), { active: 0, queued: 0 });
});

test("bwrapArgs: namespaces, die-with-parent, clean env, read-only system, private sized tmpfs, no host home", () => {
  const args = bwrapArgs({
    level: "bwrap",
    python: "/usr/bin/python3",
    tmpBytes: 1 << 20,
    readOnlyPaths: [],
    runnerSource: "pass",
    runnerArgs: ["-1", "/tmp"],
  });
  for (const flag of [
    "--unshare-user",
    "--unshare-pid",
    "--unshare-net",
    "--unshare-ipc",
    "--die-with-parent",
    "--new-session",
    "--as-pid-1",
    "--clearenv",
    "--disable-userns",
  ])
    assert.ok(args.includes(flag), flag);
  const i = args.indexOf("/tmp");
  assert.deepEqual(args.slice(i - 3, i + 1), ["--size", String(1 << 20), "--tmpfs", "/tmp"]);
  assert.deepEqual(args.slice(args.indexOf("--remount-ro"), args.indexOf("--remount-ro") + 2), [
    "--remount-ro",
    "/dev",
  ]);
  assert.ok(args.join(" ").includes("--remount-ro /"));
  const binds = args.flatMap((a, k) =>
    a === "--bind" || a === "--ro-bind" || a === "--ro-bind-try" ? [args[k + 1]] : [],
  );
  assert.ok(
    !binds.includes("/") && !binds.some((b) => /^\/(root|home|work|etc\/shadow|etc)$/.test(b)),
    binds.join(" "),
  );
  assert.ok(!args.includes("--bind"), "nothing is mounted writable from the host");
  assert.deepEqual(args.slice(args.indexOf("--") + 1), ["/usr/bin/python3", "-s", "-B", "-c", "pass", "-1", "/tmp"]);
  const root = bwrapArgs({
    level: "bwrap-root",
    python: "/usr/bin/python3",
    tmpBytes: 1 << 20,
    readOnlyPaths: [],
    runnerSource: "pass",
    runnerArgs: [],
  });
  assert.ok(!root.includes("--unshare-user"));
  assert.deepEqual(root.slice(root.indexOf("--cap-drop"), root.indexOf("--cap-drop") + 6), [
    "--cap-drop",
    "ALL",
    "--cap-add",
    "CAP_SETUID",
    "--cap-add",
    "CAP_SETGID",
  ]);
  // bubblewrap < 0.7 / < 0.8: the flags it does not know are left out instead of failing every run.
  const old = bwrapArgs({
    level: "bwrap",
    python: "/usr/bin/python3",
    tmpBytes: 1 << 20,
    readOnlyPaths: [],
    runnerSource: "pass",
    runnerArgs: [],
    features: { disableUserns: false, size: false },
  });
  assert.ok(!old.includes("--size") && !old.includes("--disable-userns") && old.includes("--unshare-user"));
  assert.deepEqual(old.slice(old.indexOf("/tmp") - 1, old.indexOf("/tmp") + 1), ["--tmpfs", "/tmp"]);
});

test("runPython runs a snippet with stdin in the sandbox", async () => {
  const r = await runPython("import sys\nprint(sum(map(int, sys.stdin.read().split())))", { stdin: "1 2 39" });
  assert.equal(r.stdout, "42\n");
  assert.equal(r.status, "exit0");
  const err = await runPython("raise SystemError('x')\n");
  assert.equal(err.status, "runtime-error");
  assert.match(err.stderr, /SystemError: x/);
  const bad = await runPython("def (:");
  assert.equal(bad.status, "compile-error");
});

test("bad sandbox options fail naming the option", async () => {
  await assert.rejects(
    codeReward(RIGHT, GT, undefined, { timeoutMs: -1 }),
    /timeoutMs must be a positive number \(got -1\)/,
  );
  await assert.rejects(
    codeReward(RIGHT, GT, undefined, { sandbox: "docker" as never }),
    /sandbox must be "auto", "bwrap", "bwrap-root" or "none"/,
  );
  await assert.rejects(codeReward(RIGHT, GT, undefined, { python: "python3" }), /python must be an absolute path/);
  await assert.rejects(codeReward(RIGHT, GT, undefined, { maxTests: 0 }), /maxTests must be a positive integer/);
});
