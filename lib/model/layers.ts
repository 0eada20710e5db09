// The tfjs building blocks of the decoder (llama.ts reads top to bottom with these): RMSNorm and SwiGLU with
// hand-written gradients, embedding rows for large vocabularies, linear, RoPE as a rotate-half matmul, and the
// [B*T, h*hd] <-> [B, h, T, hd] head layouts.
import * as tf from "@tensorflow/tfjs";

/**
 * RMSNorm y = x / sqrt(mean(x^2) + eps) * w over rows of x [N, D], with its gradient written out.
 * @example const rms = makeRmsNorm(1e-6); const y = rms(x, w) // [N, D]
 */
export function makeRmsNorm(eps: number) {
  // customGrad's typing wants (...inputs: (Tensor | GradSaveFunc)[]); the cast states the real arity.
  const f = (x: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
    const r = tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps)); // [N, 1]
    const xhat = tf.mul(x, r); // [N, D]
    save([xhat, r, w]);
    return {
      value: tf.mul(xhat, w),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, rr, ww] = saved;
        const dxhat = tf.mul(dy, ww);
        // d/dx of x*r: r * (dxhat - xhat * mean(dxhat * xhat))
        const dx = tf.mul(rr, tf.sub(dxhat, tf.mul(xh, tf.mean(tf.mul(dxhat, xh), -1, true))));
        // dw = column sums of dy * xhat, as ones[1, N] @ (dy * xhat): tf.sum over axis 0 is ~60x slower on wasm
        const ones = tf.ones([1, xh.shape[0]]);
        return [dx, tf.reshape(tf.matMul(ones, tf.mul(dy, xh)), [-1])];
      },
    };
  };
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as (
    x: tf.Tensor2D,
    w: tf.Tensor1D,
  ) => tf.Tensor2D;
}

/**
 * SwiGLU silu(g) * u with its gradient written out (no saved casts or sigmoid intermediates).
 * @example const h = swiglu(tf.matMul(x, Wg), tf.matMul(x, Wu)) // [N, I]
 */
export const swiglu = tf.customGrad(((g: tf.Tensor, u: tf.Tensor, save: tf.GradSaveFunc) => {
  const s = tf.sigmoid(g);
  const a = tf.mul(g, s); // silu(g)
  save([g, u, s, a]);
  return {
    value: tf.mul(a, u),
    gradFunc: (dy: tf.Tensor, [gg, uu, ss, aa]: tf.Tensor[]) => {
      // d silu(g)/dg = s * (1 + g * (1 - s))
      const dsilu = tf.mul(ss, tf.add(1, tf.mul(gg, tf.sub(1, ss))));
      return [tf.mul(tf.mul(dy, uu), dsilu), tf.mul(dy, aa)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (g: tf.Tensor2D, u: tf.Tensor2D) => tf.Tensor2D;

/**
 * Embedding rows E[ids] as gather forward, scatterND (sums repeated ids) backward: for large vocabularies.
 * @example const x = gatherRows(E, ids) // [N, D]
 */
export function gatherRows(E: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  const f = (e: tf.Tensor, save: tf.GradSaveFunc) => {
    save([ids]); // saved, not closed over: the caller's tidy frees ids before the backward pass runs
    return {
      value: tf.gather(e, ids),
      gradFunc: (dy: tf.Tensor, [i]: tf.Tensor[]) => tf.scatterND(tf.reshape(i, [-1, 1]), dy, e.shape),
    };
  };
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0])(E) as tf.Tensor2D;
}

/**
 * x @ W (+ b) with W stored [in, out].
 * @example linear(h, Wq, bq) // [N, out]
 */
export function linear(x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D | null): tf.Tensor2D {
  const y = tf.matMul<tf.Tensor2D>(x, W);
  return b ? tf.add<tf.Tensor2D>(y, b) : y;
}

/**
 * [B, T, h, hd] rows (given as [B*T, h*hd] or [B*T, h, hd]) to heads-first [B, h, T, hd]; a free reshape when T = 1
 * (decoding).
 * @example headsFirst(k, B, T, KV, hd) // [B, KV, T, hd]
 */
export function headsFirst(x: tf.Tensor, B: number, T: number, h: number, hd: number): tf.Tensor4D {
  if (T === 1) return tf.reshape(x, [B, h, 1, hd]);
  return tf.transpose(tf.reshape(x, [B, T, h, hd]), [0, 2, 1, 3]);
}

/**
 * Heads-first [B, h, T, hd] back to rows [B*T, h*hd].
 * @example rowsFirst(y, B, T, H, hd) // [B*T, H*hd]
 */
export function rowsFirst(x: tf.Tensor, B: number, T: number, h: number, hd: number): tf.Tensor2D {
  if (T === 1) return tf.reshape(x, [B, h * hd]);
  return tf.reshape(tf.transpose(tf.reshape(x, [B, h, T, hd]), [0, 2, 1, 3]), [B * T, h * hd]);
}

/**
 * RoPE on x [N, h, hd] with cos/sin [N, 1, hd]: x*cos + rotate_half(x)*sin, rotate_half as a matmul with R.
 * @example rope(q, cos, sin, R) // [N, H, hd]
 */
export function rope(x: tf.Tensor3D, cos: tf.Tensor3D, sin: tf.Tensor3D, R: tf.Tensor2D): tf.Tensor3D {
  const [N, h, hd] = x.shape;
  const xr = tf.reshape(tf.matMul(tf.reshape(x, [N * h, hd]), R), [N, h, hd]);
  return tf.add(tf.mul(x, cos), tf.mul(xr, sin));
}
