import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../lib/core/random.js";
import { AdamW } from "../../lib/model/optim.js";
import { LocalPolicy } from "../../lib/rollout/policy.js";
import { sample } from "../../lib/rollout/rollout.js";
import { record } from "../../lib/data/record.js";
import * as aq from "arquero";
import {
  gkdStep,
  localTeacher,
  mixedRollout,
  onPolicyRows,
  seqKdStep,
  studentTeacherDivergence,
} from "../../lib/distill/index.js";
import { PROMPTS, TARGETS, tinyModel, tinyPolicy, tok } from "../update/fixture.js";
import { setup } from "../update/setup.js";

/** The fixture's prompts as verl records ("k:" asks for the digit k); the tokenizer has no chat template. */
const RECORDS = PROMPTS.map((p, i) =>
  record({ data_source: "test/digit", prompt: [{ role: "user", content: p }], ground_truth: TARGETS[i] }),
);

/** A step's metrics without the timings. */
const untimed = (m: Record<string, number>) =>
  Object.fromEntries(Object.entries(m).filter(([k]) => !k.startsWith("time/")));

describe("GKD steps", () => {
  before(setup);
  test("onPolicyRows picks round(λ·B) rows per sample, or the whole batch", () => {
    const r = onPolicyRows(10, 0.3, { rng: new Rng(0) });
    assert.equal(r.filter(Boolean).length, 3);
    assert.deepEqual(onPolicyRows(4, 1), [true, true, true, true]);
    assert.deepEqual(onPolicyRows(4, 0), [false, false, false, false]);
    const b = onPolicyRows(6, 0.5, { per: "batch", rng: new Rng(1) });
    assert.ok(b.every((x) => x === b[0]));
    assert.throws(() => onPolicyRows(4, 1.5), /lambda must be in \[0, 1\]/);
  });
  test("mixedRollout lays student samples and dataset responses out as one batch", async () => {
    const p = tinyPolicy(1);
    const ro = await mixedRollout(p, ["1:", "2:", "3:"], {
      responses: ["1", null, "33"],
      onPolicy: [false, true, false],
      sampling: { maxNewTokens: 2, rng: new Rng(0) },
    });
    assert.deepEqual(ro.table.array("source"), ["dataset", "student", "dataset"]);
    assert.deepEqual(ro.responseIds[0], [...tok.encode("1"), tok.eosTokenId]);
    assert.deepEqual(ro.responseIds[2], [...tok.encode("33"), tok.eosTokenId]);
    assert.equal(ro.responses[2], "33");
    await assert.rejects(mixedRollout(p, ["1:"], { onPolicy: [false] }), /responses\[0\] is undefined/);
    p.model.dispose();
  });
  test("mixedRollout takes verl records as rollout.sample does: the prompts rendered, ro.records and columns kept", async () => {
    const p = tinyPolicy(1);
    const opts = (seed: number) => ({
      responses: ["1", null, "33"],
      onPolicy: [false, true, false],
      sampling: { maxNewTokens: 2, rng: new Rng(seed) },
    });
    const fromRecords = await mixedRollout(p, RECORDS.slice(1, 4), opts(0));
    const fromTexts = await mixedRollout(p, PROMPTS.slice(1, 4), opts(0));
    assert.deepEqual(fromRecords.records, RECORDS.slice(1, 4));
    assert.deepEqual(fromRecords.prompts, PROMPTS.slice(1, 4), "no chat template: the user message as it is");
    assert.deepEqual(fromRecords.table.array("data_source"), ["test/digit", "test/digit", "test/digit"]);
    assert.deepEqual(fromRecords.table.array("ground_truth"), TARGETS.slice(1, 4));
    assert.deepEqual(fromRecords.table.array("source"), ["dataset", "student", "dataset"]);
    for (const k of ["ids", "responseIds", "promptTokenIds", "logprobs", "responses", "finishReason"] as const)
      assert.deepEqual(fromRecords[k], fromTexts[k], `${k}: the same batch as from the prompt texts`);
    assert.equal(fromTexts.records, null);
    // a table of records and token-id prompts go the same way
    const fromTable = await mixedRollout(p, aq.from(RECORDS.slice(1, 4)), opts(0));
    assert.deepEqual(fromTable.ids, fromRecords.ids);
    const fromIds = await mixedRollout(
      p,
      PROMPTS.slice(1, 4).map((t) => tok.encode(t)),
      opts(0),
    );
    assert.deepEqual(fromIds.ids, fromTexts.ids);
    // the records' chat template option reaches the rendering (rollout.sample's own check)
    await assert.rejects(
      mixedRollout(p, PROMPTS.slice(0, 1), { onPolicy: [true], sampling: { chatTemplate: "plain" } }),
      /options\.chatTemplate applies to verl records/,
    );
    await assert.rejects(
      mixedRollout(p, RECORDS.slice(0, 2), { onPolicy: [true] }),
      /options\.onPolicy has array\(1\) entries but there are 2 prompts/,
    );
    await assert.rejects(mixedRollout(p, [], { onPolicy: [] }), /distill\.mixedRollout: prompts must be a non-empty/);
    p.model.dispose();
  });
  test("gkdStep and seqKdStep take verl records: the same steps as from the prompt texts, ro.records kept", async () => {
    const gkd = async (prompts: typeof RECORDS | string[]) => {
      const teacherModel = tinyModel(10);
      const student = tinyPolicy(21);
      const opt = new AdamW(student.model.namedVariables(), { lr: 1e-3 });
      const rng = new Rng(6);
      const out: { metrics: Record<string, number>[]; records: unknown } = { metrics: [], records: null };
      for (let s = 0; s < 2; s++) {
        const r = await gkdStep(
          { policy: student, opt, teacher: localTeacher(teacherModel), prompts, responses: ["0", "1", "2", "3", "4"] },
          {
            lambda: 0.6,
            divergence: "reverse-kl",
            sampling: { maxNewTokens: 3 },
            rng,
            thresholds: { truncFrac: null },
          },
        );
        out.metrics.push(untimed(r.metrics));
        out.records = r.rollout.records;
      }
      teacherModel.dispose();
      student.model.dispose();
      opt.dispose();
      return out;
    };
    const [a, b] = [await gkd(RECORDS), await gkd(PROMPTS)];
    assert.deepEqual(a.metrics, b.metrics);
    assert.ok(Number.isFinite(a.metrics[1]["distill/loss"]) && a.metrics[0]["distill/onPolicyFrac"] === 0.6);
    assert.deepEqual(a.records, RECORDS);
    assert.equal(b.records, null);
    const seqKd = async (prompts: typeof RECORDS | string[]) => {
      const teacherP = new LocalPolicy(tinyModel(10), tok);
      const student = tinyPolicy(22);
      const opt = new AdamW(student.model.namedVariables(), { lr: 3e-3, weightDecay: 0 });
      const r = await seqKdStep(
        { policy: student, opt, teacher: teacherP, prompts },
        { sampling: { temperature: 1, maxNewTokens: 3, rng: new Rng(8) } },
      );
      student.model.dispose();
      teacherP.model.dispose();
      opt.dispose();
      return r;
    };
    const [c, d] = [await seqKd(RECORDS), await seqKd(PROMPTS)];
    assert.deepEqual(untimed(c.metrics), untimed(d.metrics));
    assert.deepEqual(c.rollout.responses, d.rollout.responses);
    assert.deepEqual(c.rollout.records, RECORDS);
    assert.deepEqual(c.rollout.table.array("ground_truth"), TARGETS);
  });
  test("on-policy GKD lowers the student-teacher KL on held-out sequences", async () => {
    const teacherModel = tinyModel(10);
    const teacher = localTeacher(teacherModel);
    const student = tinyPolicy(20);
    const opt = new AdamW(student.model.namedVariables(), { lr: 3e-3, weightDecay: 0 });
    const rng = new Rng(3);
    const heldOut = await sample(new LocalPolicy(teacherModel, tok), PROMPTS, {
      n: 2,
      maxNewTokens: 4,
      rng: new Rng(99),
    });
    const kl0 = await studentTeacherDivergence(student, teacher, heldOut);
    const prompts = [...PROMPTS, ...PROMPTS];
    let n0 = 0;
    for (let s = 0; s < 25; s++) {
      if (s === 1) n0 = tf.memory().numTensors;
      const r = await gkdStep(
        { policy: student, opt, teacher, prompts, step: s },
        { divergence: "jsd", beta: 0.5, sampling: { maxNewTokens: 4 }, rng, thresholds: { truncFrac: null } },
      );
      assert.ok(Number.isFinite(r.metrics["distill/loss"]));
      assert.equal(r.metrics["distill/onPolicyFrac"], 1);
    }
    assert.equal(tf.memory().numTensors, n0, "no tensor leak across gkd steps");
    const kl1 = await studentTeacherDivergence(student, teacher, heldOut);
    assert.ok(kl1 < 0.6 * kl0, `forward KL ${kl0.toFixed(3)} → ${kl1.toFixed(3)}`);
    student.model.dispose();
    teacherModel.dispose();
    opt.dispose();
  });
  test("a top-k teacher, λ < 1 with dataset responses, and reverse KL also run", async () => {
    const teacherModel = tinyModel(10);
    const student = tinyPolicy(21);
    const opt = new AdamW(student.model.namedVariables(), { lr: 1e-3 });
    const r = await gkdStep(
      {
        policy: student,
        opt,
        teacher: localTeacher(teacherModel),
        prompts: PROMPTS,
        responses: ["0", "1", "2", "3", "4"],
      },
      {
        lambda: 0.4,
        topK: 4,
        divergence: "reverse-kl",
        renormalize: true,
        sampling: { maxNewTokens: 3 },
        rng: new Rng(4),
        microBatch: 2,
        thresholds: { truncFrac: null },
      },
    );
    assert.equal(r.metrics["distill/onPolicyFrac"], 0.4);
    assert.ok(r.metrics["distill/teacherTopkMass"] > 0 && r.metrics["distill/teacherTopkMass"] <= 1 + 1e-6);
    assert.ok(Number.isFinite(r.metrics["update/gradNorm"]));
    student.model.dispose();
    teacherModel.dispose();
    opt.dispose();
  });
  test("sequence-level KD (SFT on teacher samples) lowers the NLL of the teacher's greedy outputs", async () => {
    const teacherP = new LocalPolicy(tinyModel(10), tok);
    const student = tinyPolicy(22);
    const opt = new AdamW(student.model.namedVariables(), { lr: 3e-3, weightDecay: 0 });
    const losses: number[] = [];
    for (let s = 0; s < 15; s++)
      losses.push(
        (
          await seqKdStep(
            { policy: student, opt, teacher: teacherP, prompts: PROMPTS },
            { sampling: { temperature: 0, maxNewTokens: 3 } },
          )
        ).metrics["update/sftLoss"],
      );
    assert.ok(losses[14] < 0.5 * losses[0], `SFT loss ${losses[0].toFixed(3)} → ${losses[14].toFixed(3)}`);
    student.model.dispose();
    teacherP.model.dispose();
    opt.dispose();
  });
  test("same seed, same run: identical metrics (3 GKD steps with λ = 0.5 mixing student samples and dataset responses)", async () => {
    const run = async () => {
      const teacherModel = tinyModel(10);
      const teacher = localTeacher(teacherModel, { topK: 3 });
      const student = tinyPolicy(21);
      const opt = new AdamW(student.model.namedVariables(), { lr: 1e-3 });
      const rng = new Rng(5);
      const out: Record<string, number>[] = [];
      for (let s = 0; s < 3; s++) {
        const m = (
          await gkdStep(
            { policy: student, opt, teacher, prompts: PROMPTS, responses: ["0", "1", "22", "33", "4"], step: s },
            {
              lambda: 0.5,
              divergence: "jsd",
              beta: 0.5,
              topK: 3,
              sampling: { maxNewTokens: 3 },
              rng,
              thresholds: { truncFrac: null },
            },
          )
        ).metrics;
        out.push(Object.fromEntries(Object.entries(m).filter(([k]) => !k.startsWith("time/"))));
      }
      teacherModel.dispose();
      student.model.dispose();
      opt.dispose();
      return out;
    };
    const [a, b] = [await run(), await run()];
    assert.ok(
      Number.isFinite(a[2]["distill/loss"]) && a[0]["distill/onPolicyFrac"] > 0 && a[0]["distill/onPolicyFrac"] < 1,
      JSON.stringify(a[0]),
    );
    assert.deepEqual(a, b);
  });
});
