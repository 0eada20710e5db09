import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { AdamW } from "../../lib/model/optim.js";
import { sftStep } from "../../lib/update/index.js";
import { tinyModel } from "./fixture.js";
import { setup } from "./setup.js";

describe("sftStep", () => {
  before(setup);
  test("same seed, same run: identical metrics and weights (5 steps, micro-batched)", () => {
    const batch = {
      ids: [
        [5, 0, 1, 2, 3],
        [5, 1, 4, 4, 0],
        [5, 2, 2, 3, 3],
      ],
      responseMask: [
        [0, 0, 1, 1, 1],
        [0, 0, 1, 1, 0],
        [0, 0, 1, 1, 1],
      ],
    };
    const run = () => {
      const m = tinyModel(4);
      const opt = new AdamW(m.namedVariables(), { lr: 1e-2 });
      const out = Array.from({ length: 5 }, () => sftStep({ policy: m, opt, batch }, { microBatch: 2 }));
      const w = Array.from(m.namedVariables().get("model.layers.1.mlp.down_proj.weight")!.dataSync());
      m.dispose();
      opt.dispose();
      return { out, w };
    };
    const [a, b] = [run(), run()];
    assert.ok(a.out[4]["update/sftLoss"] < a.out[0]["update/sftLoss"], "the loss falls");
    assert.deepEqual(a.out, b.out);
    assert.deepEqual(a.w, b.w);
  });
});
