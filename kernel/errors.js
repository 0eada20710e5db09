"use strict";
// Turn what went wrong in a cell into Jupyter's error triple {ename, evalue, traceback}.
// tslab printed diagnostics and stacks to stderr and sent no `error` message; front ends, nbclient and nbval need
// the triple (iopub `error` + the same fields in execute_reply).
const { inspect } = require("node:util");

/**
 * A TypeScript type error in the cell: ename "TSError", evalue "line:col - message (TS1234)", and a traceback that
 * quotes the cell line with a caret under the span.
 * @param {Array<{start: {line: number, character: number}, end: {line: number, character: number}, messageText: string, code?: number, fileName?: string}>} diags
 * @param {string} code the cell source
 */
function diagnosticsError(diags, code) {
  const lines = code.split("\n");
  const where = (d) => `${d.fileName ? d.fileName + ":" : ""}${d.start.line + 1}:${d.start.character + 1}`;
  const tsCode = (d) => (d.code ? ` (TS${d.code})` : "");
  const first = diags[0];
  const more = diags.length > 1 ? ` (+${diags.length - 1} more)` : "";
  const traceback = [];
  for (const d of diags) {
    traceback.push(
      `${d.fileName ?? "cell"}:${d.start.line + 1}:${d.start.character + 1} - error${tsCode(d)}: ${d.messageText}`,
    );
    // Quote the cell line only for the cell itself (other files' text is not at hand).
    const src = !d.fileName ? lines[d.start.line] : undefined;
    if (src !== undefined) {
      const num = String(d.start.line + 1);
      const width =
        d.end.line === d.start.line
          ? Math.max(1, d.end.character - d.start.character)
          : Math.max(1, src.length - d.start.character);
      traceback.push(`  ${num} | ${src}`);
      traceback.push(`  ${" ".repeat(num.length)} | ${" ".repeat(d.start.character)}${"^".repeat(width)}`);
    }
  }
  return { ename: "TSError", evalue: `${where(first)} - ${first.messageText}${tsCode(first)}${more}`, traceback };
}

// Frames below the cell are the kernel's own machinery: they only add noise to a user's traceback.
const KERNEL_DIR = __dirname.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const INTERNAL_FRAME = new RegExp(
  `node_modules[\\\\/]tslab[\\\\/]|${KERNEL_DIR}[\\\\/]|\\(node:|^\\s*at node:|^\\s*at (new Promise|async Promise\\.\\w+|Promise\\.\\w+) \\(<anonymous>\\)$`,
);

/**
 * A value thrown by a cell (usually an Error): ename is its name ("TypeError", "CellrlError", ...).
 * @param {unknown} e
 */
function exceptionError(e) {
  if (e instanceof Error || (e && typeof e === "object" && typeof e.stack === "string")) {
    const err = /** @type {Error} */ (e);
    const ename = err.name || err.constructor?.name || "Error";
    const evalue = String(err.message ?? "");
    let stack = String(err.stack ?? `${ename}: ${evalue}`).split("\n");
    // vm prepends "evalmachine.<anonymous>:2 / source line / ^" to errors thrown synchronously; the frames below
    // carry the same information, so start at the "Name: message" line.
    const top = stack.findIndex((l) => l.startsWith(`${ename}:`) || l === ename);
    if (top > 0) stack = stack.slice(top);
    // The first lines of a stack repeat "Name: message" (possibly multi-line); keep them, then user/library frames.
    const head = [];
    const frames = [];
    for (const l of stack) (/^\s+at /.test(l) ? frames : head).push(l);
    const kept = frames
      .filter((l) => !INTERNAL_FRAME.test(l))
      .map((l) => l.replace(/evalmachine\.<anonymous>/g, "cell (compiled JS)"));
    const extra = err.cause !== undefined ? [`Caused by: ${inspect(err.cause, { depth: 2 })}`] : [];
    return { ename, evalue, traceback: [...head, ...kept, ...extra] };
  }
  const shown = inspect(e, { depth: 2 });
  return { ename: "Thrown", evalue: shown, traceback: [`Uncaught ${shown} (a non-Error value was thrown)`] };
}

/** The error reported for an interrupted cell. */
function interruptError(how) {
  return {
    ename: "Interrupted",
    evalue: `the cell was interrupted (${how}); variables and models defined so far are kept`,
    traceback: [`Interrupted: the cell was stopped by an interrupt (${how}). The kernel keeps its state.`],
  };
}

/** True for the errors tslab/Node raise when SIGINT stops a cell. */
function isInterrupt(e) {
  return (
    !!e &&
    typeof e === "object" &&
    /** @type {any} */ (
      e.code === "ERR_SCRIPT_EXECUTION_INTERRUPTED" ||
        /** @type {any} */ (e).message === "Interrupted asynchronously" ||
        /** @type {any} */ (e).__cellrlInterrupt === true
    )
  );
}

module.exports = { diagnosticsError, exceptionError, interruptError, isInterrupt };
