// A cell whose last value is a string shows it quoted, as Node's REPL and tslab do ('ab'), so "42" and 42 look
// different: toMimeBundle (lib/kernel/mime.ts), the kernel's fallback (kernel/handler.js resultBundle), and a real
// kernel session's execute_result.
import { test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { toMimeBundle } from "../../lib/kernel/mime.js";
import { runSession, outputsOf } from "./jupyter.js";
const { resultBundle } = require("../../kernel/handler.js");

const cases: [unknown, string][] = [
  ["42", "'42'"],
  [42, "42"],
  ["ab", "'ab'"],
  ["it's", `"it's"`],
  ["a\nb", "'a\\nb'"],
  ["", "''"],
  [["x", 1], "[ 'x', 1 ]"],
];

test("toMimeBundle shows a string quoted (Node REPL style) and a number bare", () => {
  for (const [v, want] of cases) {
    assert.equal(toMimeBundle(v)["text/plain"], want, `toMimeBundle(${inspect(v)})`);
    assert.equal(toMimeBundle(v)["text/plain"], inspect(v), "the same text as util.inspect / the Node REPL");
  }
  // ready-made bundles still show their own text, unquoted
  assert.equal(toMimeBundle({ "text/plain": "p", "text/html": "<i>p</i>" })["text/plain"], "p");
});

test("the kernel's result bundle shows a string quoted", () => {
  for (const [v, want] of cases) assert.equal(resultBundle(v)["text/plain"], want, `resultBundle(${inspect(v)})`);
});

test("a kernel session shows \"42\" as '42' and 42 as 42", () => {
  const [str, num, upper] = runSession([{ code: '"42"' }, { code: "42" }, { code: '"hello".toUpperCase()' }], {
    timeoutMs: 120_000,
  });
  const text = (r: typeof str) => outputsOf(r, "execute_result")[0]?.content.data["text/plain"];
  assert.equal(text(str), "'42'");
  assert.equal(text(num), "42");
  assert.equal(text(upper), "'HELLO'");
});
