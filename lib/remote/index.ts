// Public API of lib/remote: an OpenAI-compatible client Policy and GKD teacher (vLLM, SGLang, llama.cpp, cellrl
// serve), `cellrl serve` as a function, and verl export (parquet datasets, configs) / import (generations, dumps).
// Transport, retry, response parsing, the server's handlers and the YAML/Hydra formatting are internal.
export { RemotePolicy, type RemotePolicyOptions } from "./remote-policy.js";
export { LlamaCppPolicy, type LlamaCppPolicyOptions, type LlamaCppTeacherOptions } from "./llama-cpp-policy.js";
export { remoteTeacher, type RemoteTeacherOptions } from "./remote-teacher.js";
export { type ClientOptions, type ModelInfo, type RetryEvent } from "./client.js";
export { RemoteRequestError, RemoteBatchError, serverMessage, type RequestFailure } from "./errors.js";
export { type RetryOptions } from "./retry.js";
export { serve, type ServeOptions, type RunningServer } from "./serve.js";
export { verlConfig, type VerlSettings, type VerlConfig, type VerlAlgorithm } from "./verl-config.js";
export { verlRows, writeVerlDataset, type VerlDatasetOptions } from "./verl-dataset.js";
export { exportVerlRun, type VerlExportInputs, type VerlExport } from "./verl-export.js";
export { readVerlOutputs, type VerlImportOptions } from "./verl-import.js";
