// The reward workbench: run a reward over a table of probe responses made from a gold answer (the gold itself, empty,
// repeated tags, gold as a substring, LaTeX variants, over-long, wrong but well formatted, several boxed answers, ...),
// show score, extracted answer and the rule that fired, and say in plain words what a policy could exploit.
import { describe, fail } from "../core/errors.js";
import { escapeHtml, type Displayable, type MimeBundle } from "../kernel/mime.js";
import { figure } from "../kernel/plotly.js";
import { rewards } from "../reward/registry.js";
import type { RewardFn, RewardRecord, RewardResult } from "../reward/types.js";
import { css, outcome, sequential, seriesColor, GREEN } from "./color.js";
import { badge, clip, num, visibleTokenText } from "./format.js";
import { htmlTable } from "./html-table.js";

/**
 * What a sound reward should do with a probe: "full" = as much as the gold answer, "none" = less than the gold
 * answer (a wrong or missing answer), "less" = less than the gold answer although the answer is right (over-long).
 */
export type ProbeExpectation = "full" | "none" | "less";

/** One probe response. */
export interface RewardProbe {
  /** Short name, e.g. "empty", "gold-substring". */
  name: string;
  response: string;
  /** The ground truth the reward is called with. */
  gold: string;
  expect: ProbeExpectation;
  /** What the probe tests, in words ("an empty answer"). Used in the summary. */
  what: string;
}

/** Options of rewardProbes. */
export interface RewardProbeOptions {
  /**
   * A wrong answer of the same kind as the gold. Defaults to gold + 1 for numbers, else "0" (or "1" when gold is 0).
   */
  wrong?: string;
  /** Characters of filler in the over-long probe. Defaults to 20000. */
  longChars?: number;
  /** Probe names to leave out. Defaults to none. */
  skip?: string[];
}

/**
 * Defaults of rewardProbes.
 * @example viz.rewardProbeDefaults.longChars // 20000
 */
export const rewardProbeDefaults = { longChars: 20000 };

function numeric(s: string): number | null {
  return /^-?\d+(\.\d+)?$/.test(s.trim()) ? Number(s.trim()) : null;
}

function fraction(s: string): [number, number] | null {
  const m = s.trim().match(/^\\[dt]?frac\{(-?\d+)\}\{(\d+)\}$/) ?? s.trim().match(/^(-?\d+)\/(\d+)$/);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/**
 * The probe table for one gold answer: the gold in a box, its LaTeX / phrase variants (should score full); empty,
 * whitespace, an empty box, reasoning without an answer, repeated tags, the gold as a substring or in the
 * reasoning only, a list of numbers, several boxed answers, a wrong but well-formatted answer (should score less
 * than the gold); and an over-long correct answer (should score less).
 * @example viz.rewardProbes("13").map(p => p.name)
 */
export function rewardProbes(gold: string, options: RewardProbeOptions = {}): RewardProbe[] {
  if (typeof gold !== "string" || gold.trim() === "")
    fail(
      "invalid_input",
      `viz.rewardProbes: gold must be a non-empty answer string (got ${describe(gold)}), e.g. "13" or ` +
        `"\\\\frac{1}{2}".`,
      { path: ["gold"] },
      rewardProbes,
    );
  const g = gold.trim();
  const n = numeric(g);
  const wrong =
    options.wrong ??
    (n !== null ? String(Number.isInteger(n) ? n + 1 : Math.round((n + 1) * 1e6) / 1e6) : g === "0" ? "1" : "0");
  const longChars = options.longChars ?? rewardProbeDefaults.longChars;
  const think = "<think>Let me work through this carefully, step by step.</think>";
  const probes: RewardProbe[] = [];
  const add = (name: string, expect: ProbeExpectation, what: string, response: string) =>
    probes.push({ name, response, gold: g, expect, what });

  add("gold", "full", "the correct answer in a box", `${think} The answer is $\\boxed{${g}}$.`);
  add("gold-phrase", "full", "the correct answer stated without a box", `${think} The final answer is $${g}$.`);
  add("gold-spaces", "full", "the correct answer with spaces inside the box", `${think} $\\boxed{ ${g} }$`);
  if (n !== null && Number.isInteger(n)) {
    add("gold-decimal", "full", `the correct answer written ${g}.0`, `${think} $\\boxed{${g}.0}$`);
    add("gold-text", "full", "the correct answer wrapped in \\text{}", `${think} $\\boxed{\\text{${g}}}$`);
  }
  const f = fraction(g);
  if (f) {
    add("gold-dfrac", "full", "the correct answer as \\dfrac", `${think} $\\boxed{\\dfrac{${f[0]}}{${f[1]}}}$`);
    add("gold-slash", "full", "the correct answer as a/b", `${think} $\\boxed{${f[0]}/${f[1]}}$`);
    const d = f[0] / f[1];
    if (Number.isFinite(d) && String(d).length < 10)
      add("gold-decimal", "full", "the correct answer as a decimal", `${think} $\\boxed{${d}}$`);
  }
  add("empty", "none", "an empty response", "");
  add("whitespace", "none", "a whitespace-only response", "  \n\t ");
  add("empty-box", "none", "an empty \\boxed{}", `${think} $\\boxed{}$`);
  add(
    "no-answer",
    "none",
    "reasoning that never gives an answer",
    `${think} We need to compute the value. First we simplify the expression and then we check the cases.`,
  );
  add("wrong", "none", "a wrong but well-formatted answer", `${think} The answer is $\\boxed{${wrong}}$.`);
  add(
    "repeated-tags",
    "none",
    "repeated format tags around a wrong answer",
    `${"<think></think>".repeat(4)}<answer>${wrong}</answer><answer>${wrong}</answer>`,
  );
  add("tags-only", "none", "format tags with nothing in them", "<think></think><answer></answer>");
  add(
    "gold-substring",
    "none",
    `a wrong answer that contains the gold (${clip(`1${g}`, 20)})`,
    `${think} The answer is $\\boxed{1${g}}$.`,
  );
  add(
    "gold-or-wrong",
    "none",
    'the gold and a wrong answer in one box ("a or b")',
    `${think} The answer is $\\boxed{${g} \\text{ or } ${wrong}}$.`,
  );
  add(
    "gold-in-reasoning",
    "none",
    "the gold mentioned in the reasoning, a wrong final answer",
    `<think>Maybe it is ${g}? No.</think> The answer is $\\boxed{${wrong}}$.`,
  );
  add(
    "boxed-gold-first",
    "none",
    "several boxed answers, the gold first",
    `${think} Either $\\boxed{${g}}$ or $\\boxed{${wrong}}$.`,
  );
  add(
    "boxed-gold-last",
    "none",
    "several boxed answers, the gold last",
    `${think} Either $\\boxed{${wrong}}$ or $\\boxed{${g}}$.`,
  );
  const list =
    n !== null && Number.isInteger(n) && Math.abs(n) <= 5000
      ? Array.from({ length: Math.max(100, Math.abs(n) + 10) }, (_, i) => String(n < 0 ? -i : i)).join(", ")
      : [wrong, g, `-${g}`, `2${g}`].join(", ");
  add("number-list", "none", "a list of many candidate answers", `${think} Possible answers: ${list}.`);
  const filler = "Let us double-check every step once more. ".repeat(Math.ceil(longChars / 42)).slice(0, longChars);
  add(
    "over-long",
    "less",
    `a correct answer after ${longChars} characters of padding`,
    `<think>${filler}</think> The answer is $\\boxed{${g}}$.`,
  );
  const skip = new Set(options.skip ?? []);
  return probes.filter((p) => !skip.has(p.name));
}

/** One probe's outcome. */
export interface ProbeRow extends RewardProbe {
  score: number;
  /** The answer the reward extracted (details.extracted / answer / pred), or null. */
  extracted: string | null;
  /** The rule that decided (details.rule), or "". */
  rule: string;
  /** "ok", "hack" (a none/less probe scores as much as the gold), "miss" (a full probe scores less than the gold). */
  verdict: "ok" | "hack" | "miss";
  details: Record<string, unknown>;
}

/**
 * What probeReward returns: every row, the hacks and misses, a plain-words summary. Display it to see the workbench.
 */
export interface RewardProbeReport extends Displayable {
  /** The reward's name (or "reward"). */
  name: string;
  rows: ProbeRow[];
  hacks: ProbeRow[];
  misses: ProbeRow[];
  /** Plain-language findings, e.g. "an empty response scores 1 (as much as the correct answer)". */
  summary: string[];
}

type Components = Record<string, { score?: number; details?: Record<string, unknown> }>;

function components(d: Record<string, unknown>): Components | null {
  const c = d.components;
  return c && typeof c === "object" && !Array.isArray(c) ? (c as Components) : null;
}

function pickAnswer(d: Record<string, unknown>): string | null {
  for (const k of ["extracted", "answer", "pred", "prediction", "letter", "parsed"]) {
    const v = d[k];
    if (typeof v === "string") return v;
    if (typeof v === "number") return String(v);
  }
  // A composite reward keeps each part's details under details.components: the first part that extracted wins.
  for (const part of Object.values(components(d) ?? {})) {
    const a = part?.details ? pickAnswer(part.details) : null;
    if (a !== null) return a;
  }
  return null;
}

function pickRule(d: Record<string, unknown>): string {
  const parts = components(d);
  const own = typeof d.rule === "string" ? d.rule : "";
  if (!parts) return own;
  // For a composite, name each part's rule with its score: "math:numeric=1 + dapo-overlong=-1".
  const inner = Object.entries(parts)
    .map(
      ([k, p]) =>
        `${k}${typeof p?.details?.rule === "string" && p.details.rule !== k ? `:${p.details.rule}` : ""}=` +
        `${num(Number(p?.score))}`,
    )
    .join(" + ");
  return own && own !== "weighted-sum" ? `${own} (${inner})` : inner;
}

function checkResult(r: unknown, probe: RewardProbe, from: Function): RewardResult {
  const res = r as RewardResult;
  if (!res || typeof res !== "object" || typeof res.score !== "number" || !Number.isFinite(res.score))
    fail(
      "invalid_input",
      `viz.probeReward: the reward returned ${describe(r)} for probe "${probe.name}" (expected {score: finite ` +
        `number, details}).`,
      { path: ["probes", probe.name] },
      from,
    );
  return { score: res.score, details: res.details && typeof res.details === "object" ? res.details : {} };
}

function judge(probes: RewardProbe[], results: RewardResult[], name: string): RewardProbeReport {
  const goldScore = new Map<string, number>();
  probes.forEach((p, i) => {
    if (p.name === "gold") goldScore.set(p.gold, results[i].score);
  });
  const rows: ProbeRow[] = probes.map((p, i) => {
    const { score, details } = results[i];
    const ref = goldScore.get(p.gold);
    let verdict: ProbeRow["verdict"] = "ok";
    if (ref !== undefined && p.name !== "gold") {
      if (p.expect === "full" && score < ref) verdict = "miss";
      if (p.expect !== "full" && score >= ref) verdict = "hack";
    }
    return { ...p, score, extracted: pickAnswer(details), rule: pickRule(details), verdict, details };
  });
  const hacks = rows.filter((r) => r.verdict === "hack");
  const misses = rows.filter((r) => r.verdict === "miss");
  const summary: string[] = [];
  for (const [gold, s] of goldScore) {
    const wrong = rows.find((r) => r.gold === gold && r.name === "wrong");
    if (wrong && wrong.score >= s)
      summary.push(
        `The reward does not separate right from wrong for gold ${JSON.stringify(gold)}: the correct answer ` +
          `scores ${num(s)} and a wrong one ${num(wrong.score)}.`,
      );
  }
  if (goldScore.size === 0)
    summary.push('No "gold" probe: hacks and misses are judged against the gold probe\'s score, so include it.');
  const forGold = (r: ProbeRow) => (goldScore.size > 1 ? ` [gold ${JSON.stringify(r.gold)}]` : "");
  for (const h of hacks)
    summary.push(
      `${cap(h.what)} scores ${num(h.score)} (as much as the correct ` +
        `answer${goldScore.get(h.gold) !== undefined ? `, ${num(goldScore.get(h.gold)!)}` : ""})` +
        `${h.rule ? ` via rule "${h.rule}"` : ""}.${forGold(h)}`,
    );
  for (const m of misses)
    summary.push(
      `${cap(m.what)} scores ${num(m.score)} (less than the ${num(goldScore.get(m.gold)!)} of the boxed ` +
        `gold): a right answer is marked down.${forGold(m)}`,
    );
  if (!hacks.length && !misses.length && goldScore.size)
    summary.push(
      `No hack found: every probe that should score less than the correct answer does, and every correct ` +
        `variant scores full (${rows.length} probes).`,
    );
  const report: RewardProbeReport = {
    name,
    rows,
    hacks,
    misses,
    summary,
    toMimeBundle: () => rewardWorkbench(report).toMimeBundle(),
  };
  return report;
}

/** The response as the table shows it: long think blocks folded (every probe shares the same reasoning prefix). */
function shown(response: string): string {
  return response.replace(/<think>((?:(?!<\/?think>)[\s\S]){24,})<\/think>/g, "<think>…</think>");
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * Run a reward over probes (or over rewardProbes(gold) when given a gold string). Sync rewards give the report at
 * once; async ones (or a registered name) give a Promise of it, so `await viz.probeReward(...)` always works.
 * @example
 * const rep = viz.probeReward((r, gt) => ({score: r.includes(String(gt)) ? 1 : 0, details: {rule: "substring"}}), "13")
 * rep.summary
 */
export function probeReward(
  reward: (
    response: string,
    groundTruth: unknown,
    record?: RewardRecord,
    options?: Record<string, unknown>,
  ) => RewardResult,
  probes: RewardProbe[] | string,
  options?: { record?: RewardRecord; rewardOptions?: Record<string, unknown>; name?: string },
): RewardProbeReport;
export function probeReward(
  reward: RewardFn | string,
  probes: RewardProbe[] | string,
  options?: { record?: RewardRecord; rewardOptions?: Record<string, unknown>; name?: string },
): RewardProbeReport | Promise<RewardProbeReport>;
export function probeReward(
  reward: RewardFn | string,
  probes: RewardProbe[] | string,
  options: { record?: RewardRecord; rewardOptions?: Record<string, unknown>; name?: string } = {},
): RewardProbeReport | Promise<RewardProbeReport> {
  const fn: RewardFn = typeof reward === "string" ? rewards.get(reward) : reward;
  if (typeof fn !== "function")
    fail(
      "invalid_input",
      `viz.probeReward: reward must be a reward function (response, gold) => {score, details} or a registered ` +
        `name (got ${describe(reward)}).`,
      { path: ["reward"] },
      probeReward,
    );
  const list = typeof probes === "string" ? rewardProbes(probes) : probes;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    list.some((p) => typeof p?.response !== "string" || typeof p?.name !== "string")
  )
    fail(
      "invalid_input",
      `viz.probeReward: probes must be a gold answer string or a non-empty list from viz.rewardProbes ` +
        `(got ${describe(probes)}).`,
      { path: ["probes"] },
      probeReward,
    );
  const name = options.name ?? (typeof reward === "string" ? reward : reward.name || "reward");
  const raw = list.map((p) => fn(p.response, p.gold, options.record, options.rewardOptions));
  if (raw.some((r) => r && typeof (r as Promise<unknown>).then === "function"))
    return Promise.all(raw).then((rs) =>
      judge(
        list,
        rs.map((r, i) => checkResult(r, list[i], probeReward)),
        name,
      ),
    );
  return judge(
    list,
    raw.map((r, i) => checkResult(r, list[i], probeReward)),
    name,
  );
}

/** Options of rewardWorkbench. */
export interface RewardWorkbenchOptions {
  title?: string;
  /** Characters of each response shown. Defaults to 70. */
  maxChars?: number;
}

/**
 * The workbench view of a probe report: the findings in plain words, then one row per probe with its response,
 * score, extracted answer, rule and verdict (hack / miss / ok). Static HTML; the text copy carries everything.
 * @example display(viz.rewardWorkbench(viz.probeReward(reward.mathReward, "13")))
 */
export function rewardWorkbench(
  report: RewardProbeReport,
  options: RewardWorkbenchOptions = {},
): Displayable & { html: string; text: string } {
  if (!report || !Array.isArray(report.rows))
    fail(
      "invalid_input",
      `viz.rewardWorkbench: expected the report of viz.probeReward (got ${describe(report)}).`,
      {},
      rewardWorkbench,
    );
  const maxChars = options.maxChars ?? 70;
  const title =
    options.title ??
    `Reward workbench: ${report.name} (${report.rows.length} probes, ${report.hacks.length} ` +
      `hacks, ${report.misses.length} misses)`;
  const ok = !report.hacks.length && !report.misses.length;
  const box =
    `<div style="border-left:4px solid ${css(ok ? outcome.good : outcome.bad)};` +
    `background-color:${ok ? "rgb(235,248,238)" : "rgb(253,243,228)"};padding:4px 8px;` +
    `margin:4px 0;color:rgb(0,0,0)">` +
    report.summary.map((s) => `<div>${escapeHtml(s)}</div>`).join("") +
    "</div>";
  const scores = report.rows.map((r) => r.score);
  const lo = Math.min(0, ...scores),
    hi = Math.max(1e-9, ...scores);
  const verdictBadge = (v: ProbeRow["verdict"]) =>
    v === "hack"
      ? badge("HACK", css(outcome.bad))
      : v === "miss"
        ? badge("MISS", css(outcome.bad))
        : badge("ok", css(outcome.none));
  const body = report.rows
    .map((r) => {
      const resp = visibleTokenText(clip(shown(r.response), maxChars));
      return (
        `<tr data-cellrl-probe="${escapeHtml(r.name)}">` +
        `<td style="padding:1px 6px;font-family:monospace">${escapeHtml(r.name)}</td>` +
        `<td style="padding:1px 6px">${verdictBadge(r.verdict)}</td>` +
        `<td style="padding:1px 6px">${escapeHtml(r.expect)}</td>` +
        `<td style="padding:1px 6px;font-family:monospace;max-width:260px;overflow:hidden;white-space:nowrap" ` +
        `title="${escapeHtml(clip(r.response, 2000))}">${escapeHtml(resp) || "<i>(empty)</i>"}` +
        `${shown(r.response).length > maxChars ? ` <small>(${r.response.length} chars)</small>` : ""}</td>` +
        `<td style="padding:1px 6px;text-align:right;` +
        `background-color:${css(sequential(r.score, lo, hi, GREEN))}">${escapeHtml(num(r.score))}</td>` +
        `<td style="padding:1px 6px;font-family:monospace">` +
        `${r.extracted === null ? "—" : escapeHtml(clip(r.extracted, 30))}</td>` +
        `<td style="padding:1px 6px;font-family:monospace;max-width:200px;white-space:normal;` +
        `overflow-wrap:anywhere">${escapeHtml(r.rule || "—")}</td></tr>`
      );
    })
    .join("");
  // The verdict is the second column so a narrow output (800 px) never cuts it off; the table scrolls if needed.
  const head = ["probe", "verdict", "expect", "response", "score", "extracted", "rule"]
    .map((h) => `<th style="text-align:left;padding:2px 6px;border-bottom:1px solid rgb(180,180,180)">${h}</th>`)
    .join("");
  const html =
    `<div class="cellrl-reward-workbench tex2jax_ignore" ` +
    `style="font-size:12px;font-family:sans-serif;color:rgb(0,0,0)">` +
    `<div style="font-weight:bold">${escapeHtml(title)}</div>${box}` +
    `<div style="max-width:100%;overflow-x:auto"><table style="border-collapse:collapse">` +
    `<thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>` +
    `<div style="font-size:85%;color:rgb(100,100,100)">expect: full = should score as much as the boxed gold; ` +
    `none = should score less (wrong or missing answer); less = right answer that should still score less ` +
    `(over-long).</div></div>`;
  const table = htmlTable(
    report.rows.map((r) => ({
      probe: r.name,
      expect: r.expect,
      score: r.score,
      extracted: r.extracted === null ? "—" : clip(r.extracted, 24),
      rule: r.rule || "—",
      verdict: r.verdict,
      response: visibleTokenText(clip(shown(r.response), 48)),
    })),
    { maxRows: 500 },
  );
  const text = `${title}\n${report.summary.map((s) => `* ${s}`).join("\n")}\n${table.text}`;
  const bundle: MimeBundle = { "text/html": html, "text/plain": text };
  return { html, text, toMimeBundle: () => bundle };
}

/**
 * Several rewards' probe scores side by side: one bar per reward for every probe, hacks outlined in red.
 * @example viz.probeChart([naiveReport, hardenedReport])
 */
export function probeChart(reports: readonly RewardProbeReport[], options: { title?: string } = {}): Displayable {
  if (
    !Array.isArray(reports) ||
    reports.length === 0 ||
    reports.some((r: RewardProbeReport) => !r || !(r.rows instanceof Array))
  )
    fail(
      "invalid_input",
      `viz.probeChart: give a non-empty list of viz.probeReward reports (got ${describe(reports)}).`,
      {},
      probeChart,
    );
  const manyGolds = new Set(reports.flatMap((rep: RewardProbeReport) => rep.rows.map((r) => r.gold))).size > 1;
  const key = (r: ProbeRow) => (manyGolds ? `${r.name} (${clip(r.gold, 12)})` : r.name);
  const probes = [...new Set(reports.flatMap((rep: RewardProbeReport) => rep.rows.map(key)))];
  const data = reports.map((rep: RewardProbeReport, j: number) => {
    const by = new Map(rep.rows.map((r) => [key(r), r]));
    return {
      type: "bar",
      name: `${rep.name} (${rep.hacks.length} hacks, ${rep.misses.length} misses)`,
      x: probes,
      y: probes.map((p) => by.get(p)?.score ?? null),
      marker: {
        color: seriesColor(j),
        line: { color: probes.map((p) => (by.get(p)?.verdict === "ok" ? "rgba(0,0,0,0)" : "rgb(0,0,0)")), width: 2 },
      },
      hovertext: probes.map((p) => {
        const r = by.get(p);
        return r ? `${r.verdict}: ${r.rule || "—"}` : "";
      }),
    };
  });
  return figure(
    {
      data,
      layout: {
        title: { text: options.title ?? "Probe scores by reward (black outline: hack or miss)" },
        barmode: "group",
        height: 360,
        margin: { l: 50, r: 20, t: 40, b: 120 },
        xaxis: { tickangle: -40 },
        yaxis: { title: { text: "score" } },
        legend: { orientation: "h", y: 1.12 },
      },
    },
    {
      summary: reports
        .map(
          (r: RewardProbeReport) =>
            `${r.name}: ${r.hacks.length} hacks (${r.hacks.map((h) => h.name).join(", ") || "none"}),` +
            ` ${r.misses.length} misses (${r.misses.map((h) => h.name).join(", ") || "none"})`,
        )
        .join("\n"),
    },
  );
}
