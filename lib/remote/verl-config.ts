// A notebook's GRPO / FlowRL / GKD settings as a verl run: Hydra overrides, the same values as YAML, the command,
// and notes wherever verl cannot express what the notebook does. Key names are verl's (verl/trainer/config
// ppo_trainer.yaml and actor.yaml, verl-recipe flowrl and gkd/megatron), as quoted in shared/reference/algorithms.md
// §3–§5 and peers.md §1; test/remote/verl.test.ts checks every emitted key against those files.
import { describe, fail } from "../core/errors.js";
import { checkIntAtLeast, checkNonEmptyString } from "../core/checks.js";
import type { GkdStepOptions } from "../distill/gkd-step.js";
import type { AdamWOptions } from "../model/optim.js";
import type { FlowrlStepOptions } from "../update/flowrl/flowrl-step.js";
import type { GrpoStepOptions } from "../update/grpo-step.js";
import { grpoStepDefaults } from "../update/grpo-step.js";
import { flowrlDefaults } from "../update/flowrl/flowrl-loss.js";
import { distillDefaults } from "../distill/distill-loss.js";
import { hydraValue, shellArg, toYaml, type VerlValue } from "./verl-format.js";

/** Which verl trainer a config is for. */
export type VerlAlgorithm = "grpo" | "flowrl" | "gkd";

/** What verlConfig needs: the notebook's step and optimizer options plus what only a cluster run has. */
export interface VerlSettings {
  /** "grpo" (verl.trainer.main_ppo), "flowrl" (verl-recipe flowrl) or "gkd" (verl-recipe gkd/megatron). */
  algorithm: VerlAlgorithm;
  /** The model to train: a HF id or a path (actor_rollout_ref.model.path). */
  model: string;
  /** Training parquet (data.train_files), e.g. written by remote.writeVerlDataset. */
  trainFiles: string;
  /** Validation parquet (data.val_files). Defaults to trainFiles. */
  valFiles?: string;
  /**
   * The options the notebook passes to update.grpoStep / update.flowrlStep / distill.gkdStep. Defaults to their
   * defaults.
   */
  step?: GrpoStepOptions | FlowrlStepOptions | GkdStepOptions;
  /**
   * The notebook's model.AdamW options (lr, weightDecay, clipGradNorm, schedule). Defaults to verl's optimizer
   * defaults.
   */
  optimizer?: AdamWOptions;
  /** Prompts per step (data.train_batch_size). */
  batchSize: number;
  /** data.max_prompt_length. Defaults to 512. */
  maxPromptLength?: number;
  /** data.max_response_length. Defaults to step.sampling.maxNewTokens, else 512. */
  maxResponseLength?: number;
  /** trainer.total_epochs. Defaults to 1. */
  epochs?: number;
  /** trainer.total_training_steps (overrides epochs). Defaults to none. */
  totalSteps?: number;
  /** trainer.n_gpus_per_node. Defaults to 8. */
  gpusPerNode?: number;
  /** trainer.nnodes. Defaults to 1. */
  nodes?: number;
  /**
   * Sequences per GPU per forward (actor ppo_micro_batch_size_per_gpu / GKD micro_batch_size). Defaults to
   * step.microBatch, else 4.
   */
  microBatchPerGpu?: number;
  /**
   * custom_reward_function.{path, name} for data sources verl does not know. Defaults to none (verl's
   * default_compute_score);
   * remote.exportVerlRun sets it to its cellrl_reward.py when the data has cellrl/* task sources.
   */
  rewardFunction?: { path: string; name?: string } | null;
  /** GKD: the teacher server (actor_rollout_ref.teacher.server_ip / server_port / n_server_workers). */
  teacher?: { ip?: string; port?: number; workers?: number };
  /** trainer.project_name. Defaults to "cellrl". */
  project?: string;
  /** trainer.experiment_name. Defaults to the algorithm's name. */
  experiment?: string;
  /** More overrides, appended last (they win). Defaults to {}. */
  extra?: Record<string, VerlValue>;
}

/** A verl run, three ways: override list, YAML, command line; plus what does not carry over. */
export interface VerlConfig {
  algorithm: VerlAlgorithm;
  /** The Python module to run (`python3 -m <entry>`). */
  entry: string;
  /** Hydra config the recipe starts from (its defaults come first in the YAML). */
  baseConfig: string;
  /** key → value, in emission order; "+key" adds a key the base config lacks. */
  values: Record<string, VerlValue>;
  /** "key=value" Hydra overrides. */
  overrides: string[];
  /** The overrides as one shell command (from the verl repository root). */
  command: string;
  /** The same values as a Hydra config file that starts from the base config. */
  yaml: string;
  /** Where verl differs from the notebook, and what to check by hand. */
  notes: string[];
}

/**
 * Defaults of verlConfig.
 * @example remote.verlConfigDefaults.gpusPerNode // 8
 */
export const verlConfigDefaults = {
  maxPromptLength: 512,
  maxResponseLength: 512,
  epochs: 1,
  gpusPerNode: 8,
  nodes: 1,
  microBatchPerGpu: 4,
  project: "cellrl",
};

const ENTRY: Record<VerlAlgorithm, { entry: string; base: string; searchpath: string[] }> = {
  grpo: { entry: "verl.trainer.main_ppo", base: "ppo_trainer", searchpath: ["pkg://verl.trainer.config"] },
  // verl-recipe checked out as verl's recipe/ submodule (the r1 / flowrl / gkd imports are `from recipe...`)
  flowrl: {
    entry: "recipe.flowrl.main_flowrl",
    base: "flowrl_trainer",
    searchpath: ["file://recipe/flowrl/config", "pkg://verl.trainer.config"],
  },
  gkd: {
    entry: "recipe.gkd.megatron.main_gkd",
    base: "on_policy_distill_trainer",
    searchpath: ["file://recipe/gkd/megatron/config", "pkg://verl.trainer.config"],
  },
};

const ADV: Record<string, string> = {
  grpo: "grpo",
  "dr-grpo": "grpo",
  rloo: "rloo",
  "reinforce-pp": "reinforce_plus_plus",
  "reinforce-pp-baseline": "reinforce_plus_plus_baseline",
  // verl's reinforce_plus_plus is the per-token form (reward at the last token, discounted by algorithm.gamma)
  "reinforce-pp-token": "reinforce_plus_plus",
  // verl's trainer samples the greedy baseline itself when adv_estimator is remax
  remax: "remax",
};
const LOSS: Record<string, string> = { "ppo-clip": "vanilla", gspo: "gspo", cispo: "cispo", pg: "gpg" };
const KL: Record<string, string> = { k1: "kl", abs: "abs", k2: "mse", k3: "low_var_kl", "k3+": "k3+" };
const AGG = ["token-mean", "seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm"];
const DISTILL: Record<string, string> = { "forward-kl": "kl", "reverse-kl": "rkl", jsd: "jsd" };
// keys verl declares as floats: written "1.0", not "1", so typed configs read a float
const FLOAT_KEYS = new Set([
  "lr",
  "weight_decay",
  "grad_clip",
  "clip_grad",
  "temperature",
  "top_p",
  "clip_ratio_low",
  "clip_ratio_high",
  "clip_ratio_c",
  "entropy_coeff",
  "kl_loss_coef",
  "kl_coef",
  "beta",
]);
const isFloat = (key: string) => FLOAT_KEYS.has(key.slice(key.lastIndexOf(".") + 1));

function named(
  where: string,
  field: string,
  v: unknown,
  table: Record<string, string> | string[],
  what: string,
): string {
  const known = Array.isArray(table) ? table : Object.keys(table);
  if (typeof v !== "string")
    fail(
      "invalid_option",
      `${where}: step.${field} is a function (got ${describe(v)}); verl cannot run a notebook function. Use ` +
        `one of ${known.join(", ")}, or port your ${what} to verl and pass it through settings.extra.`,
      { path: ["step", field] },
      verlConfig,
    );
  if (!known.includes(v as string))
    fail(
      "invalid_option",
      `${where}: step.${field} "${v}" has no verl equivalent (expected one of ${known.join(", ")}). Port it ` +
        `to verl, then pass the verl name through settings.extra.`,
      { path: ["step", field] },
      verlConfig,
    );
  return Array.isArray(table) ? (v as string) : table[v as string];
}

function posInt(where: string, field: string, v: unknown): number {
  checkIntAtLeast({ where, from: verlConfig }, `settings.${field}`, v, 1, undefined, [field]);
  return v;
}

/**
 * The verl run equivalent to a notebook's GRPO / FlowRL / GKD step: overrides, YAML, command and notes.
 * @example
 * const cfg = remote.verlConfig({algorithm: "grpo", model: "Qwen/Qwen2.5-0.5B-Instruct",
 *   trainFiles: "data/train.parquet", batchSize: 64, step: {n: 8, clip: [0.2, 0.28]}, optimizer: {lr: 1e-6}})
 * console.log(cfg.command)
 */
export function verlConfig(settings: VerlSettings): VerlConfig {
  const where = "remote.verlConfig";
  if (!settings || typeof settings !== "object")
    fail(
      "invalid_input",
      `${where}: settings must be an object {algorithm, model, trainFiles, batchSize, step?, optimizer?} ` +
        `(got ${describe(settings)}).`,
      {},
      verlConfig,
    );
  const alg = settings.algorithm;
  if (!(alg in ENTRY))
    fail(
      "invalid_option",
      `${where}: settings.algorithm must be "grpo", "flowrl" or "gkd" (got ${describe(alg)}).`,
      { path: ["algorithm"] },
      verlConfig,
    );
  for (const k of ["model", "trainFiles"] as const)
    checkNonEmptyString({ where, from: verlConfig }, `settings.${k}`, settings[k], undefined, [k]);
  const batch = posInt(where, "batchSize", settings.batchSize);
  const step = (settings.step ?? {}) as GrpoStepOptions & FlowrlStepOptions & GkdStepOptions;
  const opt = settings.optimizer ?? {};
  const sampling = (step.sampling ?? {}) as {
    temperature?: number;
    topP?: number;
    topK?: number;
    maxNewTokens?: number;
    minP?: number;
  };
  const d = verlConfigDefaults;
  const notes: string[] = [];
  const v: Record<string, VerlValue> = {};
  const micro = posInt(where, "microBatchPerGpu", settings.microBatchPerGpu ?? step.microBatch ?? d.microBatchPerGpu);

  // data
  v["data.train_files"] = settings.trainFiles;
  v["data.val_files"] = settings.valFiles ?? settings.trainFiles;
  if (settings.valFiles === undefined)
    notes.push("data.val_files is the training file (no valFiles given); point it at a held-out parquet.");
  v["data.prompt_key"] = "prompt"; // recipe gkd defaults to "question" (algorithms.md §4.10); be explicit everywhere
  v["data.train_batch_size"] = batch;
  v["data.max_prompt_length"] = posInt(where, "maxPromptLength", settings.maxPromptLength ?? d.maxPromptLength);
  v["data.max_response_length"] = posInt(
    where,
    "maxResponseLength",
    settings.maxResponseLength ?? sampling.maxNewTokens ?? d.maxResponseLength,
  );
  v["actor_rollout_ref.model.path"] = settings.model;

  // optimizer (FSDP actor for GRPO / FlowRL, Megatron for GKD: clip_grad lives under optim there)
  const lr = opt.lr ?? 1e-6;
  if (!(lr > 0))
    fail(
      "invalid_option",
      `${where}: optimizer.lr must be > 0 (got ${describe(lr)}).`,
      { path: ["optimizer", "lr"] },
      verlConfig,
    );
  if (opt.lr === undefined) notes.push("optimizer.lr not given: using verl's 1e-6.");
  else if (lr > 1e-4)
    notes.push(
      `optimizer.lr = ${lr} suits a tiny model trained from scratch; fine-tuning an LLM with verl usually uses ~1e-6.`,
    );
  v["actor_rollout_ref.actor.optim.lr"] = lr;
  v["actor_rollout_ref.actor.optim.weight_decay"] = opt.weightDecay ?? 0.01;
  const sched = opt.schedule;
  if (sched && typeof sched === "object") {
    const s = sched as { type?: string; warmupSteps?: number };
    if (s.warmupSteps) v["actor_rollout_ref.actor.optim.lr_warmup_steps"] = s.warmupSteps;
    if (s.type && s.type !== "constant")
      notes.push(
        `optimizer.schedule "${s.type}": set verl's LR scheduler by hand (FSDP optim: lr_scheduler_type, ` +
          `older verl: warmup_style; Megatron: lr_decay_style).`,
      );
  } else if (typeof sched === "string" && sched !== "constant")
    notes.push(
      `optimizer.schedule "${sched}": set verl's LR scheduler by hand (FSDP optim: lr_scheduler_type; ` +
        `Megatron: lr_decay_style).`,
    );
  else if (typeof sched === "function")
    notes.push("optimizer.schedule is a function: verl cannot run it; pick the closest verl scheduler by hand.");
  const clipNorm = opt.clipGradNorm === undefined ? 1 : opt.clipGradNorm;
  if (clipNorm === null)
    notes.push("optimizer.clipGradNorm is null (no clipping); verl always clips, so a large value is written.");
  if (alg === "gkd") v["actor_rollout_ref.actor.optim.clip_grad"] = clipNorm ?? 1e9;
  else v["actor_rollout_ref.actor.grad_clip"] = clipNorm ?? 1e9;

  // rollout
  v["actor_rollout_ref.rollout.name"] = "vllm";
  v["actor_rollout_ref.rollout.temperature"] = sampling.temperature ?? 1;
  v["actor_rollout_ref.rollout.top_p"] = sampling.topP ?? 1;
  v["actor_rollout_ref.rollout.top_k"] = sampling.topK && sampling.topK > 0 ? sampling.topK : -1;
  if (sampling.minP) notes.push(`sampling.minP = ${sampling.minP}: verl's rollout config has no min_p; it is dropped.`);

  if (alg === "grpo" || alg === "flowrl") {
    const n = posInt(where, "step.n", step.n ?? grpoStepDefaults.n);
    v["actor_rollout_ref.rollout.n"] = n;
    v["actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu"] = micro;
    v["algorithm.adv_estimator"] =
      alg === "flowrl"
        ? "grpo"
        : named(where, "advantage", step.advantage ?? grpoStepDefaults.advantage, ADV, "advantage estimator");
    v["algorithm.norm_adv_by_std_in_grpo"] = alg === "grpo" && step.advantage === "dr-grpo" ? false : true;
    const ao = (step.advantageOptions ?? {}) as {
      std?: string;
      eps?: number;
      scale?: string;
      aggregate?: string;
      gamma?: number;
    };
    if (step.advantage === "reinforce-pp-token" && ao.gamma !== undefined) v["algorithm.gamma"] = ao.gamma;
    if (ao.std === "population")
      notes.push('advantageOptions.std = "population": verl\'s grpo always divides by the unbiased std.');
    if (ao.eps !== undefined && ao.eps !== 1e-6)
      notes.push(`advantageOptions.eps = ${ao.eps}: verl's grpo adds 1e-6 (fixed).`);
    if (ao.scale === "batch") notes.push('advantageOptions.scale = "batch": verl\'s grpo has no batch-std option.');
    if (ao.aggregate === "normalize-then-sum")
      notes.push('advantageOptions.aggregate = "normalize-then-sum" (GDPO): verl\'s core grpo sums rewards first.');
    // mini-batches: cellrl counts sequences, verl counts prompts (it multiplies by rollout.n)
    const mbSeq = step.miniBatchSize ?? batch * n;
    if (!Number.isInteger(mbSeq / n) || mbSeq < n)
      fail(
        "invalid_option",
        `${where}: step.miniBatchSize = ${mbSeq} sequences is not a whole number of prompts (n = ${n}); ` +
          `verl's ppo_mini_batch_size counts prompts. Use a multiple of n.`,
        { path: ["step", "miniBatchSize"] },
        verlConfig,
      );
    v["actor_rollout_ref.actor.ppo_mini_batch_size"] = mbSeq / n;
    v["actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu"] = micro;
    v["actor_rollout_ref.actor.ppo_epochs"] = posInt(where, "step.epochs", step.epochs ?? grpoStepDefaults.epochs);
    const kl = alg === "grpo" ? (step.kl ?? null) : null;
    if (alg === "grpo") {
      const loss = named(where, "loss", step.loss ?? grpoStepDefaults.loss, LOSS, "policy loss");
      v["actor_rollout_ref.actor.policy_loss.loss_mode"] = loss;
      const clip = step.clip ?? grpoStepDefaults.clip;
      const [lo, hi] = typeof clip === "number" ? [clip, clip] : clip;
      v["actor_rollout_ref.actor.clip_ratio_low"] = lo;
      v["actor_rollout_ref.actor.clip_ratio_high"] = hi;
      const c = step.clipC === undefined ? grpoStepDefaults.clipC : step.clipC;
      if (c === null)
        notes.push("step.clipC = null (no dual clip): verl always applies clip_ratio_c, so a large value is written.");
      v["actor_rollout_ref.actor.clip_ratio_c"] = c ?? 1e9;
      v["actor_rollout_ref.actor.loss_agg_mode"] = named(
        where,
        "agg",
        step.agg ?? grpoStepDefaults.agg,
        AGG,
        "loss aggregation",
      );
      v["actor_rollout_ref.actor.entropy_coeff"] = step.entropyCoef ?? grpoStepDefaults.entropyCoef;
      if (step.oldLogp === "rollout")
        notes.push(
          'step.oldLogp = "rollout": verl always recomputes old logprobs with the actor (its ' +
            "rollout-correction options are the closest).",
        );
    } else {
      // FlowRL (verl-recipe HEAD): the loss is the trajectory-balance term only; use_kl_loss makes verl compute ref
      // logprobs
      v["actor_rollout_ref.actor.proj_layer"] = 3;
      const beta = (step as FlowrlStepOptions).beta ?? flowrlDefaults.beta;
      if (beta !== 15)
        notes.push(
          `step.beta = ${beta}: the verl FlowRL recipe hard-codes beta = 15 (flowrl_beta_coef in ` +
            `flowrl_actor.py); edit it there.`,
        );
      const w = (step as FlowrlStepOptions).weight ?? flowrlDefaults.weight;
      if (w !== "cap")
        notes.push(
          `step.weight = "${w}": verl-recipe HEAD caps the importance weight (min(w, 10), "cap"); "${w}" is ` +
            `another FlowRL version (algorithms.md §3.3) and needs a code change.`,
        );
      const cap = (step as FlowrlStepOptions).cap ?? flowrlDefaults.cap;
      if (w === "cap" && cap !== 10) notes.push(`step.cap = ${cap}: verl-recipe HEAD caps at 10 (fixed in code).`);
    }
    const klIn = kl ? (kl.in ?? "loss") : null;
    v["actor_rollout_ref.actor.use_kl_loss"] = alg === "flowrl" || klIn === "loss";
    v["actor_rollout_ref.actor.kl_loss_coef"] = alg === "flowrl" ? 0 : klIn === "loss" ? (kl!.beta ?? 0.001) : 0.001;
    v["actor_rollout_ref.actor.kl_loss_type"] =
      klIn === "loss" ? named(where, "kl.estimator", kl!.estimator ?? "k3", KL, "KL estimator") : "low_var_kl";
    v["algorithm.use_kl_in_reward"] = klIn === "reward";
    if (klIn === "reward") {
      v["algorithm.kl_penalty"] = named(where, "kl.estimator", kl!.estimator ?? "k3", KL, "KL estimator");
      v["algorithm.kl_ctrl.type"] = "fixed";
      v["algorithm.kl_ctrl.kl_coef"] = kl!.beta ?? 0.001;
    }
    if (klIn !== null || alg === "flowrl") v["actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu"] = micro;
  } else {
    // GKD (verl-recipe gkd/megatron): one response per prompt, teacher top-k from a separate server
    const g = step as GkdStepOptions;
    const lambda = g.lambda ?? 1;
    if (lambda !== 1)
      notes.push(
        `step.lambda = ${lambda}: the verl GKD recipe is fully on-policy (lambda = 1); the off-policy share ` +
          `has no equivalent.`,
      );
    const div = named(where, "divergence", g.divergence ?? distillDefaults.divergence, DISTILL, "divergence");
    v["+actor_rollout_ref.actor.distill_loss.name"] = div;
    if (div === "jsd") v["+actor_rollout_ref.actor.distill_loss.beta"] = g.beta ?? distillDefaults.beta;
    if ((g.temperature ?? 1) !== 1)
      notes.push(
        `step.temperature = ${g.temperature}: the verl GKD losses use the raw teacher and student ` +
          `distributions (temperature 1).`,
      );
    if (g.renormalize && div !== "rkl")
      notes.push(
        "step.renormalize = true: verl renormalises on the top-k set only for rkl; kl and jsd keep the raw top-k mass.",
      );
    if (!g.renormalize && div === "rkl")
      notes.push("step.renormalize = false: verl's rkl always renormalises on the top-k set.");
    const K = g.topK ?? 0;
    notes.push(
      `The teacher's top-k is set when starting its server, not in this config: teacher/start_server.sh ` +
        `--n-logprobs ${K > 0 ? K : 256} (verl's default 256; the ` +
        `notebook ${K > 0 ? `used ${K}` : "used full distributions"}).`,
    );
    notes.push(
      "The recipe overlaps steps (trainer.scheduler one_step_off: the batch is generated with the previous " +
        "weights); cellrl's gkdStep is synchronous.",
    );
    v["actor_rollout_ref.actor.micro_batch_size"] = micro;
    const t = settings.teacher ?? {};
    v["actor_rollout_ref.teacher.server_ip"] = t.ip ?? "localhost";
    v["actor_rollout_ref.teacher.server_port"] = t.port ?? 15555;
    v["actor_rollout_ref.teacher.n_server_workers"] = t.workers ?? 1;
    v["trainer.scheduler"] = "one_step_off";
    v["rollout.nnodes"] = 1;
    v["rollout.n_gpus_per_node"] = posInt(where, "gpusPerNode", settings.gpusPerNode ?? d.gpusPerNode);
    notes.push(
      "GKD splits GPUs between the actor (trainer.*) and rollout (rollout.*) pools; set both to your hardware.",
    );
  }

  if (settings.rewardFunction && alg !== "gkd") {
    if (typeof settings.rewardFunction.path !== "string")
      fail(
        "invalid_option",
        `${where}: settings.rewardFunction.path must be a path to a .py file ` +
          `(got ${describe(settings.rewardFunction.path)}).`,
        { path: ["rewardFunction", "path"] },
        verlConfig,
      );
    v["custom_reward_function.path"] = settings.rewardFunction.path;
    v["custom_reward_function.name"] = settings.rewardFunction.name ?? "compute_score";
  } else if (alg !== "gkd")
    notes.push(
      "No rewardFunction: verl scores with default_compute_score, which knows its own data_source names " +
        "(openai/gsm8k, lighteval/MATH, ...); other sources need custom_reward_function.path " +
        "(remote.exportVerlRun writes cellrl_reward.py for cellrl/* task sources).",
    );

  // trainer
  v["trainer.total_epochs"] = posInt(where, "epochs", settings.epochs ?? d.epochs);
  if (settings.totalSteps !== undefined)
    v["trainer.total_training_steps"] = posInt(where, "totalSteps", settings.totalSteps);
  v["trainer.nnodes"] = posInt(where, "nodes", settings.nodes ?? d.nodes);
  v["trainer.n_gpus_per_node"] = posInt(where, "gpusPerNode", settings.gpusPerNode ?? d.gpusPerNode);
  v["trainer.project_name"] = settings.project ?? d.project;
  v["trainer.experiment_name"] = settings.experiment ?? alg;
  v["trainer.logger"] = ["console"];
  for (const [k, x] of Object.entries(settings.extra ?? {})) {
    delete v[k.replace(/^\+/, "")];
    v[k] = x;
  }

  const e = ENTRY[alg];
  const overrides = Object.entries(v).map(([k, x]) => `${k}=${hydraValue(x, isFloat(k))}`);
  const command = [`python3 -m ${e.entry}`, ...overrides.map(shellArg)].join(" \\\n    ");
  const yaml =
    `# verl ${alg} config written by cellrl (remote.verlConfig). From the verl repository root:\n` +
    `#   python3 -m ${e.entry} --config-path="$PWD/<this file's directory>" --config-name=<this file's name ` +
    `without .yaml>\n` +
    notes.map((n) => `# NOTE: ${n}\n`).join("") +
    `hydra:\n  searchpath:\n${e.searchpath.map((p) => `    - ${p}\n`).join("")}defaults:\n  - ${e.base}\n  - _self_\n` +
    toYaml(v, { isFloat });
  return { algorithm: alg, entry: e.entry, baseConfig: e.base, values: v, overrides, command, yaml, notes };
}
