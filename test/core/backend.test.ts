// useBackend's choice: the order (tfjs-node-gpu, webgpu, tfjs-node, wasm, cpu), the reason recorded for each backend passed
// over, the notes on wasm, force, and clear errors for an unknown or unavailable backend. tfjs-node(-gpu) cannot be
// installed here (their install downloads libtensorflow), so their absence is the case under test.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { backendInfo, ensureBackend, useBackend } from "../../lib/core/backend.js";
import { CellrlError } from "../../lib/core/errors.js";
import { webGpuAutoSkip } from "../../lib/core/webgpu.js";

const nodeInstalled = (pkg: string) => {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
};

test(
  "the default is the fastest available: wasm here, with why tfjs-node(-gpu) were skipped, SIMD and fast kernels noted",
  {
    skip:
      nodeInstalled("@tensorflow/tfjs-node") || nodeInstalled("@tensorflow/tfjs-node-gpu")
        ? "a tfjs-node flavour is installed on this machine"
        : webGpuAutoSkip() === null
          ? "this machine has a GPU device node, so useBackend() may pick webgpu"
          : false,
  },
  async () => {
    const info = await useBackend();
    assert.equal(info.name, "wasm");
    assert.equal(info.tfName, "wasm");
    assert.equal(tf.getBackend(), "wasm");
    assert.deepEqual(
      info.skipped.map((s) => s.name),
      ["tensorflow-gpu", "webgpu", "tensorflow"],
      "tried fastest first",
    );
    for (const s of info.skipped.filter((s) => s.name !== "webgpu"))
      assert.match(s.reason, /@tensorflow\/tfjs-node(-gpu)? is not installed \(optional/);
    assert.match(
      info.skipped[1].reason,
      /not installed|no GPU device node|only a software adapter|Dawn found no/,
      "webgpu says why it was passed over",
    );
    assert.ok(
      info.notes.some((n) => /^SIMD (on|off); tfjs-wasm's own threads off/.test(n)),
      info.notes.join(" | "),
    );
    assert.ok(
      info.notes.some((n) => /^kernel threads: \d+/.test(n)),
      info.notes.join(" | "),
    );
    assert.ok(
      info.notes.some((n) => /BatchMatMul/.test(n)),
      `fast kernels are listed: ${info.notes.join(" | ")}`,
    );
    assert.equal(backendInfo(), info, "backendInfo() reports the last choice");
    assert.equal(await ensureBackend(), info, "ensureBackend() keeps a chosen backend");
  },
);

test("force picks one backend and tensors compute on it; fastKernels: false keeps tfjs's stock kernels", async () => {
  const cpu = await useBackend({ force: "cpu" });
  assert.equal(cpu.name, "cpu");
  assert.deepEqual(cpu.skipped, []);
  assert.equal(tf.getBackend(), "cpu");
  const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
  assert.deepEqual(await y.data(), new Float32Array([11]));
  y.dispose();
  const stock = await useBackend({ force: "wasm", fastKernels: false });
  assert.equal(stock.name, "wasm");
  assert.ok(!stock.notes.some((n) => /BatchMatMul/.test(n)), "no fast-kernel note without fast kernels");
  await useBackend({ force: "wasm" }); // leave the default state for later tests in this process
});

test("an unknown or unavailable backend is a clear error naming it and the fix", async () => {
  await assert.rejects(useBackend({ force: "webgl" as never }), (e: unknown) => {
    assert.ok(e instanceof CellrlError);
    assert.equal(e.code, "invalid_option");
    assert.match(e.message, /unknown backend "webgl" \(known: tensorflow-gpu, webgpu, tensorflow, wasm, cpu\)/);
    return true;
  });
  if (!nodeInstalled("@tensorflow/tfjs-node"))
    await assert.rejects(useBackend({ force: "tensorflow" }), (e: unknown) => {
      assert.ok(e instanceof CellrlError);
      assert.equal(e.code, "backend");
      assert.match(
        e.message,
        /backend "tensorflow" is not available: @tensorflow\/tfjs-node is not installed.*Use useBackend\(\) without force/,
      );
      return true;
    });
  assert.equal(tf.getBackend(), "wasm", "a failed force leaves the previous backend active");
});
