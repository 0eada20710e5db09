"use strict";
// Runs cells with tslab's own compiler and executor, and reports what happened as data instead of console output.
// tslab's executor takes a `console` ({log, error}) for exactly three things: the last expression's value (log),
// a thrown error (error(e)) and TypeScript diagnostics (error("%s%d:%d - %s", ...)). Passing our own console,
// plus a wrapper around the converter that keeps the structured diagnostics, gives the kernel everything it needs
// for execute_result and the Jupyter error triple without copying tslab's code.
const tslab = require("./tslab.js");
const resolve = require("./resolve.js");
const { diagnosticsError, exceptionError, interruptError, isInterrupt } = require("./errors.js");
const { instrumentAwaits } = require("./await-guard.js");

// No AsyncLocalStorage / async_hooks here on purpose: with async hooks enabled, stopping a busy continuation with
// the inspector (interrupt.js, case 3) leaves Node's async-id stack unbalanced and Node aborts on an assertion.

/** What the main thread is doing for the current cell (shared with the interrupt watchdog). */
const PHASE = { IDLE: 0, SYNC: 1, ASYNC: 2 };

class Converters {
  // Same shape as tslab's ConverterSetImpl (main.js, not exported): lazily created node/browser converters.
  // `prevDecl(p)` may substitute the executor's declarations of earlier cells (see CellRunner.keepDeclarations).
  constructor(onConvert, onCompiling, prevDecl) {
    this.onConvert = onConvert;
    this.onCompiling = onCompiling;
    this.prevDecl = prevDecl;
    this._node = null;
    this._browser = null;
  }
  wrap(conv) {
    const { convert, inspect, complete } = conv;
    const compiling = (f) => {
      this.onCompiling(true);
      try {
        return f();
      } finally {
        this.onCompiling(false);
      }
    };
    // The interrupt watchdog must never stop the compiler half-way (its watch program would be corrupt).
    conv.convert = (prevDecl, src) => compiling(() => this.onConvert(convert(this.prevDecl(prevDecl), src)));
    // Completion and inspection rebuild the program too (they may run while a cell awaits).
    conv.inspect = (prevDecl, src, pos) => compiling(() => inspect(this.prevDecl(prevDecl), src, pos));
    conv.complete = (prevDecl, src, pos) => compiling(() => complete(this.prevDecl(prevDecl), src, pos));
    return conv;
  }
  get node() {
    if (!this._node) this._node = this.wrap(tslab.converter().createConverter({ isJS: false, isBrowser: false }));
    return this._node;
  }
  get browser() {
    if (!this._browser) this._browser = this.wrap(tslab.converter().createConverter({ isJS: false, isBrowser: true }));
    return this._browser;
  }
  close() {
    this._node?.close();
    this._browser?.close();
  }
}

/**
 * @typedef {{ename: string, evalue: string, traceback: string[]}} CellError
 * @typedef {{status: "ok", hasValue: boolean, value?: unknown, warnings: string[]} | {status: "error", error: CellError, interrupted: boolean, warnings: string[]}} CellOutcome
 */

class CellRunner {
  /** @param {{cwd?: string, guardAwaits?: boolean}} [options] */
  constructor(options = {}) {
    this.cwd = options.cwd ?? process.cwd();
    this.guardAwaits = options.guardAwaits ?? true;
    this.forwarded = false;
    /** Captured while one cell runs. */
    this.capture = { diagnostics: null, value: undefined, hasValue: false, errors: [], declOutput: null };
    /**
     * Declarations to use instead of the executor's own: tslab only records a cell's declarations when it succeeds,
     * so variables of an interrupted or failed cell (a model half-way through training) became unreachable.
     * @type {string | null}
     */
    this.declOverride = null;
    this.executor = null;
    this.convs = null;
    /** The cell currently running (null between cells). */
    this.current = null;
    this.runs = 0;
    /** Ids of runs that were interrupted (their top-level awaits throw when they resume). */
    this.interruptedRuns = new Set();
    /** An interrupt happened and no cell started since: code resuming now belongs to an interrupted cell. */
    this.interruptPending = false;
    /** @type {((compiling: boolean) => void)[]} */
    this.compilingListeners = [];
    /** @type {((phase: number, run: number) => void)[]} */
    this.phaseListeners = [];
  }

  setPhase(phase) {
    for (const f of this.phaseListeners) f(phase, this.current?.id ?? 0);
  }

  /** Load TypeScript and build the compiler (the slow part of kernel start, ~0.5-1 s). Idempotent. */
  start() {
    if (this.executor) return this;
    this.forwarded = resolve.forwardCellrl(this.cwd, tslab.ts());
    this.convs = new Converters(
      (converted) => {
        this.capture.diagnostics = converted.diagnostics?.length ? converted.diagnostics : null;
        this.capture.declOutput = converted.declOutput ?? null;
        if (converted.output && this.guardAwaits && this.current)
          converted.output = instrumentAwaits(converted.output, tslab.ts(), this.current.id);
        return converted;
      },
      (on) => {
        for (const f of this.compilingListeners) f(on);
      },
      (prevDecl) => this.declOverride ?? prevDecl,
    );
    this.convs.node; // build the TypeScript watch program now, not in the first cell
    const capture = () => this.capture;
    this.executor = tslab.executor().createExecutor(this.cwd, this.convs, {
      log(value) {
        capture().value = value;
        capture().hasValue = true;
      },
      error(...args) {
        capture().errors.push(args);
      },
    });
    // Cells call __tslab__.require (set by createExecutor); route `cellrl` to this repo when cwd lacks it.
    const g = /** @type {any} */ (globalThis).__tslab__;
    if (this.forwarded && g) g.require = resolve.wrapRequire(g.require);
    return this;
  }

  /**
   * Type-check and run one cell.
   * @param {string} code
   * @returns {Promise<CellOutcome>}
   */
  async run(code) {
    this.start();
    this.capture = { diagnostics: null, value: undefined, hasValue: false, errors: [], declOutput: null };
    const ctx = { id: ++this.runs, interrupted: false, how: "" };
    this.current = ctx;
    this.interruptPending = false;
    let ok;
    try {
      // Phase 1: compile + the cell's synchronous part (runs inside execute() before it returns its promise).
      // Phase 2: the cell's asynchronous continuations. The interrupt watchdog acts differently in each.
      this.setPhase(PHASE.SYNC);
      const pending = this.executor.execute(code);
      this.setPhase(PHASE.ASYNC);
      ok = await pending;
    } catch (e) {
      // The executor catches cell errors itself; anything here is a kernel bug, reported like a cell error.
      this.capture.errors.push([e]);
      ok = false;
    } finally {
      this.current = null;
      this.setPhase(PHASE.IDLE);
    }
    const { diagnostics, value, hasValue, errors, declOutput } = this.capture;
    // Success: the executor recorded this cell's declarations (built on the override, if any). Failure after a clean
    // compile (runtime error, interrupt): keep them ourselves; the values assigned so far are in tslab's exports.
    if (ok) this.declOverride = null;
    else if (!diagnostics && declOutput !== null) this.declOverride = declOutput;
    const isDiagLine = (args) => typeof args[0] === "string" && args[0].startsWith("%s%d:%d");
    const thrown = errors.filter((a) => !isDiagLine(a)).map((a) => a[0]);
    // Diagnostics of `//@module` cells are printed but do not fail the cell (tslab semantics): pass them on as text.
    const warnings = ok ? errors.filter(isDiagLine).map((a) => `${a[1]}${a[2]}:${a[3]} - ${a[4]}`) : [];
    if (ok) return { status: "ok", hasValue, value, warnings };
    if (ctx.interrupted || thrown.some(isInterrupt))
      return { status: "error", error: interruptError(ctx.how || "SIGINT"), interrupted: true, warnings };
    if (diagnostics)
      return { status: "error", error: diagnosticsError(diagnostics, code), interrupted: false, warnings };
    if (thrown.length) return { status: "error", error: exceptionError(thrown[0]), interrupted: false, warnings };
    return {
      status: "error",
      error: {
        ename: "Error",
        evalue: "the cell failed without an error message",
        traceback: errors.map((a) => a.join(" ")),
      },
      interrupted: false,
      warnings,
    };
  }

  /**
   * Stop the running cell: the awaited promise is rejected at once, and the cell's continuations throw at their next
   * `await` (see await-guard.js). Synchronous code is stopped by Node's breakOnSigint or the interrupt watchdog
   * (interrupt.js).
   * @param {string} how
   */
  interrupt(how) {
    if (this.current) {
      this.current.interrupted = true;
      this.current.how = how;
      this.interruptedRuns.add(this.current.id);
    }
    this.interruptPending = true;
    this.executor?.interrupt();
  }

  /**
   * Should code resuming from an `await` stop? `run` is the id of the cell whose top-level await resumes; undefined
   * for awaits inside functions (which may have been defined in any cell): those stop while an interrupt is pending.
   * @param {number} [run]
   */
  shouldStop(run) {
    return run !== undefined ? this.interruptedRuns.has(run) : this.interruptPending;
  }

  complete(code, pos) {
    this.start();
    return this.executor.complete(code, pos);
  }

  inspect(code, pos) {
    this.start();
    return this.executor.inspect(code, pos);
  }

  close() {
    this.executor?.close();
  }
}

module.exports = { CellRunner, PHASE };
