// Render notebooks the way a reader sees them: execute (nbclient + the cellrl kernel), export to HTML (nbconvert),
// open in headless Chromium, return the DOM after scripts ran, and optionally save a screenshot in test/output/.
// Reusable by any test that must check a chart or view really draws:
//   const r = renderNotebook("notebooks/00-hello.ipynb", {screenshot: "00-hello.png"});
//   assert.match(r.dom, /class="main-svg"/);
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { which } from "../../scripts/jupyter-env.mjs";
import { REPO, jupyterPython, kernelEnv } from "./jupyter.js";

/** Defaults of the render helpers. */
export const defaults = {
  /** Virtual time Chromium gives the page's scripts (ms) before dumping the DOM / taking the screenshot. */
  virtualTimeBudgetMs: 5000,
  width: 1200,
  height: 2400,
  /** Wall-clock limit of one Chromium run (ms). */
  timeoutMs: 60_000,
  /** Per-notebook execution limit (s). */
  executeTimeoutS: 600,
};

/** Where screenshots go (git-ignored). */
export const OUTPUT_DIR = path.join(REPO, "test", "output");

/** The headless Chromium binary ($CHROMIUM, chromium, chromium-browser, google-chrome), or null. */
export function findChromium(): string | null {
  if (process.env.CHROMIUM && existsSync(process.env.CHROMIUM)) return process.env.CHROMIUM;
  for (const name of ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]) {
    const p = which(name);
    if (p) return p;
  }
  return null;
}

/** Flags for a sandbox-free, offline, deterministic headless run (see notebook-ecosystem.md §2.3). */
export function chromiumFlags(userDataDir: string, options: { virtualTimeBudgetMs?: number } = {}): string[] {
  return [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    `--user-data-dir=${userDataDir}`,
    `--virtual-time-budget=${options.virtualTimeBudgetMs ?? defaults.virtualTimeBudgetMs}`,
  ];
}

/** Options of renderHtml. */
export interface RenderOptions {
  /** Save a PNG screenshot: a file name (put in test/output/) or an absolute path. */
  screenshot?: string;
  width?: number;
  height?: number;
  virtualTimeBudgetMs?: number;
}

/**
 * Open an HTML file in headless Chromium; returns the DOM after the page's scripts ran (and the screenshot path).
 * @example const { dom } = renderHtml("build/notebooks/00-hello.html"); dom.includes('class="main-svg"')
 */
export function renderHtml(htmlFile: string, options: RenderOptions = {}): { dom: string; screenshot?: string } {
  const chromium = findChromium();
  if (!chromium)
    throw new Error(
      "renderHtml: headless Chromium not found; install it (Debian: apt-get install -y chromium) or set $CHROMIUM.",
    );
  const url = pathToFileURL(path.resolve(htmlFile)).href;
  const profile = mkdtempSync(path.join(os.tmpdir(), "cellrl-chromium-"));
  try {
    const flags = chromiumFlags(profile, options);
    const run = (extra: string[]) => {
      const r = spawnSync(chromium, [...flags, ...extra, url], {
        encoding: "utf8",
        timeout: defaults.timeoutMs,
        maxBuffer: 256 * 1024 * 1024,
      });
      if (r.status !== 0)
        throw new Error(
          `renderHtml: chromium exited with ${r.status ?? r.signal}: ${r.error?.message ?? ""}\n${r.stderr.slice(-2000)}`,
        );
      return r.stdout;
    };
    const dom = run([
      "--dump-dom",
      `--window-size=${options.width ?? defaults.width},${options.height ?? defaults.height}`,
    ]);
    let screenshot: string | undefined;
    if (options.screenshot) {
      screenshot = path.isAbsolute(options.screenshot) ? options.screenshot : path.join(OUTPUT_DIR, options.screenshot);
      mkdirSync(path.dirname(screenshot), { recursive: true });
      run([
        `--screenshot=${screenshot}`,
        `--window-size=${options.width ?? defaults.width},${options.height ?? defaults.height}`,
        "--hide-scrollbars",
      ]);
      if (!existsSync(screenshot)) throw new Error(`renderHtml: chromium wrote no screenshot at ${screenshot}`);
    }
    return { dom, screenshot };
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The DOM without <script>/<style> contents: what the page shows (plus markup), safe to search for text. */
export function visibleHtml(dom: string): string {
  return dom
    .replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, "<script></script>")
    .replace(/<style\b[^>]*>[\s\S]*?<\/style>/gi, "<style></style>");
}

/**
 * Execute a notebook with the cellrl kernel and export it to HTML (scripts/run_notebooks.py); throws with the failing
 * cell's error text. Returns the executed .ipynb and the .html paths.
 */
export function executeNotebook(
  ipynb: string,
  options: { outDir?: string; timeoutS?: number } = {},
): { ipynb: string; html: string; log: string } {
  const python = jupyterPython(["jupyter_client", "nbclient", "nbconvert", "nbformat"]);
  const outDir = options.outDir ?? mkdtempSync(path.join(os.tmpdir(), "cellrl-nb-"));
  const src = path.resolve(ipynb);
  const r = spawnSync(
    python,
    [
      "-u",
      path.join(REPO, "scripts", "run_notebooks.py"),
      "--out",
      outDir,
      "--timeout",
      String(options.timeoutS ?? defaults.executeTimeoutS),
      "--kernel",
      "cellrl",
      src,
    ],
    {
      encoding: "utf8",
      env: kernelEnv(),
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const log = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) throw new Error(`executeNotebook: ${path.basename(src)} failed:\n${log}`);
  const name = path.basename(src, ".ipynb");
  return { ipynb: path.join(outDir, `${name}.ipynb`), html: path.join(outDir, `${name}.html`), log };
}

/**
 * Execute, export and render a notebook: the reader's view of it, as a DOM string (+ screenshot in test/output/).
 * @example const { dom } = renderNotebook("notebooks/00-hello.ipynb", { screenshot: "00-hello.png" })
 */
export function renderNotebook(ipynb: string, options: RenderOptions & { outDir?: string } = {}) {
  const executed = executeNotebook(ipynb, { outDir: options.outDir });
  return { ...executed, ...renderHtml(executed.html, options) };
}
