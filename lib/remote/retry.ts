// When to retry a request and how long to wait: 429, 5xx (but 501/505) and transport failures are retried with
// exponential backoff and "equal jitter" (half fixed, half random, so a burst of failures spreads out without ever
// retrying immediately), honouring Retry-After. The jitter comes from a seeded Rng, so a test run replays exactly.
import type { Rng } from "../core/random.js";

/** Retry knobs of a remote client. */
export interface RetryOptions {
  /** Extra attempts after the first for retryable failures. Defaults to 4. */
  retries?: number;
  /** Backoff before retry k (0-based) is backoffMs · 2^k, jittered to [½, 1] of that. Defaults to 250. */
  backoffMs?: number;
  /** Cap of one backoff. Defaults to 20000. */
  maxBackoffMs?: number;
  /** Cap of a server's Retry-After. Defaults to 60000. */
  maxRetryAfterMs?: number;
}

/**
 * Defaults of the retry policy.
 * @example remote.retryDefaults.retries // 4
 */
export const retryDefaults: Required<RetryOptions> = {
  retries: 4,
  backoffMs: 250,
  maxBackoffMs: 20000,
  maxRetryAfterMs: 60000,
};

/**
 * True for HTTP statuses worth retrying: 408, 425, 429 and 5xx except 501 / 505 (those will not change).
 * @example remote.isRetryableStatus(503) // true
 */
export function isRetryableStatus(status: number): boolean {
  return (
    status === 408 ||
    status === 425 ||
    status === 429 ||
    (status >= 500 && status <= 599 && status !== 501 && status !== 505)
  );
}

/**
 * Milliseconds a Retry-After header asks for (seconds or an HTTP date), or undefined when absent or unreadable.
 * @example remote.retryAfterMs("2") // 2000
 */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const h = Array.isArray(header) ? header[0] : header;
  if (h === undefined || h.trim() === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(h.trim())) return Math.round(Number(h) * 1000);
  const t = Date.parse(h);
  return Number.isFinite(t) ? Math.max(0, t - now) : undefined;
}

/**
 * Wait before retry `attempt` (0-based): Retry-After when the server sent one (capped), else jittered exponential
 * backoff.
 * @example remote.backoffDelay(2, new Rng(0)) // between 500 and 1000 with the defaults
 */
export function backoffDelay(attempt: number, rng: Rng, options: RetryOptions = {}, retryAfter?: number): number {
  const o = { ...retryDefaults, ...options };
  if (retryAfter !== undefined) return Math.min(retryAfter, o.maxRetryAfterMs);
  const full = Math.min(o.maxBackoffMs, o.backoffMs * 2 ** attempt);
  return full / 2 + (full / 2) * rng.uniform();
}

/**
 * Resolve after `ms`, or reject when `signal` aborts.
 * @example await remote.sleep(100, controller.signal)
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error("aborted"));
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new Error("aborted"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
