// The sampler logprobs of a RemotePolicy reach the Rollout unchanged (ro.logprobs = what the server returned, per
// token, in the response columns) and feed update.rolloutCorrection next to the trainer's recomputation.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { RemotePolicy } from "../../lib/remote/remote-policy.js";
import { sample } from "../../lib/rollout/rollout.js";
import { logprobs } from "../../lib/model/logprobs.js";
import { rolloutCorrection } from "../../lib/update/rollout-correction.js";
import { completionBody, fakeServer, setup, tinyModel, tok } from "./helpers.js";

before(setup);

test("RemotePolicy: ro.logprobs are the server's token logprobs, aligned with the response tokens", async () => {
  // the server reports a different logprob per token and per sample (as a quantized or stale vLLM copy would)
  const served = (s: number) => [-0.1 - s, -0.2 - s, -0.3 - s];
  const srv = await fakeServer((b) => {
    const body = completionBody(b) as { choices: { logprobs: { token_logprobs: number[] } }[] };
    body.choices.forEach((c, s) => (c.logprobs.token_logprobs = served(s)));
    return { body };
  });
  const policy = new RemotePolicy(srv.url, { tokenizer: tok, model: "fake", backoffMs: 1 });
  const ro = await sample(policy, ["1+1="], { n: 2, maxNewTokens: 3, seed: 1 });
  const P = ro.promptLength;
  for (let r = 0; r < 2; r++) {
    assert.deepEqual(ro.logprobs[r].slice(P, P + 3), served(r));
    assert.deepEqual(ro.rawLogprobs[r].slice(P, P + 3), served(r), "one logprob per token: both fields carry it");
    assert.ok(
      ro.logprobs[r].slice(0, P).every((v) => v === 0),
      "0 off the response",
    );
  }
  // the trainer's recomputation on the same tokens, and the correction between the two
  const m = tinyModel();
  const old = logprobs(m, ro).logp;
  const c = rolloutCorrection("token-is", { oldLogp: old, rolloutLogp: ro.logprobs, mask: ro.responseMask });
  for (let t = P; t < P + 3; t++) {
    const rho = Math.exp(old[0][t] - ro.logprobs[0][t]);
    assert.ok(Math.abs(c.weights[0][t] - Math.min(rho, 2)) < 1e-6 * Math.max(1, rho));
  }
  assert.ok(c.metrics["mismatch/absLogpDiffMean"] > 0);
  m.dispose();
  await srv.close();
});
