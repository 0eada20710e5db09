"use strict";
// What the cellrl kernel answers, message by message (the protocol fixes over tslab 1.0.22 live here).
// It extends tslab's JupyterHandlerImpl so tslab's completion, inspection and is_complete code keep serving those
// requests; execution is replaced: execute_input + execution_count, execute_result with the full mime bundle of
// the last expression, an iopub `error` (+ the same ename/evalue/traceback in execute_reply) for runtime and
// TypeScript errors, and the display hook (__cellrl_kernel__) for display_data / update_display_data / clear_output.
const path = require("node:path");
const fs = require("node:fs");
const { inspect } = require("node:util");
const tslab = require("./tslab.js");
const { CellRunner } = require("./cell-runner.js");
const { History } = require("./history.js");
const { PROTOCOL_VERSION } = require("./wire.js");
const { interruptError } = require("./errors.js");

const REPO = path.resolve(__dirname, "..");
const utf8 = new TextDecoder();

/** Version of the cellrl package this kernel belongs to. */
function cellrlVersion() {
  try {
    return JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")).version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

function typescriptVersion() {
  try {
    return JSON.parse(
      fs.readFileSync(path.join(tslab.dir, "..", "@tslab", "typescript-for-tslab", "package.json"), "utf8"),
    ).version;
  } catch {
    return tslab.ts().version;
  }
}

let mimeModule = null;
/**
 * The mime bundle of a cell's last value: cellrl's own `toMimeBundle` (views, figures, arquero tables) when the
 * package is built, else util.inspect text (a string quoted, as Node's REPL shows it). tfjs tensors show their values
 * (`tensor.toString()`).
 */
function resultBundle(value) {
  if (mimeModule === null) {
    try {
      mimeModule = require(path.join(REPO, "dist", "kernel", "mime.js"));
    } catch {
      mimeModule = false; // not built yet: plain text only
    }
  }
  const v = /** @type {any} */ (value);
  const isTensor =
    v &&
    typeof v === "object" &&
    typeof v.dataSync === "function" &&
    Array.isArray(v.shape) &&
    typeof v.dtype === "string" &&
    typeof v.toString === "function";
  if (isTensor && !(mimeModule && mimeModule.isDisplayable(v))) {
    try {
      return { "text/plain": v.isDisposed ? `Tensor (disposed) shape=[${v.shape}] dtype=${v.dtype}` : v.toString() };
    } catch {
      /* fall through to the generic formatting */
    }
  }
  if (mimeModule) return mimeModule.toMimeBundle(value);
  // a string shows quoted, as Node's REPL and tslab do ('ab'), so "42" and 42 look different
  return { "text/plain": inspect(value, { depth: 4, maxArrayLength: 50 }) };
}

/**
 * @typedef {object} CellIO where one execution's output goes (bound to its request by the server)
 * @property {(name: "stdout" | "stderr", text: string) => void} stream
 * @property {(msgType: string, content: object) => void} publish
 */

class CellrlHandler extends tslab.jupyter().JupyterHandlerImpl {
  /** @param {{cwd?: string}} [options] */
  constructor(options = {}) {
    const runner = new CellRunner({ cwd: options.cwd });
    // tslab's completion/inspection read `this.executor`; it is created lazily by runner.start().
    super(null, false);
    this.runner = runner;
    this.history = new History();
    this.execCount = 0;
    /** @type {CellIO | null} */
    this.io = null;
    this.installDisplayHook();
  }

  get executor() {
    return this.runner.start().executor;
  }
  set executor(_v) {
    // JupyterHandlerImpl's constructor assigns executor; the runner owns it.
  }

  /** Build the compiler now (kernel start) rather than in the first cell. */
  warm() {
    this.runner.start();
  }

  handleKernel() {
    const ts = typescriptVersion();
    return {
      status: "ok",
      protocol_version: PROTOCOL_VERSION,
      implementation: "cellrl",
      implementation_version: cellrlVersion(),
      language_info: {
        name: "typescript",
        version: ts,
        mimetype: "text/typescript",
        file_extension: ".ts",
        pygments_lexer: "typescript",
        nbconvert_exporter: "script",
        // Same trick as tslab: makes Notebook 6 and JupyterLab highlight TypeScript.
        codemirror_mode: { mode: "typescript", name: "javascript", typescript: true },
      },
      banner:
        `cellrl ${cellrlVersion()}: TypeScript notebooks for LLM RL post-training ` +
        `(tslab ${tslab.version}, TypeScript ${ts}, Node ${process.version})`,
      help_links: [{ text: "cellrl kernel", url: "https://www.npmjs.com/package/cellrl" }],
      debugger: false,
    };
  }

  /**
   * Route process output, tslab.display and cellrl's display hook to one execution's request.
   * @param {CellIO} io
   */
  bind(io) {
    this.io = io;
    const write = (name) => (chunk, encoding, cb) => {
      const text = typeof chunk === "string" ? chunk : utf8.decode(chunk);
      io.stream(name, text);
      if (typeof encoding === "function") encoding();
      else if (typeof cb === "function") cb();
      return true;
    };
    process.stdout.write = /** @type {any} */ (write("stdout"));
    process.stderr.write = /** @type {any} */ (write("stderr"));
    // `import * as tslab from "tslab"`: tslab.display.* sends through this module-level function.
    tslab.jupyter().lastWriteDisplayData = (content, update) =>
      io.publish(update ? "update_display_data" : "display_data", content);
  }

  installDisplayHook() {
    const self = this;
    /** The hook lib/kernel/display.ts looks for (KernelHook). */
    const hook = {
      display(bundle, options = {}) {
        const { metadata = {}, displayId, update = false } = options;
        const content = { data: bundle, metadata, transient: displayId ? { display_id: displayId } : {} };
        self.io?.publish(update ? "update_display_data" : "display_data", content);
      },
      clearOutput(wait = false) {
        self.io?.publish("clear_output", { wait: !!wait });
      },
      /** Used by instrumented awaits (await-guard.js): throw if the cell this code belongs to was interrupted. */
      after(value, run) {
        if (self.runner.shouldStop(run)) {
          const e = new Error("Interrupted asynchronously");
          /** @type {any} */ (e).__cellrlInterrupt = true;
          throw e;
        }
        return value;
      },
      /**
       * Used by instrumented awaits: settle like `x`, but in a macrotask of its own, so the code after the await
       * starts from a fresh microtask queue holding only the cell's own continuation. The interrupt watchdog may
       * terminate that code (a busy loop after `await 0`); termination drops the microtask queue being drained, which
       * must therefore never hold the kernel's own continuations (they would be lost and no later cell would run).
       */
      hop(x) {
        return Promise.resolve(x).then(
          (v) => new Promise((resolve) => setImmediate(resolve, v)),
          (e) => new Promise((_, reject) => setImmediate(reject, e)),
        );
      },
      /** For library loops: true after an interrupt, until the next cell starts (stop and return). */
      interrupted() {
        return self.runner.shouldStop(undefined);
      },
      /** For library loops: throw if an interrupt is pending. */
      checkInterrupt() {
        hook.after(undefined, undefined);
      },
    };
    /** @type {any} */ (globalThis).__cellrl_kernel__ = hook;
    // process.exit() in a cell would kill the kernel with no word in the notebook: while a cell runs, it throws an
    // error that says so instead (the kernel and its variables stay). The kernel's own exits go through.
    const realExit = process.exit.bind(process);
    /** The unpatched process.exit, for the kernel's own shutdown (which may come while a cell runs). */
    this.realExit = realExit;
    process.exit = /** @type {any} */ (
      function exit(code) {
        if (!self.runner.current) return realExit(code);
        const e = new Error(
          `process.exit(${code ?? ""}) was called in a cell; the kernel stays up and keeps its variables. ` +
            "To start fresh, use Kernel > Restart.",
        );
        e.name = "ProcessExit";
        throw e;
      }
    );
  }

  /**
   * Run one execute_request.
   * @param {{code: string, silent?: boolean, store_history?: boolean}} req
   * @param {CellIO} io
   * @returns {Promise<object>} the execute_reply content
   */
  async execute(req, io) {
    const code = String(req.code ?? "");
    const silent = !!req.silent;
    const store = !silent && req.store_history !== false;
    if (store) this.execCount++;
    const count = this.execCount;
    const quiet = { stream() {}, publish() {} };
    const out = silent ? quiet : io;
    out.publish("execute_input", { code, execution_count: count });
    this.bind(out);
    if (store) this.history.add(count, code);
    if (/** @type {any} */ (req).interruptedBeforeStart) {
      const error = interruptError("before the cell started");
      out.publish("error", error);
      return { status: "error", execution_count: count, ...error };
    }
    if (!code.trim()) return { status: "ok", execution_count: count, payload: [], user_expressions: {} };
    const r = await this.runner.run(code);
    for (const w of r.warnings) out.stream("stderr", w + "\n");
    if (r.status === "ok") {
      if (r.hasValue && r.value !== undefined) {
        let data;
        try {
          data = resultBundle(r.value);
        } catch (e) {
          data = { "text/plain": `<display failed: ${e instanceof Error ? e.message : String(e)}>` };
        }
        out.publish("execute_result", { execution_count: count, data, metadata: {} });
        if (store && typeof data["text/plain"] === "string") this.history.setOutput(count, data["text/plain"]);
      }
      return { status: "ok", execution_count: count, payload: [], user_expressions: {} };
    }
    out.publish("error", r.error);
    return { status: "error", execution_count: count, ...r.error };
  }

  /** is_complete: tslab's answer, plus "invalid" for code with a syntax error before its end. */
  handleIsComplete(req) {
    const res = super.handleIsComplete(req);
    if (res.status !== "complete") return res;
    const ts = tslab.ts();
    const code = String(req.code ?? "");
    const sf = ts.createSourceFile("cell.ts", code, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
    const bad = (sf.parseDiagnostics ?? []).some((d) => d.start < code.trimEnd().length);
    return bad ? { status: "invalid" } : res;
  }

  handleHistory(req) {
    return { status: "ok", history: this.history.query(req) };
  }

  interrupt(how) {
    this.runner.interrupt(how);
  }

  close() {
    this.runner.close();
  }
}

module.exports = { CellrlHandler, resultBundle };
