// Fast wasm kernels for tfjs-backend-wasm 4.22 (matmul for every shape, copy-free Identity, in-heap Slice), and
// data-parallel worker threads with a shared-memory all-reduce.
// Importing this file registers the kernels with useBackend() (which loads it lazily when it picks wasm).
import { onBackendReady } from "../backend.js";
import { installFastKernels, setKernelThreads, uninstallFastKernels } from "./install.js";
import { kernelThreadCount } from "./threads.js";

export {
  installFastKernels,
  uninstallFastKernels,
  fastKernelState,
  setKernelThreads,
  type FastKernelState,
  type InstallFastKernelsOptions,
} from "./install.js";
export { defaults as matmulDefaults, type MatmulBlocking } from "./matmul.js";
export { kernelThreadCount, threadTuning, type KernelThreadTuning } from "./threads.js";
export { createAllReduce, joinAllReduce, type AllReduce, type AllReduceHandle } from "./all-reduce.js";
export {
  workerGroup,
  threadCpuSeconds,
  defaults as workerGroupDefaults,
  type WorkerGroup,
  type WorkerGroupOptions,
  type WorkerContext,
} from "./worker-group.js";

onBackendReady(
  async (backendName, { threads }) =>
    backendName === "wasm" ? [...installFastKernels(), ...(await setKernelThreads(threads))] : [],
  (backendName) => {
    if (backendName === "wasm") uninstallFastKernels();
  },
  kernelThreadCount,
);
