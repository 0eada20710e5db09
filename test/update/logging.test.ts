import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { checkAlerts, openRunLog, readRunLog, train } from "../../lib/update/index.js";
import { compareRuns } from "../../lib/update/run-log.js";
import { rewardMetrics } from "../../lib/update/metrics.js";
import { resetWarnings, warnings } from "../../lib/core/warn.js";
import { setup } from "./setup.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-update-"));

describe("metrics, alerts, run log, train loop", () => {
  before(setup);
  test("reward metrics count zero-spread groups", () => {
    const m = rewardMetrics([1, 1, 0, 1, 0, 0], [0, 0, 1, 1, 2, 2]);
    assert.equal(m["reward/zeroStdFrac"], 2 / 3);
    assert.equal(m["reward/mean"], 0.5);
    assert.equal(m["reward/max"], 1);
  });
  test("alerts speak plainly and go through warn()", () => {
    resetWarnings(null);
    const a = checkAlerts(4, {
      "reward/zeroStdFrac": 0.75,
      "reward/groups": 8,
      "rollout/truncFrac": 1,
      "rollout/entropy": 0.01,
      "update/ratioMax": 25,
      "update/approxKl": 0.9,
    });
    const keys = a.map((x) => x.key).sort();
    assert.deepEqual(keys, [
      "alert/entropyCollapse",
      "alert/klSpike",
      "alert/ratioSpike",
      "alert/truncFrac",
      "alert/zeroStdFrac",
    ]);
    assert.match(
      a.find((x) => x.key === "alert/zeroStdFrac")!.message,
      /^step 4: 6 of 8 groups gave every completion the same reward/,
    );
    assert.match(a.find((x) => x.key === "alert/truncFrac")!.message, /100% of responses hit maxNewTokens/);
    assert.deepEqual(
      warnings()
        .map((w) => w.key)
        .sort(),
      keys,
    );
    assert.equal(checkAlerts(5, { "reward/zeroStdFrac": 0.75 }, { thresholds: { zeroStdFrac: null } }).length, 0);
  });
  test("relative KL spikes and entropy explosions need history", () => {
    const hist = [0.01, 0.012, 0.011].map((v) => ({ "update/approxKl": v, "rollout/entropy": 1.0 }));
    assert.equal(checkAlerts(3, { "update/approxKl": 0.2 }, { history: hist })[0]?.key, "alert/klSpike");
    assert.equal(checkAlerts(3, { "update/approxKl": 0.02 }, { history: hist }).length, 0);
    assert.equal(checkAlerts(0, { "rollout/entropy": 2.0 }, { vocabSize: 8 }).length, 0); // a fresh model is near-uniform
    assert.equal(
      checkAlerts(3, { "rollout/entropy": 2.0 }, { vocabSize: 8, history: hist })[0]?.key,
      "alert/entropyExplosion",
    );
    assert.equal(checkAlerts(3, { "update/loss": NaN })[0]?.key, "alert/nonFiniteMetric");
  });
  test("the run log appends a line per step, survives a torn last line, and reloads into tables", () => {
    const f = path.join(tmp, "a.jsonl");
    const log = openRunLog(f, { lr: 1e-3, algo: "grpo" });
    log.log(0, { "reward/mean": 0.25, "update/gradNorm": NaN });
    log.log(1, { "reward/mean": 0.5 });
    log.event("eval", { acc: 0.4 });
    assert.equal(fs.readFileSync(f, "utf8").trim().split("\n").length, 4); // each line is on disk when log() returns
    log.close();
    fs.appendFileSync(f, '{"type":"step","step":2,"rew'); // a crash mid-write
    const run = readRunLog(f);
    assert.equal(run.name, "a");
    assert.deepEqual(run.config, { lr: 1e-3, algo: "grpo" });
    assert.deepEqual(run.steps.array("reward/mean"), [0.25, 0.5]);
    assert.ok(Number.isNaN(run.steps.get("update/gradNorm", 0)));
    assert.equal(run.events.length, 1);
    assert.throws(() => openRunLog(f), /already exists/);
    const g = path.join(tmp, "b.jsonl");
    const lb = openRunLog(g, {}, { name: "flowrl" });
    lb.log(0, { "reward/mean": 0.75 });
    lb.close();
    const t = compareRuns([f, g]);
    assert.deepEqual(t.array("run"), ["a", "a", "flowrl"]);
    assert.deepEqual(t.array("reward/mean"), [0.25, 0.5, 0.75]);
  });
  test("train runs steps with eval every N, calls the hook, logs every step and stops early", async () => {
    const f = path.join(tmp, "train.jsonl");
    const log = openRunLog(f, { algo: "fake" });
    const seen: number[] = [];
    const evals: number[] = [];
    const r = await train({
      steps: 10,
      step: (i, { history }) => ({ metrics: { "reward/mean": i / 10, seenHistory: history.length }, alerts: [] }),
      eval: {
        every: 3,
        run: (s) => {
          evals.push(s);
          return { acc: s / 100 };
        },
        atStart: true,
      },
      onStep: (e) => {
        seen.push(e.step);
      },
      log,
      stopWhen: (m) => m["reward/mean"] >= 0.7,
    });
    log.close();
    assert.equal(r.steps, 8);
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(evals, [0, 3, 6]);
    assert.equal(r.history[2]["eval/acc"], 0.03);
    assert.equal(r.history[0]["eval/acc"], 0);
    assert.equal(r.history[5].seenHistory, 5);
    assert.equal(readRunLog(f).steps.numRows(), 8);
    assert.deepEqual(r.table.array("step"), [0, 1, 2, 3, 4, 5, 6, 7]);
  });
});
