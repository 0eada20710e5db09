// Re-scored generations against the labels their own harness gave them (extra_info.upstream_scores): how often the
// two graders agree, the accuracy each implies, and every response where they differ.
import { describe, fail } from "../core/errors.js";
import { meanAtK } from "./aggregate.js";
import {
  answerOf,
  checkScored,
  correctDefaults,
  defined,
  type CorrectOptions,
  type EvalRecord,
  itemId,
} from "./items.js";

/** One response the two graders judge differently. */
export interface Disagreement {
  /** Record position in the input. */
  item: number;
  /** Response position in the record. */
  sample: number;
  id: string;
  data_source: string;
  gold: string;
  ours: number;
  upstream: number;
  /** What our grader extracted (null: no answer). */
  extracted: string | null;
  /** What the upstream extractor found, when the set records it. */
  upstreamPred: unknown;
  /** Our grader's deciding rule (details.rule). */
  rule: string | null;
  /** The last characters of the response (null for GPQA, whose items must not be copied into plain text). */
  excerpt: string | null;
}

/** Agreement of one data_source (or all). */
export interface AgreementRow {
  data_source: string;
  items: number;
  responses: number;
  agree: number;
  /** agree / responses. */
  rate: number;
  /** mean@k with our scores and with the upstream labels, over the same items. */
  oursMean: number;
  upstreamMean: number;
  /** Responses we call correct and upstream wrong, and the reverse. */
  oursOnly: number;
  upstreamOnly: number;
}

/** Agreement with upstream labels. */
export interface AgreementReport extends AgreementRow {
  /** oursMean − upstreamMean (same items). */
  diff: number;
  /** Cohen's kappa of the two graders' correct / wrong calls. */
  kappa: number;
  /** The upstream graders named by the records (extra_info.upstream_grader). */
  graders: string[];
  bySource: AgreementRow[];
  disagreements: Disagreement[];
  /** Records without upstream labels (left out). */
  unlabeled: number;
}

/** Options of upstreamAgreement. */
export interface AgreementOptions extends CorrectOptions {
  /**
   * The upstream labels of a record (one per response, 1 = correct), or null. Defaults to extra_info.upstream_scores.
   */
  upstream?: (record: EvalRecord) => readonly number[] | null | undefined;
  /** Characters of the response tail kept in each disagreement. Defaults to 300. */
  excerptChars?: number;
}

/**
 * Defaults of upstreamAgreement.
 * @example evals.agreementDefaults.excerptChars // 300
 */
export const agreementDefaults = { ...correctDefaults, excerptChars: 300 };

const upstreamScores = (r: EvalRecord) => {
  const u = r.extra_info?.upstream_scores;
  return Array.isArray(u) ? (u as number[]) : null;
};

/** True for data sources whose items must never appear in plain text (GPQA's authors ask so). */
export function isGpqaSource(dataSource: string): boolean {
  return /gpqa/i.test(dataSource);
}

function row(name: string, pairs: { ours: number[]; up: number[] }[], threshold: number): AgreementRow {
  let agree = 0,
    oursOnly = 0,
    upstreamOnly = 0,
    responses = 0;
  for (const p of pairs)
    p.ours.forEach((s, j) => {
      const a = s >= threshold,
        b = p.up[j] >= threshold;
      responses++;
      if (a === b) agree++;
      else if (a) oursOnly++;
      else upstreamOnly++;
    });
  return {
    data_source: name,
    items: pairs.length,
    responses,
    agree,
    rate: agree / responses,
    oursMean: meanAtK(pairs.map((p) => p.ours)),
    upstreamMean: meanAtK(pairs.map((p) => p.up)),
    oursOnly,
    upstreamOnly,
  };
}

/**
 * Agreement of our scores with the upstream labels shipped next to the responses: per-response agreement, Cohen's
 * kappa, mean@k both ways (and the difference), per data_source, and every disagreement with what each side saw.
 * @example const a = evals.upstreamAgreement(scored); a.diff; a.disagreements
 */
export function upstreamAgreement(records: readonly EvalRecord[], options: AgreementOptions = {}): AgreementReport {
  const o = { ...agreementDefaults, ...defined(options) };
  const recs = checkScored(records, "evals.upstreamAgreement");
  const getUp = o.upstream ?? upstreamScores;
  const bySource = new Map<string, { ours: number[]; up: number[] }[]>();
  const all: { ours: number[]; up: number[] }[] = [];
  const disagreements: Disagreement[] = [];
  const graders = new Set<string>();
  let unlabeled = 0;
  recs.forEach((r, i) => {
    const up = getUp(r);
    if (up === null || up === undefined) {
      unlabeled++;
      return;
    }
    if (
      !Array.isArray(up) ||
      up.length !== r.responses.length ||
      up.some((x) => typeof x !== "number" || !Number.isFinite(x))
    )
      fail(
        "invalid_input",
        `evals.upstreamAgreement: record ${i} (${itemId(r, i)}) has upstream labels ${describe(up)} ` +
          `for ${r.responses.length} responses (expected one number per response).`,
        {
          path: ["records", i, "extra_info", "upstream_scores"],
        },
        upstreamAgreement,
      );
    if (typeof r.extra_info?.upstream_grader === "string") graders.add(r.extra_info.upstream_grader);
    const pair = { ours: r.scores, up: up.slice() };
    all.push(pair);
    const list = bySource.get(r.data_source);
    if (list) list.push(pair);
    else bySource.set(r.data_source, [pair]);
    const preds = r.extra_info?.upstream_preds;
    r.scores.forEach((s, j) => {
      if (s >= o.threshold === up[j] >= o.threshold) return;
      const d = r.details?.[j];
      disagreements.push({
        item: i,
        sample: j,
        id: itemId(r, i),
        data_source: r.data_source,
        gold:
          typeof r.reward_model?.ground_truth === "string"
            ? r.reward_model.ground_truth
            : JSON.stringify(r.reward_model?.ground_truth ?? null),
        ours: s,
        upstream: up[j],
        extracted: answerOf(d),
        upstreamPred: Array.isArray(preds) ? (preds[j] ?? null) : null,
        rule: typeof d?.rule === "string" ? d.rule : null,
        excerpt: isGpqaSource(r.data_source) ? null : r.responses[j].slice(-o.excerptChars),
      });
    });
  });
  if (all.length === 0)
    fail(
      "invalid_input",
      `evals.upstreamAgreement: none of the ${recs.length} records has upstream labels ` +
        `(extra_info.upstream_scores). Pass {upstream: (r) => labels} to say where they are.`,
      {},
      upstreamAgreement,
    );
  const total = row("all", all, o.threshold);
  // Cohen's kappa on the 2x2 table of correct / wrong calls
  const n = total.responses;
  const oursYes = all.reduce((a, p) => a + p.ours.filter((s) => s >= o.threshold).length, 0) / n;
  const upYes = all.reduce((a, p) => a + p.up.filter((s) => s >= o.threshold).length, 0) / n;
  const pe = oursYes * upYes + (1 - oursYes) * (1 - upYes);
  const kappa = pe === 1 ? 1 : (total.rate - pe) / (1 - pe);
  return {
    ...total,
    diff: total.oursMean - total.upstreamMean,
    kappa,
    graders: [...graders].sort(),
    bySource: [...bySource.keys()]
      .sort()
      .map((k) => row(k, bySource.get(k) as { ours: number[]; up: number[] }[], o.threshold)),
    disagreements,
    unlabeled,
  };
}
