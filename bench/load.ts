// How much CPU other processes took while the bench measured something: the machine's busy time over the interval
// (/proc/stat) minus the CPU time of the bench's own processes (the measuring child's own count of its command plus
// this process's). The load average lags by a minute and counts waiting processes; this is the direct figure, in
// cores, and it is what BENCHMARKS.md reports next to each row (PyTorch on 2 threads needs both cores free).
import { readFileSync } from "node:fs";

/** Busy and total CPU time of the whole machine since boot, in clock ticks (all cores summed). */
export interface CpuTicks {
  busy: number;
  total: number;
}

/**
 * Parse the aggregate "cpu" line of /proc/stat: busy = user + nice + system + irq + softirq + steal (guest time is
 * already inside user), total adds idle and iowait.
 * @example parseProcStat("cpu  100 0 50 800 10 0 0 0 0 0\n...") // { busy: 150, total: 960 }
 */
export function parseProcStat(text: string): CpuTicks | null {
  const line = text.split("\n").find((l) => /^cpu\s/.test(l));
  if (!line) return null;
  const [user, nice, system, idle, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  if (![user, nice, system, idle].every(Number.isFinite)) return null;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/**
 * The machine's CPU ticks now, or null off Linux.
 * @example const t0 = cpuTicks(); work(); othersCores(t0, cpuTicks(), ownCpuS, wallS, 2)
 */
export function cpuTicks(): CpuTicks | null {
  try {
    return parseProcStat(readFileSync("/proc/stat", "utf8"));
  } catch {
    return null;
  }
}

/**
 * Cores' worth of CPU that other processes used over an interval: the busy share of all ticks times `cores`, minus
 * the bench's own CPU seconds per wall second; never below 0 (tick rounding). null when either snapshot is missing.
 * @example othersCores({ busy: 0, total: 0 }, { busy: 150, total: 200 }, 1, 1, 2) // 0.5 (1.5 cores busy, 1 ours)
 */
export function othersCores(
  before: CpuTicks | null,
  after: CpuTicks | null,
  ownCpuS: number,
  wallS: number,
  cores: number,
): number | null {
  if (!before || !after || !(after.total > before.total) || !(wallS > 0)) return null;
  const busyCores = ((after.busy - before.busy) / (after.total - before.total)) * cores;
  return Math.max(0, busyCores - ownCpuS / wallS);
}
