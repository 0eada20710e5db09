// llama.cpp in process (remote.LlamaCppPolicy over node-llama-cpp), what it costs:
// 1. the shipped sort5-base exported with model.saveGguf: 32 prompts x 4 samples of 8 tokens, llama.cpp vs cellrl;
// 2. with CELLRL_BENCH_QWEN=1 (writes ~2 GB to the temp dir, minutes on a busy machine): a model with Qwen2.5-0.5B's
//    shapes (24 layers, hidden 896, 14/2 heads, MLP 4864, vocab 151,936, tied; random fp32 weights) on one thread:
//    load time, llama.cpp's own decode speed (native greedy), decode through LlamaCppPolicy (the whole 151,936-entry
//    distribution comes to JS every token), and scoring.
// Skipped (no entries) when node-llama-cpp is not installed. Run: [CELLRL_BENCH_QWEN=1] node --import tsx bench/llama-cpp.ts
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { useBackend } from "../lib/core/backend.js";
import { Rng } from "../lib/core/random.js";
import { loadCheckpoint } from "../lib/model/checkpoint.js";
import { llamaConfig } from "../lib/model/config.js";
import { generate } from "../lib/model/generate.js";
import { ggufMetadata, ggufName, ggufVocab, saveGguf } from "../lib/model/gguf.js";
import { writeGguf, type GgufTensorSource } from "../lib/model/gguf-format.js";
import { paramSpecs } from "../lib/model/llama.js";
import { records } from "../lib/tasks/registry.js";
import { LlamaCppPolicy } from "../lib/remote/llama-cpp-policy.js";
import type { LlamaCppSequence } from "../lib/remote/llama-cpp.js";

/** One benchmark measurement. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
}

const ROOT = path.join(__dirname, "..");
const installed = (() => {
  try {
    require.resolve("node-llama-cpp");
    return true;
  } catch {
    return false;
  }
})();

/** Qwen2.5-0.5B-Instruct's config.json sizes. */
const QWEN05 = {
  model_type: "qwen2",
  vocab_size: 151936,
  hidden_size: 896,
  intermediate_size: 4864,
  num_hidden_layers: 24,
  num_attention_heads: 14,
  num_key_value_heads: 2,
  max_position_embeddings: 32768,
  rope_theta: 1000000,
  rms_norm_eps: 1e-6,
  tie_word_embeddings: true,
};

/** Write a random-weight fp32 GGUF with a config's shapes (norm weights 1, others U(-0.05, 0.05)). */
function writeRandomGguf(file: string, cfgIn: Record<string, unknown>): void {
  const cfg = llamaConfig(cfgIn);
  const rng = new Rng(1);
  const tensors: GgufTensorSource[] = paramSpecs(cfg).map((s) => ({
    name: ggufName(s.name)!,
    dims: [...s.hfShape].reverse(),
    data: () => {
      const n = s.hfShape.reduce((a, b) => a * b, 1);
      const v = new Float32Array(n);
      if (s.init === "ones") v.fill(1);
      else for (let i = 0; i < n; i++) v[i] = (rng.nextU32() / 2 ** 32 - 0.5) * 0.1;
      return v;
    },
  }));
  const md = ggufMetadata(cfg, ggufVocab(null, cfg), "qwen2.5-0.5b-shapes-random");
  const fd = fs.openSync(file, "w");
  try {
    writeGguf(fd, md, tensors);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Tokens per second of LlamaCppPolicy on the shipped sort5-base (next to cellrl) and on Qwen2.5-0.5B shapes.
 * @example const rows = await benchLlamaCpp(); rows[0].name // "llamacpp_tokens_per_s/sort5-base-32x4"
 */
export async function benchLlamaCpp(): Promise<BenchResult[]> {
  if (!installed) return [];
  await useBackend();
  const out: BenchResult[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-bench-llamacpp-"));
  try {
    // 1. the shipped policy
    const ck = loadCheckpoint(path.join(ROOT, "datasets", "checkpoints", "sort5-base"), { trainable: false });
    const tok = ck.tokenizer!;
    const file = path.join(tmp, "sort5.gguf");
    saveGguf(file, ck.model, { tokenizer: tok });
    const policy = await LlamaCppPolicy.load(file, { tokenizer: tok, parallel: 4 });
    const prompts = records("sort", 32, { seed: 1, split: "test", length: 5, symbols: "digits" }).map((r) =>
      tok.encode(r.prompt[0].content),
    );
    const opts = { n: 4, maxNewTokens: 8, seed: 1, ignoreEos: true };
    await policy.generate(prompts.slice(0, 2), opts);
    let t = performance.now();
    const a = await policy.generate(prompts, opts);
    const llamaS = (performance.now() - t) / 1000;
    generate(ck.model, prompts.slice(0, 2), { ...opts, tokenizer: tok });
    t = performance.now();
    generate(ck.model, prompts, { ...opts, tokenizer: tok });
    const cellrlS = (performance.now() - t) / 1000;
    const toks = a.lengths.reduce((x, y) => x + y, 0);
    out.push(
      { name: "llamacpp_tokens_per_s/sort5-base-32x4", value: Math.round(toks / llamaS), unit: "tokens/s" },
      {
        name: "cellrl_tokens_per_s/sort5-base-32x4 (same samples)",
        value: Math.round(toks / cellrlS),
        unit: "tokens/s",
      },
    );
    await policy.dispose();
    ck.model.dispose();
    if (process.env.CELLRL_BENCH_QWEN !== "1") return out;
    // 2. Qwen2.5-0.5B shapes
    const big = path.join(tmp, "qwen05-shapes.gguf");
    writeRandomGguf(big, QWEN05);
    t = performance.now();
    const q = await LlamaCppPolicy.load(big, { contextSize: 256, threads: 1 });
    out.push({ name: "llamacpp_load_s/qwen2.5-0.5b-shapes-fp32", value: (performance.now() - t) / 1000, unit: "s" });
    const prompt = Array.from({ length: 32 }, (_, i) => 1000 + i);
    const steps = 8;
    await q.generate([prompt], { maxNewTokens: 1, ignoreEos: true, seed: 1 });
    t = performance.now();
    await q.generate([prompt], { maxNewTokens: steps + 1, ignoreEos: true, seed: 2 }); // prompt cached: steps forwards
    out.push({
      name: "llamacpp_decode_tokens_per_s/qwen2.5-0.5b-shapes-fp32, LlamaCppPolicy (full distribution)",
      value: steps / ((performance.now() - t) / 1000),
      unit: "tokens/s",
    });
    const seq = (q as unknown as { slots: { seq: LlamaCppSequence }[] }).slots[0].seq;
    t = performance.now();
    for (let i = 0; i < steps; i++)
      await seq.controlledEvaluate([[1500 + i, { generateNext: { token: true } } as never]]);
    out.push({
      name: "llamacpp_decode_tokens_per_s/qwen2.5-0.5b-shapes-fp32, native greedy (no distribution)",
      value: steps / ((performance.now() - t) / 1000),
      unit: "tokens/s",
    });
    const scored = Array.from({ length: 33 }, (_, i) => 2000 + i * 7);
    t = performance.now();
    await q.score({ ids: [scored] }, { entropy: false });
    out.push({
      name: "llamacpp_score_tokens_per_s/qwen2.5-0.5b-shapes-fp32, 32 positions",
      value: 32 / ((performance.now() - t) / 1000),
      unit: "tokens/s",
    });
    await q.dispose();
    const r1 = (x: number) => Math.round(x * 10) / 10;
    return out.map((e) => ({ ...e, value: r1(e.value) }));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export default benchLlamaCpp;

if (require.main === module) benchLlamaCpp().then((r) => console.log(JSON.stringify(r, null, 1)));
