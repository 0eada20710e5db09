// The dashboard's panels against the metrics the step functions really emit, and liveDashboard's promises
// (throttled redraws, pushes coalesced into the next drawing, alerts listed once, flush draws the final state).
import { after, before, describe, mock, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Rng } from "../../lib/core/random.js";
import { AdamW } from "../../lib/model/optim.js";
import { createLogZHead, flowrlParams, flowrlStep, grpoStep } from "../../lib/update/index.js";
import { gkdStep, localTeacher } from "../../lib/distill/index.js";
import * as viz from "../../lib/viz/index.js";
import { defaultPanels, learningSignal } from "../../lib/viz/dashboard.js";
import type { MimeBundle } from "../../lib/kernel/mime.js";
import { digitReward, PROMPTS, TARGETS, tinyModel, tinyPolicy } from "../update/fixture.js";
import { setup } from "../update/setup.js";

type Fig = {
  data: { name?: string; meta?: string; xaxis: string; y: number[] }[];
  layout: { annotations: { text: string; xref: string }[] };
};

/** Panel title → the metric keys drawn in it, read from the figure JSON. */
function panelsOf(b: MimeBundle): Map<string, string[]> {
  const fig = b["application/vnd.plotly.v1+json"] as Fig;
  const out = new Map<string, string[]>();
  for (const a of fig.layout.annotations) {
    const title = /<b>(.*?)<\/b>/.exec(a.text)![1];
    const axis = a.xref.replace(" domain", "");
    out.set(
      title,
      fig.data.filter((t) => t.xaxis === axis && (t.meta ?? t.name)).map((t) => (t.meta ?? t.name)!),
    );
  }
  return out;
}

const read = (dir: string): string =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .map((e) => {
      const p = path.join(dir, e.name);
      return e.isDirectory() ? read(p) : e.name.endsWith(".ts") ? fs.readFileSync(p, "utf8") : "";
    })
    .join("\n");

test("every default panel key is one that lib/ emits (or, for eval/*, that a notebook's eval returns)", () => {
  const root = path.join(__dirname, "..", "..");
  const src =
    read(path.join(root, "lib/update")) + read(path.join(root, "lib/distill")) + read(path.join(root, "lib/rollout"));
  const notebooks = fs
    .readdirSync(path.join(root, "notebooks"))
    .filter((f) => f.endsWith(".ipynb"))
    .map((f) => fs.readFileSync(path.join(root, "notebooks", f), "utf8"))
    .join("\n");
  const missing: string[] = [];
  for (const p of defaultPanels)
    for (const k of [...p.keys, ...(p.band ? [p.band] : [])]) {
      const [ns, name] = k.split("/");
      const ok =
        ns === "time"
          ? new RegExp(`phase(Async)?\\("${name}"`).test(src)
          : ns === "eval"
            ? notebooks.includes(k)
            : ns === "signal"
              ? /export function learningSignal[\s\S]*"signal\/gradTokenFrac"/.test(
                  fs.readFileSync(path.join(root, "lib/viz/dashboard.ts"), "utf8"),
                )
              : src.includes(`"${k}"`);
      if (!ok) missing.push(`${p.title}: ${k}`);
    }
  assert.deepEqual(missing, [], "panel keys that no step function emits");
});

describe("dashboard panels from real step metrics", () => {
  before(setup);

  test("GRPO with kl: {beta: 0.05} shows the reference-KL panel (update/refKl, update/klLoss) and the approx-KL panel", async () => {
    const p = tinyPolicy(0),
      ref = p.model.clone();
    const opt = new AdamW(p.model.namedVariables(), { lr: 1e-3, weightDecay: 0 });
    const rng = new Rng(1),
      history: Record<string, number>[] = [];
    for (let s = 0; s < 3; s++) {
      const r = await grpoStep(
        { policy: p, opt, ref, prompts: PROMPTS, reward: digitReward, columns: { target: TARGETS }, step: s },
        {
          n: 4,
          sampling: { maxNewTokens: 2, temperature: 1 },
          rng,
          kl: { beta: 0.05 },
          epochs: 2,
          miniBatchSize: 10,
          thresholds: { truncFrac: null },
        },
      );
      history.push(r.metrics);
    }
    p.model.dispose();
    ref.dispose();
    opt.dispose();
    const b = viz.dashboard(history).toMimeBundle();
    const panels = panelsOf(b);
    assert.deepEqual(panels.get("KL to reference"), ["update/refKl", "update/klLoss"]);
    assert.deepEqual(panels.get("policy change (approx KL old→new)"), ["update/approxKl"]);
    for (const t of ["reward", "entropy", "response length (tokens)", "grad norm", "loss", "seconds per phase"])
      assert.ok(panels.get(t)?.length, `panel ${t}`);
    assert.deepEqual(panels.get("loss"), ["update/pgLoss"], "the named loss, not update/loss drawn twice");
    assert.ok(!panels.has("FlowRL log Z") && !panels.has("distillation"));
    // The trace carries the logged values, step by step.
    const fig = b["application/vnd.plotly.v1+json"] as Fig;
    assert.deepEqual(
      fig.data.find((t) => t.meta === "update/refKl")!.y,
      history.map((m) => m["update/refKl"]),
    );
    assert.match(b["text/plain"], /KL to reference: update\/refKl=\S+ update\/klLoss=\S+/);
  });

  test("FlowRL metrics get the log Z panel; GKD metrics get the distillation panel and the teacher's time", async () => {
    const p = tinyPolicy(0),
      ref = p.model.clone();
    const head = createLogZHead(p.model.config.hidden_size, { rng: new Rng(2) });
    const opt = new AdamW(flowrlParams(p.model, head), { lr: 1e-3, weightDecay: 0 });
    const fl = await flowrlStep(
      { policy: p, opt, head, ref, prompts: PROMPTS, reward: digitReward, columns: { target: TARGETS }, step: 0 },
      { n: 4, sampling: { maxNewTokens: 1 }, rng: new Rng(1), thresholds: { truncFrac: null } },
    );
    ref.dispose();
    head.dispose();
    opt.dispose();
    const flPanels = panelsOf(viz.dashboard([fl.metrics]).toMimeBundle());
    assert.deepEqual(flPanels.get("FlowRL log Z"), ["update/logZMean", "update/tbResidualMean"]);
    assert.ok(flPanels.get("loss")!.includes("update/flowLoss") && flPanels.has("reward"));

    const teacherModel = tinyModel(7);
    const gopt = new AdamW(p.model.namedVariables(), { lr: 1e-3, weightDecay: 0 });
    const gk = await gkdStep(
      { policy: p, opt: gopt, teacher: localTeacher(teacherModel), prompts: PROMPTS, step: 0 },
      { sampling: { maxNewTokens: 2 }, rng: new Rng(3), thresholds: { truncFrac: null } },
    );
    teacherModel.dispose();
    gopt.dispose();
    p.model.dispose();
    const gkPanels = panelsOf(viz.dashboard([gk.metrics]).toMimeBundle());
    assert.deepEqual(gkPanels.get("distillation"), ["distill/onPolicyFrac"]);
    assert.deepEqual(gkPanels.get("loss"), ["distill/loss"]);
    assert.ok(gkPanels.get("seconds per phase")!.includes("time/teacher"));
    assert.ok(!gkPanels.has("KL to reference") && !gkPanels.has("FlowRL log Z"));
  });
});

describe("dashboard layout", () => {
  type Trace = { name?: string; xaxis: string; y: number[]; showlegend?: boolean; legend?: string; fill?: string };
  type Layout = Record<string, unknown> & { annotations: { text: string; xref: string }[] };
  const figOf = (b: MimeBundle) => b["application/vnd.plotly.v1+json"] as { data: Trace[]; layout: Layout };
  const rows = (n: number, f: (i: number) => Record<string, number>) => Array.from({ length: n }, (_, i) => f(i));

  test("absent and constant metrics are not drawn; the text names the constant ones with their value", () => {
    const h = rows(5, (i) => ({
      step: i,
      "reward/mean": 0.2 * i,
      "rollout/truncFrac": 0,
      "rollout/lengthMean": 5,
      "rollout/lengthMax": 5 + i,
      "distill/onPolicyFrac": 1,
    }));
    const b = viz.dashboard(h).toMimeBundle();
    const panels = panelsOf(b);
    assert.deepEqual([...panels.keys()], ["reward", "response length (tokens)"]);
    assert.deepEqual(panels.get("response length (tokens)"), ["rollout/lengthMax"]);
    const constLine = b["text/plain"].split("\n").find((l) => l.startsWith("constant (not drawn): "));
    assert.deepEqual(constLine?.split(": ")[1].split(" ").sort(), [
      "distill/onPolicyFrac=1",
      "rollout/lengthMean=5",
      "rollout/truncFrac=0",
    ]);
    // One row: nothing can be called constant yet, so everything present is drawn.
    assert.ok(panelsOf(viz.dashboard(h.slice(0, 1)).toMimeBundle()).has("truncated share"));
  });

  test("the reward band stays inside [reward/min, reward/max] (0/1 rewards: inside [0, 1])", () => {
    const h = rows(4, (i) => {
      const p = [0.1, 0.5, 0.9, 1][i];
      return { step: i, "reward/mean": p, "reward/std": Math.sqrt(p * (1 - p)), "reward/min": 0, "reward/max": 1 };
    });
    const band = figOf(viz.dashboard(h).toMimeBundle()).data.find((t) => t.fill === "toself")!;
    assert.ok(Math.max(...band.y) <= 1 && Math.min(...band.y) >= 0, `band ${band.y}`);
    assert.equal(Math.max(...band.y), 1, "0.9 + 0.3 is clipped to 1, not dropped");
    // Without min/max keys the band is clipped to the line's own range.
    const noLim = h.map(({ step, "reward/mean": m, "reward/std": sd }) => ({
      step,
      "reward/mean": m,
      "reward/std": sd,
    }));
    const band2 = figOf(viz.dashboard(noLim).toMimeBundle()).data.find((t) => t.fill === "toself")!;
    assert.ok(Math.max(...band2.y) <= 1 && Math.min(...band2.y) >= 0.1 - 1e-12);
  });

  test("every panel with more than one line has its own legend; single-line panels have none", () => {
    const h = rows(3, (i) => ({ step: i, "update/refKl": 0.01 * i, "update/klLoss": 0.02 * i, "update/gradNorm": i }));
    const fig = figOf(viz.dashboard(h).toMimeBundle());
    const kl = fig.data.filter((t) => t.xaxis === "x");
    assert.ok(kl.every((t) => t.showlegend === true && t.legend === "legend"));
    assert.ok(fig.layout.legend, "legend of panel 1 is laid out");
    const gn = fig.data.filter((t) => t.xaxis === "x2");
    assert.ok(gn.every((t) => t.showlegend === false && t.legend === undefined));
  });

  test("one layout family: GRPO, FlowRL and GKD histories give panels in the default order", () => {
    const order = defaultPanels.map((p) => p.title);
    const base = (i: number) => ({ step: i, "update/gradNorm": i, "rollout/lengthMean": 5 + (i % 2) });
    const grpo = rows(3, (i) => ({
      ...base(i),
      "reward/mean": i / 3,
      "reward/zeroStdFrac": i / 4,
      "update/pgLoss": -i,
    }));
    const flow = rows(3, (i) => ({ ...base(i), "reward/mean": i / 3, "update/flowLoss": i, "update/logZMean": i }));
    const gkd = rows(3, (i) => ({ ...base(i), "distill/loss": 1 / (i + 1), "distill/teacherTopkMass": 0.5 + i / 10 }));
    for (const h of [grpo, flow, gkd]) {
      const titles = [...panelsOf(viz.dashboard(h).toMimeBundle()).keys()];
      const idx = titles.map((t) => order.indexOf(t));
      assert.ok(
        idx.every((x, j) => x >= 0 && (j === 0 || x > idx[j - 1])),
        titles.join(", "),
      );
      assert.ok(titles.includes("loss"));
    }
  });

  test("learningSignal: the share of tokens with a non-zero advantage; FlowRL and distillation reach every token", () => {
    const rollout = {
      responseMask: [
        [0, 1, 1, 0],
        [0, 1, 1, 1],
        [0, 1, 0, 0],
      ],
    };
    assert.deepEqual(learningSignal({ rollout, adv: Float32Array.from([0.5, 0, -1]) }), {
      "signal/gradTokenFrac": 3 / 6,
    });
    assert.deepEqual(learningSignal({ rollout, adv: [0, 0, 0] }, { "update/flowLoss": 2 }), {
      "signal/gradTokenFrac": 1,
    });
    assert.deepEqual(learningSignal({ rollout, adv: [1, 2] }), {}, "a mismatched advantage gives no number");
    assert.deepEqual(learningSignal(undefined), {});
  });

  test("with alerts the dashboard is still one output with the Plotly JSON and the static image", () => {
    const h = rows(3, (i) => ({ step: i, "reward/mean": i / 3, "update/gradNorm": i }));
    const b = viz.dashboard(h, { alerts: ["step 2: something"] }).toMimeBundle();
    assert.ok(b["application/vnd.plotly.v1+json"]);
    assert.match(String(b["image/svg+xml"]), /<svg/);
    assert.match(String(b["text/html"]), /⚠ step 2: something/);
  });

  test("marks draw a dotted line at the given steps on every panel", () => {
    const h = rows(4, (i) => ({ step: i, "reward/mean": i / 4, "update/gradNorm": i }));
    const shapes = figOf(viz.dashboard(h, { marks: [1, 3] }).toMimeBundle()).layout.shapes as {
      x0: number;
      xref: string;
    }[];
    assert.deepEqual(
      shapes.map((s) => `${s.xref}@${s.x0}`),
      ["x@1", "x@3", "x2@1", "x2@3"],
    );
  });
});

describe("liveDashboard", () => {
  type Sent = { bundle: MimeBundle; displayId?: string; update?: boolean };
  let sent: Sent[] = [];
  const g = globalThis as { __cellrl_kernel__?: unknown };
  before(() => {
    g.__cellrl_kernel__ = {
      display: (bundle: MimeBundle, o: { displayId?: string; update?: boolean }) => sent.push({ bundle, ...o }),
      clearOutput() {},
    };
    mock.timers.enable({ apis: ["Date"], now: 1_000_000 });
  });
  after(() => {
    delete g.__cellrl_kernel__;
    mock.timers.reset();
  });
  // Only the dashboard's own output (figure() may send plotly.js once as a separate output without a display id).
  const drawsOf = (id: string) => sent.filter((s) => s.displayId === id);

  test("throttles redraws, coalesces pushes in between, and flush() draws the final state in place", () => {
    sent = [];
    const dash = viz.liveDashboard({ throttleMs: 1000 });
    dash.push({ "reward/mean": 0.1 });
    const id = sent.find((s) => s.displayId)!.displayId!;
    assert.equal(drawsOf(id).length, 1, "the first push draws (creates the output)");
    assert.equal(drawsOf(id)[0].update, false);
    for (let i = 2; i <= 5; i++) {
      mock.timers.tick(200);
      dash.push({ "reward/mean": i / 10 });
    }
    assert.equal(drawsOf(id).length, 1, "4 pushes within 800 ms: no redraw");
    mock.timers.tick(200);
    dash.push({ "reward/mean": 0.6 });
    assert.equal(drawsOf(id).length, 2, "1000 ms after the last drawing: redraw");
    assert.match(
      drawsOf(id)[1].bundle["text/plain"],
      /^<Plotly figure: 1 trace\(s\)>\n6 steps\nreward: reward\/mean=0\.6/,
      "the redraw carries the coalesced rows",
    );
    mock.timers.tick(10);
    dash.push({ "reward/mean": 0.7 });
    dash.push({ "reward/mean": 0.8 });
    assert.equal(drawsOf(id).length, 2);
    dash.flush();
    const final = drawsOf(id);
    assert.equal(final.length, 3);
    assert.ok(
      final.slice(1).every((s) => s.update === true),
      "later drawings replace the same output (update_display_data)",
    );
    assert.match(final[2].bundle["text/plain"], /8 steps\nreward: reward\/mean=0\.8/);
    const fig = final[2].bundle["application/vnd.plotly.v1+json"] as Fig;
    assert.deepEqual(fig.data[0].y, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);
    dash.flush();
    assert.equal(drawsOf(id).length, 3, "flush with nothing new does not resend");
    assert.equal(dash.draws, 3);
    assert.deepEqual(
      dash.history.map((r) => r.step),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
  });

  test("a new alert redraws at once; a repeat (same key, or the same message at another step) is listed once with a count", () => {
    sent = [];
    const dash = viz.liveDashboard({ throttleMs: 60_000 });
    dash.push({ "reward/mean": 0.1 });
    const id = sent.find((s) => s.displayId)!.displayId!;
    dash.push({ "reward/mean": 0.2 }, ["step 1: mean token entropy is 0.0210 nats: the policy has collapsed."]);
    assert.equal(drawsOf(id).length, 2, "new alert: immediate redraw despite the throttle");
    dash.push({ "reward/mean": 0.3 }, ["step 2: mean token entropy is 0.0150 nats: the policy has collapsed."]);
    dash.push({ "reward/mean": 0.4 }, [
      { key: "alert/zeroStdFrac", step: 3, message: "step 3: 2 of 5 groups gave every completion the same reward" },
    ]);
    dash.push({ "reward/mean": 0.5 }, [
      { key: "alert/zeroStdFrac", step: 4, message: "step 4: 3 of 5 groups gave every completion the same reward" },
      "step 4: mean token entropy is 0.0100 nats: the policy has collapsed.",
    ]);
    assert.equal(drawsOf(id).length, 3, "repeats do not bypass the throttle; the zero-std alert was new");
    assert.deepEqual(dash.alerts, [
      "step 4: mean token entropy is 0.0100 nats: the policy has collapsed. (seen 3×, first at step 1)",
      "step 4: 3 of 5 groups gave every completion the same reward (seen 2×, first at step 3)",
    ]);
    dash.flush();
    const html = drawsOf(id).at(-1)!.bundle["text/html"] as string;
    assert.equal((html.match(/⚠/g) ?? []).length, 2, "two alert lines under the chart, not five");
    assert.match(html, /seen 3×, first at step 1/);
    assert.match(drawsOf(id).at(-1)!.bundle["text/plain"], /ALERT: step 4: 3 of 5 groups/);
  });

  test("rejects an alert that is neither a string nor {message}", () => {
    const dash = viz.liveDashboard();
    assert.throws(() => dash.push({}, [{ key: "x" } as never]), /an alert must be a string or \{key, message\}/);
  });
});
