// 00-hello executed headless, exported to HTML and opened in headless Chromium: the Plotly chart must be drawn
// (plotly.js inlined, no network), the arquero table and the final progress bar present.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { renderNotebook, visibleHtml } from "./browser.js";
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
