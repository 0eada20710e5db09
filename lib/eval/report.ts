// The eval report: r1's README table (dataset, measured mean@k, reported) followed by the details r1 does not give:
// CIs, pass@k and maj@k, extraction failures and truncations, agreement with upstream labels, breakdowns, item
// difficulty, length vs correctness and run comparisons. One set of sections, rendered as Markdown, HTML and text.
import * as path from "node:path";
import { escapeHtml, textTable, type Displayable, type MimeBundle } from "../kernel/mime.js";
import { writeFileAtomic } from "../data/files.js";
import type { AgreementReport } from "./agreement.js";
import { isGpqaSource } from "./agreement.js";
import type { DifficultyReport, LengthReport } from "./analysis.js";
import type { EvalComparison } from "./compare-evals.js";
import { barsSvg, lineSvg } from "./report-svg.js";
import type { EvalSummary, SummaryRow } from "./summarize.js";

/**
 * Display names of data sources in report tables (r1's README names where r1 has the set).
 * @example evals.datasetNames["Idavidrein/gpqa"] // "GPQA Diamond"
 */
export const datasetNames: Record<string, string> = {
  "Idavidrein/gpqa": "GPQA Diamond",
  "livecodebench/code_generation_lite": "LiveCodeBench",
  "Maxwell-Jia/AIME_2024": "AIME 2024",
  "opencompass/cnmo2024_en": "CNMO 2024 (en)",
  "opencompass/cnmo2024_zh": "CNMO 2024 (zh)",
  "opencompass/AIME2025": "AIME 2025",
  "math-ai/amc23": "AMC 2023",
  "HuggingFaceH4/MATH-500": "MATH-500",
  "lighteval/MATH": "MATH",
  "openai/gsm8k": "GSM8K",
  "Hothan/OlympiadBench": "OlympiadBench",
  "openai/openai_humaneval": "HumanEval",
  "google-research-datasets/mbpp": "MBPP",
  "deepmind/code_contests": "CodeContests",
  "TIGER-Lab/MMLU-Pro": "MMLU-Pro",
  "areal/math": "AReaL math",
};

/** Published numbers (percent) to put next to measured ones, keyed by data_source. */
export interface ReportedResults {
  /** What the numbers are and where they come from. */
  source: string;
  /** Samples per problem behind the measured numbers of the source (r1's "k"). */
  k?: number;
  values: Record<string, number | null>;
}

/**
 * The numbers of verl's recipe/r1 README: DeepSeek's official figures ("Reported") and verl's own runs.
 * @example evals.reportedResults["DeepSeek-R1-Distill-Qwen-1.5B"].values["Maxwell-Jia/AIME_2024"] // 28.9
 */
export const reportedResults: Record<string, ReportedResults> = {
  "DeepSeek-R1-Distill-Qwen-1.5B": {
    source: "DeepSeek's official pass@1 (T 0.6, top-p 0.95), as quoted in verl recipe/r1 README",
    values: {
      "Idavidrein/gpqa": 33.8,
      "livecodebench/code_generation_lite": 16.9,
      "Maxwell-Jia/AIME_2024": 28.9,
      "opencompass/cnmo2024_en": null,
      "opencompass/cnmo2024_zh": null,
    },
  },
  "DeepSeek-R1-Distill-Qwen-1.5B (verl, k=8)": {
    source: "verl recipe/r1 README test results, k = 8",
    k: 8,
    values: {
      "Idavidrein/gpqa": 35.3,
      "livecodebench/code_generation_lite": 16.9,
      "Maxwell-Jia/AIME_2024": 30.4,
      "opencompass/cnmo2024_en": 45.1,
      "opencompass/cnmo2024_zh": 41.0,
    },
  },
  "DeepSeek-R1": {
    source: "DeepSeek's official pass@1, as quoted in verl recipe/r1 README",
    values: {
      "Idavidrein/gpqa": 71.5,
      "livecodebench/code_generation_lite": 65.9,
      "Maxwell-Jia/AIME_2024": 79.8,
      "opencompass/cnmo2024_en": 78.8,
    },
  },
  "DeepSeek-R1 (verl, k=4)": {
    source: "verl recipe/r1 README test results, k = 4 (CNMO en+zh pooled)",
    k: 4,
    values: {
      "Idavidrein/gpqa": 69.6,
      "livecodebench/code_generation_lite": 63.1,
      "Maxwell-Jia/AIME_2024": 79.2,
      "opencompass/cnmo2024_en": 78.5,
    },
  },
};

/** What a report is built from (everything but the summary is optional). */
export interface ReportInput {
  title?: string;
  summary: EvalSummary;
  /** Published numbers (percent by data_source) for the "Reported" column, or a key of reportedResults. */
  reported?: Record<string, number | null> | string;
  /** Header of the reported column. Defaults to "Reported" (or "Upstream grader" when taken from agreement). */
  reportedLabel?: string;
  agreement?: AgreementReport | null;
  comparison?: EvalComparison | null;
  breakdowns?: { title: string; rows: SummaryRow[] }[];
  difficulty?: DifficultyReport | null;
  lengths?: LengthReport | null;
  /** How the responses were sampled (extra_info.generation), shown as a list. */
  settings?: Record<string, unknown> | null;
  /** Free lines under the title (input file, grader options...). */
  notes?: string[];
  /** Disagreements listed (all are in the JSON). Defaults to 30. */
  maxDisagreements?: number;
}

interface Table {
  columns: string[];
  rows: string[][];
}
type Block = { text: string } | { table: Table } | { svg: string[] };
interface Section {
  title: string;
  blocks: Block[];
}

// sections are written as (title, text, tables, svg) and kept as blocks in that order, or given as blocks directly
function section(title: string, text: string[], tables: Table[], svg: string[] = []): Section {
  return {
    title,
    blocks: [...text.map((t) => ({ text: t })), ...tables.map((t) => ({ table: t })), ...(svg.length ? [{ svg }] : [])],
  };
}

const pct = (x: number | null | undefined, d = 1) =>
  x === null || x === undefined || !Number.isFinite(x) ? "-" : (100 * x).toFixed(d);
const signed = (x: number, d: number) => (x >= 0 ? "+" : "") + x.toFixed(d);
const nameOf = (s: string) => datasetNames[s] ?? s;

function reportedValues(input: ReportInput): { label: string; values: Record<string, number | null> } | null {
  if (typeof input.reported === "string") {
    const r = reportedResults[input.reported];
    return r ? { label: input.reportedLabel ?? "Reported", values: r.values } : null;
  }
  if (input.reported) return { label: input.reportedLabel ?? "Reported", values: input.reported };
  if (input.agreement)
    return {
      label: input.reportedLabel ?? "Upstream grader",
      values: Object.fromEntries(input.agreement.bySource.map((r) => [r.data_source, 100 * r.upstreamMean])),
    };
  return null;
}

function lookup(values: Record<string, number | null>, source: string): number | null | undefined {
  if (source in values) return values[source];
  const name = nameOf(source);
  return name in values ? values[name] : undefined;
}

/** A built report: render it with toMarkdown / toHTML / toText, or display it in a notebook. */
export class EvalReport implements Displayable {
  readonly sections: Section[];
  constructor(readonly input: ReportInput) {
    this.sections = buildSections(input);
  }
  /** Title of the report. */
  get title(): string {
    return this.input.title ?? "Eval results";
  }
  /** Markdown, r1 README style (tables with a header rule). */
  toMarkdown(): string {
    const md = (t: Table) =>
      [
        `| ${t.columns.join(" | ")} |`,
        `|${t.columns.map(() => "---").join("|")}|`,
        ...t.rows.map((r) => `| ${r.map((c) => c.replace(/\|/g, "\\|").replace(/\n/g, " ")).join(" | ")} |`),
      ].join("\n");
    const out = [`# ${this.title}`, ""];
    this.sections.forEach((s, i) => {
      if (i > 0) out.push(`## ${s.title}`, "");
      for (const b of s.blocks)
        if ("text" in b) out.push(b.text, "");
        else if ("table" in b) out.push(md(b.table), "");
    });
    return out.join("\n").trimEnd() + "\n";
  }
  /** A standalone HTML page (inline styles, SVG charts, no scripts). */
  toHTML(options: { fragment?: boolean } = {}): string {
    const td = "padding:2px 8px;border-bottom:1px solid rgb(220,220,220);text-align:left;vertical-align:top";
    const th = `${td};border-bottom:1px solid rgb(120,120,120)`;
    const table = (t: Table) =>
      `<table style="border-collapse:collapse;font-size:12px;margin:6px 0"><thead>` +
      `<tr>${t.columns.map((c) => `<th style="${th}">${escapeHtml(c)}</th>`).join("")}` +
      `</tr></thead><tbody>` +
      t.rows.map((r) => `<tr>${r.map((c) => `<td style="${td}">${escapeHtml(c)}</td>`).join("")}</tr>`).join("") +
      `</tbody></table>`;
    const block = (b: Block) =>
      "text" in b
        ? `<p style="margin:4px 0;font-size:12px">${escapeHtml(b.text).replace(/`([^`]+)`/g, "<code>$1</code>")}</p>`
        : "table" in b
          ? table(b.table)
          : `<div style="display:flex;flex-wrap:wrap;gap:12px">${b.svg.join("")}</div>`;
    const body = this.sections
      .map(
        (s, i) =>
          (i === 0
            ? `<h2 style="margin:4px 0">${escapeHtml(this.title)}</h2>`
            : `<h3 style="margin:12px 0 4px">${escapeHtml(s.title)}</h3>`) + s.blocks.map(block).join(""),
      )
      .join("\n");
    const div = `<div class="cellrl-eval-report" style="font-family:sans-serif;color:rgb(0,0,0)">${body}</div>`;
    if (options.fragment) return div;
    return (
      `<!doctype html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(this.title)}</title></head><body ` +
      `style="max-width:1100px;margin:16px auto">${div}</body></html>\n`
    );
  }
  /** Plain text, as the CLI prints it. */
  toText(): string {
    const out = [this.title, "=".repeat(this.title.length)];
    this.sections.forEach((s, i) => {
      if (i > 0) out.push("", s.title, "-".repeat(s.title.length));
      for (const b of s.blocks)
        if ("text" in b) out.push(b.text);
        else if ("table" in b)
          out.push(
            textTable(
              b.table.rows.map((r) => Object.fromEntries(b.table.columns.map((c, j) => [c, r[j]]))),
              b.table.columns,
            ),
            "",
          );
    });
    return out
      .join("\n")
      .replace(/\n{3,}/g, "\n\n")
      .trimEnd();
  }
  /** The numbers behind the report (summary, agreement with every disagreement, comparison, breakdowns). */
  toJSON(): Record<string, unknown> {
    const { lengths, ...rest } = this.input;
    return { ...rest, lengths: lengths ? { ...lengths, points: undefined } : lengths };
  }
  /** Notebook display: the HTML fragment, with the text tables as the plain-text copy. */
  toMimeBundle(): MimeBundle {
    return { "text/html": this.toHTML({ fragment: true }), "text/plain": this.toText() };
  }
  /** The plain text. */
  toString(): string {
    return this.toText();
  }
}

function headlineSection(input: ReportInput): Section {
  const s = input.summary;
  const rep = reportedValues(input);
  const ks = [...new Set(s.rows.map((r) => r.n))];
  const kLabel = ks.length === 1 ? `k=${ks[0]}` : `k=${Math.min(...ks)}-${Math.max(...ks)}`;
  const columns = ["Dataset", "Items", `Test Results (${kLabel})`, `${Math.round(s.bootstrap.level * 100)}% CI`];
  if (rep) columns.push(rep.label, "Δ");
  const rows = s.rows.map((r) => {
    const cells = [nameOf(r.data_source), String(r.items), pct(r.meanAtK), `${pct(r.ci.low)}–${pct(r.ci.high)}`];
    if (rep) {
      const v = lookup(rep.values, r.data_source);
      cells.push(
        v === null || v === undefined ? "-" : v.toFixed(1),
        v === null || v === undefined ? "-" : signed(100 * r.meanAtK - v, 1),
      );
    }
    return cells;
  });
  const text = [...(input.notes ?? [])];
  text.push(
    `Test Results = mean@k as verl recipe/r1 main_eval computes it: the mean score of each problem's k ` +
      `responses, averaged over problems (percent). CI: percentile bootstrap over problems ` +
      `(${s.bootstrap.resamples} resamples, seed ${s.bootstrap.seed}).`,
  );
  return section("Results", text, [{ columns, rows }]);
}

function detailsSection(s: EvalSummary): Section {
  const all = s.overall ? [...s.rows, s.overall] : s.rows;
  const columns = [
    "data_source",
    "items",
    "n",
    "mean@k %",
    "± se",
    "pass@1",
    "pass@n",
    "maj@n",
    "no answer",
    "truncated",
    "reward errors",
    "mean chars",
  ];
  const rows = all.map((r) => [
    r.data_source,
    String(r.items),
    String(r.n),
    pct(r.meanAtK),
    pct(r.se),
    pct(r.passAtK[1]),
    pct(r.passAtK[r.n]),
    r.majAtK ? pct(r.majAtK[r.n]) : "-",
    `${r.noAnswer} (${pct(r.noAnswer / r.responses)}%)`,
    r.truncated === null ? "unknown" : `${r.truncated} (${pct(r.truncated / r.responses)}%)`,
    String(r.errors),
    r.meanChars.toFixed(0),
  ]);
  const n = Math.max(...all.map((r) => r.n));
  const ks = Array.from({ length: n }, (_, i) => i + 1);
  const passRows = all.map((r) => [r.data_source, ...ks.map((k) => (k <= r.n ? pct(r.passAtK[k]) : ""))]);
  const majRows = all
    .filter((r) => r.majAtK)
    .map((r) => [r.data_source, ...ks.map((k) => (k <= r.n && r.majAtK ? pct(r.majAtK[k]) : ""))]);
  const blocks: Block[] = [
    {
      text:
        `Per data_source: mean@k ± its standard error over problems; pass@1 and pass@n; maj@n; responses where ` +
        `the grader extracted no answer (apart from wrong answers); responses the generator cut at its length ` +
        `limit ("unknown" when the input does not say); responses whose reward raised an error (scored 0).`,
    },
    { table: { columns, rows } },
    {
      text:
        `pass@k: the unbiased estimator 1 − C(n−c, k)/C(n, k) per problem (Chen et al. 2021), averaged over ` +
        `problems; a response is correct when its score is >= ${s.threshold}.`,
    },
    { table: { columns: ["data_source", ...ks.map((k) => `pass@${k}`)], rows: passRows } },
  ];
  if (majRows.length)
    blocks.push(
      {
        text:
          "maj@k: the most frequent extracted answer among the first k responses is correct (answers not " +
          "extracted do not vote; ties go to the answer seen first).",
      },
      { table: { columns: ["data_source", ...ks.map((k) => `maj@${k}`)], rows: majRows } },
    );
  blocks.push({
    svg: [
      lineSvg(
        all.map((r) => ({
          name: r.data_source,
          xs: ks.filter((k) => k <= r.n),
          ys: ks.filter((k) => k <= r.n).map((k) => r.passAtK[k]),
        })),
        { title: "pass@k (unbiased estimator)", xLabel: "k", logX: true },
      ),
    ],
  });
  return { title: "Details", blocks };
}

function agreementSection(a: AgreementReport, max: number): Section {
  const rows = [...a.bySource, ...(a.bySource.length > 1 ? [{ ...a, data_source: "all" }] : [])].map((r) => [
    r.data_source,
    String(r.items),
    String(r.responses),
    `${r.agree} (${pct(r.rate)}%)`,
    pct(r.oursMean, 2),
    pct(r.upstreamMean, 2),
    signed(100 * (r.oursMean - r.upstreamMean), 2),
    String(r.oursOnly),
    String(r.upstreamOnly),
  ]);
  const dis = a.disagreements
    .slice(0, max)
    .map((d) => [
      d.id,
      String(d.sample),
      d.gold,
      String(d.ours),
      String(d.upstream),
      d.extracted ?? "(none)",
      d.upstreamPred === null || d.upstreamPred === undefined ? "-" : String(d.upstreamPred),
      d.rule ?? "-",
      d.excerpt === null ? (isGpqaSource(d.data_source) ? "(GPQA: not shown)" : "") : "…" + d.excerpt.slice(-120),
    ]);
  const blocks: Block[] = [
    {
      text:
        `Re-scored with cellrl's graders and compared, response by response, with the labels shipped next to ` +
        `the responses (${a.graders.join("; ") || "upstream"}). Agreement ${a.agree}/${a.responses} ` +
        `(${pct(a.rate, 2)}%), Cohen's kappa ${a.kappa.toFixed(3)}; accuracy ours ${pct(a.oursMean, 2)}% vs ` +
        `theirs ${pct(a.upstreamMean, 2)}% (${signed(100 * a.diff, 2)} ` +
        `points).${a.unlabeled ? ` ${a.unlabeled} records had no labels and are left out.` : ""}`,
    },
    {
      table: {
        columns: [
          "data_source",
          "items",
          "responses",
          "agree",
          "ours %",
          "upstream %",
          "diff (points)",
          "only ours correct",
          "only upstream correct",
        ],
        rows,
      },
    },
    {
      text: a.disagreements.length
        ? `Every response the two graders judge differently` +
          (a.disagreements.length > max
            ? ` (first ${max} of ${a.disagreements.length}; all are in summary.json)`
            : ` (${a.disagreements.length})`) +
          ":"
        : "No disagreements.",
    },
  ];
  if (dis.length)
    blocks.push({
      table: {
        columns: [
          "item",
          "sample",
          "gold",
          "ours",
          "upstream",
          "our answer",
          "their answer",
          "our rule",
          "response tail",
        ],
        rows: dis,
      },
    });
  return { title: "Agreement with the upstream labels", blocks };
}

function breakdownSection(b: { title: string; rows: SummaryRow[] }): Section {
  return section(
    b.title,
    [],
    [
      {
        columns: ["group", "items", "responses", "mean@k %", "± se", "pass@n", "no answer"],
        rows: b.rows.map((r) => [
          r.data_source,
          String(r.items),
          String(r.responses),
          pct(r.meanAtK),
          pct(r.se),
          pct(r.passAtK[r.n]),
          String(r.noAnswer),
        ]),
      },
    ],
    [
      barsSvg(
        b.rows.map((r) => ({ label: r.data_source, value: r.meanAtK, err: r.se, note: `(${r.items})` })),
        { title: b.title },
      ),
    ],
  );
}

function difficultySection(d: DifficultyReport): Section {
  const tables: Table[] = [
    {
      columns: ["always (c = n)", "mostly (≥ half)", "rarely (< half)", "never (c = 0)"],
      rows: [[d.buckets.always, d.buckets.mostly, d.buckets.rarely, d.buckets.never].map(String)],
    },
  ];
  if (d.byCorrect) tables.push({ columns: d.byCorrect.map((_, c) => `c=${c}`), rows: [d.byCorrect.map(String)] });
  const hardest = d.items
    .filter((it) => it.bucket === "never" || it.bucket === "rarely")
    .sort((a, b) => a.passRate - b.passRate)
    .slice(0, 15);
  if (hardest.length)
    tables.push({
      columns: ["hardest items", "data_source", "correct", "no answer"],
      rows: hardest.map((it) => [it.id, it.data_source, `${it.c}/${it.n}`, String(it.noAnswer)]),
    });
  return section(
    "Item difficulty (from the samples)",
    ["How many of each problem's samples were correct (c of n): the spread behind the mean."],
    tables,
  );
}

function lengthSection(l: LengthReport): Section {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : "-");
  const gap =
    l.withinItemGap === null
      ? ""
      : ` On the ${l.mixedItems} problems with both correct and wrong responses, wrong ones are on ` +
        `average ${f(Math.abs(l.withinItemGap))} ${l.unit} ${l.withinItemGap >= 0 ? "longer" : "shorter"} than ` +
        `correct ones (difficulty held fixed).`;
  const groups: [string, LengthReport["correct"]][] = [
    ["correct", l.correct],
    ["wrong", l.wrong],
    ["no answer", l.noAnswer],
  ];
  return section(
    "Response length vs correctness",
    [`Lengths in ${l.unit}.${gap}`],
    [
      {
        columns: ["responses", "count", "mean", "median"],
        rows: groups.map(([k, g]) => [k, String(g.responses), f(g.mean), f(g.median)]),
      },
      {
        columns: ["length bin", "responses", "accuracy %"],
        rows: l.bins.map((b) => [`${b.low}–${b.high}`, String(b.responses), pct(b.accuracy)]),
      },
    ],
    [
      barsSvg(
        l.bins.map((b) => ({ label: `${b.low}–${b.high}`, value: b.accuracy })),
        { title: `accuracy by length (${l.unit})` },
      ),
    ],
  );
}

function comparisonSection(c: EvalComparison): Section {
  const [A, B] = c.labels;
  const flips = (xs: EvalComparison["flippedToA"]) => xs.slice(0, 20).map((p) => [p.id, pct(p.a), pct(p.b)]);
  const tables: Table[] = [
    {
      columns: ["", `${B} solved`, `${B} not solved`],
      rows: [
        [`${A} solved`, String(c.both), String(c.onlyA)],
        [`${A} not solved`, String(c.onlyB), String(c.neither)],
      ],
    },
  ];
  if (c.flippedToA.length)
    tables.push({ columns: [`solved only by ${A}`, `${A} %`, `${B} %`], rows: flips(c.flippedToA) });
  if (c.flippedToB.length)
    tables.push({ columns: [`solved only by ${B}`, `${A} %`, `${B} %`], rows: flips(c.flippedToB) });
  return section(
    `Comparison: ${A} vs ${B}`,
    [
      `${c.items} shared items` +
        `${c.onlyInA || c.onlyInB ? ` (${c.onlyInA} only in ${A}, ${c.onlyInB} only in ${B}, left out)` : ""}. ` +
        `mean@k ${A} ${pct(c.meanA)}% vs ${B} ${pct(c.meanB)}%: difference ${signed(100 * c.diff, 1)} points, ` +
        `paired bootstrap CI ${signed(100 * c.diffCI.low, 1)} to ${signed(100 * c.diffCI.high, 1)}. Items ` +
        `agree ${pct(c.agreement)}%` +
        `${c.sampleAgreement !== null ? `, responses agree ${pct(c.sampleAgreement)}%` : ""}; solved by ${A} ` +
        `only: ${c.onlyA}, by ${B} only: ${c.onlyB}; McNemar exact p = ${c.mcnemarP.toPrecision(3)}.`,
    ],
    tables,
  );
}

function buildSections(input: ReportInput): Section[] {
  const out = [headlineSection(input), detailsSection(input.summary)];
  if (input.agreement) out.push(agreementSection(input.agreement, input.maxDisagreements ?? 30));
  for (const b of input.breakdowns ?? []) out.push(breakdownSection(b));
  if (input.difficulty) out.push(difficultySection(input.difficulty));
  if (input.lengths) out.push(lengthSection(input.lengths));
  if (input.comparison) out.push(comparisonSection(input.comparison));
  if (input.settings)
    out.push(
      section(
        "Sampling settings",
        [],
        [
          {
            columns: ["setting", "value"],
            rows: Object.entries(input.settings).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
          },
        ],
      ),
    );
  return out;
}

/**
 * Build a report from a summary and whatever analyses you have: r1's README table first (dataset, measured mean@k,
 * reported), then details. Display it in a notebook, or render it with toMarkdown() / toHTML() / toText().
 * @example display(evals.report({summary, agreement, reported: "DeepSeek-R1-Distill-Qwen-1.5B"}))
 */
export function report(input: ReportInput): EvalReport {
  return new EvalReport(input);
}

/**
 * Write report.md, report.html and summary.json (all the numbers, every disagreement) into a folder, atomically.
 * @example
 * evals.writeReport("out/eval", rep)
 * // ["out/eval/report.md", "out/eval/report.html", "out/eval/summary.json"]
 */
export function writeReport(dir: string, rep: EvalReport): string[] {
  const files = [path.join(dir, "report.md"), path.join(dir, "report.html"), path.join(dir, "summary.json")];
  writeFileAtomic(files[0], rep.toMarkdown());
  writeFileAtomic(files[1], rep.toHTML());
  writeFileAtomic(files[2], JSON.stringify(rep.toJSON(), null, 1) + "\n");
  return files;
}
