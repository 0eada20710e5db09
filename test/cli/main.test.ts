import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readJsonl } from "../../lib/data/jsonl.js";
import { runCli } from "./run-cli.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-cli-main-"));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test("cellrl --help lists the commands; an unknown command suggests the nearest and exits 2", async () => {
  const help = await runCli(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: cellrl <command>/);
  assert.match(help.stdout, /\n  grade-math  /);
  assert.match(help.stdout, /\n  score       /);
  const typo = await runCli(["scroe"]);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /unknown command "scroe"\. Did you mean "score"\?/);
  const opt = await runCli(["score", "--inptu", "x.jsonl"]);
  assert.equal(opt.code, 2);
  assert.match(opt.stderr, /Unknown option '--inptu'/);
  assert.match(opt.stderr, /Usage: cellrl score --input F --output G/);
});

test("grade-math --gold --pred prints true or false", async () => {
  const yes = await runCli(["grade-math", "--gold", "\\frac{1}{2}", "--pred", "0.5"]);
  assert.deepEqual([yes.code, yes.stdout], [0, "true\n"]);
  const no = await runCli(["grade-math", "--gold", "\\frac{1}{2}", "--pred", "0.6"]);
  assert.deepEqual([no.code, no.stdout], [0, "false\n"]);
  const missing = await runCli(["grade-math", "--gold", "1"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--pred is missing/);
});

test("grade-math --input streams one {gold, pred, equal} line per pair, in order (file, gzip or stdin)", async () => {
  const pairs = [
    { gold: "18", pred: "18.0" },
    { gold: 204, pred: "204" },
    { gold: "\\frac{1}{2}", pred: "0.5" },
    { gold: "3", pred: "4" },
    { gold: "(1,2)", pred: "(1, 2)" },
  ];
  const expected = [true, true, true, false, true];
  const f = path.join(tmp, "pairs.jsonl");
  fs.writeFileSync(f, pairs.map((p) => JSON.stringify(p)).join("\n") + "\n");
  const out = await runCli(["grade-math", "--input", f]);
  assert.equal(out.code, 0, out.stderr);
  const lines = out.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    lines,
    pairs.map((p, i) => ({ ...p, equal: expected[i] })),
  );
  const viaStdin = await runCli(["grade-math", "--input", "-"], { input: fs.readFileSync(f, "utf8") });
  assert.equal(viaStdin.stdout, out.stdout);
  const o = path.join(tmp, "graded.jsonl");
  const toFile = await runCli(["grade-math", "--input", f, "--output", o]);
  assert.equal(toFile.code, 0);
  assert.deepEqual(readJsonl(o), lines);
});

test("grade-math --input names a bad line and field", async () => {
  const f = path.join(tmp, "bad-pairs.jsonl");
  fs.writeFileSync(f, '{"gold":"1","pred":"1"}\n\n{"gold":"2"}\n');
  const out = await runCli(["grade-math", "--input", f]);
  assert.equal(out.code, 1);
  assert.match(out.stderr, /line 3 of .*bad-pairs\.jsonl: field "pred" is missing/);
  assert.equal(out.stdout, '{"gold":"1","pred":"1","equal":true}\n');
});
