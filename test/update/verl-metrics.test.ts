import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../lib/core/random.js";
import { AdamW } from "../../lib/model/optim.js";
import { fromVerlMetrics, grpoStep, toVerlMetrics, verlMetricNames } from "../../lib/update/index.js";
import { lengthMetrics } from "../../lib/update/metrics.js";
import { digitReward, PROMPTS, TARGETS, tinyPolicy } from "./fixture.js";
import { setup } from "./setup.js";

describe("verl metric names", () => {
  before(setup);

  test("the table holds verl's real names for the headline metrics", () => {
    const want: Record<string, string> = {
      "reward/mean": "critic/score/mean",
      "update/advMax": "critic/advantages/max",
      "update/clipFrac": "actor/pg_clipfrac",
      "update/dualClipFrac": "actor/pg_clipfrac_lower",
      "update/approxKl": "actor/ppo_kl",
      "update/klLoss": "actor/kl_loss",
      "rollout/entropy": "actor/entropy",
      "update/gradNorm": "actor/grad_norm",
      "update/lr": "actor/lr",
      "update/pgLoss": "actor/pg_loss",
      "rollout/lengthMean": "response_length/mean",
      "rollout/truncFrac": "response_length/clip_ratio",
      "time/rollout": "timing_s/gen",
      "time/update": "timing_s/update_actor",
    };
    for (const [c, v] of Object.entries(want)) assert.equal(verlMetricNames[c], v, c);
    const targets = Object.values(verlMetricNames);
    assert.equal(new Set(targets).size, targets.length, "one cellrl key per verl key");
    assert.ok(targets.every((v) => /^(critic|actor|response_length|timing_s)\//.test(v)));
  });

  test("every cellrl key in the table is one a GRPO step (or update.lengthMetrics) really produces", async () => {
    const p = tinyPolicy(2);
    const ref = p.model.clone();
    const opt = new AdamW(p.model.namedVariables(), { lr: 1e-3 });
    const r = await grpoStep(
      { policy: p, opt, ref, prompts: PROMPTS, reward: digitReward, columns: { target: TARGETS } },
      { n: 4, sampling: { maxNewTokens: 2 }, rng: new Rng(1), kl: { beta: 0.01 }, thresholds: { truncFrac: null } },
    );
    const produced = new Set([...Object.keys(r.metrics), ...Object.keys(lengthMetrics([1, 2]))]);
    for (const k of Object.keys(verlMetricNames))
      assert.ok(produced.has(k), `${k} is in update.verlMetricNames but no step produces it`);
    const v = toVerlMetrics(r.metrics);
    assert.equal(v["actor/pg_clipfrac"], r.metrics["update/clipFrac"]);
    assert.equal(v["critic/score/mean"], r.metrics["reward/mean"]);
    assert.equal(v["reward/std"], r.metrics["reward/std"], "unmapped keys keep their cellrl name");
    assert.equal(v["update/clipFrac"], undefined);
    assert.equal(Object.keys(v).length, Object.keys(r.metrics).length);
    assert.deepEqual(fromVerlMetrics(v), r.metrics, "round trip");
    p.model.dispose();
    ref.dispose();
    opt.dispose();
  });

  test("fromVerlMetrics reads verl's console lines, JSONL lines and objects", () => {
    const line =
      "step:3 - critic/score/mean:0.625 - actor/pg_clipfrac:0.0125 - timing_s/gen:1.5 - perf/throughput:812.4 - training/global_step:3";
    assert.deepEqual(fromVerlMetrics(line), {
      step: 3,
      "reward/mean": 0.625,
      "update/clipFrac": 0.0125,
      "time/rollout": 1.5,
      "perf/throughput": 812.4,
      "training/global_step": 3,
    });
    const jsonl = JSON.stringify({
      step: 7,
      data: { "actor/ppo_kl": -0.001, "response_length/clip_ratio": 0.25, "actor/entropy": 1.2, note: "x" },
    });
    assert.deepEqual(fromVerlMetrics(jsonl), {
      "update/approxKl": -0.001,
      "rollout/truncFrac": 0.25,
      "rollout/entropy": 1.2,
      step: 7,
    });
    assert.deepEqual(fromVerlMetrics(JSON.parse(jsonl)), fromVerlMetrics(jsonl));
    assert.deepEqual(fromVerlMetrics({ "actor/grad_norm": 0.5, "critic/rewards/mean": 0.1 }), {
      "update/gradNorm": 0.5,
      "critic/rewards/mean": 0.1,
    });
    assert.throws(() => fromVerlMetrics("{not json"), /starts with "\{" but is not JSON/);
    assert.throws(() => fromVerlMetrics(42 as unknown as string), /expected verl metrics as an object/);
  });
});
