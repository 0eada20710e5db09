// The shipped checkpoints and tutorial notebooks: files match the manifest (sha256, size), every checkpoint loads with
// the config the manifest records and a tokenizer that round-trips its task's prompts, the recorded accuracies are
// the ones the notebooks rely on, and the committed notebooks carry no outputs and end with a RESULT cell.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { loadCheckpoint } from "../../lib/model/checkpoint.js";
import { records as generateTask } from "../../lib/tasks/registry.js";

const ROOT = path.resolve(__dirname, "..", "..");
const DIR = path.join(ROOT, "datasets", "checkpoints");
const manifest = JSON.parse(fs.readFileSync(path.join(DIR, "manifest.json"), "utf8")) as {
  checkpoints: { name: string; dir: string; config: Record<string, unknown>; parameters: number; accuracy: number; data: { task: string; knobs: Record<string, unknown> }; files: { file: string; bytes: number; sha256: string }[]; total_bytes: number }[];
};
const byName = (n: string) => {
  const c = manifest.checkpoints.find((x) => x.name === n);
  assert.ok(c, `manifest.json has no checkpoint ${n}`);
  return c!;
};

test("manifest lists the four notebook checkpoints, each at most 5 MB, with sha256 matching the files", () => {
  assert.deepEqual(manifest.checkpoints.map((c) => c.name), ["sort5-base", "pairsum-base", "sortletters-teacher", "sortletters-student"]);
  for (const c of manifest.checkpoints) {
    const dir = path.join(DIR, c.dir);
    assert.deepEqual(fs.readdirSync(dir).sort(), c.files.map((f) => f.file), `${c.name}: files on disk differ from the manifest`);
    for (const f of c.files) {
      const bytes = fs.readFileSync(path.join(dir, f.file));
      assert.equal(bytes.length, f.bytes, `${c.name}/${f.file} size`);
      assert.equal(createHash("sha256").update(bytes).digest("hex"), f.sha256, `${c.name}/${f.file} sha256`);
    }
    assert.equal(c.total_bytes, c.files.reduce((a, f) => a + f.bytes, 0));
    assert.ok(c.total_bytes <= 5 * 1024 * 1024, `${c.name} is ${c.total_bytes} bytes (limit 5 MB)`);
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, "cellrl.json"), "utf8")).saved_at, undefined, "saved_at is dropped so rebuilds are byte-identical");
  }
});

test("every checkpoint loads with the manifest's config, and its tokenizer round-trips the task's prompts and answers", () => {
  const before = tf.memory().numTensors;
  for (const c of manifest.checkpoints) {
    const ck = loadCheckpoint(path.join(DIR, c.dir), { trainable: false });
    try {
      for (const k of ["hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size", "tie_word_embeddings", "eos_token_id", "bos_token_id"])
        assert.deepEqual((ck.config as unknown as Record<string, unknown>)[k], c.config[k], `${c.name}: config.${k}`);
      assert.equal(ck.model.numParameters(), c.parameters);
      const tok = ck.tokenizer!;
      assert.ok(tok, `${c.name} has a tokenizer`);
      for (const r of generateTask(c.data.task, 5, { seed: 3, ...c.data.knobs })) {
        const prompt = (r.prompt as { content: string }[])[0].content;
        const ids = tok.encode(prompt);
        assert.equal(ids[0], tok.bosTokenId, `${c.name}: the tokenizer adds BOS`);
        assert.equal(tok.decode(ids, { skipSpecialTokens: true }), prompt);
        const answer = String(r.extra_info!.answer);
        assert.equal(tok.decode(tok.encode(answer, { addSpecialTokens: false })), answer);
      }
      assert.equal((ck.extra as { name: string }).name, c.name);
    } finally {
      ck.model.dispose();
    }
  }
  assert.equal(tf.memory().numTensors, before, "loading and disposing leaks no tensors");
});

test("recorded accuracies are the starting points the notebooks assert on", () => {
  assert.ok(byName("sort5-base").accuracy <= 0.5, "02-grpo needs a base at or below 50%");
  assert.ok(byName("pairsum-base").accuracy < 0.8, "03 needs room for both methods to improve");
  assert.ok(byName("sortletters-teacher").accuracy >= 0.95, "04 needs an accurate teacher");
  assert.ok(byName("sortletters-student").accuracy <= 0.2, "04 needs a weak student");
  assert.ok(byName("sortletters-student").parameters * 5 < byName("sortletters-teacher").parameters, "the student is much smaller");
});

// The RESULT keys each notebook must print: one map, read by this test and by the headless runner
// (scripts/run_notebooks.py), which fails an executed notebook whose RESULT line lacks one of them.
const resultKeys = JSON.parse(fs.readFileSync(path.join(__dirname, "result-keys.json"), "utf8")) as { required: Record<string, string[]>; exempt: Record<string, string> };

test("tutorial notebooks are committed without outputs, on the cellrl kernel, ending with a RESULT line that names the required keys", () => {
  const all = fs.readdirSync(path.join(ROOT, "notebooks")).filter((f) => f.endsWith(".ipynb")).map((f) => f.replace(/\.ipynb$/, ""));
  // 00-hello is exempt: it is the kernel smoke test (backend, tensors, display, tables), not a tutorial, and ends
  // with "all checks passed" rather than a RESULT line. Every other notebook is a tutorial with required keys.
  assert.deepEqual(Object.keys(resultKeys.exempt), ["00-hello"], "only the smoke test is exempt from the RESULT line");
  for (const f of all)
    assert.ok(f in resultKeys.required || f in resultKeys.exempt, `${f}: add its RESULT keys to test/notebooks/result-keys.json ("required") or exempt it with a reason`);
  for (const f of Object.keys(resultKeys.required)) assert.ok(all.includes(f), `result-keys.json names ${f}, which is not in notebooks/`);
  const tutorials = all.filter((f) => !(f in resultKeys.exempt));
  assert.ok(tutorials.length >= 9, `expected the tutorials 01-09 (got ${tutorials.join(", ")})`);
  const mustHave: Record<string, string[]> = {
    "02-grpo": ["grpo_final_accuracy", "grpo_train_seconds"],
    "03-flowrl-vs-grpo": ["flowrl_distinct_correct", "grpo_distinct_correct", "flowrl_accuracy", "grpo_accuracy"],
    "04-gkd": ["gkd_gap_closed"],
    "05-r1-eval-analysis": ["eval_abs_diff_vs_upstream"],
  };
  for (const [f, keys] of Object.entries(mustHave))
    for (const k of keys) assert.ok(resultKeys.required[f]?.includes(k), `result-keys.json: ${f} must require ${k} (the tutorial issue asks for it)`);
  for (const f of tutorials) {
    const nb = JSON.parse(fs.readFileSync(path.join(ROOT, "notebooks", `${f}.ipynb`), "utf8"));
    assert.equal(nb.metadata.kernelspec.name, "cellrl", `${f}: kernel`);
    for (const c of nb.cells) assert.ok(typeof c.id === "string" && c.id.length > 0, `${f}: every cell has an id`);
    const code = nb.cells.filter((c: { cell_type: string }) => c.cell_type === "code");
    for (const c of code) {
      assert.deepEqual(c.outputs, [], `${f}: a code cell has outputs`);
      assert.equal(c.execution_count, null, `${f}: a code cell has an execution count`);
    }
    const last = code[code.length - 1].source.join("");
    assert.match(last, /console\.log\(("RESULT " \+ JSON\.stringify\(|`RESULT \$\{JSON\.stringify\()/, `${f}: the last cell prints RESULT {json}`);
    assert.match(last, /assert\./, `${f}: the last cell asserts its outcome`);
    for (const k of resultKeys.required[f])
      assert.match(last, new RegExp(`(^|[\\s{,])${k}\\s*:`, "m"), `${f}: the last cell's RESULT object has no key ${k} (test/notebooks/result-keys.json requires it)`);
  }
});
