import type { TensorInfo } from "@tensorflow/tfjs";
import type { WasmBackendInternals } from "./wasm-backend.js";

/**
 * Identity that shares the input's data (one more reference) instead of copying it, as the cpu backend and the wasm
 * Reshape already do. The engine clones every tensor it saves for backward through Identity, so a training step
 * makes hundreds of full copies with the stock kernel. Safe because tfjs tensors are immutable; code that writes
 * into a tensor's heap memory in place (a preallocated KV cache) must not clone that tensor.
 * @example tf.clone(x) // no copy on the wasm backend once useBackend() installed the fast kernels
 */
export function identityKernel(args: { inputs: { x: TensorInfo }; backend: unknown }): TensorInfo {
  const { x } = args.inputs;
  (args.backend as WasmBackendInternals).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}
