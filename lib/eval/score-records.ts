// Score every response of generated records through the reward registry (r1's main_eval scoring step, in-process).
// Responses are scored concurrently, so async rewards (the code sandbox runs programs in child processes) overlap;
// for many CPU-bound math responses on several threads use `npx cellrl eval` / `cellrl score --workers N`.
import { CellrlError, describe, fail } from "../core/errors.js";
import { checkWholeAtLeast } from "../core/checks.js";
import { progress } from "../kernel/progress.js";
import { scoreResponse, type RewardFn } from "../reward/index.js";
import { rewardFor } from "../reward/registry.js";
import { defined, type EvalRecord } from "./items.js";

/** Options of scoreRecords. */
export interface ScoreRecordsOptions {
  /** Score every record with this reward (name or function) instead of routing by data_source. Defaults to routing. */
  reward?: string | RewardFn;
  /** Passed to every reward call, e.g. {rules: ["gsm8k", "last-number"]}. Defaults to {}. */
  rewardOptions?: Record<string, unknown>;
  /** Responses scored at the same time (async rewards overlap). Defaults to 16. */
  concurrency?: number;
  /** Show a progress bar. Defaults to false. */
  progress?: boolean;
}

/**
 * Defaults of scoreRecords.
 * @example evals.scoreDefaults.concurrency // 16
 */
export const scoreDefaults = { concurrency: 16, progress: false };

/**
 * Score every response of records that carry `responses`: adds `scores` (one number per response) and `details` (what
 * the grader saw and decided). A reward that throws on one response scores it 0 with details `{rule: "error", error}`
 * (counted as an error by summarize); a data_source with no reward fails before anything is scored.
 * @example const scored = await evals.scoreRecords(evals.withUpstream(records))
 */
export async function scoreRecords<T extends { data_source: string; responses: string[] }>(
  records: readonly T[],
  options: ScoreRecordsOptions = {},
): Promise<(T & { scores: number[]; details: Record<string, unknown>[] })[]> {
  const o = { ...scoreDefaults, ...defined(options) };
  if (!Array.isArray(records) || records.length === 0)
    fail(
      "invalid_input",
      `evals.scoreRecords: no records (got ${describe(records)}; expected records with responses). Generate ` +
        `or ingest responses first.`,
      {},
      scoreRecords,
    );
  checkWholeAtLeast({ where: "evals.scoreRecords", from: scoreRecords }, "concurrency", o.concurrency, 1);
  records.forEach((r, i) => {
    if (!r || !Array.isArray(r.responses) || (r.responses as unknown[]).some((x: unknown) => typeof x !== "string"))
      fail(
        "invalid_input",
        `evals.scoreRecords: record ${i} needs responses as a list of strings (got ${describe(r?.responses)}).`,
        { path: ["records", i, "responses"] },
        scoreRecords,
      );
  });
  // routing is checked up front: a missing reward is a setup mistake, not a zero score
  if (o.reward === undefined) for (const s of new Set(records.map((r) => r.data_source))) rewardFor(s);
  const jobs: { i: number; j: number }[] = [];
  records.forEach((r, i) => (r.responses as string[]).forEach((_: string, j: number) => jobs.push({ i, j })));
  const scores = records.map((r) => new Array<number>(r.responses.length).fill(0));
  const details = records.map((r) => new Array<Record<string, unknown>>(r.responses.length));
  const bar = o.progress ? progress(jobs.length, { label: "score" }) : null;
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const { i, j } = jobs[next++];
      const rec = records[i];
      try {
        const out = await scoreResponse(rec as unknown as Parameters<typeof scoreResponse>[0], rec.responses[j], {
          reward: o.reward,
          rewardOptions: o.rewardOptions,
        });
        scores[i][j] = out.score;
        details[i][j] = out.details;
      } catch (e) {
        if (e instanceof CellrlError && (e.code === "unknown_name" || e.code === "not_found")) throw e;
        details[i][j] = { rule: "error", error: e instanceof Error ? e.message : String(e) };
      }
      bar?.tick();
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, jobs.length) }, worker));
  bar?.done();
  return records.map((r, i) => ({ ...r, scores: scores[i], details: details[i] }));
}

/**
 * Records whose scores are their upstream grader's labels (extra_info.upstream_scores): the "other run" when
 * comparing cellrl's grader with the upstream one.
 * @example evals.compareEvals(scored, evals.upstreamRun(scored))
 */
export function upstreamRun<T extends EvalRecord>(records: readonly T[]): T[] {
  return records.map((r, i) => {
    const up = r.extra_info?.upstream_scores;
    if (!Array.isArray(up) || up.length !== r.responses.length)
      fail(
        "invalid_input",
        `evals.upstreamRun: record ${i} has no extra_info.upstream_scores with one label per response ` +
          `(got ${describe(up)}). Only ingested generation sets carry upstream labels.`,
        {
          path: ["records", i, "extra_info", "upstream_scores"],
        },
        upstreamRun,
      );
    const preds = r.extra_info?.upstream_preds;
    const hasPreds = Array.isArray(preds) && preds.length === r.responses.length;
    // without upstream predictions nothing is known about extraction, so no "extracted" key (not a no-answer)
    return {
      ...r,
      scores: up.map(Number),
      details: r.responses.map((_: string, j: number) =>
        hasPreds ? { rule: "upstream", extracted: preds[j] ?? null } : { rule: "upstream" },
      ),
    };
  });
}
