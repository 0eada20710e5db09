// The scaling section of BENCHMARKS.md is text derived from the measured rows (bench/report.ts): fed made-up rows,
// nothing is timed here.
import assert from "node:assert/strict";
import { test } from "node:test";
import { configs, flopsPerToken, paramCount, type ConfigName } from "../../bench/configs.js";
import { scalingSection, type HeadlineRow, type ScalingConfig } from "../../bench/report.js";

const scaling: ScalingConfig[] = (["tiny", "small", "medium"] as ConfigName[]).map((n) => ({
  name: n,
  params: paramCount(configs[n]),
  hidden: configs[n].hidden_size,
  layers: configs[n].num_hidden_layers,
  seq: configs[n].seq,
  context: configs[n].prompt_len + configs[n].new_tokens,
  flops: { train: flopsPerToken(configs[n], "train"), generate: flopsPerToken(configs[n], "generate") },
}));

function row(config: string, kind: "train" | "generate", workers: number, tfjs: number, torch1: number): HeadlineRow {
  return {
    workload: `${config} ${kind}${workers === 2 ? ", 2 workers" : ""}`,
    config,
    kind,
    workers,
    tfjs,
    tfjsSpread: 0,
    torch1,
    torch1Spread: 0,
    torch2: workers === 2 ? torch1 * 1.5 : null,
    ratio: tfjs / torch1,
    cpuRatio: null,
    tfjsPeakMb: 100 * configs[config as ConfigName].hidden_size,
    torch1PeakMb: 50 * configs[config as ConfigName].hidden_size,
  };
}

test("medium is the ~25 M-parameter config and the FLOP model splits by width, depth and sequence length", () => {
  assert.ok(Math.abs(paramCount(configs.medium) - 25e6) < 1e6, `medium has ${paramCount(configs.medium)} parameters`);
  // tiny: d 128, L 4, I 320, V 64, seq 64: 6 * (4 * (4*128^2 + 3*128*320) + 4*2*128*63 + 128*64)
  const f = flopsPerToken(configs.tiny, "train");
  assert.equal(f.dense, 6 * 4 * (4 * 128 * 128 + 3 * 128 * 320));
  assert.equal(f.attention, 6 * 4 * 2 * 128 * 63);
  assert.equal(f.head, 6 * 128 * 64);
  assert.equal(f.total, f.dense + f.attention + f.head);
  assert.ok(configs.medium.seq > configs.small.seq && configs.medium.new_tokens > configs.small.new_tokens);
});

test("scalingSection derives growth, the rows where cellrl is behind, and memory from the numbers", () => {
  // cellrl keeps up on tiny, falls to 0.5x on medium train; its time per token grows faster than the FLOPs.
  const rows = [
    row("tiny", "train", 1, 10_000, 10_000),
    row("tiny", "generate", 1, 8_000, 4_000),
    row("small", "train", 1, 1_200, 1_500),
    row("small", "generate", 1, 2_000, 1_000),
    row("medium", "train", 1, 100, 200),
    row("medium", "generate", 1, 400, 200),
    row("medium", "train", 2, 150, 200),
  ];
  const md = scalingSection(rows, scaling).join("\n");
  assert.match(md, /## Scaling: tiny → small → medium/);
  // tiny -> small train: FLOPs x6.2, cellrl time per token 10000/1200 = x8.3, torch 10000/1500 = x6.7
  const flopGrowth = scaling[1].flops.train.total / scaling[0].flops.train.total;
  assert.match(
    md,
    new RegExp(`FLOPs per token ×${flopGrowth.toFixed(1)}; cellrl's time per token ×8\\.3, PyTorch 1 thread's ×6\\.7`),
  );
  assert.match(md, /train, tiny → small .*faster than the FLOPs.*from 1\.00x to 0\.80x \(cellrl loses ground\)/);
  assert.match(md, /generate, tiny → small .*slower than the FLOPs/);
  assert.match(
    md,
    /falls behind PyTorch on 1 thread \(worst first\): medium train 0\.50x, medium train, 2 workers 0\.75x, small train 0\.80x\./,
  );
  assert.match(md, /2 workers against PyTorch on 2 threads: medium train, 2 workers 0\.50x/);
  assert.match(md, /Peak memory, train: cellrl 12,800 MB \(tiny\) → 51,200 MB \(medium\), PyTorch 6,400 → 25,600 MB/);
  // the achieved rate column: tiny train 10,000 tok/s x 4.96 MFLOP/token = 49.6 GFLOP/s
  assert.match(md, /\| tiny train \| 49\.6 \| 49\.6 \|/);
});

test("scalingSection says so when cellrl is never behind, and when no peer ran", () => {
  const ahead = scalingSection([row("tiny", "train", 1, 2, 1), row("small", "train", 1, 2, 1)], scaling.slice(0, 2));
  assert.match(ahead.join("\n"), /at or above PyTorch on 1 thread on every measured row/);
  const alone = { ...row("tiny", "train", 1, 2, 1), torch1: null, ratio: null };
  assert.match(scalingSection([alone], scaling.slice(0, 1)).join("\n"), /No PyTorch peer ran/);
});
