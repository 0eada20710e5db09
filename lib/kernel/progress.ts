import { displayHandle, displayTarget } from "./display.js";
import { escapeHtml } from "./mime.js";

/** Options of `progress`. */
export interface ProgressOptions {
  /** Text before the bar. Defaults to "". */
  label?: string;
  /** Minimum milliseconds between redraws. Defaults to 150. */
  throttleMs?: number;
}

/** A progress bar: updates in place in Jupyter, one rewritten line on a terminal. */
export interface Progress {
  /** Advance by `n` (default 1) and optionally show metrics such as {loss: 0.31}. */
  tick(n?: number, metrics?: Record<string, number | string>): void;
  /** Set the position directly. */
  set(done: number, metrics?: Record<string, number | string>): void;
  /** Draw the final state. */
  done(): void;
}

function fmtMetrics(m: Record<string, number | string>): string {
  return Object.entries(m)
    .map(([k, v]) => `${k}=${typeof v === "number" ? (Number.isInteger(v) ? v : v.toPrecision(4)) : v}`)
    .join(" ");
}

function fmtTime(s: number): string {
  return s < 60 ? `${s.toFixed(1)}s` : `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
}

/**
 * A progress bar for long loops. In Jupyter it is one output replaced in place (display_id); in plain Node it is a
 * single terminal line on stderr.
 * @example const p = progress(100, {label: "train"}); for (...) p.tick(1, {loss}); p.done()
 */
export function progress(total: number, options: ProgressOptions = {}): Progress {
  const { label = "", throttleMs = 150 } = options;
  const start = Date.now();
  let pos = 0;
  let last = 0;
  let metrics: Record<string, number | string> = {};
  const jupyter = displayTarget() !== "console";
  const handle = jupyter ? displayHandle() : null;
  const tty = !jupyter && process.stderr.isTTY;

  const draw = (final: boolean) => {
    const frac = total > 0 ? Math.min(1, pos / total) : 1;
    const elapsed = (Date.now() - start) / 1000;
    const eta = frac > 0 && !final ? elapsed / frac - elapsed : 0;
    const m = fmtMetrics(metrics);
    const text =
      `${label ? label + " " : ""}${pos}/${total} ${(frac * 100).toFixed(0)}% ${fmtTime(elapsed)}` +
      `${final ? "" : ` eta ${fmtTime(eta)}`}${m ? " " + m : ""}`;
    if (handle) {
      const html =
        `<div style="font-family:monospace;font-size:90%"><span style="display:inline-block;width:240px;height:10px;` +
        `background-color:rgb(230,230,230);margin-right:8px">` +
        `<span style="display:inline-block;height:10px;width:${(frac * 240).toFixed(0)}px;` +
        `background-color:${final ? "rgb(60,160,80)" : "rgb(70,120,200)"}"></span></span>${escapeHtml(text)}</div>`;
      handle.update({ "text/plain": text, "text/html": html });
    } else if (tty) {
      const width = 24;
      const bar = "#".repeat(Math.round(frac * width)).padEnd(width, ".");
      process.stderr.write(
        `\r[${bar}] ${text}`
          .slice(0, (process.stderr.columns ?? 120) - 1)
          .padEnd(Math.min(119, (process.stderr.columns ?? 120) - 1)) + (final ? "\n" : ""),
      );
    } else if (final) {
      process.stderr.write(text + "\n");
    }
  };

  const maybeDraw = () => {
    const now = Date.now();
    if (now - last >= throttleMs || pos >= total) {
      last = now;
      draw(false);
    }
  };
  return {
    tick(n = 1, m) {
      pos += n;
      if (m) metrics = { ...metrics, ...m };
      maybeDraw();
    },
    set(done, m) {
      pos = done;
      if (m) metrics = { ...metrics, ...m };
      maybeDraw();
    },
    done() {
      draw(true);
    },
  };
}
