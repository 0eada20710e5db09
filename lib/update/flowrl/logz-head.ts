// The FlowRL log Z_φ(x) network (verl-recipe ProjZModule): (layers − 1) × [Linear(H,H) → GELU → LayerNorm(H) →
// Dropout] → Linear(H,1), on the mean last-layer hidden state of the prompt (final prompt token excluded). Weights are
// tf.Variables so the policy's optimizer trains them jointly; init is PyTorch nn.Linear's U(−1/√H, 1/√H).
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../../core/errors.js";
import { globalRng, type Rng } from "../../core/random.js";
import { asTensor, type TensorInput } from "../tensors.js";

/** Options of createLogZHead. */
export interface LogZHeadOptions {
  /** Number of Linear layers (the recipe's proj_layer). Defaults to 3. */
  layers?: number;
  /** Dropout rate after each hidden block (active only when training). Defaults to 0.1. */
  dropout?: number;
  /** Random stream for the initial weights. Defaults to globalRng(). */
  rng?: Rng;
  /** Variable name prefix (names must be unique per tfjs engine). Defaults to "logZ". */
  name?: string;
}
/** Defaults of createLogZHead (verl-recipe ProjZModule) (print them in a cell). */
export const logZHeadDefaults = { layers: 3, dropout: 0.1, name: "logZ" };

/** A log Z head: trainable variables and the forward pass. */
export interface LogZHead {
  readonly hiddenSize: number;
  /** Linear layers and dropout rate (createLogZHead sets them; the worker trainer rebuilds the head from them). */
  readonly layers?: number;
  readonly dropout?: number;
  readonly variables: tf.Variable[];
  /** log Z per sequence [B] from pooled prompt states [B, H]; dropout only when `training` (needs `rng`). */
  apply(pooled: tf.Tensor2D, options?: { training?: boolean; rng?: Rng }): tf.Tensor1D;
  /** Copies of the weights (for checkpoints and step replay). */
  getWeights(): { name: string; shape: number[]; values: Float32Array }[];
  setWeights(ws: { name: string; values: ArrayLike<number> }[]): void;
  dispose(): void;
}

let headCount = 0;

const gelu = (x: tf.Tensor) => x.mul(0.5).mul(tf.erf(x.mul(Math.SQRT1_2)).add(1)); // exact GELU, as torch nn.GELU()

function layerNorm(x: tf.Tensor2D, g: tf.Variable, b: tf.Variable, eps = 1e-5): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return x.sub(mean).div(variance.add(eps).sqrt()).mul(g).add(b);
}

/**
 * A FlowRL log Z head for hidden size H.
 * @example
 * const head = update.createLogZHead(model.config.hiddenSize);
 * const logZ = head.apply(pooled, {training: true, rng})
 */
export function createLogZHead(hiddenSize: number, options: LogZHeadOptions = {}): LogZHead {
  const { layers, dropout, name } = { ...logZHeadDefaults, ...options };
  if (!Number.isInteger(hiddenSize) || hiddenSize < 1)
    fail(
      "invalid_option",
      `update.createLogZHead: hiddenSize must be a positive integer (got ${describe(hiddenSize)}). Pass the ` +
        `model's hidden size.`,
      {},
      createLogZHead,
    );
  if (!Number.isInteger(layers) || layers < 1)
    fail(
      "invalid_option",
      `update.createLogZHead: options.layers must be an integer >= 1 (got ${layers}).`,
      { path: ["options", "layers"] },
      createLogZHead,
    );
  if (!(dropout >= 0 && dropout < 1))
    fail(
      "invalid_option",
      `update.createLogZHead: options.dropout must be in [0, 1) (got ${dropout}).`,
      { path: ["options", "dropout"] },
      createLogZHead,
    );
  const rng = options.rng ?? globalRng();
  const H = hiddenSize,
    id = `${name}_${headCount++}`;
  const uniform = (n: number, bound: number) => Float32Array.from({ length: n }, () => (2 * rng.uniform() - 1) * bound);
  const bound = 1 / Math.sqrt(H);
  const vars: tf.Variable[] = [];
  const mk = (nm: string, shape: number[], values: Float32Array) => {
    const v = tf.variable(tf.tensor(values, shape), true, `${id}/${nm}`);
    vars.push(v);
    return v;
  };
  const blocks: { w: tf.Variable; b: tf.Variable; g: tf.Variable; beta: tf.Variable }[] = [];
  for (let l = 0; l < layers - 1; l++)
    blocks.push({
      w: mk(`l${l}/w`, [H, H], uniform(H * H, bound)),
      b: mk(`l${l}/b`, [H], uniform(H, bound)),
      g: mk(`l${l}/ln_g`, [H], new Float32Array(H).fill(1)),
      beta: mk(`l${l}/ln_b`, [H], new Float32Array(H)),
    });
  const wOut = mk("out/w", [H, 1], uniform(H, bound));
  const bOut = mk("out/b", [1], uniform(1, bound));
  return {
    hiddenSize: H,
    layers,
    dropout,
    variables: vars,
    apply(pooled, opts = {}) {
      return tf.tidy(() => {
        let x = pooled;
        if (x.rank !== 2 || x.shape[1] !== H)
          fail(
            "shape_mismatch",
            `update.logZHead.apply: pooled has shape [${x.shape}] (expected [B, ${H}]). Pool the prompt ` +
              `hidden states with update.poolPrompt.`,
            {},
            this.apply,
          );
        for (const blk of blocks) {
          x = layerNorm(gelu(tf.matMul(x, blk.w).add(blk.b)) as tf.Tensor2D, blk.g, blk.beta);
          if (opts.training && dropout > 0)
            x = tf.dropout(x, dropout, undefined, (opts.rng ?? rng).seedInt()) as tf.Tensor2D;
        }
        return tf.matMul(x, wOut).add(bOut).reshape([-1]) as tf.Tensor1D;
      });
    },
    getWeights: () =>
      vars.map((v) => ({
        name: v.name.slice(id.length + 1),
        shape: v.shape.slice(),
        values: Float32Array.from(v.dataSync()),
      })),
    setWeights(ws) {
      for (const w of ws) {
        const v = vars.find((x) => x.name === `${id}/${w.name}`);
        if (!v)
          fail(
            "not_found",
            `update.logZHead.setWeights: no weight named "${w.name}" ` +
              `(known: ${vars.map((x) => x.name.slice(id.length + 1)).join(", ")}).`,
          );
        if (w.values.length !== v.size)
          fail(
            "shape_mismatch",
            `update.logZHead.setWeights: "${w.name}" has ${w.values.length} values (expected ${v.size}).`,
          );
        tf.tidy(() => v.assign(tf.tensor(Array.from(w.values), v.shape)));
      }
    },
    dispose: () => vars.forEach((v) => v.dispose()),
  };
}

/**
 * Masked mean of hidden states over the prompt positions [B, S, H] → [B, H]. `excludeLast` drops each row's final
 * prompt token, as the recipe slices `[:, :-response_length-1]`. The mask is data (built outside the tape).
 * @example const pooled = update.poolPrompt({hidden, promptMask})
 */
export function poolPrompt(
  inputs: { hidden: tf.Tensor; promptMask: TensorInput },
  options: { excludeLast?: boolean } = {},
): tf.Tensor2D {
  const excludeLast = options.excludeLast ?? true;
  return tf.tidy(() => {
    const hidden = asTensor(inputs.hidden, 3, "update.poolPrompt", "inputs.hidden");
    const [B, S, H] = hidden.shape;
    const m = Float32Array.from(asTensor(inputs.promptMask, 2, "update.poolPrompt", "inputs.promptMask").dataSync());
    if (m.length !== B * S)
      fail(
        "shape_mismatch",
        `update.poolPrompt: inputs.promptMask must be [${B}, ${S}] like inputs.hidden's first two axes.`,
        {},
        poolPrompt,
      );
    if (excludeLast)
      for (let i = 0; i < B; i++) {
        let last = -1;
        for (let s = 0; s < S; s++) if (m[i * S + s] > 0) last = s;
        if (last >= 0 && m.slice(i * S, i * S + S).reduce((a, x) => a + (x > 0 ? 1 : 0), 0) > 1) m[i * S + last] = 0;
      }
    const mask = tf.tensor3d(m, [B, S, 1]);
    const cnt = tf.maximum(mask.sum(1), 1); // [B, 1]
    return hidden.mul(mask).sum(1).div(cnt).reshape([B, H]) as tf.Tensor2D;
  });
}
