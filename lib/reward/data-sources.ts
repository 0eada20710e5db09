// Which reward each known data_source uses (verl's default_compute_score, as one table). Users add their own with
// reward.routeDataSource(source, name) or reward.register(name, fn, {dataSources}).
import { routeDataSource } from "./registry.js";

/** Exact data_source names (matched case-insensitively) and the reward they use. */
export const knownSources: Record<string, string> = {
  // math: R1 recipe, verl, and our datasets
  "Maxwell-Jia/AIME_2024": "math",
  "opencompass/cnmo2024_en": "math",
  "opencompass/cnmo2024_zh": "math",
  "lighteval/MATH": "math",
  "DigitalLearningGmbH/MATH-lighteval": "math",
  "hendrycks/competition_math": "math",
  "EleutherAI/hendrycks_math": "math",
  "HuggingFaceH4/MATH-500": "math",
  math500: "math",
  math: "math",
  math_dapo: "math",
  aime24: "math",
  aime25: "math",
  amc23: "math",
  olympiadbench: "math",
  "Hothan/OlympiadBench": "math",
  "AI-MO/aimo-validation-aime": "math",
  "opencompass/AIME2025": "math",
  "math-ai/amc23": "math",
  "areal/math": "math",
  "AI-MO/aimo-validation-amc": "math",
  "openai/gsm8k": "gsm8k",
  gsm8k: "gsm8k",
  // multiple choice
  "Idavidrein/gpqa": "gpqa",
  gpqa_diamond: "gpqa",
  "TIGER-Lab/MMLU-Pro": "mmlu-pro",
  mmlu_pro: "mmlu-pro",
  // code (the sandbox reward, lib/reward/code*.ts)
  "livecodebench/code_generation_lite": "code",
  "livecodebench/code_generation": "code",
  "openai/openai_humaneval": "code",
  openai_humaneval: "code",
  humaneval: "code",
  mbpp: "code",
  "google-research-datasets/mbpp": "code",
  codeforces: "code",
  code_contests: "code",
  "deepmind/code_contests": "code",
  leetcode: "code",
};

// Benchmark families graded as math, matched after "/", "_", "-" or at the start of a data source.
const MATH_FAMILIES = [
  "aime",
  "amc",
  "cnmo",
  "olympiad",
  "math[-_]?500",
  "hendrycks[-_]?math",
  "competition[-_]?math",
  "minerva[-_]?math",
  "omni[-_]?math",
  "deepscaler",
  "numina",
];

/** Patterns tried after the exact names (later entries win): families of benchmarks spelled many ways. */
export const knownPatterns: [RegExp, string][] = [
  [new RegExp(`(?:^|[/_-])(?:${MATH_FAMILIES.join("|")})`, "i"), "math"],
  [/gsm8k/i, "gsm8k"],
  [/gpqa/i, "gpqa"],
  [/mmlu[-_]?pro/i, "mmlu-pro"],
  [/humaneval|mbpp|livecodebench|codeforces|code[-_]?contests|leetcode|\bapps\b|\btaco\b|primeintellect/i, "code"],
];

for (const [source, reward] of Object.entries(knownSources)) routeDataSource(source, reward);
for (const [pattern, reward] of knownPatterns) routeDataSource(pattern, reward);
