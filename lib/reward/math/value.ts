// Numbers for the math grader: exact rationals (BigInt) while an expression stays rational, complex floats otherwise.
// Exactness matters: 3986729 vs 3986730 must differ although a relative tolerance of 1e-4 would call them equal.

/** An exact rational n/d with d > 0 and gcd(n, d) = 1. */
export interface Rat {
  kind: "rat";
  n: bigint;
  d: bigint;
}

/** A complex float; real numbers have im = 0. Infinity is allowed in re (intervals use it). */
export interface Cx {
  kind: "cx";
  re: number;
  im: number;
}

export type Value = Rat | Cx;

// Results beyond this many bits fall back to floats, so 10^{10^{10}} in a response cannot stall the grader.
const MAX_BITS = 16384n;

function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function bits(x: bigint): bigint {
  return BigInt((x < 0n ? -x : x).toString(16).length * 4);
}

export function rat(n: bigint, d: bigint = 1n): Value {
  if (d === 0n) return cx(NaN, 0); // x/0 is undefined, never "infinity" (a hack against gold \infty)
  if (d < 0n) [n, d] = [-n, -d];
  const g = gcd(n, d);
  if (g !== 1n && g !== 0n) [n, d] = [n / g, d / g];
  // Too big to keep exactly: unknown (NaN), never a float that overflows to 0 or Infinity and compares equal.
  if (bits(n) > MAX_BITS || bits(d) > MAX_BITS) return cx(NaN, 0);
  return { kind: "rat", n, d };
}

export function cx(re: number, im = 0): Cx {
  return { kind: "cx", re, im };
}

function ratToNumber(n: bigint, d: bigint): number {
  const x = Number(n) / Number(d);
  if (Number.isFinite(x)) return x;
  // Both huge: scale down before dividing.
  const shift = bits(n) > bits(d) ? bits(d) - 64n : bits(n) - 64n;
  const s = shift > 0n ? shift : 0n;
  return Number(n >> s) / Number(d >> s);
}

/** Decimal literal ("12", "0.25", ".5") as an exact rational. */
export function parseDecimal(s: string): Value {
  const dot = s.indexOf(".");
  if (dot < 0) return rat(BigInt(s));
  const int = s.slice(0, dot) || "0";
  const frac = s.slice(dot + 1);
  return rat(BigInt(int + frac), 10n ** BigInt(frac.length));
}

export function toCx(v: Value): Cx {
  return v.kind === "cx" ? v : cx(ratToNumber(v.n, v.d), 0);
}

export function isZero(v: Value): boolean {
  return v.kind === "rat" ? v.n === 0n : v.re === 0 && v.im === 0;
}

export function add(a: Value, b: Value): Value {
  if (a.kind === "rat" && b.kind === "rat") return rat(a.n * b.d + b.n * a.d, a.d * b.d);
  const x = toCx(a),
    y = toCx(b);
  return cx(x.re + y.re, x.im + y.im);
}

export function neg(a: Value): Value {
  return a.kind === "rat" ? { kind: "rat", n: -a.n, d: a.d } : cx(-a.re, -a.im);
}

export function mul(a: Value, b: Value): Value {
  if (a.kind === "rat" && b.kind === "rat") return rat(a.n * b.n, a.d * b.d);
  const x = toCx(a),
    y = toCx(b);
  if (x.im === 0 && y.im === 0) return cx(x.re * y.re, 0);
  return cx(x.re * y.re - x.im * y.im, x.re * y.im + x.im * y.re);
}

export function div(a: Value, b: Value): Value {
  if (a.kind === "rat" && b.kind === "rat") return rat(a.n * b.d, a.d * b.n);
  const x = toCx(a),
    y = toCx(b);
  if (y.re === 0 && y.im === 0) return cx(NaN, 0);
  if (x.im === 0 && y.im === 0) return cx(x.re / y.re, 0);
  const den = y.re * y.re + y.im * y.im;
  return cx((x.re * y.re + x.im * y.im) / den, (x.im * y.re - x.re * y.im) / den);
}

function cxLog(x: Cx): Cx {
  return cx(Math.log(Math.hypot(x.re, x.im)), Math.atan2(x.im, x.re));
}

function cxExp(x: Cx): Cx {
  const m = Math.exp(x.re);
  return x.im === 0 ? cx(m, 0) : cx(m * Math.cos(x.im), m * Math.sin(x.im));
}

function intRoot(x: bigint, k: bigint): bigint | null {
  if (x < 0n) return null;
  const guess = BigInt(Math.round(Math.pow(Number(x), 1 / Number(k))));
  for (const r of [guess - 1n, guess, guess + 1n]) if (r >= 0n && r ** k === x) return r;
  return null;
}

/**
 * a^b: exact for a rational base with a small integer exponent (or a perfect-power root), principal complex otherwise.
 */
export function pow(a: Value, b: Value): Value {
  if (a.kind === "rat" && b.kind === "rat") {
    if (b.d === 1n) {
      const k = b.n < 0n ? -b.n : b.n;
      if (k <= 10000n && (bits(a.n) + bits(a.d)) * k <= MAX_BITS) {
        const r = rat(a.n ** k, a.d ** k);
        return b.n < 0n ? div(rat(1n), r) : r;
      }
    } else if (b.d <= 16n && a.n >= 0n) {
      const rn = intRoot(a.n, b.d),
        rd = intRoot(a.d, b.d);
      if (rn !== null && rd !== null) return pow(rat(rn, rd), rat(b.n));
    }
  }
  const x = toCx(a),
    y = toCx(b);
  if (x.im === 0 && y.im === 0 && (x.re >= 0 || Number.isInteger(y.re))) return cx(Math.pow(x.re, y.re), 0);
  if (x.re === 0 && x.im === 0) return cx(y.re > 0 ? 0 : NaN, 0);
  return cxExp(mulCx(y, cxLog(x)));
}

function mulCx(x: Cx, y: Cx): Cx {
  return cx(x.re * y.re - x.im * y.im, x.re * y.im + x.im * y.re);
}

/** Real-only function of a value; complex or out-of-domain arguments give NaN (the point is then skipped). */
export function real(v: Value, f: (x: number) => number): Value {
  const x = toCx(v);
  if (Math.abs(x.im) > 1e-12 * Math.max(1, Math.abs(x.re))) return cx(NaN, 0);
  return cx(f(x.re), 0);
}

export function log(v: Value): Value {
  const x = toCx(v);
  return x.im === 0 && x.re > 0 ? cx(Math.log(x.re), 0) : cxLog(x);
}

export function abs(v: Value): Value {
  if (v.kind === "rat") return { kind: "rat", n: v.n < 0n ? -v.n : v.n, d: v.d };
  return cx(Math.hypot(v.re, v.im), 0);
}

export function isInteger(v: Value): boolean {
  return v.kind === "rat" ? v.d === 1n : v.im === 0 && Number.isInteger(v.re);
}

export function isFiniteValue(v: Value): boolean {
  return v.kind === "rat" || (Number.isFinite(v.re) && Number.isFinite(v.im));
}

/** Equal as values: exactly for two rationals, else |a−b| <= relTol·max(|a|,|b|) (or both the same infinity). */
export function valuesEqual(a: Value, b: Value, relTol: number, exactRationals: boolean): boolean {
  if (a.kind === "rat" && b.kind === "rat" && (exactRationals || (a.n === b.n && a.d === b.d)))
    return a.n === b.n && a.d === b.d;
  const x = toCx(a),
    y = toCx(b);
  if (!Number.isFinite(x.re) || !Number.isFinite(y.re)) return x.re === y.re && x.im === y.im;
  if (Number.isNaN(x.re) || Number.isNaN(y.re) || Number.isNaN(x.im) || Number.isNaN(y.im)) return false;
  const diff = Math.hypot(x.re - y.re, x.im - y.im);
  const scale = Math.max(Math.hypot(x.re, x.im), Math.hypot(y.re, y.im));
  return diff <= relTol * scale || diff <= 1e-12;
}

/** Short printable form of a value (for details). */
export function show(v: Value): string {
  if (v.kind === "rat") return v.d === 1n ? v.n.toString() : `${v.n}/${v.d}`;
  if (v.im === 0) return String(v.re);
  return `${v.re}${v.im < 0 ? "-" : "+"}${Math.abs(v.im)}i`;
}
