import { test } from "node:test";
import assert from "node:assert/strict";
import * as viz from "../../lib/viz/index.js";
import * as reward from "../../lib/reward/index.js";
import type { RewardResult } from "../../lib/reward/types.js";
import { CellrlError } from "../../lib/core/errors.js";

test("rolloutGroupCard shows a composite reward's parts as score × weight, the gate, and the part's extracted answer", () => {
  const comp = reward.composite([
    { reward: "math", weight: 0.5 },
    { reward: "r1-format", weight: 0.2, required: true },
  ]);
  const responses = [
    "<think>2+11</think> \\boxed{13}",
    "\\boxed{13}",
    "<think>x</think> \\boxed{12}",
    "<think>y</think> \\boxed{13}",
  ];
  const ro = {
    group: [0, 0, 0, 1],
    prompts: ["2+11=", "other"],
    responses,
    finishReason: ["stop", "stop", "stop", "stop"],
  };
  const scored = responses.map((r) => comp(r, "13") as RewardResult);
  assert.deepEqual(
    scored.map((r) => r.score),
    [0.7, 0, 0.2, 0.7],
  );
  const v = viz.rolloutGroupCard(ro, 0, { rewards: scored, advantages: [1, -1, 0, 0] });
  const html = v.toMimeBundle()["text/html"] as string;
  const text = v.toMimeBundle()["text/plain"];
  // #0: 1 × 0.5 + 1 × 0.2; #2: wrong answer 0 × 0.5 + format 1 × 0.2; #1: math right but gated by the missing format.
  assert.match(text, /#0 reward=0\.7 \(math=0\.5 \+ r1-format=0\.2\) adv=1/);
  assert.match(text, /#2 reward=0\.2 \(math=0 \+ r1-format=0\.2\) adv=0/);
  assert.match(text, /#1 reward=0 \(math=0\.5 \+ r1-format=0, gated by r1-format\) adv=-1/);
  assert.doesNotMatch(text, /#3/, "only group 0's completions");
  const card = (i: number) =>
    html.slice(
      html.indexOf(`data-cellrl-sample="${i}"`),
      html.indexOf("</div></div>", html.indexOf(`data-cellrl-sample="${i}"`)),
    );
  assert.match(card(0), /\(math=0\.5 \+ r1-format=0\.2\)/);
  assert.match(card(1), /gated by r1-format/);
  assert.match(card(2), /answer <code>12<\/code>/, "the extracted answer comes from the math component's details");
  // Plain numbers still work (no parts).
  assert.match(
    viz.rolloutGroupCard(ro, 0, { rewards: [1, 0, 0, 1] }).toMimeBundle()["text/plain"],
    /#0 reward=1 len=- stop/,
  );
});

test("rolloutGroupCard names a malformed component", () => {
  const ro = { group: [0], prompts: ["p"], responses: ["r"] };
  assert.throws(
    () => viz.rolloutGroupCard(ro, 0, { rewards: [{ score: 1, details: { components: { math: { weight: 1 } } } }] }),
    (e: unknown) =>
      e instanceof CellrlError && /rewards\[0\]\.details\.components\.math must be \{score, weight\}/.test(e.message),
  );
});

test("rolloutGroupCard takes reward.scoreSync(ro) as it is: scores, and the extracted answer from its details", () => {
  const records = [
    {
      data_source: "cellrl/sort",
      prompt: [{ role: "user", content: "sort 312=" }],
      reward_model: { ground_truth: "123" },
    },
    { data_source: "openai/gsm8k", prompt: [{ role: "user", content: "9+9?" }], reward_model: { ground_truth: "18" } },
  ];
  const ro = {
    group: [0, 0, 0, 1],
    prompts: ["sort 312=", "9+9?"],
    responses: ["123", "132", "12", "so #### 18"],
    finishReason: ["stop", "stop", "length", "stop"],
    records,
  };
  const scored = reward.scoreSync(ro);
  assert.deepEqual(Array.from(scored.scores), [1, 0, 0, 1]);
  const v = viz.rolloutGroupCard(ro, 0, { rewards: scored, advantages: [1.2, -0.6, -0.6, 0] });
  const html = v.toMimeBundle()["text/html"] as string;
  const text = v.toMimeBundle()["text/plain"];
  assert.match(text, /#0 reward=1 adv=1\.2 len=- stop correct \| 123/);
  assert.match(text, /#1 reward=0 adv=-0\.6 len=- stop wrong \| 132/);
  assert.doesNotMatch(text, /#3/, "only group 0's completions");
  const card = (i: number) => {
    const at = html.indexOf(`data-cellrl-sample="${i}"`);
    return html.slice(at, html.indexOf("</div></div>", at));
  };
  assert.match(card(0), /answer <code>123<\/code>/, "the answer the sort reward extracted");
  assert.match(card(1), /answer <code>132<\/code>/);
  assert.match(card(2), /answer <code>12<\/code>/);
  // the gsm8k row's card shows what the gsm8k reward extracted
  assert.match(
    viz.rolloutGroupCard(ro, 1, { rewards: scored }).toMimeBundle()["text/html"] as string,
    /answer <code>18<\/code>/,
  );
  // the same card from the per-row forms: bare scores (no answer line), and {score, details}[] (the same card)
  const bare = viz.rolloutGroupCard(ro, 0, { rewards: scored.scores }).toMimeBundle()["text/html"] as string;
  assert.doesNotMatch(bare, /answer <code>/);
  const perRow = scored.details.map((details, i) => ({ score: scored.scores[i], details }));
  assert.equal(
    viz.rolloutGroupCard(ro, 0, { rewards: perRow, advantages: [1.2, -0.6, -0.6, 0] }).toMimeBundle()["text/html"],
    html,
  );
  // scores without details: numbers only
  assert.doesNotMatch(
    viz.rolloutGroupCard(ro, 0, { rewards: { scores: scored.scores } }).toMimeBundle()["text/html"] as string,
    /answer <code>/,
  );
});

test("rolloutGroupCard names a reward.score result of another rollout", () => {
  const ro = { group: [0, 0], prompts: ["p"], responses: ["a", "b"] };
  assert.throws(
    () => viz.rolloutGroupCard(ro, 0, { rewards: { scores: new Float32Array(3), details: [{}, {}, {}] } }),
    (e: unknown) =>
      e instanceof CellrlError &&
      e.code === "shape_mismatch" &&
      /options\.rewards\.scores has Float32Array\(3\) but the rollout has 2 rows/.test(e.message),
  );
  assert.throws(
    () => viz.rolloutGroupCard(ro, 0, { rewards: { scores: new Float32Array(2), details: [{}] } }),
    (e: unknown) =>
      e instanceof CellrlError && /options\.rewards\.details has array\(1\) but the rollout has 2 rows/.test(e.message),
  );
  assert.throws(
    () => viz.rolloutGroupCard(ro, 0, { rewards: [1] }),
    (e: unknown) =>
      e instanceof CellrlError && /options\.rewards has 1 entries but the rollout has 2 rows/.test(e.message),
  );
});
