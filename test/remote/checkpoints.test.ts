// The shipped GKD checkpoints (datasets/checkpoints/sortletters-*) through the remote path: the teacher served over
// HTTP sorts the held-out set greedily exactly as it does locally (manifest: greedy accuracy 1.0), and as a remote
// GKD teacher it gives the student's rollout the same top-k as the local teacher.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { localTeacher } from "../../lib/distill/teacher.js";
import { loadCheckpoint, type LoadedCheckpoint } from "../../lib/model/checkpoint.js";
import { generate } from "../../lib/model/generate.js";
import { LocalPolicy } from "../../lib/rollout/policy.js";
import { sample } from "../../lib/rollout/rollout.js";
import { records as taskRecords } from "../../lib/tasks/registry.js";
import "../../lib/tasks/index.js";
import { tasks } from "../../lib/tasks/registry.js";
import { RemotePolicy } from "../../lib/remote/remote-policy.js";
import { remoteTeacher } from "../../lib/remote/remote-teacher.js";
import { serve, type RunningServer } from "../../lib/remote/serve.js";
import { setup } from "./helpers.js";

const DIR = path.join(__dirname, "..", "..", "datasets", "checkpoints");
const have =
  fs.existsSync(path.join(DIR, "sortletters-teacher", "model.safetensors")) &&
  fs.existsSync(path.join(DIR, "sortletters-student", "model.safetensors"));
const skip = have ? false : "datasets/checkpoints/sortletters-* not present";

let teacher: LoadedCheckpoint;
let srv: RunningServer;
before(async () => {
  if (!have) return;
  await setup();
  teacher = loadCheckpoint(path.join(DIR, "sortletters-teacher"), { trainable: false });
  srv = await serve(teacher.model, teacher.tokenizer!, { port: 0, name: "sortletters-teacher" });
});
after(async () => {
  if (!have) return;
  await srv.close();
  teacher.model.dispose();
});

// the manifest's held-out call: tasks.records("sort", 200, {seed: 1, unique: true, split: "test", length: 6, symbols: "letters"})
const heldout = () =>
  taskRecords("sort", 200, { seed: 1, unique: true, split: "test", length: 6, symbols: "letters" }).slice(0, 40);

test(
  "the served teacher sorts held-out prompts greedily exactly as the local model does (all correct)",
  { skip },
  async () => {
    const recs = heldout();
    const prompts = recs.map((r) => r.prompt[r.prompt.length - 1].content);
    const policy = await RemotePolicy.connect(srv.url, { concurrency: 4 });
    const out = await policy.generate(prompts, { temperature: 0, maxNewTokens: 10 });
    const local = generate(teacher.model, prompts, { temperature: 0, maxNewTokens: 10, tokenizer: teacher.tokenizer! });
    assert.deepEqual(out.ids, local.ids);
    assert.deepEqual(out.text, local.text);
    const sort = tasks.get("sort");
    const correct = out.text!.filter((t, i) => sort.verify(t, recs[i].reward_model.ground_truth).score >= 1).length;
    assert.equal(correct, 40, "manifest: greedy accuracy 1.0 on this held-out set");
    policy.close();
  },
);

test("as a remote GKD teacher it gives the student's rollout the local teacher's top-k", { skip }, async () => {
  const student = loadCheckpoint(path.join(DIR, "sortletters-student"), { trainable: false });
  const prompts = heldout()
    .slice(0, 6)
    .map((r) => r.prompt[r.prompt.length - 1].content);
  const ro = await sample(new LocalPolicy(student.model, student.tokenizer!), prompts, {
    n: 2,
    maxNewTokens: 10,
    seed: 3,
  });
  const t = remoteTeacher(srv.url, { tokenizer: student.tokenizer!, topK: 8 });
  const remote = await t.score(ro);
  const local = await localTeacher(teacher.model, { topK: 8 }).score(ro);
  if (remote.kind !== "topk" || local.kind !== "topk") throw new Error("expected top-k outputs");
  let n = 0;
  for (let b = 0; b < ro.size; b++)
    for (let c = 0; c < ro.ids[0].length; c++) {
      if (!ro.responseMask[b][c]) continue;
      for (let k = 0; k < 8; k++) {
        const i = (b * remote.T + c) * 8 + k;
        // ids can swap only between (near-)tied logprobs
        if (remote.ids[i] !== local.ids[i])
          assert.ok(Math.abs(remote.logprobs[i] - local.logprobs[i]) < 1e-4, `tie at ${b},${c},${k}`);
        assert.ok(
          Math.abs(remote.logprobs[i] - local.logprobs[i]) < 2e-4,
          `logprob at ${b},${c},${k}: ${remote.logprobs[i]} vs ${local.logprobs[i]}`,
        );
        n++;
      }
    }
  assert.ok(n >= 6 * 2 * 8 * 5, `compared ${n} entries`);
  t.close();
  student.model.dispose();
});
