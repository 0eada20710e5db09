// Countdown (TinyZero): combine the given numbers with + - * / to hit the target, each number used exactly once.
// "3,5,7->56:" -> "(3+5)*7". Verifier: TinyZero's rules (0 / format score / 1) with an exact evaluator instead of eval.
import { defineTask } from "./define.js";
import { answerOf } from "./answer.js";
import { ExprError, evalIntExpr } from "./expr.js";
import { between, choiceKnob, intKnob, rejectUnknown } from "./knobs.js";
import type { Verdict } from "./types.js";

/** Knobs of the countdown task. */
export interface CountdownOptions {
  /** How many numbers are given (all must be used). Defaults to 3. */
  count: number;
  /** Numbers are drawn from 1..maxNumber. Defaults to 9. */
  maxNumber: number;
  /** Targets are kept in 1..maxTarget. Defaults to 100. */
  maxTarget: number;
  /**
   * Operators the generator uses to build a solvable target ("/" only when it divides exactly).
   * Defaults to ["+", "-", "*"].
   */
  ops: ("+" | "-" | "*" | "/")[];
}

/** Default knobs of countdown. */
export const countdownDefaults: CountdownOptions = { count: 3, maxNumber: 9, maxTarget: 100, ops: ["+", "-", "*"] };

/** Ground truth of a countdown item (TinyZero's {target, numbers}). */
export interface CountdownTruth {
  target: number;
  numbers: number[];
}

// A random expression tree over the numbers in the given order; returns its text and exact value.
function build(
  rng: { int(n: number): number },
  nums: number[],
  ops: string[],
): { text: string; n: bigint; d: bigint; op: string } {
  if (nums.length === 1) return { text: String(nums[0]), n: BigInt(nums[0]), d: 1n, op: "" };
  const cut = 1 + rng.int(nums.length - 1);
  const a = build(rng, nums.slice(0, cut), ops),
    b = build(rng, nums.slice(cut), ops);
  const op = ops[rng.int(ops.length)];
  // Parenthesise a child only where precedence needs it, so answers stay short.
  const additive = (x: string) => x === "+" || x === "-";
  const needs = (x: { op: string }, right: boolean) =>
    x.op !== "" &&
    ((op === "-" && right && additive(x.op)) ||
      (op === "*" && additive(x.op)) ||
      (op === "/" && (right || additive(x.op))));
  const wrap = (x: { text: string; op: string }, right: boolean) => (needs(x, right) ? `(${x.text})` : x.text);
  const text = `${wrap(a, false)}${op}${wrap(b, true)}`;
  let n: bigint, d: bigint;
  if (op === "+") [n, d] = [a.n * b.d + b.n * a.d, a.d * b.d];
  else if (op === "-") [n, d] = [a.n * b.d - b.n * a.d, a.d * b.d];
  else if (op === "*") [n, d] = [a.n * b.n, a.d * b.d];
  else [n, d] = b.n === 0n ? [0n, 0n] : [a.n * b.d, a.d * b.n];
  return { text, n, d, op };
}

function truthOf(gt: unknown): CountdownTruth {
  const g = (typeof gt === "string" ? JSON.parse(gt) : gt) as CountdownTruth;
  if (!g || typeof g.target !== "number" || !Array.isArray(g.numbers))
    throw new ExprError(`countdown ground_truth must be {target, numbers} (got ${JSON.stringify(gt)})`);
  return g;
}

/**
 * Countdown with TinyZero's reward: no answer 0; any answer that is not a correct equation gets the format score
 * (0.1; options.formatScore); a correct equation using every number exactly once gets 1.
 * @example tasks.get("countdown").verify("(3+5)*7", {target: 56, numbers: [3, 5, 7]}).score // 1
 */
export const countdown = defineTask<CountdownOptions>({
  name: "countdown",
  dataSource: "cellrl/countdown",
  summary: "reach the target with + - * / using each given number once",
  alphabet: "0123456789,->:+*/() ",
  defaults: countdownDefaults,
  resolve(o) {
    rejectUnknown("countdown", o, countdownDefaults);
    const r = { ...countdownDefaults, ...o };
    return {
      count: intKnob("countdown", "count", r.count, 2, 6),
      maxNumber: intKnob("countdown", "maxNumber", r.maxNumber, 1, 1000),
      maxTarget: intKnob("countdown", "maxTarget", r.maxTarget, 1, 1_000_000),
      ops: choiceKnob("countdown", "ops", r.ops, ["+", "-", "*", "/"] as const),
    };
  },
  generate(rng, o) {
    for (let attempt = 0; attempt < 1000; attempt++) {
      const numbers = Array.from({ length: o.count }, () => between(rng, 1, o.maxNumber));
      const e = build(rng, numbers, o.ops);
      if (e.d === 0n || e.n % e.d !== 0n) continue;
      const target = Number(e.n / e.d);
      if (target < 1 || target > o.maxTarget) continue;
      const shown = [...numbers].sort((a, b) => a - b);
      return {
        prompt: `${shown.join(",")}->${target}:`,
        groundTruth: { target, numbers: shown },
        answer: e.text,
        info: { count: o.count, maxNumber: o.maxNumber },
      };
    }
    throw new ExprError(`countdown: no target in 1..${o.maxTarget} found; raise maxTarget or maxNumber`);
  },
  verify(response, groundTruth, options = {}): Verdict {
    const formatScore = Number(options.formatScore ?? 0.1);
    const gt = truthOf(groundTruth);
    const eq = answerOf(response);
    if (eq === "") return { score: 0, details: { extracted: eq, rule: "empty" } };
    const partial = (rule: string, extra: Record<string, unknown> = {}) => ({
      score: formatScore,
      details: { extracted: eq, rule, ...extra },
    });
    if (!/^[\d+\-*/()\s]+$/.test(eq)) return partial("bad-characters");
    let value, numbers: number[];
    try {
      ({ value, numbers } = evalIntExpr(eq));
    } catch (err) {
      if (err instanceof ExprError) return partial("unparseable", { error: err.message });
      throw err;
    }
    const used = [...numbers].sort((a, b) => a - b).join(","),
      given = [...gt.numbers].sort((a, b) => a - b).join(",");
    if (used !== given) return partial("numbers-mismatch", { used: numbers });
    const ok = value.n === BigInt(gt.target) * value.d;
    return ok
      ? { score: 1, details: { extracted: eq, rule: "correct" } }
      : partial("wrong-value", { value: Number(value.n) / Number(value.d) });
  },
  canonical: (answer) => answerOf(answer).replace(/\s+/g, ""),
});
