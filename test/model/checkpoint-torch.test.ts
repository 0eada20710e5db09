// Interop with PyTorch: our checkpoints through an independent safetensors reader and a float64 torch Llama/Qwen2
// forward (test/model/fixtures/torch_llama_reference.py), and a torch-written HF checkpoint (bf16 shards) through
// loadCheckpoint. Skipped, with the reason, when /usr/bin/python3 has no torch (Debian: apt install python3-torch).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { seed } from "../../lib/core/random.js";
import { presets } from "../../lib/model/config.js";
import { LlamaModel } from "../../lib/model/llama.js";
import { loadCheckpoint, saveCheckpoint } from "../../lib/model/checkpoint.js";

const PY = process.env.CELLRL_TORCH_PYTHON ?? "/usr/bin/python3"; // override to test the skip path
const SCRIPT = path.join(__dirname, "fixtures", "torch_llama_reference.py");
const probe = fs.existsSync(PY)
  ? spawnSync(PY, ["-c", "import torch, numpy; print(torch.__version__)"], { encoding: "utf8" })
  : null;
const skip =
  probe?.status === 0
    ? false
    : `no PyTorch: ${PY} ${probe ? "cannot import torch/numpy" : "does not exist"} (install python3-torch to run the transformers-layout interop check)`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-torch-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));

// Left padding in row 0, so positions must come from the attention mask on both sides.
const inputs = {
  ids: [
    [0, 0, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 5, 6, 7],
  ],
  attention_mask: [
    [0, 0, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 1, 1],
  ],
};

function runTorch(mode: "forward" | "write", dir: string): number[][][] {
  const inp = path.join(tmp, `${mode}-in.json`);
  const out = path.join(tmp, `${mode}-out.json`);
  fs.writeFileSync(inp, JSON.stringify(inputs));
  const r = spawnSync(PY, [SCRIPT, mode, dir, inp, out], {
    encoding: "utf8",
    env: { ...process.env, OMP_NUM_THREADS: "1" },
  });
  assert.equal(r.status, 0, `torch reference failed: ${r.stderr}`);
  return JSON.parse(fs.readFileSync(out, "utf8")).logits;
}

/** Largest |ours - torch| over non-padding positions. */
function maxDiff(model: LlamaModel, ref: number[][][]): number {
  const logits = model.forward({ ids: inputs.ids, attentionMask: inputs.attention_mask }).logits;
  const ours = logits.arraySync() as number[][][];
  logits.dispose();
  let worst = 0;
  ours.forEach((row, b) =>
    row.forEach((v, t) => {
      if (inputs.attention_mask[b][t]) v.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - ref[b][t][i]))));
    }),
  );
  return worst;
}

for (const [label, cfg] of [
  ["qwen2 (q/k/v bias, GQA 4/2, untied)", { model_type: "qwen2" }],
  ["llama (tied head, rope_theta 10000)", { model_type: "llama", tie_word_embeddings: true }],
] as const) {
  test(`a ${label} checkpoint saved here gives the same logits in a torch reference forward`, { skip }, () => {
    seed(11);
    const m = new LlamaModel({ ...presets.micro, ...cfg, initializer_range: 0.2 });
    const dir = path.join(tmp, cfg.model_type);
    saveCheckpoint(dir, m);
    const diff = maxDiff(m, runTorch("forward", dir));
    assert.ok(diff < 1e-4, `max |logit diff| ${diff}`);
    m.dispose();
  });
}

test(
  "a Qwen2 checkpoint written by torch (bf16 shards, index, inv_freq buffers) loads here with matching logits",
  { skip },
  () => {
    const dir = path.join(tmp, "from-torch");
    const ref = runTorch("write", dir);
    const ck = loadCheckpoint(dir);
    assert.equal(ck.config.model_type, "qwen2");
    assert.equal(ck.config.tie_word_embeddings, false);
    const before = tf.memory().numTensors;
    const diff = maxDiff(ck.model, ref);
    assert.ok(diff < 1e-4, `max |logit diff| ${diff}`);
    assert.equal(tf.memory().numTensors, before);
    ck.model.dispose();
  },
);
