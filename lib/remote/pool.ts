// Run async jobs with at most `limit` in flight and keep every outcome: one failure never discards the others.

/** Outcome of one job. */
export type Outcome<R> = { ok: true; value: R } | { ok: false; error: Error };

/**
 * Map `items` through `fn` with at most `limit` concurrent calls; outcomes come back in input order.
 * @example const out = await remote.mapSettled(prompts, 8, (p) => send(p)); out.filter((o) => !o.ok)
 */
export async function mapSettled<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  signal?: AbortSignal,
): Promise<Outcome<R>[]> {
  const out: Outcome<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      if (signal?.aborted) {
        out[i] = { ok: false, error: new Error("aborted before it was sent (options.signal)") };
        continue;
      }
      try {
        out[i] = { ok: true, value: await fn(items[i], i) };
      } catch (e) {
        out[i] = { ok: false, error: e instanceof Error ? e : new Error(String(e)) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}
