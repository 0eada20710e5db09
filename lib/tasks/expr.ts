// Exact evaluation of integer expressions with + - * / and parentheses (countdown answers). No eval(): a tiny
// recursive-descent parser over BigInt fractions, so "1/3*3" is exactly 1 and division by zero is an error.

/** A fraction n/d (d > 0, not necessarily reduced). */
export interface Frac {
  n: bigint;
  d: bigint;
}

/** Thrown for malformed expressions or division by zero. */
export class ExprError extends Error {}

function norm(n: bigint, d: bigint): Frac {
  if (d === 0n) throw new ExprError("division by zero");
  return d < 0n ? { n: -n, d: -d } : { n, d };
}

/**
 * Value of an integer expression and the integer literals it uses, in order.
 * @example evalIntExpr("(3+5)*7") // {value: {n: 56n, d: 1n}, numbers: [3, 5, 7]}
 */
export function evalIntExpr(src: string): { value: Frac; numbers: number[] } {
  const s = src.replace(/\s+/g, "");
  let i = 0;
  const numbers: number[] = [];
  let depth = 0;
  const expr = (): Frac => {
    let acc = term();
    while (s[i] === "+" || s[i] === "-") {
      const op = s[i++];
      const b = term();
      acc = norm(op === "+" ? acc.n * b.d + b.n * acc.d : acc.n * b.d - b.n * acc.d, acc.d * b.d);
    }
    return acc;
  };
  const term = (): Frac => {
    let acc = factor();
    while (s[i] === "*" || s[i] === "/") {
      const op = s[i++];
      const b = factor();
      acc = op === "*" ? norm(acc.n * b.n, acc.d * b.d) : norm(acc.n * b.d, acc.d * b.n);
    }
    return acc;
  };
  const factor = (): Frac => {
    if (s[i] === "(") {
      if (++depth > 50) throw new ExprError("too deeply nested");
      i++;
      const v = expr();
      if (s[i] !== ")") throw new ExprError("missing )");
      i++;
      depth--;
      return v;
    }
    const m = /^\d{1,15}/.exec(s.slice(i));
    if (!m) throw new ExprError(`expected a number at ${i}`);
    i += m[0].length;
    numbers.push(Number(m[0]));
    return { n: BigInt(m[0]), d: 1n };
  };
  if (s.length === 0) throw new ExprError("empty");
  const value = expr();
  if (i !== s.length) throw new ExprError(`unexpected ${s[i]}`);
  return { value, numbers };
}
