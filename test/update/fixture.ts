// A tiny procedural task for learning tests: the prompt "k:" asks for the digit k as the first response token.
import { Rng } from "../../lib/core/random.js";
import { LlamaModel } from "../../lib/model/llama.js";
import { generate } from "../../lib/model/generate.js";
import { CharTokenizer } from "../../lib/model/tokenizer-char.js";
import { LocalPolicy } from "../../lib/rollout/policy.js";
import type { Rollout } from "../../lib/rollout/rollout.js";

export const DIGITS = "01234";
export const tok = CharTokenizer.fromAlphabet(DIGITS + ":", { bos: null, unk: null });
export const PROMPTS = DIGITS.split("").map((d) => d + ":");
export const TARGETS = DIGITS.split("");

export function tinyModel(seed: number): LlamaModel {
  return new LlamaModel(
    {
      hidden_size: 32,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      intermediate_size: 64,
      vocab_size: tok.vocabSize,
      max_position_embeddings: 32,
    },
    { rng: new Rng(seed) },
  );
}

export function tinyPolicy(seed: number): LocalPolicy {
  return new LocalPolicy(tinyModel(seed), tok);
}

/** 1 when the first response character is the prompt's digit. */
export const digitReward = (ro: Rollout): number[] =>
  ro.responses.map((r, i) => (r[0] === ro.table.get("target", i) ? 1 : 0));

/** Greedy accuracy over the five prompts. */
export function greedyAccuracy(p: LocalPolicy): number {
  const out = generate(p.model, PROMPTS, { tokenizer: tok, temperature: 0, maxNewTokens: 1 });
  return out.text!.filter((t, i) => t[0] === TARGETS[i]).length / PROMPTS.length;
}
