// Modular arithmetic: "(17*5)%7=" -> "1", "(3^5)%7=" -> "5". The answer is in 0..m-1; parentheses keep the
// precedence unambiguous (% binds tighter than + in most languages).
import { defineTask } from "./define.js";
import { answerOf, exactVerdict } from "./answer.js";
import { between, choiceKnob, intKnob, rejectUnknown } from "./knobs.js";
import type { Verdict } from "./types.js";

/** Knobs of the modular task. */
export interface ModularOptions {
  /** Operands are drawn from 0..maxOperand. Defaults to 20. */
  maxOperand: number;
  /** Moduli are drawn from 2..maxModulus. Defaults to 10. */
  maxModulus: number;
  /** Operators: "+", "*", "^" (power). Defaults to ["+", "*"]. */
  ops: ("+" | "*" | "^")[];
}

/** Default knobs of modular. */
export const modularDefaults: ModularOptions = { maxOperand: 20, maxModulus: 10, ops: ["+", "*"] };

function powMod(a: bigint, e: bigint, m: bigint): bigint {
  let r = 1n % m,
    b = a % m;
  for (; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
  return r;
}

/**
 * (a op b) mod m with a canonical residue in 0..m-1.
 * @example tasks.get("modular").verify("1", "1").score // 1
 */
export const modular = defineTask<ModularOptions>({
  name: "modular",
  dataSource: "cellrl/modular",
  summary: "compute (a op b) mod m",
  alphabet: "0123456789+*^%=()",
  defaults: modularDefaults,
  resolve(o) {
    rejectUnknown("modular", o, modularDefaults);
    const r = { ...modularDefaults, ...o };
    return {
      maxOperand: intKnob("modular", "maxOperand", r.maxOperand, 1, 1_000_000),
      maxModulus: intKnob("modular", "maxModulus", r.maxModulus, 2, 1_000_000),
      ops: choiceKnob("modular", "ops", r.ops, ["+", "*", "^"] as const),
    };
  },
  generate(rng, o) {
    const a = BigInt(rng.int(o.maxOperand + 1)),
      b = BigInt(rng.int(o.maxOperand + 1));
    const m = BigInt(between(rng, 2, o.maxModulus));
    const op = o.ops[rng.int(o.ops.length)];
    const v = op === "+" ? (a + b) % m : op === "*" ? (a * b) % m : powMod(a, b, m);
    const answer = v.toString();
    return { prompt: `(${a}${op}${b})%${m}=`, groundTruth: answer, answer, info: { modulus: Number(m), op } };
  },
  verify(response, groundTruth): Verdict {
    return exactVerdict(String(groundTruth), answerOf(response), 0, "right");
  },
});
