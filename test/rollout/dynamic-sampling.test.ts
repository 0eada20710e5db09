// DAPO dynamic sampling: only groups with a reward spread are kept, draws stop at the cap, the same seed replays the
// same batch; truncation masking zeroes the loss mask of rows cut at maxNewTokens.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../lib/core/random.js";
import { CellrlError } from "../../lib/core/errors.js";
import { dynamicSample, maskTruncated, sample, type Rollout } from "../../lib/rollout/index.js";
import { dynamicSampleDefaults } from "../../lib/rollout/dynamic-sampling.js";
import { PROMPTS, tinyPolicy } from "../update/fixture.js";
import { setup } from "../update/setup.js";

/** 1 when the response's first character is "1" or "2": some groups are mixed, some constant. */
const reward = (ro: Rollout) => ro.responses.map((r) => (r[0] === "1" || r[0] === "2" ? 1 : 0));

describe("rollout.dynamicSample", () => {
  before(setup);
  test("defaults are verl's max_num_gen_batches 10, and an error at the cap", () => {
    assert.deepEqual(dynamicSampleDefaults, { maxDraws: 10, onCap: "error" });
  });
  test("keeps only groups whose rewards differ, cut to batchSize; counts the draws", async () => {
    const p = tinyPolicy(5);
    const r = await dynamicSample(p, PROMPTS, {
      n: 4,
      maxNewTokens: 2,
      batchSize: 3,
      drawSize: 2,
      maxDraws: 0,
      reward,
      rng: new Rng(7),
    });
    assert.equal(r.metrics["rollout/groupsKept"], 3);
    assert.equal(r.rollout.size, 12);
    assert.equal(r.rollout.prompts.length, 3);
    for (let g = 0; g < 3; g++) {
      const rg = Array.from(r.rewards).filter((_, i) => r.rollout.group[i] === g);
      assert.ok(
        rg.some((x) => x !== rg[0]),
        `group ${g} kept with equal rewards ${rg}`,
      );
    }
    // the kept rewards are the rewards of the kept rows
    assert.deepEqual(Array.from(r.rewards), reward(r.rollout));
    assert.equal(r.metrics["train/num_gen_batches"], r.metrics["rollout/groupsDrawn"] / 2);
    assert.ok(r.metrics["rollout/groupsDrawn"] >= 3);
    // prompt ids name the pool prompts; the rows' prompt texts match them
    r.rollout.table
      .array("prompt_id")
      .forEach((id, i) => assert.equal(r.rollout.table.get("prompt", i), PROMPTS[id as number]));
    p.model.dispose();
  });
  test("the same seed replays the same batch exactly; another seed differs", async () => {
    const p = tinyPolicy(5);
    const run = (seed: number) =>
      dynamicSample(p, PROMPTS, { n: 4, maxNewTokens: 2, batchSize: 2, drawSize: 2, reward, rng: new Rng(seed) });
    const [a, b, c] = [await run(11), await run(11), await run(12)];
    assert.deepEqual(a.rollout.ids, b.rollout.ids);
    assert.deepEqual(a.rollout.logprobs, b.rollout.logprobs);
    assert.deepEqual(a.metrics, b.metrics);
    assert.notDeepEqual(
      [a.rollout.ids, a.rollout.table.array("prompt_id")],
      [c.rollout.ids, c.rollout.table.array("prompt_id")],
    );
    p.model.dispose();
  });
  test("at the cap: an error that says what to do, or the partial batch with a flag", async () => {
    const p = tinyPolicy(5);
    const constant = (ro: Rollout) => ro.responses.map(() => 1);
    await assert.rejects(
      dynamicSample(p, PROMPTS, {
        n: 2,
        maxNewTokens: 1,
        batchSize: 2,
        maxDraws: 2,
        reward: constant,
        rng: new Rng(1),
      }),
      (e: unknown) => e instanceof CellrlError && /2 draws \(maxDraws\) kept 0 of 2 groups/.test(e.message),
    );
    // a reward with a spread only on prompt "1:" keeps at most that group per draw
    const one = (ro: Rollout) => ro.responses.map((r, i) => (ro.table.get("prompt_id", i) === 1 ? i % 2 : 0));
    const r = await dynamicSample(p, PROMPTS, {
      n: 2,
      maxNewTokens: 1,
      batchSize: 3,
      drawSize: 5,
      maxDraws: 1,
      onCap: "partial",
      reward: one,
      rng: new Rng(1),
    });
    assert.equal(r.metrics["rollout/dynamicPartial"], 1);
    assert.equal(r.metrics["rollout/groupsKept"], 1);
    assert.deepEqual(r.rollout.table.array("prompt_id"), [1, 1]);
    p.model.dispose();
  });
  test("groups of one are kept (verl: len == 1); bad options fail", async () => {
    const p = tinyPolicy(5);
    const r = await dynamicSample(p, PROMPTS, {
      n: 1,
      maxNewTokens: 1,
      batchSize: 2,
      reward: (ro) => ro.responses.map(() => 0),
      rng: new Rng(2),
    });
    assert.equal(r.rollout.size, 2);
    assert.equal(r.metrics["train/num_gen_batches"], 1);
    await assert.rejects(dynamicSample(p, PROMPTS, { n: 2 } as never), /options.reward must be a function/);
    await assert.rejects(
      dynamicSample(p, PROMPTS, { n: 2, reward, drawSize: 9 }),
      /drawSize 9 is larger than the 5 prompts/,
    );
    p.model.dispose();
  });
});

describe("rollout.maskTruncated", () => {
  before(setup);
  test("zeroes the response mask of rows that hit maxNewTokens and nothing else", async () => {
    const p = tinyPolicy(3);
    const ro = await sample(p, PROMPTS, { n: 2, maxNewTokens: 2, rng: new Rng(0) });
    const m = maskTruncated(ro);
    let cut = 0;
    ro.finishReason.forEach((f, i) => {
      if (f === "length") {
        cut++;
        assert.ok(m.responseMask[i].every((x) => x === 0));
      } else assert.deepEqual(m.responseMask[i], ro.responseMask[i]);
    });
    assert.ok(cut > 0, "the fixture should truncate some rows at 2 tokens");
    assert.equal(m.metrics["rollout/maskedTruncated"], cut);
    assert.deepEqual(m.ids, ro.ids);
    assert.throws(() => maskTruncated({} as Rollout), /expected a Rollout/);
    p.model.dispose();
  });
});
