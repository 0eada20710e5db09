// Peak resident memory of the bench's own processes (Linux: VmHWM, which /proc/self/clear_refs can reset; elsewhere
// the process's lifetime maximum, process.resourceUsage().maxRSS).
import { readFileSync, writeFileSync } from "node:fs";

/**
 * Reset this process's peak-RSS mark to its current RSS; false where the OS does not allow it (then peakRssMb()
 * is the lifetime maximum).
 * @example resetPeakRss(); work(); console.log(peakRssMb())
 */
export function resetPeakRss(): boolean {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}

/**
 * Peak resident set of this process in MB (all threads, workers included) since start or the last resetPeakRss().
 * @example peakRssMb() // 412.5
 */
export function peakRssMb(): number {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * Current resident set of this process in MB.
 * @example rssMb() // 180.2
 */
export function rssMb(): number {
  return process.memoryUsage.rss() / (1024 * 1024);
}
