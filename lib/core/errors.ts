/** What kind of mistake a CellrlError reports. */
export type CellrlErrorCode =
  | "unknown_name"
  | "shape_mismatch"
  | "invalid_option"
  | "invalid_input"
  | "not_found"
  | "io"
  | "backend"
  | "sandbox"
  | "remote"
  | "non_finite";

/** Fields of a CellrlError beyond its message. */
export interface CellrlErrorInfo {
  /** Where the problem is, e.g. ["inputs", "mask"] or ["row", 12, "reward_model"]. */
  path?: (string | number)[];
  got?: unknown;
  expected?: unknown;
  cause?: unknown;
}

/**
 * The one error class of cellrl. Messages read `<folder>.<fn>: <what is wrong> (got ...; expected ...). <fix>.`
 * @example try { update.advantage("grpo_vec", x) } catch (e) { if (e instanceof CellrlError) console.log(e.code) }
 */
export class CellrlError extends Error {
  readonly code: CellrlErrorCode;
  readonly path: (string | number)[];
  readonly got: unknown;
  readonly expected: unknown;
  constructor(code: CellrlErrorCode, message: string, info: CellrlErrorInfo = {}) {
    super(message, info.cause === undefined ? undefined : { cause: info.cause });
    this.name = "CellrlError";
    this.code = code;
    this.path = info.path ?? [];
    this.got = info.got;
    this.expected = info.expected;
  }
}

/** Throw a CellrlError whose stack starts at the caller of `from` (the public function), not inside cellrl. */
export function fail(code: CellrlErrorCode, message: string, info: CellrlErrorInfo = {}, from?: Function): never {
  const err = new CellrlError(code, message, info);
  if (from) Error.captureStackTrace(err, from);
  throw err;
}

/** Short printable form of a value for error messages (never dumps a whole array). */
export function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? value.slice(0, 57) + "..." : value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (Array.isArray(value)) return `array(${value.length})`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as ArrayLike<number>).length})`;
  if (typeof value === "function") return `function ${value.name || "(anonymous)"}`;
  const shape = (value as { shape?: unknown }).shape;
  if (Array.isArray(shape)) return `tensor[${shape.join(", ")}]`;
  try {
    const s = JSON.stringify(value);
    return s.length > 80 ? s.slice(0, 77) + "..." : s;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Levenshtein distance, used to suggest the nearest known name. */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** The known name closest to `name`, if it is close enough to be a likely typo. */
export function nearest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}
