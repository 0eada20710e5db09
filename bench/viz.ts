// Speed of the heaviest views, rendered to their mime bundle (what display() sends): a token view of 2,000 tokens
// (three series, top-5 alternatives in every tooltip) and a samples table of 10,000 rows. Target: < 1 s each.
// Run alone: node --import tsx bench/viz.ts
import { Rng } from "../lib/core/random.js";
import { samplesTable } from "../lib/viz/samples-table.js";
import { tokenView, type TokenSeries } from "../lib/viz/token-view.js";

/** Deterministic inputs of the size the issue names. */
export function vizBenchInputs(options: { tokens?: number; rows?: number; seed?: number } = {}): {
  series: TokenSeries;
  rows: Record<string, unknown>[];
} {
  const rng = new Rng(options.seed ?? 0);
  const T = options.tokens ?? 2000;
  const words = [
    "the",
    " answer",
    " is",
    " 42",
    "\n",
    " so",
    " we",
    " add",
    " 3",
    " and",
    "\t",
    " boxed",
    "{",
    "}",
    " <",
    "&",
  ];
  const tokens = Array.from({ length: T }, () => words[Math.floor(rng.uniform() * words.length)]);
  const logp = tokens.map(() => -3 * rng.uniform());
  const series: TokenSeries = {
    tokens,
    values: { logp, entropy: tokens.map(() => 2 * rng.uniform()), adv: tokens.map(() => rng.normal()) },
    mask: tokens.map((_, i) => (i < 50 ? 0 : 1)),
    topk: tokens.map(() => Array.from({ length: 5 }, (_, j) => ({ token: words[j], logp: -j - rng.uniform() }))),
  };
  const rows = Array.from({ length: options.rows ?? 10000 }, (_, i) => ({
    prompt_id: Math.floor(i / 8),
    sample: i % 8,
    data_source: ["gsm8k", "math500", "aime24"][i % 3],
    response: `Let me think about problem ${i}. ${"We add the numbers and check the result. ".repeat(2)}The answer is \\boxed{${i % 97}}.`,
    reward: rng.uniform() < 0.4 ? 1 : 0,
    response_length: 20 + Math.floor(rng.uniform() * 300),
  }));
  return { series, rows };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(f: () => unknown, reps: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = process.hrtime.bigint();
    f();
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return out;
}

/** Milliseconds to build the mime bundle of a 2,000-token view and of a 10,000-row table (median of 5, after a warm-up). */
export async function benchViz(): Promise<
  { name: string; value: number; unit: string; range?: [number, number]; extra?: Record<string, unknown> }[]
> {
  const { series, rows } = vizBenchInputs();
  const tokenRun = () => tokenView(series, { color: "adv", underline: "entropy", overline: "logp" }).toMimeBundle();
  const tableRun = () => samplesTable(rows, { pageSize: 20 }).toMimeBundle();
  tokenRun();
  tableRun(); // warm-up (JIT)
  const tv = time(tokenRun, 5),
    tb = time(tableRun, 5);
  const tokenHtml = String(tokenRun()["text/html"]).length,
    tableHtml = String(tableRun()["text/html"]).length;
  return [
    {
      name: "viz_token_view_2000_ms",
      value: +median(tv).toFixed(1),
      unit: "ms",
      range: [+Math.min(...tv).toFixed(1), +Math.max(...tv).toFixed(1)],
      extra: { htmlBytes: tokenHtml, target: "< 1000 ms" },
    },
    {
      name: "viz_table_10000_rows_ms",
      value: +median(tb).toFixed(1),
      unit: "ms",
      range: [+Math.min(...tb).toFixed(1), +Math.max(...tb).toFixed(1)],
      extra: { htmlBytes: tableHtml, target: "< 1000 ms" },
    },
  ];
}

if (require.main === module) benchViz().then((r) => console.log(JSON.stringify(r, null, 1)));
