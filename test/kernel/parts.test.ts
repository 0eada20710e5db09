// The kernel's pure parts, without Jupyter: history queries, error formatting, await instrumentation, wire format.
import { test } from "node:test";
import assert from "node:assert/strict";
// The kernel is plain CommonJS JavaScript (run by node, not compiled): load it with require.
const { History, globToRegExp } = require("../../kernel/history.js");
const { diagnosticsError, exceptionError } = require("../../kernel/errors.js");
const { instrumentAwaits } = require("../../kernel/await-guard.js");
const wire = require("../../kernel/wire.js");
const tslab = require("../../kernel/tslab.js");

test("history: tail, range (stop exclusive), search with glob, unique and n", () => {
  const h = new History();
  h.add(1, "a = 1");
  h.add(2, "6 * 7", "42");
  h.add(3, "b = 2");
  h.add(4, "6 * 7", "42");
  assert.deepEqual(h.query({ hist_access_type: "tail", n: 2 }), [
    [1, 3, "b = 2"],
    [1, 4, "6 * 7"],
  ]);
  assert.deepEqual(h.query({ hist_access_type: "tail", n: 1, output: true }), [[1, 4, ["6 * 7", "42"]]]);
  assert.deepEqual(h.query({ hist_access_type: "range", session: 1, start: 2, stop: 3 }), [[1, 2, "6 * 7"]]);
  assert.deepEqual(h.query({ hist_access_type: "range", session: 7, start: 1 }), []);
  assert.deepEqual(
    h.query({ hist_access_type: "search", pattern: "6 * 7" }).map((e: unknown[]) => e[1]),
    [2, 4],
  );
  assert.deepEqual(h.query({ hist_access_type: "search", pattern: "6 * 7", unique: true }), [[1, 4, "6 * 7"]]);
  assert.deepEqual(h.query({ hist_access_type: "search", pattern: "? = ?", n: 1 }), [[1, 3, "b = 2"]]);
  assert.ok(globToRegExp("a[bc]?").test("acx"));
  assert.ok(!globToRegExp("a*").test("ba"));
});

test("diagnosticsError: TSError with line:col, TS code and a caret under the span", () => {
  const code = "const ok = 1;\nlet n: number = 'str';";
  const e = diagnosticsError(
    [
      {
        start: { line: 1, character: 4 },
        end: { line: 1, character: 5 },
        messageText: "Type 'string' is not assignable to type 'number'.",
        code: 2322,
      },
    ],
    code,
  );
  assert.equal(e.ename, "TSError");
  assert.equal(e.evalue, "2:5 - Type 'string' is not assignable to type 'number'. (TS2322)");
  assert.deepEqual(e.traceback, [
    "cell:2:5 - error (TS2322): Type 'string' is not assignable to type 'number'.",
    "  2 | let n: number = 'str';",
    "    |     ^",
  ]);
  const two = diagnosticsError(
    [
      { start: { line: 0, character: 0 }, end: { line: 0, character: 2 }, messageText: "first" },
      { start: { line: 0, character: 3 }, end: { line: 0, character: 4 }, messageText: "second", fileName: "lib.ts" },
    ],
    "ab cd",
  );
  assert.equal(two.evalue, "1:1 - first (+1 more)");
  assert.equal(two.traceback[3], "lib.ts:1:4 - error: second");
});

test("exceptionError: name/message, kernel and tslab frames dropped, non-Error values", () => {
  const err = new RangeError("too far");
  err.stack =
    "RangeError: too far\n    at step (/x/dist/update/step.js:3:9)\n    at run (" +
    __filenameOf("kernel/cell-runner.js") +
    ":1:1)\n    at exec (/r/node_modules/tslab/dist/executor.js:2:2)\n    at node:internal/x:1:1";
  const e = exceptionError(err);
  assert.equal(e.ename, "RangeError");
  assert.equal(e.evalue, "too far");
  assert.deepEqual(e.traceback, ["RangeError: too far", "    at step (/x/dist/update/step.js:3:9)"]);
  assert.deepEqual(exceptionError(42), {
    ename: "Thrown",
    evalue: "42",
    traceback: ["Uncaught 42 (a non-Error value was thrown)"],
  });
});

function __filenameOf(rel: string): string {
  return require.resolve(`../../${rel}`);
}

test("instrumentAwaits: top-level awaits carry the run id, awaits in functions do not", () => {
  const ts = tslab.ts();
  const out = instrumentAwaits("const a = await f();\nasync function g() { return await h(); }\n", ts, 7);
  const k = "globalThis\\.__cellrl_kernel__\\.";
  assert.match(out, new RegExp(`const a = ${k}after\\(await ${k}hop\\(f\\(\\)\\), 7\\);`));
  assert.match(out, new RegExp(`return ${k}after\\(await ${k}hop\\(h\\(\\)\\)\\);`));
  const plain = "const x = 1;\n";
  assert.equal(instrumentAwaits(plain, ts, 1), plain);
});

test("wire: encode/decode round trip with HMAC; a bad signature is refused", () => {
  const parent = {
    identity: [Buffer.from("peer")],
    header: { msg_id: "m1", session: "s", username: "u", msg_type: "execute_request" },
  };
  const msg = wire.reply(parent, "execute_reply", { status: "ok" });
  const frames = wire.encode("secret", msg);
  const back = wire.decode("secret", frames);
  assert.deepEqual(back.identity.map(String), ["peer"]);
  assert.equal(back.header.msg_type, "execute_reply");
  assert.equal(back.header.version, "5.3");
  assert.deepEqual(back.parent_header, parent.header);
  assert.deepEqual(back.content, { status: "ok" });
  assert.throws(() => wire.decode("other", frames), /invalid HMAC/);
  const iopub = wire.encode("secret", msg, { iopub: true });
  assert.equal(String(iopub[0]), "kernel.cellrl.execute_reply");
});
