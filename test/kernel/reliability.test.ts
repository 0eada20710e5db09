// Kernel reliability (issue 18): a busy loop right after `await 0` / `await Promise.resolve(x)` is interrupted and
// the kernel keeps working with its state; process.exit() in a cell says what happened instead of killing the kernel
// silently. One kernel session runs all steps.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { runSession, outputsOf, type StepResult } from "./jupyter.js";

const steps = {
  keep: { code: "let keepR = 41" },
  awaitZero: { code: "await 0;\nlet spinsZ = 0;\nwhile (true) { spinsZ++ }", interrupt_after_ms: 1500, timeout: 60 },
  afterZero: { code: "[keepR + 1, spinsZ > 0]", timeout: 30 },
  awaitResolved: {
    code: "const v = await Promise.resolve(3);\nlet spinsP = 0;\nwhile (true) { spinsP += v }",
    interrupt_after_ms: 1500,
    timeout: 60,
  },
  afterResolved: { code: "[keepR + 2, spinsP > 0]", timeout: 30 },
  inFunction: {
    code: "async function spin() { await 0; while (true) {} }\nawait spin()",
    interrupt_after_ms: 1500,
    timeout: 60,
  },
  afterFunction: { code: "keepR + 3", timeout: 30 },
  exit: { code: "process.exit(3)", timeout: 30 },
  afterExit: { code: "keepR + 4", timeout: 30 },
};

let results: Record<string, StepResult> = {};
before(() => {
  const names = Object.keys(steps);
  const out = runSession(Object.values(steps), { timeoutMs: 300_000 });
  results = Object.fromEntries(names.map((n, i) => [n, out[i]]));
});

const plain = (name: string) => {
  const r = results[name];
  assert.ok(r && r.reply, `step ${name} got no reply (the kernel is stuck or dead)`);
  assert.equal(r.reply!.status, "ok", `${name}: ${JSON.stringify(r.reply)}`);
  return outputsOf(r, "execute_result")[0]?.content.data["text/plain"];
};

test("await 0, then a busy loop: interrupted, and the next cell runs with the state intact", () => {
  assert.equal(results.awaitZero.reply?.ename, "Interrupted", JSON.stringify(results.awaitZero.reply));
  assert.equal(plain("afterZero"), "[ 42, true ]");
});

test("await Promise.resolve(x), then a busy loop: interrupted, and the next cell runs", () => {
  assert.equal(results.awaitResolved.reply?.ename, "Interrupted");
  assert.equal(plain("afterResolved"), "[ 43, true ]");
});

test("a busy loop after an await inside a function the cell awaits: interrupted, next cell runs", () => {
  assert.equal(results.inFunction.reply?.ename, "Interrupted");
  assert.equal(plain("afterFunction"), "44");
});

test("process.exit() in a cell says what happened; the kernel and its state stay", () => {
  const r = results.exit;
  assert.ok(r.reply, "process.exit got no reply");
  assert.equal(r.reply!.status, "error");
  assert.match(String(r.reply!.evalue), /process\.exit\(3\)/);
  assert.equal(plain("afterExit"), "45");
});

test("a cell that leaves the kernel near a memory limit gets a warning (an OOM kill cannot speak for itself)", () => {
  const saved = process.env.CELLRL_KERNEL_MEMORY_WARN;
  process.env.CELLRL_KERNEL_MEMORY_WARN = "0";
  try {
    const [r] = runSession([{ code: "6 * 7" }], { timeoutMs: 120_000 });
    const err = outputsOf(r, "stream")
      .filter((o) => o.content.name === "stderr")
      .map((o) => o.content.text)
      .join("");
    assert.match(err, /cellrl kernel: the JavaScript heap is \d+% full .*restart/);
  } finally {
    if (saved === undefined) delete process.env.CELLRL_KERNEL_MEMORY_WARN;
    else process.env.CELLRL_KERNEL_MEMORY_WARN = saved;
  }
});
