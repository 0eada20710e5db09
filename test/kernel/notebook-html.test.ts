// 00-hello executed headless, exported to HTML and opened in headless Chromium: the Plotly chart must be drawn
// (plotly.js inlined, no network), the arquero table and the final progress bar present.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { renderHtml, renderNotebook, visibleHtml } from "./browser.js";
import { REPO } from "./jupyter.js";

test("00-hello: exported HTML draws the Plotly figure in headless Chromium", () => {
  const r = renderNotebook(path.join(REPO, "notebooks", "00-hello.ipynb"), { screenshot: "00-hello.png" });
  const page = visibleHtml(r.dom);
  const has = (re: RegExp) => re.test(page);
  // Plotly draws into <svg class="main-svg"> only when plotly.js ran and found its data; the title is SVG text.
  assert.ok(has(/<svg[^>]*class="main-svg"/), "no Plotly main-svg in the rendered page");
  assert.ok(!has(/plotly\.js not loaded/), "the figure says plotly.js was not loaded");
  assert.ok(has(/<text[^>]*>Mean reward per step \(synthetic\)<\/text>/), "the figure title was not drawn");
  // The arquero table (execute_result text/html) and the final state of the progress bar.
  assert.ok(has(/<th[^>]*>mean_reward<\/th>/), "the arquero table is missing");
  assert.ok(has(/warm-up 20\/20 100%/), "the progress bar's final state is missing");
  assert.ok(has(/all checks passed/), "the assertion cell did not print its message");
  assert.ok(
    r.screenshot && existsSync(r.screenshot) && statSync(r.screenshot).size > 10_000,
    "screenshot missing or blank",
  );
});

// Every page `npm run notebooks` exported to build/notebooks/ (run that first; skipped when there are none), opened in
// headless Chromium at 1200 px: no chart may be blank (plotly drew at least one trace, or the static image is there)
// and the page may not be wider than the window (long code lines wrap). A screenshot of each goes to test/output/.
const BUILD = path.join(REPO, "build", "notebooks");
const exports = existsSync(BUILD)
  ? readdirSync(BUILD)
      .filter((f) => f.endsWith(".html"))
      .sort()
  : [];
const PROBE = `<script>window.addEventListener("load", function () { setTimeout(function () {
  var plots = Array.prototype.slice.call(document.querySelectorAll(".cellrl-plot"));
  var blank = plots.filter(function (el) {
    var drawn = el.querySelectorAll(".main-svg .trace, .main-svg .hm, .main-svg .heatmaplayer image").length;
    var img = el.querySelector("img.cellrl-plot-static");
    return !drawn && !(img && img.naturalWidth > 0);
  }).map(function (el) { return (el.textContent || "").slice(0, 80); });
  var r = { plots: plots.length, blank: blank, scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth, title: document.title,
    wide: Array.prototype.slice.call(document.querySelectorAll("body *")).filter(function (e) {
      var b = e.getBoundingClientRect(); return b.right > window.innerWidth + 1 && b.width > 0; })
      .slice(0, 3).map(function (e) { return e.tagName + "." + e.className; }) };
  var pre = document.createElement("pre"); pre.id = "cellrl-probe"; pre.textContent = JSON.stringify(r);
  document.body.appendChild(pre); }, 1500); });</script>`;

for (const file of exports.length ? exports : ["(none)"])
  test(
    `exported ${file}: no blank chart, not wider than the window (screenshot in test/output/)`,
    { skip: exports.length ? false : "no exports in build/notebooks/: run `npm run notebooks` first" },
    () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), "cellrl-export-"));
      try {
        const copy = path.join(dir, file);
        writeFileSync(copy, readFileSync(path.join(BUILD, file), "utf8").replace(/<\/body>/i, `${PROBE}</body>`));
        const r = renderHtml(copy, { screenshot: `export-${file.replace(/\.html$/, "")}.png`, width: 1200 });
        const m = /<pre id="cellrl-probe">([^<]*)<\/pre>/.exec(r.dom);
        assert.ok(m, "the probe script did not run (page failed to load?)");
        const probe = JSON.parse(m[1].replace(/&quot;/g, '"').replace(/&amp;/g, "&")) as {
          plots: number;
          blank: string[];
          scrollWidth: number;
          innerWidth: number;
          title: string;
          wide: string[];
        };
        assert.deepEqual(probe.blank, [], `${probe.blank.length} of ${probe.plots} chart(s) drew nothing`);
        assert.ok(
          probe.scrollWidth <= probe.innerWidth + 1,
          `page is ${probe.scrollWidth}px wide in a ${probe.innerWidth}px window (widest: ${probe.wide.join(", ")})`,
        );
        assert.notEqual(probe.title, "Notebook", "the page has nbconvert's default title");
        assert.ok(!/file:\/\//.test(readFileSync(copy, "utf8")), "the page links a file:// resource");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
