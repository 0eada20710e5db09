// cellrl_reward.py (lib/remote/python/, written out by verl-reward-py.ts), the verl custom reward function
// exportVerlRun writes for cellrl/* task data: for every built-in task, thousands of responses (right, wrong, partly
// right, malformed, tagged or not, odd whitespace, non-canonical integers, countdown expressions that reuse numbers,
// use other operators or divide by zero, ...) get exactly the score reward.scoreSync gives, with the file loaded the
// way verl loads it; other data sources reach verl's default_compute_score; exportVerlRun writes the file and the
// config keys for task data only.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Rng } from "../../lib/core/random.js";
import { readJsonl } from "../../lib/data/jsonl.js";
import { scoreResponseSync } from "../../lib/reward/index.js";
import { records as generate, registerTask as register, tasks } from "../../lib/tasks/registry.js";
import { exportVerlRun, verlRewardFile } from "../../lib/remote/verl-export.js";
import { verlRewardPython, verlRewardSourcesOf } from "../../lib/remote/verl-reward-py.js";
import type { VerlRecord } from "../../lib/data/record.js";

const ROOT = path.join(__dirname, "..", "..");
const PYTHON = ["/usr/bin/python3", "python3"].find((p) => spawnSync(p, ["-c", "pass"]).status === 0);
const needsPython = {
  skip: PYTHON
    ? false
    : "no python3 on this machine: the Python reward file cannot be run (install python3 to check it against reward.scoreSync)",
};

// Loads the reward file as verl does and calls compute_score with keywords as verl's reward loop does (see its docstring).
const DRIVER = path.join(__dirname, "python", "verl_driver.py");

interface Case {
  data_source: string;
  solution_str: string;
  ground_truth: unknown;
  extra_info?: unknown;
  kwargs?: Record<string, unknown>;
  gt_form?: "plain" | "json" | "numpy";
}

function runPython(
  file: string,
  cases: Case[],
  env: NodeJS.ProcessEnv = {},
): { numpy: boolean; results: { score?: number; error?: string }[] } {
  const out = execFileSync(PYTHON!, [DRIVER, file], {
    input: cases.map((c) => JSON.stringify(c)).join("\n") + "\n",
    maxBuffer: 64 << 20,
    env: { ...process.env, ...env },
  });
  return JSON.parse(out.toString());
}

// --- responses -----------------------------------------------------------------------------------------------------

const ODD = ["\u00a0", "\ufeff", "\u2028", "\u3000", "\u0085", "\u001c", "\u200b", "\t", "\r\n", "\v", "\f"];
const NOISE = ["x", "0", "9", "-", "+", "a", "z", " ", "１", "٣", "😀", "<", ">", "/"];

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)];
}

/** Ways to write (or garble) an answer text: tags, whitespace, edits. */
function wrappings(rng: Rng, a: string, other: string): string[] {
  const i = a.length ? rng.int(a.length) : 0;
  const w = pick(rng, ODD);
  return [
    a,
    ` ${a} `,
    `\n${a}\t`,
    `<answer>${a}</answer>`,
    `<think>so ${other}</think>\n<answer> ${a} </answer>`,
    `<answer>${other}</answer> wait <answer>${a}</answer>`,
    `<answer>${a}</answer><answer>${other}</answer>`,
    `<answer>${a}`,
    `${a}</answer>`,
    `</answer><answer>${a}`,
    `<answer><answer>${a}</answer>`,
    `<answer>${a}</answer>\n\n`,
    `Answer: ${a}`,
    `${a}.`,
    "",
    "<answer></answer>",
    "<answer> \n </answer>",
    `${w}${a}${w}`,
    `<answer>${w}${a}</answer>`,
    a.slice(0, i) + pick(rng, NOISE) + a.slice(i + 1),
    a.slice(0, i) + a.slice(i + 1),
    a.slice(0, i) + pick(rng, NOISE) + a.slice(i),
    a + pick(rng, NOISE),
    [...a].reverse().join(""),
    a.toUpperCase(),
    `<ANSWER>${a}</ANSWER>`,
    `< answer>${a}</answer>`,
  ];
}

/** Integer-answer edits: neighbours, non-canonical forms, sign, digit changes. */
function integerEdits(rng: Rng, gold: string): string[] {
  const n = BigInt(gold);
  const d = gold.replace("-", "");
  return [
    (n + 1n).toString(),
    (n - 1n).toString(),
    (-n).toString(),
    `0${gold}`,
    `+${gold}`,
    `${gold}.0`,
    `${gold}.`,
    "-0",
    "00",
    `${gold} `,
    `${gold}e0`,
    `${d}${d}`,
    d.slice(1) || "0",
    `1${d}`,
    (n * 10n).toString(),
    (n + BigInt(10 ** rng.int(4))).toString(),
    gold.replace(/\d/g, (c) => String.fromCharCode(0xff10 + Number(c))),
    gold.split("").join(" "),
    `${gold},000`,
    `${gold}/1`,
  ];
}

/** Random expressions over some numbers (each used once, unless the caller passes repeats). */
function randomExpr(rng: Rng, nums: string[], ops: string[]): string {
  if (nums.length === 1) return nums[0];
  const cut = 1 + rng.int(nums.length - 1);
  const a = randomExpr(rng, nums.slice(0, cut), ops),
    b = randomExpr(rng, nums.slice(cut), ops);
  const wrap = (x: string) => (x.length > 1 && rng.int(2) ? `(${x})` : x);
  return `${wrap(a)}${pick(rng, ops)}${wrap(b)}`;
}

function countdownResponses(rng: Rng, gt: { target: number; numbers: number[] }, ref: string): string[] {
  const ns = gt.numbers.map(String);
  const out = [ref, ...wrappings(rng, ref, "1+1")];
  for (let k = 0; k < 12; k++) out.push(randomExpr(rng, rng.shuffle(ns), ["+", "-", "*", "/"]));
  for (let k = 0; k < 3; k++) out.push(randomExpr(rng, rng.shuffle([...ns, pick(rng, ns)]), ["+", "-", "*"])); // reuses one
  out.push(randomExpr(rng, ns.slice(1), ["+", "*"]) || "0", randomExpr(rng, [...ns, "1"], ["+", "*"])); // misses one / extra
  out.push(
    `${ref}=${gt.target}`,
    `${ref} = ${gt.target}`,
    ref.replace(/\*/g, "x"),
    ref.replace(/\*/g, "×"),
    ref.replace(/\+/g, "^"),
    ref.replace(/\*/g, "**"),
    ref.replace(/\+/g, "%"),
    `-${ref}`,
    `-(${ref})`,
    `(${ref})`,
    `((${ref}))`,
    `${ref}+0`,
    `${ref}*1`,
    `${ref}/(${ns[0]}-${ns[0]})`,
    `${ns.join("+")}/0`,
    `${ref}/0*0`,
    `(${ref}`,
    `${ref})`,
    `()${ref}`,
    `${ref}+`,
    `+${ref}`,
    ref.split("").join(" "),
    ns.join(" "),
    ns.join(""),
    ref.replace(/(\d+)/, "0$1"),
    ref.replace(/(\d+)/, "$1 0"),
    ref.replace(/(\d+)/, (d) => d.padStart(15, "0")),
    ref.replace(/(\d+)/, (d) => d.padStart(16, "0")),
    ref.replace(/(\d+)/, (d) => d.padStart(17, "0")),
    "(".repeat(51) + ref + ")".repeat(51),
    "(".repeat(50) + ref + ")".repeat(50),
    `${"9".repeat(16)}+${ref}`,
    `${"9".repeat(15)}-${"9".repeat(15)}+${ref}`,
    `${ref}\n`,
    `${ref}\u00a0`,
    `${ref}\u0085`,
    `${ref}１`,
    `${ref}٣`,
    `${ref}.`,
    `${ref}.0`,
    "1/3*3",
    `${ns.reverse().join("*")}`,
    `<answer>${ref}</answer> so ${gt.target}`,
    `${gt.target}`,
    `${ref}=`,
    "()",
    ")(",
    "+",
    "",
  );
  return out;
}

function pairSumResponses(rng: Rng, gt: { target: number; minValue: number }, ref: string): string[] {
  const t = gt.target,
    m = gt.minValue;
  const a = m + rng.int(Math.max(1, t - 2 * m + 1));
  const out = [ref, ...wrappings(rng, ref, `${t}+0`)];
  for (let k = 0; k < 8; k++) {
    const x = rng.int(t + 3);
    out.push(`${x}+${t - x}`, `${x}+${t - x + pick(rng, [-1, 1, 0])}`);
  }
  out.push(
    `${m - 1}+${t - m + 1}`,
    `${t - m + 1}+${m - 1}`,
    `0+${t}`,
    `${t}+0`,
    `0${a}+${t - a}`,
    `${a} + ${t - a}`,
    `${a}+${t - a}+0`,
    `-1+${t + 1}`,
    `${a}-${a - t}`,
    `${t - a}+${a}`,
    `${a}+${t - a}\n`,
    `+${a}+${t - a}`,
    `${a}++${t - a}`,
    `1000000000+${t}`,
    `${t}`,
    `${a}＋${t - a}`,
    `${a}+${t - a}.0`,
    `${a}+${t - a}=${t}`,
    "+",
    `${a}+`,
    `１+${t - 1}`,
    `${t - 3}+٣`,
    `1٣+${t - 13}`,
    `${t - 13}+1٣`,
  );
  return out;
}

function derangeResponses(rng: Rng, word: string, ref: string): string[] {
  const out = [ref, ...wrappings(rng, ref, word)];
  for (let k = 0; k < 20; k++) out.push(rng.shuffle([...word]).join(""));
  out.push(
    word,
    word + word[0],
    word.slice(1),
    word.replace(word[0], word[1]),
    ref.toUpperCase(),
    `${ref[0]}😀${ref.slice(2)}`,
    [...word].reverse().join(""),
    ref.split("").join(" "),
  );
  return out;
}

function stringResponses(rng: Rng, gold: string): string[] {
  const out = [gold, ...wrappings(rng, gold, gold.slice(1))];
  for (let k = 0; k < 8; k++) out.push(rng.shuffle([...gold]).join(""));
  out.push(
    gold.slice(0, -1),
    gold + gold.slice(-1),
    gold.slice(1),
    `${gold[0]}😀${gold.slice(2)}`,
    `😀${gold}`,
    gold.split("").join(","),
  );
  return out;
}

interface Setting {
  task: string;
  knobs: Record<string, unknown>;
  n: number;
  options?: Record<string, unknown>[];
}

const SETTINGS: Setting[] = [
  { task: "sort", knobs: {}, n: 6, options: [{}, { partialWeight: 0.5 }] },
  { task: "sort", knobs: { length: 12, symbols: "letters" }, n: 5, options: [{}, { partialWeight: 1 }] },
  { task: "reverse", knobs: { length: 1 }, n: 4, options: [{}, { partialWeight: 0.3 }] },
  { task: "reverse", knobs: { length: 9, symbols: "letters" }, n: 6, options: [{}, { partialWeight: 0.5 }] },
  { task: "arith", knobs: {}, n: 6, options: [{}, { partialWeight: 0.5 }] },
  { task: "arith", knobs: { digits: 1, terms: 4, ops: ["+", "-", "*"] }, n: 6, options: [{}, { partialWeight: 0.7 }] },
  { task: "arith", knobs: { digits: 9, terms: 3, ops: ["-", "*"] }, n: 5, options: [{}, { partialWeight: 0.25 }] },
  { task: "modular", knobs: {}, n: 8 },
  { task: "modular", knobs: { maxOperand: 1000, maxModulus: 97, ops: ["+", "*", "^"] }, n: 8 },
  { task: "countdown", knobs: {}, n: 5, options: [{}, { formatScore: 0.25 }] },
  {
    task: "countdown",
    knobs: { count: 4, maxNumber: 25, maxTarget: 200, ops: ["+", "-", "*", "/"] },
    n: 5,
    options: [{}, { formatScore: 0 }],
  },
  { task: "countdown", knobs: { count: 6, maxNumber: 100, maxTarget: 1000 }, n: 3 },
  { task: "countdown", knobs: { count: 2, maxNumber: 9, maxTarget: 20, ops: ["/"] }, n: 3 },
  { task: "pair-sum", knobs: {}, n: 6 },
  { task: "pair-sum", knobs: { maxTarget: 500, minValue: 0 }, n: 6 },
  { task: "pair-sum", knobs: { maxTarget: 60, minValue: 7 }, n: 6 },
  { task: "derange", knobs: {}, n: 6 },
  { task: "derange", knobs: { length: 2 }, n: 3 },
  { task: "derange", knobs: { length: 9 }, n: 4 },
];

function buildCases(): { cases: Case[]; expected: number[]; perTask: Record<string, number> } {
  const rng = new Rng(20250601);
  const cases: Case[] = [];
  const expected: number[] = [];
  const perTask: Record<string, number> = {};
  SETTINGS.forEach((s, si) => {
    for (const rec of generate(s.task, s.n, { seed: si, ...s.knobs }) as VerlRecord[]) {
      const gt = rec.reward_model.ground_truth as any;
      const ref = String((rec.extra_info as any).answer);
      const responses =
        s.task === "countdown"
          ? countdownResponses(rng, gt, ref)
          : s.task === "pair-sum"
            ? pairSumResponses(rng, gt, ref)
            : s.task === "derange"
              ? derangeResponses(rng, gt, ref)
              : s.task === "arith" || s.task === "modular"
                ? [...stringResponses(rng, ref), ...integerEdits(rng, ref)]
                : stringResponses(rng, ref);
      for (const options of s.options ?? [{}]) {
        for (const r of responses) {
          const form = pick(rng, ["plain", "plain", "json", "numpy"] as const);
          cases.push({
            data_source: rec.data_source,
            solution_str: r,
            ground_truth: gt,
            extra_info: rec.extra_info,
            kwargs: options,
            gt_form: form,
          });
          expected.push(scoreResponseSync(rec as any, r, { rewardOptions: options }).score);
          perTask[s.task] = (perTask[s.task] ?? 0) + 1;
        }
      }
    }
  });
  return { cases, expected, perTask };
}

test(
  "cellrl_reward.py gives reward.scoreSync's score for every built-in task (thousands of right / wrong / partial / malformed responses)",
  needsPython,
  () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-verl-reward-"));
    try {
      const file = path.join(dir, verlRewardFile);
      fs.writeFileSync(file, verlRewardPython());
      const { cases, expected, perTask } = buildCases();
      const { numpy, results } = runPython(file, cases);
      assert.equal(results.length, cases.length);
      const bad: string[] = [];
      results.forEach((r, i) => {
        if (r.error !== undefined || r.score !== expected[i])
          bad.push(`${JSON.stringify(cases[i])}: python ${r.error ?? r.score}, cellrl ${expected[i]}`);
      });
      assert.deepEqual(bad.slice(0, 10), [], `${bad.length} of ${cases.length} cases differ`);
      // every task is covered by a few hundred cases, and the scores are not all alike
      for (const t of ["sort", "reverse", "arith", "modular", "countdown", "pair-sum", "derange"])
        assert.ok(perTask[t] >= 200, `${t}: ${perTask[t]} cases`);
      const kinds = (task: string) =>
        new Set(
          cases.map((c, i) => (c.data_source === `cellrl/${task}` ? expected[i] : null)).filter((x) => x !== null),
        );
      for (const t of ["sort", "arith", "countdown", "pair-sum", "derange", "modular", "reverse"])
        assert.ok(kinds(t).size >= 2, `${t} has right and wrong answers`);
      assert.ok(
        kinds("countdown").has(0.1) &&
          kinds("countdown").has(0.25) &&
          kinds("countdown").has(1) &&
          kinds("countdown").has(0),
      );
      assert.ok(
        [...kinds("sort")].some((x) => x > 0 && x < 1),
        "partial credit reached",
      );
      console.log(
        `${cases.length} cases equal (${Object.entries(perTask)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")}); numpy ground truths ${numpy ? "included" : "not available"}`,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "cellrl_reward.py: other data sources go to verl's default_compute_score (imported lazily, keywords it takes), unknown cellrl/* is an error",
  needsPython,
  () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-verl-reward-"));
    try {
      const file = path.join(dir, verlRewardFile);
      fs.writeFileSync(file, verlRewardPython());
      const cases: Case[] = [
        {
          data_source: "openai/gsm8k",
          solution_str: "#### 18",
          ground_truth: "18",
          extra_info: { index: 3 },
          kwargs: { reward_router_address: "x", sandbox_fusion_url: "http://s", partialWeight: 0.5 },
        },
        { data_source: "cellrl/arith", solution_str: "<answer>18</answer>", ground_truth: "18" },
        { data_source: "cellrl/unknown", solution_str: "18", ground_truth: "18" },
        // a GSM8K answer from a parquet column that mixes strings and objects arrives as JSON text
        { data_source: "openai/gsm8k", solution_str: "#### 18", ground_truth: '"18"', extra_info: { index: 4 } },
      ];
      // without verl installed the cellrl sources still score; the delegation fails with verl's missing import
      const plain = runPython(file, cases).results;
      assert.match(plain[0].error!, /No module named 'verl'/);
      assert.equal(plain[1].score, 1);
      assert.match(plain[2].error!, /cellrl\/unknown.*not a task this file implements/);
      // a stand-in verl package: default_compute_score gets the call, with only the keywords its signature accepts
      const pkg = path.join(dir, "fakeverl", "verl", "utils", "reward_score");
      fs.mkdirSync(pkg, { recursive: true });
      for (const d of [path.join(dir, "fakeverl", "verl"), path.join(dir, "fakeverl", "verl", "utils")])
        fs.writeFileSync(path.join(d, "__init__.py"), "");
      fs.writeFileSync(
        path.join(pkg, "__init__.py"),
        "def default_compute_score(data_source, solution_str, ground_truth, extra_info=None, sandbox_fusion_url=None):\n    return {'score': 0.5, 'echo': [data_source, solution_str, ground_truth, extra_info['index'], sandbox_fusion_url]}\n",
      );
      const faked = runPython(file, cases, { PYTHONPATH: path.join(dir, "fakeverl") }).results;
      assert.deepEqual(faked[0].score, { score: 0.5, echo: ["openai/gsm8k", "#### 18", "18", 3, "http://s"] } as any);
      assert.equal(faked[1].score, 1);
      assert.deepEqual(
        faked[3].score,
        { score: 0.5, echo: ["openai/gsm8k", "#### 18", "18", 4, null] } as any,
        "verl gets the plain answer, not its JSON text",
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);

const settings = { algorithm: "grpo" as const, model: "Qwen/Qwen2.5-0.5B-Instruct", batchSize: 8, step: { n: 4 } };

test(
  "exportVerlRun writes cellrl_reward.py and custom_reward_function.{path,name} for cellrl/* data, in the YAML and the script",
  needsPython,
  () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-verl-reward-"));
    try {
      const train = [...generate("countdown", 8, { seed: 1 }), ...generate("sort", 8, { seed: 2 })];
      const gsm = readJsonl<VerlRecord>(path.join(ROOT, "datasets", "gsm8k_test.jsonl.gz")).slice(0, 4);
      const out = exportVerlRun(path.join(dir, "run"), {
        train,
        val: [...generate("pair-sum", 4, { seed: 3, split: "test" }), ...gsm],
        settings,
        rewardOptions: { partialWeight: 0.5 },
      });
      const file = path.resolve(dir, "run", verlRewardFile);
      assert.equal(out.rewardFile, path.join(dir, "run", verlRewardFile));
      assert.deepEqual(
        out.files.map((f) => path.basename(f)),
        ["train.parquet", "val.parquet", verlRewardFile, "cellrl_grpo.yaml", "run_grpo.sh"],
      );
      assert.equal(out.config.values["custom_reward_function.path"], file);
      assert.equal(out.config.values["custom_reward_function.name"], "compute_score");
      assert.ok(!out.config.notes.some((n) => n.includes("No rewardFunction")));
      const yaml = fs.readFileSync(out.files[3], "utf8");
      assert.match(yaml, /^custom_reward_function:\n {2}path: (.*)\n {2}name: compute_score$/m);
      assert.ok(
        yaml.includes(`path: ${file}`) ||
          yaml.includes(`path: ${JSON.stringify(file)}`) ||
          yaml.includes(`path: '${file}'`),
      );
      assert.match(
        yaml,
        /^# custom_reward_function: cellrl_reward\.py \(next to this file\) scores cellrl\/countdown, cellrl\/sort, cellrl\/pair-sum with cellrl's task verifiers$/m,
      );
      const script = fs.readFileSync(out.files[4], "utf8");
      assert.match(
        script,
        /"custom_reward_function\.path=\$HERE\/cellrl_reward\.py" \\\n {4}custom_reward_function\.name=compute_score/,
      );
      assert.match(script, /^# custom_reward_function: cellrl_reward\.py/m);
      execFileSync("bash", ["-n", out.files[4]]);
      // the exported file keeps the rewardOptions as its defaults; a reward kwarg still wins
      const r = runPython(file, [
        { data_source: "cellrl/sort", solution_str: "<answer>12</answer>", ground_truth: "13" },
        { data_source: "cellrl/sort", solution_str: "12", ground_truth: "13", kwargs: { partialWeight: 0 } },
        { data_source: "cellrl/countdown", solution_str: "1+2", ground_truth: { target: 4, numbers: [1, 2] } },
      ]).results;
      assert.deepEqual(
        r.map((x) => x.score),
        [0.25, 0, 0.1],
      );
      assert.equal(
        scoreResponseSync({ data_source: "cellrl/sort", reward_model: { ground_truth: "13" } } as any, "12", {
          rewardOptions: { partialWeight: 0.5 },
        }).score,
        0.25,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "exportVerlRun: no reward file for a pure math set, GKD, or a caller's rewardFunction; registered tasks with a built-in verify are scored, others are an error",
  needsPython,
  () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-verl-reward-"));
    try {
      const gsm = readJsonl<VerlRecord>(path.join(ROOT, "datasets", "gsm8k_test.jsonl.gz")).slice(0, 8);
      const math = exportVerlRun(path.join(dir, "gsm"), { train: gsm, val: gsm.slice(0, 2), settings });
      assert.equal(math.rewardFile, null);
      assert.ok(!fs.existsSync(path.join(dir, "gsm", verlRewardFile)));
      assert.ok(!Object.keys(math.config.values).some((k) => k.startsWith("custom_reward_function")));
      assert.ok(
        !fs.readFileSync(path.join(dir, "gsm", "run_grpo.sh"), "utf8").includes("custom_reward_function.path="),
      );
      assert.ok(math.config.notes.some((n) => n.includes("No rewardFunction")));

      const gkd = exportVerlRun(path.join(dir, "gkd"), {
        train: generate("sort", 4, { seed: 0 }),
        settings: { ...settings, algorithm: "gkd", step: {} },
      });
      assert.equal(gkd.rewardFile, null);
      const flow = exportVerlRun(path.join(dir, "flowrl"), {
        train: generate("derange", 4, { seed: 0 }),
        settings: { ...settings, algorithm: "flowrl", step: { n: 4 } },
      });
      assert.equal(flow.config.values["custom_reward_function.path"], path.resolve(dir, "flowrl", verlRewardFile));
      assert.match(
        fs.readFileSync(path.join(dir, "flowrl", "run_flowrl.sh"), "utf8"),
        /^python3 -m recipe\.flowrl\.main_flowrl[^]*"custom_reward_function\.path=\$HERE\/cellrl_reward\.py"/m,
      );
      const own = exportVerlRun(path.join(dir, "own"), {
        train: generate("sort", 4, { seed: 0 }),
        settings: { ...settings, rewardFunction: { path: "/x/my_reward.py", name: "score" } },
      });
      assert.equal(own.rewardFile, null);
      assert.equal(own.config.values["custom_reward_function.path"], "/x/my_reward.py");

      // a task registered from a notebook that reuses arith's verifier: the file scores its data source too
      register({
        ...tasks.get("arith"),
        name: "arith-big-vr",
        dataSource: "cellrl/arith-big-vr",
        defaults: { digits: 8, terms: 2, ops: ["+"] },
      });
      const big = generate("arith-big-vr", 6, { seed: 4 }) as VerlRecord[];
      assert.deepEqual(verlRewardSourcesOf(["cellrl/arith-big-vr", "openai/gsm8k"]), {
        "cellrl/arith-big-vr": "arith",
      });
      const alias = exportVerlRun(path.join(dir, "alias"), { train: big, settings });
      const cases = big.flatMap((rec) =>
        [String((rec.extra_info as any).answer), "1", ` <answer>${(rec.extra_info as any).answer}</answer>`].map(
          (r) => ({ data_source: rec.data_source, solution_str: r, ground_truth: rec.reward_model.ground_truth }),
        ),
      );
      assert.deepEqual(
        runPython(alias.rewardFile!, cases).results.map((x) => x.score),
        cases.map(
          (c) =>
            scoreResponseSync(
              { data_source: c.data_source, reward_model: { ground_truth: c.ground_truth } } as any,
              c.solution_str,
            ).score,
        ),
      );
      // a task with its own verifier, or a cellrl/* source no task owns: the file cannot score it, so the export says so
      register({
        ...tasks.get("arith"),
        name: "odd-vr",
        dataSource: "cellrl/odd-vr",
        verify: () => ({ score: 1, details: {} }),
      });
      assert.throws(
        () => exportVerlRun(path.join(dir, "odd"), { train: generate("odd-vr", 2, { seed: 0 }), settings }),
        /"cellrl\/odd-vr" belongs to task "odd-vr".*settings\.rewardFunction/s,
      );
      assert.ok(!fs.existsSync(path.join(dir, "odd", "train.parquet")), "nothing written before the check");
      const stray = {
        data_source: "cellrl/none",
        prompt: [{ role: "user", content: "q" }],
        reward_model: { style: "rule", ground_truth: "1" },
      };
      assert.throws(
        () => exportVerlRun(path.join(dir, "stray"), { train: [stray], settings }),
        /belongs to no registered task/,
      );
      assert.doesNotThrow(() =>
        exportVerlRun(path.join(dir, "stray2"), {
          train: [stray],
          settings: { ...settings, rewardFunction: { path: "r.py" } },
        }),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
