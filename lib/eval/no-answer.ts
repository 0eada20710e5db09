// Eval pathology: a data_source where the grader finds no answer in most responses scores ~0 for a reason that has
// nothing to do with the model's math (GSM8K solutions ending "A: 18" under the default math rules). Scoring many rows
// warns about it, with the data_source, the count, three response tails and the option that reads such answers.
import { warn } from "../core/warn.js";
import { isNoAnswer, type EvalRecord } from "./items.js";

/** Settings of the no-answer check. */
export const noAnswerDefaults = {
  /** Warn when more than this share of a data_source's responses has no extracted answer. */
  share: 0.5,
  /** Data sources with fewer responses than this are not judged (a handful of rows proves nothing). */
  minResponses: 4,
  /** Example tails quoted in the warning. */
  examples: 3,
  /** Characters of each tail. */
  tailChars: 80,
};

/** A data_source whose responses mostly had no answer, and what to do about it. */
export interface NoAnswerAlert {
  data_source: string;
  /** Responses with no extracted answer. */
  noAnswer: number;
  responses: number;
  /** The last characters of up to three of those responses (whitespace collapsed). */
  tails: string[];
  /** The option that fits what the tails look like. */
  hint: string;
}

function tailOf(response: string): string {
  const flat = response.replace(/\s+/g, " ").trim();
  return flat.length <= noAnswerDefaults.tailChars ? flat : "…" + flat.slice(-noAnswerDefaults.tailChars);
}

const HINTS: { test: RegExp; hint: string }[] = [
  {
    // GSM8K few-shot style: the last line is "A: 18" / "Answer: $18" / a bare number.
    test: /(?:^|\n)\s*(?:A|Answer)\s*[:.]\s*\$?\s*-?[\d,]*\.?\d+\s*\.?\s*$|\d\s*\.?\s*$/,
    hint:
      `the answers are plain numbers at the end ("A: 18"): pass rewardOptions {lastNumberFallback: true} (CLI: ` +
      `--reward-options '{"lastNumberFallback": true}')`,
  },
  {
    test: /(?:answer|choice|option)\s*(?:is)?\s*[:(]?\s*\(?[A-J]\)?\s*\.?\s*$/i,
    hint:
      `the answers are option letters: score with the multiple-choice reward (reward: "multiple-choice"; CLI: ` +
      `--reward multiple-choice)`,
  },
  {
    test: /\$[^$]+\$\s*\.?\s*$|\\\]\s*\.?\s*$|\\\)\s*\.?\s*$/,
    hint:
      `the answers are LaTeX without a \\boxed{}: pass rewardOptions {rules: ["boxed", "phrase", "latex"]} (the ` +
      `last LaTeX expression, as Math-Verify reads free text)`,
  },
];

/**
 * The option that fits responses with no extracted answer, judged on all of them (the most common pattern wins).
 * @example answerHint(["... so she has 18 apples.\nA: 18"]) // mentions lastNumberFallback
 */
export function answerHint(responses: readonly string[]): string {
  const counts = HINTS.map((h) => responses.filter((r) => h.test.test(r.trimEnd().slice(-300))).length);
  const best = counts.indexOf(Math.max(...counts));
  if (counts[best] > responses.length / 3) return HINTS[best].hint;
  return (
    `ask for the final answer in \\boxed{} in the prompt, or pass rewardOptions {rules: [...]} that read how ` +
    `these responses end (see docs/rewards.md, "Extraction"); if they are cut off, raise the generation's max tokens`
  );
}

/**
 * Collects, per data_source, how many responses had no extracted answer; `alerts()` lists the data sources over the
 * threshold and `warn()` also reports each through core `warn()`. Feed it row by row (cellrl score) or with records.
 * @example const c = new NoAnswerCheck(); c.add("openai/gsm8k", responses, details); c.warn();
 */
export class NoAnswerCheck {
  private bySource = new Map<string, { responses: number; noAnswer: string[] }>();

  /** Add one row: its responses and the grader's details (one per response; rows without details are skipped). */
  add(dataSource: string, responses: readonly string[], details: readonly unknown[] | undefined): void {
    if (!Array.isArray(details) || details.length !== responses.length) return;
    const none = responses.filter((_, j) => {
      const d = details[j];
      return d !== null && typeof d === "object" && isNoAnswer(d as Record<string, unknown>);
    });
    this.addCounts(dataSource, responses.length, none);
  }

  /** Add one row already checked elsewhere (a scoring thread): its response count and those with no answer. */
  addCounts(dataSource: string, responses: number, noAnswer: readonly string[]): void {
    const s = this.bySource.get(dataSource) ?? { responses: 0, noAnswer: [] };
    this.bySource.set(dataSource, s);
    s.responses += responses;
    s.noAnswer.push(...noAnswer);
  }

  /** The data sources where more than half of the responses had no answer. */
  alerts(): NoAnswerAlert[] {
    const out: NoAnswerAlert[] = [];
    for (const [data_source, s] of [...this.bySource.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (s.responses < noAnswerDefaults.minResponses || s.noAnswer.length <= noAnswerDefaults.share * s.responses)
        continue;
      const step = Math.max(1, Math.floor(s.noAnswer.length / noAnswerDefaults.examples));
      const tails = [0, 1, 2]
        .map((k) => s.noAnswer[k * step])
        .filter((r) => r !== undefined)
        .slice(0, noAnswerDefaults.examples)
        .map(tailOf);
      out.push({
        data_source,
        noAnswer: s.noAnswer.length,
        responses: s.responses,
        tails,
        hint: answerHint(s.noAnswer),
      });
    }
    return out;
  }

  /** Warn (core `warn()`, once per data_source) about every alert, and return them. */
  warn(): NoAnswerAlert[] {
    const alerts = this.alerts();
    for (const a of alerts) warn(`eval/noAnswer/${a.data_source}`, noAnswerMessage(a));
    return alerts;
  }
}

/** The warning text of an alert. */
export function noAnswerMessage(a: NoAnswerAlert): string {
  const pct = Math.round((100 * a.noAnswer) / a.responses);
  return (
    `evals: ${a.data_source}: the grader found no answer in ${a.noAnswer} of ${a.responses} responses ` +
    `(${pct}%), so its ` +
    `score says little about the model. How three of them end: ${a.tails.map((t) => JSON.stringify(t)).join(", ")}. ` +
    `Likely fix: ${a.hint}.`
  );
}

/**
 * Warn about every data_source of scored records whose responses mostly had no extracted answer.
 * @example warnNoAnswers(await evals.scoreRecords(records)) // [] when every source had answers
 */
export function warnNoAnswers(records: readonly EvalRecord[]): NoAnswerAlert[] {
  const check = new NoAnswerCheck();
  for (const r of records) check.add(r.data_source, r.responses, r.details);
  return check.warn();
}
