// A bounded pool of sandbox slots shared by every caller in the process, so scoring 10,000 responses with
// Promise.all never starts more than `concurrency` sandboxes at once.

interface Waiter {
  limit: number;
  grant: (slot: number) => void;
}

const free: number[] = [];
let nextSlot = 0;
let active = 0;
const queue: Waiter[] = [];

function take(): number {
  active++;
  return free.length > 0 ? free.pop()! : nextSlot++;
}

function release(slot: number): void {
  active--;
  free.push(slot);
  // Wake the first waiter whose own limit allows one more; callers may pass different limits.
  for (let i = 0; i < queue.length; i++) {
    if (active < queue[i].limit) {
      const [w] = queue.splice(i, 1);
      w.grant(take());
      return;
    }
  }
}

/**
 * Run `fn` when fewer than `limit` pool jobs are running; `slot` is a small integer unique among running jobs.
 * @example await withSlot(os.cpus().length, (slot) => runOne(slot))
 */
export async function withSlot<T>(limit: number, fn: (slot: number) => Promise<T>): Promise<T> {
  const slot =
    active < limit && queue.length === 0 ? take() : await new Promise<number>((grant) => queue.push({ limit, grant }));
  try {
    return await fn(slot);
  } finally {
    release(slot);
  }
}

/** How many pool jobs are running and waiting (for progress displays and tests). */
export function poolStats(): { active: number; queued: number } {
  return { active, queued: queue.length };
}
