// Public API of lib/remote: an OpenAI-compatible client Policy and GKD teacher (vLLM, SGLang, llama.cpp, cellrl
// serve), `cellrl serve` as a function, and verl export (parquet datasets, configs) / import (generations, dumps).
export { RemotePolicy, remotePolicyDefaults, type RemotePolicyOptions, type GenerateSettled, type ScoreSettled } from "./remote-policy.js";
export { remoteTeacher, remoteTeacherDefaults, type RemoteTeacherOptions } from "./remote-teacher.js";
export { RemoteClient, baseUrlOf, clientDefaults, type ClientOptions, type ModelInfo, type RetryEvent } from "./client.js";
export { RemoteScorer, scorerDefaults, type ScoringMode, type SeqScore, type ScorerOptions } from "./scoring.js";
export { RemoteRequestError, RemoteBatchError, inputLabel, excerpt, serverMessage, fixFor, type RequestFailure, type Settled, type RequestErrorInfo } from "./errors.js";
export { retryDefaults, isRetryableStatus, retryAfterMs, backoffDelay, sleep, type RetryOptions } from "./retry.js";
export { mapSettled, type Outcome } from "./pool.js";
export { parseResponse, parseLogprobs, parsePromptLogprobs, choiceIds, tokenIdOf, type ParsedResponse, type ParsedChoice, type TokenEntry, type TokenAlt, type PromptPosition } from "./parse.js";
export { httpRequest, TransportError, type HttpResponse, type HttpRequestOptions, type TransportKind } from "./http.js";
export { serve, serveDefaults, type ServeOptions, type RunningServer } from "./serve.js";
export { completions, chatCompletions, tokenize, detokenize, ApiError, type ServeContext } from "./serve-api.js";
export { scorePositions, type PositionScore } from "./serve-score.js";
export { verlConfig, verlConfigDefaults, type VerlSettings, type VerlConfig, type VerlAlgorithm } from "./verl-config.js";
export { verlNumber, hydraValue, shellArg, toYaml, type VerlValue } from "./verl-format.js";
export { verlRows, writeVerlDataset, verlDatasetDefaults, type VerlDatasetOptions } from "./verl-dataset.js";
export { exportVerlRun, verlRewardFile, type VerlExportInputs, type VerlExport } from "./verl-export.js";
export { verlRewardPython, verlRewardSources, verlRewardSourcesOf, type VerlRewardKind, type VerlRewardPythonOptions } from "./verl-reward-py.js";
export { readVerlOutputs, type VerlImportOptions } from "./verl-import.js";
