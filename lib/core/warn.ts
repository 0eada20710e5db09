/** One warning kind and how often it fired. */
export interface WarningRecord {
  key: string;
  message: string;
  count: number;
}

const seen = new Map<string, WarningRecord>();
let sink: ((message: string) => void) | null = (m) => console.warn(m);

/**
 * Warn about a suspicious but usable state. Repeats of the same key are counted, not printed again.
 * The message should name the option that silences it.
 * @example warn("update/zeroStdFrac", "update.grpo: 6 of 8 groups have zero reward spread ...")
 */
export function warn(key: string, message: string): void {
  const rec = seen.get(key);
  if (rec) {
    rec.count++;
    return;
  }
  seen.set(key, { key, message, count: 1 });
  sink?.(`cellrl warning: ${message}`);
}

/** Every warning fired so far with its count (the dashboard shows these). */
export function warnings(): WarningRecord[] {
  return [...seen.values()].map((r) => ({ ...r }));
}

/** Forget fired warnings (so they print again), and optionally redirect where new ones go (null silences them). */
export function resetWarnings(to?: ((message: string) => void) | null): void {
  seen.clear();
  if (to !== undefined) sink = to;
}
