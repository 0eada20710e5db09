// verl export / import: every config key is verl's (checked against the names quoted in shared/reference), the values
// follow the notebook's options, datasets round-trip through parquet, and verl's generation outputs and rollout dumps
// (built here from a real generation set) come back as the same records.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readJsonl, writeJsonl } from "../../lib/data/jsonl.js";
import { readParquet, writeParquet } from "../../lib/data/parquet.js";
import { record } from "../../lib/data/record.js";
import { arith } from "../../lib/tasks/arith.js";
import { runCli } from "../../lib/cli/main.js";
import { verlConfig, type VerlSettings } from "../../lib/remote/verl-config.js";
import { writeVerlDataset } from "../../lib/remote/verl-dataset.js";
import { exportVerlRun } from "../../lib/remote/verl-export.js";
import { verlNumber, hydraValue, shellArg, toYaml } from "../../lib/remote/verl-format.js";
import { readVerlOutputs } from "../../lib/remote/verl-import.js";
import { needsShared, shared } from "../support/shared-data.js";

const ROOT = path.join(__dirname, "..", "..");
// The reference notes that quote verl's config are not in the repo; the key check reads them when they are there.
const needsReference = needsShared("reference", "not shipped: the team's reference notes");
const refLines = needsReference.skip
  ? []
  : fs
      .readdirSync(shared("reference"))
      .filter((f) => f.endsWith(".md"))
      .flatMap((f) => fs.readFileSync(path.join(shared("reference"), f), "utf8").split("\n"));

// key -> substrings that must appear together on one line of the reference (the section and the leaf as verl spells it)
const EVIDENCE: Record<string, string[]> = {
  "data.train_files": ["| data |", "`train_files="],
  "data.val_files": ["| data |", "`val_files="],
  "data.prompt_key": ["| data |", "`prompt_key="],
  "data.train_batch_size": ["| data |", "`train_batch_size="],
  "data.max_prompt_length": ["| data |", "`max_prompt_length="],
  "data.max_response_length": ["| data |", "`max_response_length="],
  "actor_rollout_ref.model.path": ["| .model |", "`path`"],
  "actor_rollout_ref.actor.optim.lr": ["| .actor.optim |", "`lr="],
  "actor_rollout_ref.actor.optim.weight_decay": ["| .actor.optim |", "`weight_decay="],
  "actor_rollout_ref.actor.optim.lr_warmup_steps": ["| .actor.optim |", "`lr_warmup_steps="],
  "actor_rollout_ref.actor.optim.clip_grad": ["| .actor.optim |", "`clip_grad="],
  "actor_rollout_ref.rollout.name": ["| .rollout |", "`name=vllm`"],
  "actor_rollout_ref.rollout.temperature": ["| .rollout |", "`temperature="],
  "actor_rollout_ref.rollout.top_p": ["| .rollout |", "`top_p="],
  "actor_rollout_ref.rollout.top_k": ["| .rollout |", "`top_k="],
  "actor_rollout_ref.rollout.n": ["`rollout.n`=1"],
  "algorithm.adv_estimator": ["`algorithm.adv_estimator="],
  "algorithm.norm_adv_by_std_in_grpo": ["`algorithm`:", "`norm_adv_by_std_in_grpo="],
  "algorithm.use_kl_in_reward": ["`algorithm`:", "`use_kl_in_reward="],
  "algorithm.kl_penalty": ["`algorithm`:", "`kl_penalty="],
  "algorithm.kl_ctrl.type": ["`algorithm.kl_ctrl.type"],
  "algorithm.kl_ctrl.kl_coef": ["`algorithm`:", "`kl_ctrl={type fixed, kl_coef"],
  "actor_rollout_ref.actor.ppo_mini_batch_size": ["`actor`:", "`ppo_mini_batch_size="],
  "actor_rollout_ref.actor.ppo_epochs": ["`actor`:", "`ppo_epochs="],
  "actor_rollout_ref.actor.policy_loss.loss_mode": ["`actor.policy_loss.loss_mode`"],
  "actor_rollout_ref.actor.clip_ratio_low": ["`actor`:", "`clip_ratio_low="],
  "actor_rollout_ref.actor.clip_ratio_high": ["`actor`:", "`clip_ratio_high="],
  "actor_rollout_ref.actor.clip_ratio_c": ["`actor`:", "`clip_ratio_c="],
  "actor_rollout_ref.actor.loss_agg_mode": ["`actor`:", "`loss_agg_mode="],
  "actor_rollout_ref.actor.entropy_coeff": ["`actor`:", "`entropy_coeff="],
  "actor_rollout_ref.actor.use_kl_loss": ["`actor`:", "`use_kl_loss="],
  "actor_rollout_ref.actor.kl_loss_coef": ["`actor`:", "`kl_loss_coef="],
  "actor_rollout_ref.actor.kl_loss_type": ["`actor`:", "`kl_loss_type="],
  "actor_rollout_ref.actor.proj_layer": ["`actor.proj_layer`"],
  "+actor_rollout_ref.actor.distill_loss.name": ["`+actor_rollout_ref.actor.distill_loss.name="],
  "+actor_rollout_ref.actor.distill_loss.beta": ["`actor_rollout_ref.actor.distill_loss.{name, rkl_ratio, beta}`"],
  "actor_rollout_ref.actor.micro_batch_size": ["| .actor |", "`micro_batch_size="],
  "actor_rollout_ref.teacher.server_ip": ["| .teacher |", "`server_ip="],
  "actor_rollout_ref.teacher.server_port": ["| .teacher |", "`server_port="],
  "actor_rollout_ref.teacher.n_server_workers": ["| .teacher |", "`n_server_workers="],
  "trainer.scheduler": ["| trainer |", "`scheduler="],
  "rollout.nnodes": ["| rollout (resource pool) |", "`nnodes="],
  "rollout.n_gpus_per_node": ["| rollout (resource pool) |", "`n_gpus_per_node="],
  "custom_reward_function.path": ["`custom_reward_function.path`"],
  "custom_reward_function.name": ["`custom_reward_function.name`"],
  "trainer.total_epochs": ["| trainer |", "`total_epochs="],
  "trainer.total_training_steps": ["| trainer |", "`total_training_steps="],
  "trainer.nnodes": ["| trainer |", "`nnodes="],
  "trainer.n_gpus_per_node": ["| trainer |", "`n_gpus_per_node="],
  "trainer.project_name": ["| trainer |", "`project_name="],
  "trainer.experiment_name": ["| trainer |", "`experiment_name="],
  "trainer.logger": ["| trainer |", "`logger="],
};
// verl names the reference does not quote (FSDP actor / rollout / ref micro-batches and the FSDP grad clip; the
// reference quotes Megatron's optim.clip_grad and micro_batch_size). Kept short on purpose.
const UNQUOTED = new Set([
  "actor_rollout_ref.actor.grad_clip",
  "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu",
  "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu",
  "actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu",
]);

const base = { model: "Qwen/Qwen2.5-0.5B-Instruct", trainFiles: "train.parquet", batchSize: 32 };
/** Configs that between them emit every key the exporter can write. */
const everyKey = (): VerlSettings[] => [
  {
    ...base,
    algorithm: "grpo",
    step: {
      n: 8,
      kl: { beta: 0.01, estimator: "k3" },
      sampling: { temperature: 0.7, topP: 0.95, topK: 20, maxNewTokens: 256 },
    },
    optimizer: { lr: 1e-6, schedule: { type: "cosine", warmupSteps: 10 } },
    totalSteps: 100,
    rewardFunction: { path: "reward.py" },
  },
  { ...base, algorithm: "grpo", step: { advantage: "dr-grpo", kl: { beta: 0.02, estimator: "k1", in: "reward" } } },
  { ...base, algorithm: "flowrl", step: { n: 8, beta: 15 } },
  {
    ...base,
    algorithm: "gkd",
    step: { divergence: "jsd", beta: 0.3, topK: 16 },
    teacher: { ip: "10.0.0.2", port: 15555, workers: 2 },
  },
];

test(
  "every emitted key is a verl name quoted in shared/reference (the section and the leaf on one line)",
  needsReference,
  () => {
    assert.ok(refLines.length > 0, "the reference folder has .md files");
    const keys = new Set(everyKey().flatMap((s) => Object.keys(verlConfig(s).values)));
    const unknown = [...keys].filter((k) => !(k in EVIDENCE) && !UNQUOTED.has(k));
    assert.deepEqual(unknown, [], "keys without evidence");
    for (const k of keys) {
      if (UNQUOTED.has(k)) continue;
      const ev = EVIDENCE[k];
      const leaf = k.slice(k.lastIndexOf(".") + 1);
      assert.ok(
        ev.some((s) => s.includes(leaf)),
        `evidence of ${k} names its leaf`,
      );
      assert.ok(
        refLines.some((line) => ev.every((s) => line.includes(s))),
        `${k}: no reference line contains ${JSON.stringify(ev)}`,
      );
    }
    // the unquoted ones really are unquoted (so the list stays honest) and few
    assert.ok(UNQUOTED.size <= 4);
    for (const k of UNQUOTED)
      assert.ok(
        !refLines.some((l) => l.includes(k.slice(k.lastIndexOf(".") + 1) + "=")),
        `${k} is quoted after all; move it to EVIDENCE`,
      );
    assert.ok(keys.size >= 45, `covers ${keys.size} keys`);
  },
);

test("GRPO: the notebook's options map to verl's values (mini-batches in prompts, clip-higher, KL in the loss)", () => {
  const c = verlConfig({
    ...base,
    algorithm: "grpo",
    step: {
      n: 8,
      clip: [0.2, 0.28],
      miniBatchSize: 64,
      epochs: 2,
      agg: "seq-mean-token-mean",
      loss: "gspo",
      entropyCoef: 0.001,
      kl: { beta: 0.04 },
    },
    optimizer: { lr: 2e-6, weightDecay: 0.1, clipGradNorm: 0.5 },
  });
  const v = c.values;
  assert.equal(c.entry, "verl.trainer.main_ppo");
  assert.equal(v["algorithm.adv_estimator"], "grpo");
  assert.equal(v["algorithm.norm_adv_by_std_in_grpo"], true);
  assert.equal(v["actor_rollout_ref.rollout.n"], 8);
  assert.equal(v["actor_rollout_ref.actor.ppo_mini_batch_size"], 8); // 64 sequences / n = 8 prompts
  assert.equal(v["actor_rollout_ref.actor.ppo_epochs"], 2);
  assert.equal(v["actor_rollout_ref.actor.clip_ratio_low"], 0.2);
  assert.equal(v["actor_rollout_ref.actor.clip_ratio_high"], 0.28);
  assert.equal(v["actor_rollout_ref.actor.clip_ratio_c"], 3);
  assert.equal(v["actor_rollout_ref.actor.loss_agg_mode"], "seq-mean-token-mean");
  assert.equal(v["actor_rollout_ref.actor.policy_loss.loss_mode"], "gspo");
  assert.equal(v["actor_rollout_ref.actor.entropy_coeff"], 0.001);
  assert.equal(v["actor_rollout_ref.actor.use_kl_loss"], true);
  assert.equal(v["actor_rollout_ref.actor.kl_loss_coef"], 0.04);
  assert.equal(v["actor_rollout_ref.actor.kl_loss_type"], "low_var_kl");
  assert.equal(v["algorithm.use_kl_in_reward"], false);
  assert.equal(v["actor_rollout_ref.actor.optim.lr"], 2e-6);
  assert.equal(v["actor_rollout_ref.actor.optim.weight_decay"], 0.1);
  assert.equal(v["actor_rollout_ref.actor.grad_clip"], 0.5);
  assert.equal(v["data.train_batch_size"], 32);
  assert.ok(c.overrides.includes("actor_rollout_ref.actor.optim.lr=2.0e-06"));
  assert.ok(c.overrides.includes("actor_rollout_ref.actor.clip_ratio_c=3.0"));
  assert.ok(c.overrides.includes('trainer.logger=["console"]'));
  assert.match(c.command, /^python3 -m verl\.trainer\.main_ppo \\\n    data\.train_files=train\.parquet \\\n/);
  assert.match(c.command, / 'trainer\.logger=\["console"\]'$/);
  // KL in the reward, Dr. GRPO, RLOO / REINFORCE++ names
  const r = verlConfig({
    ...base,
    algorithm: "grpo",
    step: { advantage: "dr-grpo", kl: { beta: 0.02, estimator: "k1", in: "reward" } },
  }).values;
  assert.equal(r["algorithm.norm_adv_by_std_in_grpo"], false);
  assert.equal(r["algorithm.use_kl_in_reward"], true);
  assert.equal(r["algorithm.kl_penalty"], "kl");
  assert.equal(r["algorithm.kl_ctrl.kl_coef"], 0.02);
  assert.equal(r["actor_rollout_ref.actor.use_kl_loss"], false);
  assert.equal(
    verlConfig({ ...base, algorithm: "grpo", step: { advantage: "reinforce-pp-baseline", loss: "pg" } }).values[
      "algorithm.adv_estimator"
    ],
    "reinforce_plus_plus_baseline",
  );
  // the per-token REINFORCE++ is verl's reinforce_plus_plus, its gamma is algorithm.gamma; ReMax is verl's remax
  const tok = verlConfig({
    ...base,
    algorithm: "grpo",
    step: { advantage: "reinforce-pp-token", advantageOptions: { gamma: 0.99 } },
  }).values;
  assert.equal(tok["algorithm.adv_estimator"], "reinforce_plus_plus");
  assert.equal(tok["algorithm.gamma"], 0.99);
  assert.equal(
    verlConfig({ ...base, algorithm: "grpo", step: { advantage: "remax" } }).values["algorithm.adv_estimator"],
    "remax",
  );
  assert.equal(
    verlConfig({ ...base, algorithm: "grpo", step: { loss: "pg" } }).values[
      "actor_rollout_ref.actor.policy_loss.loss_mode"
    ],
    "gpg",
  );
  // what verl cannot express fails or is noted, never silently dropped
  assert.throws(
    () => verlConfig({ ...base, algorithm: "grpo", step: { n: 8, miniBatchSize: 60 } }),
    /miniBatchSize = 60 sequences is not a whole number of prompts \(n = 8\)/,
  );
  assert.throws(
    () => verlConfig({ ...base, algorithm: "grpo", step: { advantage: () => new Float32Array(1) } }),
    /step\.advantage is a function.*verl cannot run a notebook function/,
  );
  assert.throws(
    () => verlConfig({ ...base, algorithm: "grpo", step: { agg: "token-sum-max" } }),
    /step\.agg "token-sum-max" has no verl equivalent/,
  );
  const noted = verlConfig({
    ...base,
    algorithm: "grpo",
    step: { advantageOptions: { std: "population", eps: 1e-4 }, clipC: null, sampling: { minP: 0.1 } },
    optimizer: { lr: 1e-3, clipGradNorm: null },
  });
  for (const re of [
    /unbiased std/,
    /adds 1e-6/,
    /always applies clip_ratio_c/,
    /no min_p/,
    /suits a tiny model/,
    /verl always clips/,
  ])
    assert.ok(
      noted.notes.some((n) => re.test(n)),
      String(re),
    );
  assert.ok(noted.yaml.includes("# NOTE: advantageOptions.std"));
});

test("FlowRL and GKD: recipe entry points and their own keys; differences from the notebook are noted", () => {
  const f = verlConfig({ ...base, algorithm: "flowrl", step: { n: 8, beta: 10, weight: "clip" } });
  assert.equal(f.entry, "recipe.flowrl.main_flowrl");
  assert.equal(f.values["algorithm.adv_estimator"], "grpo");
  assert.equal(f.values["actor_rollout_ref.actor.use_kl_loss"], true);
  assert.equal(f.values["actor_rollout_ref.actor.kl_loss_coef"], 0);
  assert.equal(f.values["actor_rollout_ref.actor.proj_layer"], 3);
  assert.ok(f.notes.some((n) => /hard-codes beta = 15/.test(n)));
  assert.ok(f.notes.some((n) => /caps the importance weight/.test(n)));
  const g = verlConfig({
    ...base,
    algorithm: "gkd",
    step: { divergence: "reverse-kl", lambda: 0.5 },
    teacher: { ip: "10.0.0.2", port: 15556 },
  });
  assert.equal(g.entry, "recipe.gkd.megatron.main_gkd");
  assert.equal(g.values["+actor_rollout_ref.actor.distill_loss.name"], "rkl");
  assert.equal(g.values["actor_rollout_ref.teacher.server_ip"], "10.0.0.2");
  assert.equal(g.values["actor_rollout_ref.teacher.server_port"], 15556);
  assert.equal(g.values["data.prompt_key"], "prompt");
  assert.equal(g.values["actor_rollout_ref.actor.optim.clip_grad"], 1);
  assert.ok(!("actor_rollout_ref.rollout.n" in g.values));
  assert.ok(g.overrides.includes("+actor_rollout_ref.actor.distill_loss.name=rkl"));
  assert.ok(g.notes.some((n) => /fully on-policy/.test(n)));
  assert.ok(g.notes.some((n) => /--n-logprobs 256/.test(n)));
  // settings.extra wins over a computed key, "+" or not
  const e = verlConfig({
    ...base,
    algorithm: "grpo",
    extra: { "actor_rollout_ref.rollout.gpu_memory_utilization": 0.6, "trainer.total_epochs": 3 },
  });
  assert.equal(e.values["trainer.total_epochs"], 3);
  assert.equal(e.overrides[e.overrides.length - 1], "trainer.total_epochs=3");
});

test("number and string formatting reads back as the same type in Hydra and YAML", () => {
  assert.equal(verlNumber(1e-6), "1.0e-06");
  assert.equal(verlNumber(2.5e-7), "2.5e-07");
  assert.equal(verlNumber(0.28), "0.28");
  assert.equal(verlNumber(8), "8");
  assert.equal(verlNumber(1, true), "1.0");
  assert.equal(verlNumber(1e21), "1.0e+21");
  assert.equal(hydraValue("Qwen/Qwen2.5-0.5B"), "Qwen/Qwen2.5-0.5B");
  assert.equal(hydraValue("1.5"), '"1.5"');
  assert.equal(hydraValue("true"), '"true"');
  assert.equal(hydraValue("my model"), '"my model"');
  assert.equal(shellArg("a.b=c"), "a.b=c");
  assert.equal(shellArg("data.train_files=$HERE/train.parquet"), '"data.train_files=$HERE/train.parquet"');
  assert.equal(shellArg("x='y'"), `'x='"'"'y'"'"''`);
  assert.equal(toYaml({ "a.b": 1, "a.c": "x", "+d.e": ["console"] }), 'a:\n  b: 1\n  c: x\nd:\n  e: ["console"]\n');
});

test(
  "the YAML parses (PyYAML) to the same nested values as the overrides",
  {
    skip: (() => {
      try {
        execFileSync("python3", ["-c", "import yaml"], { stdio: "ignore" });
        return false;
      } catch {
        return "python3 with PyYAML not available";
      }
    })(),
  },
  () => {
    for (const s of everyKey()) {
      const c = verlConfig(s);
      const out = execFileSync(
        "python3",
        ["-c", "import sys, yaml, json; print(json.dumps(yaml.safe_load(sys.stdin.read())))"],
        { input: c.yaml },
      ).toString();
      const parsed = JSON.parse(out);
      assert.deepEqual(parsed.defaults, [c.baseConfig, "_self_"]);
      for (const [k, v] of Object.entries(c.values)) {
        const got = k
          .replace(/^\+/, "")
          .split(".")
          .reduce((o: any, p) => o?.[p], parsed);
        assert.deepEqual(got, v, `${k} in the YAML`);
      }
    }
  },
);

test("writeVerlDataset: task and eval records as verl parquet (five columns, split / index filled), read back equal", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-verl-"));
  try {
    const recs = arith(20, { seed: 1 });
    const gsm = readJsonl<Record<string, unknown>>(path.join(ROOT, "datasets", "gsm8k_test.jsonl.gz")).slice(0, 10);
    const f = path.join(dir, "train.parquet");
    const res = writeVerlDataset(
      f,
      [...recs, ...gsm, { ...record({ data_source: "x", prompt: "q", ground_truth: "1" }), responses: ["drop me"] }],
      { reindex: true, system: "Be brief." },
    );
    assert.equal(res.rows, 31);
    assert.deepEqual(res.dataSources, { [recs[0].data_source]: 20, [gsm[0].data_source as string]: 10, x: 1 });
    const back = await readParquet(f);
    assert.equal(back.length, 31);
    for (const [i, r] of back.entries()) {
      assert.deepEqual(
        Object.keys(r)
          .filter((k) => r[k] !== undefined && r[k] !== null)
          .sort()
          .filter((k) => k !== "ability"),
        ["data_source", "extra_info", "prompt", "reward_model"],
      );
      assert.equal((r.extra_info as any).index, i);
      assert.equal((r.prompt as any)[0].role, "system");
    }
    assert.deepEqual((back[0].prompt as any)[1], recs[0].prompt[recs[0].prompt.length - 1]);
    assert.deepEqual((back[0].reward_model as any).ground_truth, recs[0].reward_model.ground_truth);
    assert.equal((back[20].reward_model as any).ground_truth, (gsm[0].reward_model as any).ground_truth);
    assert.equal((back[25].extra_info as any).split, (gsm[5].extra_info as any).split ?? "train");
    assert.throws(() => writeVerlDataset(path.join(dir, "t.jsonl"), recs), /must end in \.parquet/);
    assert.throws(
      () =>
        writeVerlDataset(path.join(dir, "t.parquet"), [
          { data_source: "x", prompt: "not a chat", reward_model: { ground_truth: "1" } },
        ]),
      /prompt/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("exportVerlRun: parquet + YAML + a bash-valid run script that finds its files next to itself", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-verl-"));
  try {
    const out = exportVerlRun(path.join(dir, "run"), {
      train: arith(16, { seed: 2 }),
      val: arith(4, { seed: 3, split: "test" }),
      settings: { algorithm: "grpo", model: "Qwen/Qwen2.5-0.5B-Instruct", batchSize: 8, step: { n: 4 } },
    });
    // arith is a cellrl/* task: the reward file comes along (test/remote/verl-reward.test.ts checks its scores)
    assert.deepEqual(
      out.files.map((f) => path.basename(f)),
      ["train.parquet", "val.parquet", "cellrl_reward.py", "cellrl_grpo.yaml", "run_grpo.sh"],
    );
    const script = fs.readFileSync(out.files[4], "utf8");
    assert.match(script, /"data\.train_files=\$HERE\/train\.parquet"/);
    assert.match(script, /"data\.val_files=\$HERE\/val\.parquet"/);
    assert.match(script, /set -euo pipefail/);
    assert.match(script, /"custom_reward_function\.path=\$HERE\/cellrl_reward\.py"/);
    execFileSync("bash", ["-n", out.files[4]]);
    assert.equal(fs.statSync(out.files[4]).mode & 0o111, 0o111);
    assert.equal(out.config.values["data.train_files"], path.resolve(dir, "run", "train.parquet"));
    assert.match(fs.readFileSync(out.files[3], "utf8"), /^ {2}- ppo_trainer$/m);
    assert.equal((await readParquet(out.files[1])).length, 4);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("import: main_generation parquet and a rollout dump directory (built from the real Qwen2.5-Math 100x8 set) give back the same records", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-verl-"));
  try {
    const gen = readJsonl<Record<string, any>>(path.join(ROOT, "datasets", "qwen25_math_cot_100x8.jsonl.gz")).slice(
      0,
      6,
    );
    // main_generation: the input dataset plus a `responses` list per row
    const mg = path.join(dir, "test-output-8.parquet");
    writeParquet(
      mg,
      gen.map(({ data_source, prompt, ability, reward_model, extra_info, responses }) => ({
        data_source,
        prompt,
        ability,
        reward_model,
        extra_info,
        responses,
      })),
    );
    const fromMg = await readVerlOutputs(mg);
    assert.equal(fromMg.length, 6);
    assert.deepEqual(
      fromMg.map((r) => r.responses),
      gen.map((r) => r.responses),
    );
    assert.deepEqual(fromMg[3].prompt, gen[3].prompt);
    // rollout dumps: one line per sample (input, output, gts, score, step) in <step>.jsonl files
    const dumps = path.join(dir, "rollouts");
    fs.mkdirSync(dumps);
    const labels = gen.map((r) => (r.extra_info?.upstream_scores as number[] | undefined) ?? r.responses.map(() => 0));
    for (const step of [10, 20]) {
      const lines = gen.flatMap((r, i) =>
        r.responses.map((o: string, j: number) => ({
          input: r.prompt[r.prompt.length - 1].content,
          output: o,
          gts: r.reward_model.ground_truth,
          score: step === 20 ? labels[i][j] : 0,
          step,
        })),
      );
      writeJsonl(path.join(dumps, `${step}.jsonl`), lines);
    }
    fs.writeFileSync(path.join(dumps, "notes.txt"), "not a dump");
    const last = await readVerlOutputs(dumps, { steps: "last", dataSource: "lighteval/MATH" });
    assert.equal(last.length, 6);
    assert.deepEqual(
      last.map((r) => r.responses),
      gen.map((r) => r.responses),
    );
    assert.deepEqual(
      last.map((r) => r.extra_info!.upstream_scores),
      labels,
    );
    assert.deepEqual(
      last.map((r) => r.reward_model.ground_truth),
      gen.map((r) => r.reward_model.ground_truth),
    );
    assert.ok(last.every((r) => r.extra_info!.step === 20));
    const both = await readVerlOutputs(dumps, { dataSource: "lighteval/MATH" });
    assert.equal(both.length, 12);
    const one = await readVerlOutputs(path.join(dumps, "20.jsonl"), { steps: [20], dataSource: "lighteval/MATH" });
    assert.deepEqual(
      one.map((r) => r.responses),
      last.map((r) => r.responses),
    );
    await assert.rejects(
      readVerlOutputs(dumps, { steps: [7], dataSource: "x" }),
      /no dump of step 7 in .* \(steps present: 10, 20\)/,
    );
    await assert.rejects(readVerlOutputs(dumps), /no data_source .* Pass \{dataSource/);
    await assert.rejects(readVerlOutputs(path.join(dir, "missing")), /does not exist/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("cellrl verl export / import from the command line", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-verl-"));
  const logs: string[] = [];
  const orig = { log: console.log, error: console.error };
  console.log = (...a: unknown[]) => void logs.push(a.join(" "));
  console.error = (...a: unknown[]) => void logs.push(a.join(" "));
  try {
    const recs = path.join(dir, "recs.jsonl");
    writeJsonl(recs, arith(12, { seed: 4 }) as unknown as Record<string, unknown>[]);
    const settings = path.join(dir, "settings.json");
    fs.writeFileSync(
      settings,
      JSON.stringify({
        algorithm: "grpo",
        model: "Qwen/Qwen2.5-0.5B-Instruct",
        batchSize: 4,
        step: { n: 4, clip: [0.2, 0.28] },
        optimizer: { lr: 1e-6 },
      }),
    );
    assert.equal(
      await runCli([
        "verl",
        "export",
        "--input",
        recs,
        "--out",
        path.join(dir, "out"),
        "--settings",
        settings,
        "--gpus",
        "2",
      ]),
      0,
    );
    assert.ok(
      logs.some((l) => /cellrl\/arith\s+12/.test(l)),
      logs.join("\n"),
    );
    assert.ok(logs.some((l) => l.includes("actor_rollout_ref.actor.clip_ratio_high=0.28")));
    assert.ok(logs.some((l) => l.includes("trainer.n_gpus_per_node=2")));
    assert.ok(fs.existsSync(path.join(dir, "out", "run_grpo.sh")));
    logs.length = 0;
    assert.equal(await runCli(["verl", "export", "--input", recs, "--out", path.join(dir, "o2")]), 2);
    assert.ok(logs.some((l) => /--model is missing/.test(l)));
    const dumps = path.join(dir, "d");
    fs.mkdirSync(dumps);
    writeJsonl(path.join(dumps, "3.jsonl"), [
      { input: "1+1=", output: "2", gts: "2", score: 1, step: 3 },
      { input: "1+1=", output: "3", gts: "2", score: 0, step: 3 },
    ]);
    logs.length = 0;
    assert.equal(
      await runCli([
        "verl",
        "import",
        "--input",
        dumps,
        "--data-source",
        "cellrl/arith",
        "--output",
        path.join(dir, "gen.jsonl"),
      ]),
      0,
    );
    const back = readJsonl<Record<string, any>>(path.join(dir, "gen.jsonl"));
    assert.deepEqual(back[0].responses, ["2", "3"]);
    assert.deepEqual(back[0].extra_info.upstream_scores, [1, 0]);
    assert.ok(logs.some((l) => /1 records, 2 responses, steps 3/.test(l)));
    assert.ok(logs.some((l) => /next: npx cellrl eval --input/.test(l)));
    logs.length = 0;
    assert.equal(await runCli(["verl", "sideways"]), 2);
  } finally {
    console.log = orig.log;
    console.error = orig.error;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
