import { randomUUID } from "node:crypto";
import { fail } from "../core/errors.js";
import { toMimeBundle, type MimeBundle } from "./mime.js";

/** The hook cellrl's kernel installs on globalThis; other kernels get the tslab or console fallback. */
export interface KernelHook {
  display(
    bundle: MimeBundle,
    options: { metadata?: Record<string, unknown>; displayId?: string; update?: boolean },
  ): void;
  clearOutput(wait: boolean): void;
}

interface TslabJupyter {
  lastWriteDisplayData: ((content: unknown, update: boolean) => void) | null;
}

/** Where display output goes now: "cellrl" kernel, plain "tslab", or the "console" of a Node script. */
export type DisplayTarget = "cellrl" | "tslab" | "console";

function kernelHook(): KernelHook | null {
  const h = (globalThis as { __cellrl_kernel__?: KernelHook }).__cellrl_kernel__;
  return h && typeof h.display === "function" ? h : null;
}

function tslabJupyter(): TslabJupyter | null {
  const key = Object.keys(require.cache).find((k) => /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(k));
  const m = key ? (require.cache[key]?.exports as TslabJupyter | undefined) : undefined;
  return m && typeof m.lastWriteDisplayData === "function" ? m : null;
}

/** Which output channel `display` will use right now. */
export function displayTarget(): DisplayTarget {
  if (kernelHook()) return "cellrl";
  if (tslabJupyter()) return "tslab";
  return "console";
}

/** Options of `display`. */
export interface DisplayOptions {
  /** Jupyter display_id: a later `display(..., {displayId, update: true})` replaces this output in place. */
  displayId?: string;
  /** Send update_display_data for `displayId` instead of a new output. Defaults to false. */
  update?: boolean;
  /** Per-mime metadata. */
  metadata?: Record<string, unknown>;
}

/**
 * The one function through which all visual output goes: send a mime bundle (with a text/plain fallback) to the
 * notebook, or print its text/plain in a Node script. Views, figures, arquero tables and plain values are accepted.
 * @example display(viz.tokenView(ro, 0)); display({"text/html": "<b>hi</b>", "text/plain": "hi"})
 */
export function display(value: unknown, options: DisplayOptions = {}): void {
  // A stack of parts (viz.stack mixing figures and HTML) goes out as one output per part, unless it is updated in place.
  const multi = (value as { toMimeBundles?: () => MimeBundle[] } | null)?.toMimeBundles;
  if (typeof multi === "function" && !options.displayId) {
    for (const b of multi.call(value)) display(b, options);
    return;
  }
  const bundle = toMimeBundle(value);
  if (typeof bundle["text/plain"] !== "string")
    fail(
      "invalid_input",
      `display: a mime bundle needs a "text/plain" string fallback (got ${typeof bundle["text/plain"]}).`,
      {},
      display,
    );
  const { displayId, update = false, metadata = {} } = options;
  if (update && !displayId) fail("invalid_option", "display: update: true needs a displayId.", {}, display);
  const hook = kernelHook();
  if (hook) return hook.display(bundle, { metadata, displayId, update });
  const tj = tslabJupyter();
  if (tj && tj.lastWriteDisplayData) {
    tj.lastWriteDisplayData({ data: bundle, metadata, transient: displayId ? { display_id: displayId } : {} }, update);
    return;
  }
  if (!update || consoleShowsUpdates) console.log(bundle["text/plain"]);
}

let consoleShowsUpdates = false;
/** In a Node script, print updates of a display_id too (default false: only first outputs are printed). */
export function printUpdatesToConsole(on: boolean): void {
  consoleShowsUpdates = on;
}

/** A display that can be replaced in place (live progress, dashboards). */
export interface DisplayHandle {
  readonly displayId: string;
  /** Replace the output (the first call creates it). */
  update(value: unknown): void;
}

/**
 * Create an output that later calls replace in place (Jupyter update_display_data by display_id).
 * @example const h = displayHandle(); for (...) h.update(viz.dashboard(history))
 */
export function displayHandle(displayId: string = randomUUID()): DisplayHandle {
  let shown = false;
  return {
    displayId,
    update(value: unknown) {
      display(value, { displayId, update: shown });
      shown = true;
    },
  };
}

/**
 * Clear the current cell's output (Jupyter clear_output); `wait` defers the clear until new output arrives.
 * @example clearOutput(true)
 */
export function clearOutput(wait = false): void {
  const hook = kernelHook();
  if (hook) hook.clearOutput(wait);
}
