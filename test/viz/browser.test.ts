// The views as a reader sees them: executed notebooks exported to HTML (nbconvert, classic template) and opened in
// headless Chromium with no network. In every page, each Plotly figure must have drawn its SVG, each token view must
// hold one span per token, and the samples table's script must page and filter. The expected counts come from the
// executed .ipynb itself (the figure divs and the data-cellrl-tokens attributes in its outputs), so the check holds for
// any notebook. Pages: test/viz/views.ipynb (every view once, executed here) and whatever `npm run notebooks` left in
// build/notebooks/. A screenshot of the views page is kept in test/output/viz-views.png. The views page is also opened
// with its scripts stripped (an untrusted notebook, GitHub): figures must then show their numbers as text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { pathToFileURL } from "node:url";
import { chromiumFlags, executeNotebook, findChromium, renderHtml, visibleHtml } from "../kernel/browser.js";
import { REPO } from "../kernel/jupyter.js";
import { findJupyter } from "../../scripts/jupyter-env.mjs";
import { vizBenchInputs } from "../../bench/viz.js";
import { samplesTable } from "../../lib/viz/samples-table.js";
import { tokenView } from "../../lib/viz/token-view.js";

/** What the in-page checker reports. */
interface DomCheck {
  figures: number;
  drawn: number;
  mainSvgs: number;
  undrawn: number[];
  notLoaded: number;
  /** Figures whose text fallback is still there after drawing (it must be removed). */
  staleFallbacks: number;
  tokenViews: [number, number][];
  tables: { first: string; next: string; filtered: string; rows: number }[];
}

// Runs in the page after load (virtual time): counts figures and their SVGs, spans per token view, and drives the
// samples table (next page, a filter) through its own script. The result goes into <pre id="cellrl-dom-check">.
const CHECKER = `<script>window.addEventListener("load", function () { setTimeout(function () {
  var out = { figures: 0, drawn: 0, mainSvgs: document.querySelectorAll("svg.main-svg").length, undrawn: [], notLoaded: 0, staleFallbacks: 0, tokenViews: [], tables: [] };
  var figs = document.querySelectorAll("div.cellrl-plot"); out.figures = figs.length;
  figs.forEach(function (f, i) { if (f.querySelector("svg.main-svg")) { out.drawn++; if (f.querySelector(".cellrl-plot-fallback")) out.staleFallbacks++; } else out.undrawn.push(i); if (/plotly.js not loaded/.test(f.textContent)) out.notLoaded++; });
  document.querySelectorAll(".cellrl-token-view").forEach(function (v) { out.tokenViews.push([+(v.getAttribute("data-cellrl-tokens") || -1), v.querySelectorAll("[data-cellrl-tok]").length]); });
  document.querySelectorAll(".cellrl-samples-table").forEach(function (t) {
    var info = t.querySelector("[data-role=info]"), r = { first: info.textContent, next: "", filtered: "", rows: 0 };
    t.querySelector("[data-role=next]").click(); r.next = info.textContent;
    var box = t.querySelector("[data-role=filter]"); box.value = "reward>0.5"; box.dispatchEvent(new Event("input"));
    r.filtered = info.textContent; r.rows = t.querySelectorAll("tbody tr").length; out.tables.push(r);
  });
  var pre = document.createElement("pre"); pre.id = "cellrl-dom-check"; pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
}, 1500); });</script>`;

/** The checker's report out of a dumped DOM. */
function parseCheck(dom: string, name: string): DomCheck {
  const m = dom.match(/<pre id="cellrl-dom-check">([\s\S]*?)<\/pre>/);
  assert.ok(m, `${name}: the in-page checker did not run (page scripts blocked or the load event never fired)`);
  const text = m[1]
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");
  return JSON.parse(text) as DomCheck;
}

function withChecker(htmlFile: string, dir: string): string {
  const copy = path.join(dir, path.basename(htmlFile));
  const html = readFileSync(htmlFile, "utf8");
  writeFileSync(
    copy,
    html.includes("</body>") ? html.replace(/<\/body>(?![\s\S]*<\/body>)/, `${CHECKER}</body>`) : html + CHECKER,
  );
  return copy;
}

/** Open an HTML file with the checker injected; returns the checker's report and the wall time of the Chromium run. */
function checkPage(htmlFile: string, options: { screenshot?: string } = {}): { check: DomCheck; ms: number } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "cellrl-viz-page-"));
  try {
    const copy = withChecker(htmlFile, dir);
    const t0 = Date.now();
    const { dom } = renderHtml(copy, { virtualTimeBudgetMs: 8000 });
    const ms = Date.now() - t0;
    if (options.screenshot) renderHtml(htmlFile, { screenshot: options.screenshot, width: 1200, height: 3000 });
    return { check: parseCheck(dom, path.basename(htmlFile)), ms };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** checkPage without blocking, so several pages render at once (Chromium mostly waits on its own start-up). */
function checkPageAsync(htmlFile: string): Promise<{ check: DomCheck; ms: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "cellrl-viz-page-"));
  const profile = path.join(dir, "profile");
  const copy = withChecker(htmlFile, dir);
  const t0 = Date.now();
  return new Promise<{ check: DomCheck; ms: number }>((resolve, reject) => {
    const child = spawn(
      chromium!,
      [...chromiumFlags(profile, { virtualTimeBudgetMs: 8000 }), "--dump-dom", pathToFileURL(copy).href],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const out: Buffer[] = [],
      err: Buffer[] = [];
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code !== 0)
        return reject(
          new Error(
            `chromium exited with ${code} on ${path.basename(htmlFile)}: ${Buffer.concat(err).toString().slice(-1000)}`,
          ),
        );
      try {
        resolve({
          check: parseCheck(Buffer.concat(out).toString("utf8"), path.basename(htmlFile)),
          ms: Date.now() - t0,
        });
      } catch (e) {
        reject(e);
      }
    });
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** Figures and token views a notebook's outputs contain, in output order (read from the executed .ipynb). */
function expectedFromIpynb(ipynb: string): { figures: number; tokenViews: number[] } {
  const nb = JSON.parse(readFileSync(ipynb, "utf8")) as { cells: { outputs?: { data?: Record<string, unknown> }[] }[] };
  let figures = 0;
  const tokenViews: number[] = [];
  for (const cell of nb.cells)
    for (const out of cell.outputs ?? []) {
      const h = out.data?.["text/html"];
      const html = Array.isArray(h) ? h.join("") : typeof h === "string" ? h : "";
      figures += (html.match(/class="cellrl-plot"/g) ?? []).length;
      for (const tv of html.matchAll(/class="cellrl-token-view[^"]*"(?: data-cellrl-tokens="(\d+)")?/g))
        tokenViews.push(tv[1] === undefined ? -1 : Number(tv[1]));
    }
  return { figures, tokenViews };
}

function assertPage(name: string, check: DomCheck, expected: { figures: number; tokenViews: number[] }): void {
  assert.equal(
    check.figures,
    expected.figures,
    `${name}: ${expected.figures} figures in the outputs but ${check.figures} figure divs in the page`,
  );
  assert.equal(check.drawn, check.figures, `${name}: figures ${check.undrawn.join(", ")} drew no SVG`);
  assert.equal(check.notLoaded, 0, `${name}: ${check.notLoaded} figures say plotly.js was not loaded`);
  assert.equal(
    check.staleFallbacks ?? 0,
    0,
    `${name}: ${check.staleFallbacks} drawn figures still show their text fallback`,
  );
  assert.ok(
    check.mainSvgs >= check.figures,
    `${name}: ${check.mainSvgs} main-svg elements for ${check.figures} figures`,
  );
  assert.equal(
    check.tokenViews.length,
    expected.tokenViews.length,
    `${name}: ${expected.tokenViews.length} token views in the outputs, ${check.tokenViews.length} in the page`,
  );
  check.tokenViews.forEach(([declared, spans], i) => {
    // Views exported before data-cellrl-tokens existed declare -1: then only require spans.
    if (declared >= 0)
      assert.equal(spans, declared, `${name}: token view ${i} has ${spans} spans for ${declared} tokens`);
    else assert.ok(spans > 0, `${name}: token view ${i} has no token spans`);
  });
}

const chromium = findChromium();
const jupyter = findJupyter();
const canExecute =
  !!jupyter?.modules.nbclient && !!jupyter?.modules.nbconvert && existsSync(path.join(REPO, "dist", "index.js"));

test(
  "every view, executed and exported, draws in headless Chromium (test/viz/views.ipynb)",
  {
    skip: !chromium
      ? "headless Chromium not found"
      : !canExecute
        ? "Jupyter (nbclient + nbconvert) or dist/ missing: run npm run build"
        : false,
  },
  (t) => {
    const outDir = mkdtempSync(path.join(os.tmpdir(), "cellrl-viz-nb-"));
    try {
      const run = executeNotebook(path.join(REPO, "test", "viz", "views.ipynb"), { outDir, timeoutS: 300 });
      const expected = expectedFromIpynb(run.ipynb);
      assert.ok(
        // 17: the notebook's viz.stack of a histogram and a heatmap is one combined figure (stackFigures).
        expected.figures >= 17,
        `the views notebook should show at least 17 figures (found ${expected.figures})`,
      );
      assert.ok(expected.tokenViews.includes(2000), "the 2,000-token view is in the outputs");
      const { check, ms } = checkPage(run.html, { screenshot: "viz-views.png" });
      assertPage("views.ipynb", check, expected);
      assert.equal(check.tables.length, 1);
      assert.deepEqual(check.tables[0], {
        first: "rows 1–20 of 10000",
        next: "rows 21–40 of 10000",
        filtered: "rows 1–20 of 3334 (filtered from 10000)",
        rows: 20,
      });
      const shot = path.join(REPO, "test", "output", "viz-views.png");
      assert.ok(existsSync(shot) && statSync(shot).size > 20_000, "screenshot missing or blank");
      t.diagnostic(
        `views.ipynb: ${check.figures} figures drawn, ${check.tokenViews.length} token views, page rendered in ${ms} ms (Chromium wall time)`,
      );

      // The same page with its scripts removed (what an untrusted notebook or GitHub shows: sanitizers drop them):
      // every figure shows its numbers as text, every token view still has its spans, the table its static first page.
      const bare = path.join(outDir, "views-noscript.html");
      writeFileSync(bare, readFileSync(run.html, "utf8").replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, ""));
      const page = visibleHtml(renderHtml(bare).dom);
      assert.equal(
        (page.match(/class="cellrl-plot-fallback"/g) ?? []).length,
        expected.figures,
        "each figure carries a text fallback",
      );
      assert.ok(!/class="main-svg"/.test(page), "no script ran, so nothing was drawn");
      assert.match(page, /reward: n=4 mean=0\.625/, "the histogram's numbers are readable without scripts");
      assert.equal(
        (page.match(/data-cellrl-tok="/g) ?? []).length,
        expected.tokenViews.reduce((x, y) => x + y, 0),
        "token spans need no script",
      );
      assert.match(page, /rows 1–20 of 10000/, "the samples table's first page needs no script");
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  },
);

test(
  "notebooks exported by `npm run notebooks` (build/notebooks/*.html) draw every figure and token view",
  { skip: !chromium ? "headless Chromium not found" : false },
  async (t) => {
    const dir = path.join(REPO, "build", "notebooks");
    const pages = existsSync(dir)
      ? readdirSync(dir)
          .filter(
            (f) =>
              f.endsWith(".html") &&
              !f.endsWith(".part.html") &&
              existsSync(path.join(dir, f.replace(/\.html$/, ".ipynb"))),
          )
          .sort()
      : [];
    if (!pages.length) {
      t.skip(
        "no exported notebooks in build/notebooks (run npm run notebooks); the views notebook above covers every view",
      );
      return;
    }
    // Two pages at a time (one per core): a Chromium run is partly start-up and waiting.
    const results: { page: string; check: DomCheck; ms: number }[] = [];
    for (let i = 0; i < pages.length; i += 2)
      results.push(
        ...(await Promise.all(
          pages.slice(i, i + 2).map(async (page) => ({ page, ...(await checkPageAsync(path.join(dir, page))) })),
        )),
      );
    for (const { page, check, ms } of results) {
      assertPage(page, check, expectedFromIpynb(path.join(dir, page.replace(/\.html$/, ".ipynb"))));
      t.diagnostic(
        `${page}: ${check.figures} figures drawn, ${check.tokenViews.length} token views (${check.tokenViews.map((v) => v[1]).join(", ") || "-"} spans), ${ms} ms`,
      );
    }
  },
);

test(
  "a 2,000-token view and a 10,000-row table render in the browser (DOM checked; render time reported)",
  { skip: !chromium ? "headless Chromium not found" : false },
  (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "cellrl-viz-big-"));
    try {
      const { series, rows } = vizBenchInputs();
      const page = (body: string) =>
        `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>${body}</body></html>`;
      const bigFile = path.join(dir, "big.html"),
        emptyFile = path.join(dir, "empty.html");
      writeFileSync(
        bigFile,
        page(
          String(tokenView(series, { color: "adv", underline: "entropy" }).toMimeBundle()["text/html"]) +
            String(samplesTable(rows).toMimeBundle()["text/html"]),
        ),
      );
      writeFileSync(emptyFile, page("<p>empty</p>"));
      const empty = checkPage(emptyFile);
      const big = checkPage(bigFile);
      assert.deepEqual(big.check.tokenViews, [[2000, 2000]]);
      assert.equal(big.check.tables[0].first, "rows 1–20 of 10000");
      assert.equal(big.check.tables[0].next, "rows 21–40 of 10000");
      t.diagnostic(
        `Chromium wall time: big page ${big.ms} ms, empty page ${empty.ms} ms (difference ~ render cost of both views)`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
