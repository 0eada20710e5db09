// Fast wasm kernels for tfjs-backend-wasm 4.22 (matmul for every shape, copy-free Identity, in-heap Slice).
// Importing this file registers them with useBackend() (which imports it lazily when it picks wasm).
import { onBackendReady } from "../backend.js";
import { installFastKernels, uninstallFastKernels } from "./install.js";

export { installFastKernels, uninstallFastKernels, fastKernelState, type FastKernelState, type InstallFastKernelsOptions } from "./install.js";
export { defaults as matmulDefaults, type MatmulBlocking } from "./matmul.js";

onBackendReady(
  (backendName) => (backendName === "wasm" ? installFastKernels() : []),
  (backendName) => {
    if (backendName === "wasm") uninstallFastKernels();
  },
);
