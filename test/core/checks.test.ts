import { test } from "node:test";
import assert from "node:assert/strict";
import { CellrlError } from "../../lib/core/errors.js";
import {
  andMore,
  checkFinite,
  checkIntAtLeast,
  checkNonEmptyString,
  checkPositiveInt,
  checkWholeAtLeast,
  didYouMean,
  firstOf,
  mustBe,
} from "../../lib/core/checks.js";

/** The error `f` throws (fails the test when it throws nothing). */
function caught(f: () => void): CellrlError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof CellrlError);
    return e;
  }
  assert.fail("expected a CellrlError");
}

function publicFn(x: unknown): void {
  checkPositiveInt({ where: "demo.publicFn", from: publicFn }, "options.size", x, "Pass {size: 4}.");
}

test("mustBe builds '<where>: <what> <rule> (got <value>). <fix>' with path, got, code and the caller's frame", () => {
  const e = caught(() => publicFn(0));
  assert.equal(e.message, "demo.publicFn: options.size must be a positive integer (got 0). Pass {size: 4}.");
  assert.equal(e.code, "invalid_option");
  assert.deepEqual(e.path, ["size"]);
  assert.equal(e.got, 0);
  assert.match(e.stack!.split("\n")[1], /checks\.test\.ts/); // starts at the caller of publicFn, not inside cellrl
  const f = caught(() =>
    mustBe({ where: "x.y", code: "invalid_input" }, "values", "must be an array", "a", undefined, []),
  );
  assert.equal(f.message, 'x.y: values must be an array (got "a").');
  assert.equal(f.code, "invalid_input");
  assert.deepEqual(f.path, []);
});

test("the named checks pass good values and name the rule for bad ones", () => {
  const at = { where: "t.f" };
  checkPositiveInt(at, "n", 3);
  checkIntAtLeast(at, "k", 0, 0);
  checkWholeAtLeast(at, "k", 2, 1);
  checkFinite(at, "x", -1.5);
  checkNonEmptyString(at, "s", "a");
  assert.equal(caught(() => checkPositiveInt(at, "n", 1.5)).message, "t.f: n must be a positive integer (got 1.5).");
  assert.equal(caught(() => checkIntAtLeast(at, "k", -1, 0)).message, "t.f: k must be an integer >= 0 (got -1).");
  assert.equal(caught(() => checkWholeAtLeast(at, "k", 0, 1)).message, "t.f: k must be a whole number >= 1 (got 0).");
  assert.equal(caught(() => checkFinite(at, "x", NaN)).message, "t.f: x must be a finite number (got NaN).");
  assert.equal(caught(() => checkFinite(at, "x", "1")).message, 't.f: x must be a finite number (got "1").');
  assert.equal(caught(() => checkNonEmptyString(at, "s", "")).message, 't.f: s must be a non-empty string (got "").');
});

test("didYouMean, firstOf and andMore build the common message tails", () => {
  assert.equal(didYouMean("chatmal", ["chatml", "plain"]), ' Did you mean "chatml"?');
  assert.equal(didYouMean("zzzzzz", ["chatml", "plain"], " Pass the Jinja text."), " Pass the Jinja text.");
  assert.equal(firstOf(["a", "b", "c"], 2, ", "), "a, b and 1 more");
  assert.equal(firstOf(["a", "b"], 8, ", "), "a, b");
  assert.equal(firstOf([], 8, ", ") || "none", "none");
  assert.equal(firstOf(["p", "q", "r"], 1, "; ", "; and "), "p; and 2 more");
  assert.equal(andMore(10, 8), " and 2 more");
  assert.equal(andMore(8, 8), "");
  assert.equal(andMore(5, 3, "\n  ... and "), "\n  ... and 2 more");
});
