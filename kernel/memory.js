"use strict";
// An out-of-memory kill cannot be reported by the process that dies (Jupyter only says "the kernel has died"), so
// the kernel warns after a cell that leaves it close to a limit: the JavaScript heap near its --max-old-space-size,
// or the process's resident memory near the machine's. The threshold is CELLRL_KERNEL_MEMORY_WARN (a fraction,
// default 0.85).
const os = require("node:os");
const v8 = require("node:v8");

const gib = (x) => `${(x / 2 ** 30).toFixed(1)} GiB`;

/**
 * A warning line when memory is close to a limit, else null.
 * @param {number} [threshold]
 * @returns {string | null}
 */
function memoryWarning(threshold = Number(process.env.CELLRL_KERNEL_MEMORY_WARN ?? 0.85)) {
  if (!(threshold >= 0)) return null;
  const h = v8.getHeapStatistics();
  const rss = process.memoryUsage.rss();
  const total = os.totalmem();
  const fix =
    "If it runs out, the kernel is killed and restarted and every variable is lost: dispose tensors you no longer " +
    "need (tf.memory() shows what is held), or restart with more memory (NODE_OPTIONS=--max-old-space-size=MB).";
  if (h.used_heap_size >= threshold * h.heap_size_limit)
    return (
      `cellrl kernel: the JavaScript heap is ${Math.round((100 * h.used_heap_size) / h.heap_size_limit)}% full ` +
      `(${gib(h.used_heap_size)} of ${gib(h.heap_size_limit)}). ${fix}\n`
    );
  if (rss >= threshold * total)
    return (
      `cellrl kernel: this kernel uses ${gib(rss)} of the machine's ${gib(total)} ` +
      `(${Math.round((100 * rss) / total)}%). ${fix}\n`
    );
  return null;
}

module.exports = { memoryWarning };
