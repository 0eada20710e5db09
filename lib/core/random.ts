import { fail } from "./errors.js";

/** Serializable state of an Rng (for step replay snapshots). */
export type RngState = [number, number, number, number];

function hashString(s: string): number {
  let h = 2166136261 >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
}

function splitmix32(x: number): () => number {
  return () => {
    x = (x + 0x9e3779b9) | 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A seeded random stream (sfc32). Every random choice in cellrl comes from one of these, so `seed(n)` replays a run.
 * @example const r = new Rng(42); r.uniform(); r.int(10); const child = r.fork("dropout")
 */
export class Rng {
  // Four scalar fields rather than an array: nextU32 is the hot path of sampling and bootstraps.
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;
  constructor(seedValue: number | string = 0) {
    const n = typeof seedValue === "string" ? hashString(seedValue) : seedValue;
    if (!Number.isFinite(n))
      fail("invalid_option", `core.Rng: seed must be a finite number or a string (got ${seedValue}).`);
    const sm = splitmix32((Math.floor(n) >>> 0) ^ Math.floor(n / 4294967296));
    [this.a, this.b, this.c, this.d] = [sm(), sm(), sm(), sm()];
    for (let i = 0; i < 12; i++) this.nextU32();
  }
  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    const c = (this.c << 21) | (this.c >>> 11);
    this.c = (c + t) | 0;
    return t >>> 0;
  }
  /** Uniform float in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(n >= 1) || !Number.isFinite(n)) fail("invalid_option", `core.Rng.int: n must be >= 1 (got ${n}).`);
    return Math.floor(this.uniform() * n);
  }
  /** Standard normal sample (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }
  /** A 31-bit integer seed for tfjs ops that take `seed`. */
  seedInt(): number {
    return this.nextU32() >>> 1;
  }
  /** Fisher-Yates shuffle of a copy of `xs`. */
  shuffle<T>(xs: readonly T[]): T[] {
    const out = xs.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
  /** An independent child stream derived from this one and a label (consumes one draw). */
  fork(label = ""): Rng {
    return new Rng((this.nextU32() ^ hashString(label)) >>> 0);
  }
  /** Copy of the internal state. */
  state(): RngState {
    return [this.a, this.b, this.c, this.d];
  }
  /** Restore a state from `state()`. */
  setState(s: RngState): this {
    if (!Array.isArray(s) || s.length !== 4 || s.some((x) => !Number.isInteger(x)))
      fail("invalid_input", `core.Rng.setState: expected 4 integers from rng.state() (got ${JSON.stringify(s)}).`);
    [this.a, this.b, this.c, this.d] = s.map((x) => x | 0);
    return this;
  }
}

let root = new Rng(0);
let rootSeed = 0;

/**
 * Seed every random source of cellrl (sampling, init, shuffles, dropout, task generators) so a run replays exactly.
 * @example seed(0)
 */
export function seed(n: number): void {
  if (!Number.isFinite(n)) fail("invalid_option", `seed: n must be a finite number (got ${n}).`, {}, seed);
  rootSeed = n;
  root = new Rng(n);
}

/** The global random stream that `seed(n)` resets; functions use it when no `rng` option is given. */
export function globalRng(): Rng {
  return root;
}

/** The number last passed to `seed()` (0 before any call). */
export function currentSeed(): number {
  return rootSeed;
}
