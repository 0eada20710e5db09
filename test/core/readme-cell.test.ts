// The README's GRPO cell is real code: the block under the `<!-- readme-grpo-cell` marker is read from README.md and
// run as written on the shipped sort5-base checkpoint and its task's verl records (sample records → reward.score →
// advantage → old logprobs → update.step). It must stay at most six lines, take one optimizer step with a finite
// loss, and docs/algorithms.md must show the same code.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { model, reward, rollout, seed, tasks, update } from "../../lib/index.js";
import { setup } from "../update/setup.js";

before(setup);

const ROOT = path.resolve(__dirname, "..", "..");
const MARKER = "<!-- readme-grpo-cell";

/** The code of the ```ts block right under the marker in `file`. */
function grpoCell(file: string): string {
  const text = fs.readFileSync(path.join(ROOT, file), "utf8");
  const at = text.indexOf(MARKER);
  assert.ok(at >= 0, `${file}: no "${MARKER} -->" marker above the GRPO cell`);
  const m = /^[^\n]*\n```ts\n([\s\S]*?)\n```/.exec(text.slice(at));
  assert.ok(m, `${file}: the marker must be followed on the next line by a \`\`\`ts block`);
  return m[1];
}

/** The code without `//` comments and whitespace, to compare two renderings of one cell. */
const bare = (code: string) =>
  code
    .split("\n")
    .map((l) => l.replace(/\s\/\/ .*$/, ""))
    .join("")
    .replace(/\s+/g, "");

/** The ```ts block of docs/algorithms.md that follows its "A GRPO step, written out" heading. */
function algorithmsCell(): string {
  const text = fs.readFileSync(path.join(ROOT, "docs", "algorithms.md"), "utf8");
  const m = /## A GRPO step, written out\n+```ts\n([\s\S]*?)\n```/.exec(text);
  assert.ok(m, "docs/algorithms.md: no ```ts block under '## A GRPO step, written out'");
  return m[1];
}

test("the README's GRPO cell is at most six lines: sample, score, advantage, old logprobs, step", () => {
  const code = grpoCell("README.md");
  const lines = code.split("\n").filter((l) => l.trim() !== "");
  assert.ok(lines.length <= 6, `the cell has ${lines.length} lines (at most 6):\n${code}`);
  for (const call of ["rollout.sample(", "reward.score(", "update.advantage(", "model.logprobs(", "update.step("])
    assert.ok(code.includes(call), `the cell calls ${call}`);
  assert.ok(!/update\.take|prompt\[0\]|rewardsOf/.test(code), "no row bookkeeping and no removed helper in the cell");
});

test("docs/algorithms.md shows the README's GRPO cell (comments aside)", () => {
  assert.equal(bare(algorithmsCell()), bare(grpoCell("README.md")));
});

test("the README's GRPO cell runs as written on sort5-base and task records: one step, finite loss", async () => {
  seed(0);
  const n0 = tf.memory().numTensors;
  const ck = model.loadCheckpoint(path.join(ROOT, "datasets", "checkpoints", "sort5-base"));
  const knobs = (ck.extra as { data: { knobs: Record<string, unknown> } }).data.knobs;
  const policy = new rollout.LocalPolicy(ck.model, ck.tokenizer!);
  const records = tasks.records("sort", 4, { seed: 1, ...knobs });
  const opt = new model.AdamW(ck.model.namedVariables(), { lr: 1e-3, weightDecay: 0 });
  const w0 = ck.model.namedVariables().values().next().value!.dataSync().slice();

  // the cell's own text, run as an async function of what the README says it needs
  const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (
    ...args: string[]
  ) => (...a: unknown[]) => Promise<Record<string, unknown>>;
  const cell = new AsyncFunction(
    "policy",
    "records",
    "opt",
    "rollout",
    "reward",
    "update",
    "model",
    `${grpoCell("README.md")}\nreturn { ro, r, A, old, metrics };`,
  );
  const out = await cell(policy, records, opt, rollout, reward, update, model);
  const ro = out.ro as rollout.Rollout;
  const r = out.r as Float32Array;
  const metrics = out.metrics as Record<string, number>;

  assert.equal(ro.size, records.length * 8);
  assert.deepEqual(ro.records, records, "the rollout keeps the records it sampled");
  assert.ok(r instanceof Float32Array && r.length === ro.size, "one score per completion");
  assert.deepEqual(
    Array.from(r),
    ro.responses.map((s, i) => reward.scoreResponseSync(records[ro.group[i]], s).score),
    "each row scored against its own record",
  );
  assert.ok(Number.isFinite(metrics["update/loss"]), `loss ${metrics["update/loss"]}`);
  assert.ok(Number.isFinite(metrics["update/gradNorm"]) && metrics["update/gradNorm"] > 0, "a gradient flowed");
  assert.ok(Number.isFinite(metrics["update/pgLoss"]), "the ppo-clip loss reported its metrics");
  const w1 = ck.model.namedVariables().values().next().value!.dataSync();
  assert.ok(
    w1.some((v, i) => v !== w0[i]),
    "the optimizer step moved the weights",
  );

  opt.dispose();
  ck.model.dispose();
  assert.equal(tf.memory().numTensors, n0, "no tensor leaked");
});
