// Kernel behaviour beyond jupyter_kernel_test: interrupts keep state, TypeScript errors carry line:col, display ids
// update in place, stop_on_error semantics, rich execute_result bundles, tslab compatibility.
// One kernel session runs all steps (kernel start dominates the cost); each test reads its own steps' results.
// The session runs in a temporary folder outside the repo, so `import ... from "cellrl"` also tests that the kernel
// finds the package (types and runtime) for notebooks anywhere.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runSession, outputsOf, type Step, type StepResult } from "./jupyter.js";

const outside = realpathSync(mkdtempSync(path.join(os.tmpdir(), "cellrl-kernel-cwd-")));

const steps: Record<string, Step> = {
  keep: { code: "let keep = 41" },
  // 1. a synchronous busy loop right in the cell (Node's breakOnSigint)
  busySync: { code: "let spinsA = 0;\nwhile (true) { spinsA++ }", interrupt_after_ms: 1200 },
  afterSync: { code: "[keep + 1, spinsA > 0]" },
  // 2. a busy loop after an await: the main thread is stuck; the watchdog stops it
  busyAfterAwait: {
    code: "await new Promise((r) => setTimeout(r, 20));\nlet spinsB = 0;\nwhile (true) { spinsB++ }",
    interrupt_after_ms: 1200,
  },
  afterAwait: { code: "[keep + 2, spinsB > 0]" },
  // 3. an async loop: the cell returns at once and its loop must not keep running in the background
  asyncLoop: {
    code: "let ticks = 0;\nfor (;;) { await new Promise((r) => setTimeout(r, 5)); ticks++ }",
    interrupt_after_ms: 800,
  },
  ghostCheck: { code: "const t0 = ticks;\nawait new Promise((r) => setTimeout(r, 300));\n[t0 > 0, ticks === t0]" },
  // 4. stop pressed before the loop is armed (signal arrives while the cell is queued or compiling)
  busyEarly: { code: "let spinsC = 0;\nwhile (true) { spinsC++ }", interrupt_after_ms: 20, timeout: 60 },
  afterEarly: { code: "keep + 3" },
  typeError: { code: 'const fine = 1;\nconst wrong: number = "text";' },
  afterTypeError: { code: "typeof fine" },
  runtimeError: { code: 'const partial = 5;\nconst nothing: any = JSON.parse("null");\nnothing.boom;\n' },
  afterRuntimeError: { code: "partial * 2" },
  displayUpdate: {
    code:
      'import { displayHandle, display, clearOutput } from "cellrl";\nconst h = displayHandle("cellrl-test-id");\n' +
      'h.update({"text/plain": "v1", "text/html": "<b>v1</b>"});\nh.update({"text/plain": "v2", "text/html": "<b>v2</b>"});',
  },
  figureResult: {
    code: 'import { figure } from "cellrl";\nfigure({ data: [{ type: "bar", y: [1, 2] }] }, { summary: "two bars" })',
  },
  tslabCompat: {
    code: 'import * as tslab from "tslab";\nconst d = tslab.newDisplay(); d.html("<i>a</i>"); d.html("<i>b</i>"); tslab.display.markdown("**m**")',
  },
  anyFolder: {
    code: 'import { aq } from "cellrl";\nconst rows: number = aq.table({ a: [1, 2, 3] }).numRows();\n[rows, process.cwd()]',
  },
  silent: { code: "console.log('should not appear'); 1", silent: true },
  countAfterSilent: { code: "'counted'" },
  // `{ x }` naming an earlier cell's variable (stock tslab: "x is not defined")
  shorthandDefine: { code: "const gapS = 1;\nlet otherS = 2;" },
  shorthandUse: { code: "otherS = 5;\nconst f = () => ({ gapS });\nJSON.stringify([{ gapS, otherS, third: 3 }, f()])" },
};
const batches: Record<string, Step> = {
  noStop: { batch: ["throw new Error('first')", "keep + 10", "keep + 11"], stop_on_error: false },
  stop: { batch: ["throw new Error('second')", "keep + 20"], stop_on_error: true },
};

let results: Record<string, StepResult & { batch?: StepResult[] }> = {};
before(() => {
  const names = [...Object.keys(steps), ...Object.keys(batches)];
  const out = runSession(
    names.map((n) => steps[n] ?? batches[n]),
    { timeoutMs: 240_000, cwd: outside },
  );
  results = Object.fromEntries(names.map((n, i) => [n, out[i]]));
});

after(() => rmSync(outside, { recursive: true, force: true }));

function result(name: string): StepResult {
  const r = results[name];
  assert.ok(r && r.reply, `step ${name} got no reply`);
  return r;
}
const text = (r: StepResult) => outputsOf(r, "execute_result")[0]?.content.data["text/plain"];

test("interrupt stops a synchronous busy loop; variables survive", () => {
  const r = result("busySync");
  assert.equal(r.reply!.status, "error");
  assert.equal(r.reply!.ename, "Interrupted");
  assert.equal(outputsOf(r, "error").length, 1);
  assert.equal(text(result("afterSync")), "[ 42, true ]");
});

test("interrupt stops a busy loop that runs after an await (watchdog)", () => {
  assert.equal(result("busyAfterAwait").reply!.ename, "Interrupted");
  assert.equal(text(result("afterAwait")), "[ 43, true ]");
});

test("an interrupted async loop stops instead of running on in the background", () => {
  assert.equal(result("asyncLoop").reply!.ename, "Interrupted");
  assert.equal(text(result("ghostCheck")), "[ true, true ]");
});

test("interrupt that arrives before the cell's loop is armed still stops it", () => {
  assert.equal(result("busyEarly").reply!.ename, "Interrupted");
  assert.equal(text(result("afterEarly")), "44");
});

test("a TypeScript type error is an error with the diagnostic and line:col", () => {
  const r = result("typeError");
  assert.equal(r.reply!.status, "error");
  assert.equal(r.reply!.ename, "TSError");
  assert.match(r.reply!.evalue, /^2:7 - Type 'string' is not assignable to type 'number'\. \(TS2322\)$/);
  const [err] = outputsOf(r, "error");
  assert.equal(err.content.evalue, r.reply!.evalue);
  assert.deepEqual(err.content.traceback, [
    "cell:2:7 - error (TS2322): Type 'string' is not assignable to type 'number'.",
    '  2 | const wrong: number = "text";',
    "    |       ^^^^^",
  ]);
  // Nothing of a cell that fails to compile runs, so `fine` is not declared.
  assert.equal(result("afterTypeError").reply!.status, "error");
});

test("a runtime error sends ename/evalue/traceback; values assigned before it are kept", () => {
  const r = result("runtimeError");
  assert.equal(r.reply!.ename, "TypeError");
  assert.match(r.reply!.evalue, /Cannot read properties of null \(reading 'boom'\)/);
  assert.ok(Array.isArray(r.reply!.traceback) && r.reply!.traceback[0].startsWith("TypeError:"));
  assert.equal(text(result("afterRuntimeError")), "10");
});

test("execute_input carries the code and increasing execution counts", () => {
  const a = outputsOf(result("keep"), "execute_input")[0].content;
  const b = outputsOf(result("afterSync"), "execute_input")[0].content;
  assert.equal(a.code, steps.keep.code);
  assert.ok(b.execution_count > a.execution_count);
  assert.equal(result("afterSync").reply!.execution_count, b.execution_count);
});

test("displayHandle: display_data then update_display_data with the same display_id, full bundles", () => {
  const r = result("displayUpdate");
  const [first] = outputsOf(r, "display_data");
  const [upd] = outputsOf(r, "update_display_data");
  assert.deepEqual(first.content.data, { "text/plain": "v1", "text/html": "<b>v1</b>" });
  assert.deepEqual(first.content.transient, { display_id: "cellrl-test-id" });
  assert.deepEqual(upd.content.data, { "text/plain": "v2", "text/html": "<b>v2</b>" });
  assert.deepEqual(upd.content.transient, { display_id: "cellrl-test-id" });
});

test("a figure as the last expression is an execute_result with the plotly bundle", () => {
  const r = result("figureResult");
  const [res] = outputsOf(r, "execute_result");
  assert.ok(res, "no execute_result");
  assert.deepEqual(res.content.data["application/vnd.plotly.v1+json"].data, [{ type: "bar", y: [1, 2] }]);
  assert.match(res.content.data["text/html"], /Plotly\.newPlot/);
  assert.match(res.content.data["text/plain"], /two bars/);
});

test('import * as tslab from "tslab": display, newDisplay updates, markdown', () => {
  const r = result("tslabCompat");
  assert.equal(r.reply!.status, "ok");
  assert.deepEqual(
    outputsOf(r, "display_data").map((o) => o.content.data),
    [{ "text/html": "<i>a</i>" }, { "text/markdown": "**m**" }],
  );
  const [upd] = outputsOf(r, "update_display_data");
  assert.deepEqual(upd.content.data, { "text/html": "<i>b</i>" });
  assert.equal(upd.content.transient.display_id, outputsOf(r, "display_data")[0].content.transient.display_id);
});

test("a notebook outside the repo imports cellrl (type-checked) and runs in its own folder", () => {
  const r = result("anyFolder");
  assert.equal(r.reply!.status, "ok", JSON.stringify(r.reply));
  assert.equal(text(r), `[ 3, '${outside}' ]`);
});

test("silent execution publishes nothing and does not count", () => {
  const s = result("silent");
  assert.equal(s.reply!.status, "ok");
  assert.deepEqual(s.outputs, []);
  const next = result("countAfterSilent");
  assert.equal(
    outputsOf(next, "execute_input")[0].content.execution_count,
    result("anyFolder").reply!.execution_count + 1,
  );
});

test("a shorthand property { x } reads an earlier cell's variable", () => {
  assert.equal(result("shorthandUse").reply!.status, "ok");
  // a string result is shown quoted, as Node's REPL does
  assert.equal(text(result("shorthandUse")), `'[{"gapS":1,"otherS":5,"third":3},{"gapS":1}]'`);
});

test("stop_on_error false: cells queued after an error still run", () => {
  const [err, a, b] = results.noStop.batch!;
  assert.equal(err.reply!.status, "error");
  assert.equal(text(a), "51");
  assert.equal(text(b), "52");
});

test("stop_on_error true: cells queued after an error are aborted", () => {
  const [err, a] = results.stop.batch!;
  assert.equal(err.reply!.status, "error");
  assert.equal(a.reply!.status, "aborted");
  assert.deepEqual(a.outputs, []);
});
