// cellrl public API: what a notebook user calls, one name per meaning (test/core/exports.test.ts bounds the count
// and forbids two different values under one name). Helpers live in internal modules; tests, the CLI, bench and
// scripts import those by path. One export line per module, grouped by folder (imports point down the list, never up).

// core
export { CellrlError, type CellrlErrorCode, type CellrlErrorInfo } from "./core/errors.js";
export { warn, warnings, type WarningRecord } from "./core/warn.js";
export { registry, type Registry, type RegistryEntry } from "./core/registry.js";
export { Rng, seed, globalRng } from "./core/random.js";
export { useBackend, type BackendInfo, type BackendName, type UseBackendOptions } from "./core/backend.js";

// kernel (display)
export { display, displayHandle, clearOutput, type DisplayHandle, type DisplayOptions } from "./kernel/display.js";
export { type MimeBundle, type Displayable } from "./kernel/mime.js";
export { figure, setPlotlyMode, type PlotlyFigure, type PlotlyMode } from "./kernel/plotly.js";
export { progress, type Progress, type ProgressOptions } from "./kernel/progress.js";

// folders, as namespaces: model.generate(...), reward.score(...), update.advantage(...), viz.tokenView(...)
export * as model from "./model/index.js";
export * as data from "./data/index.js";
export * as tasks from "./tasks/index.js";
export * as reward from "./reward/index.js";
export * as rollout from "./rollout/index.js";
export * as update from "./update/index.js";
export * as distill from "./distill/index.js";
export * as evals from "./eval/index.js";
export * as viz from "./viz/index.js";
export * as remote from "./remote/index.js";

// Libraries used by cellrl, re-exported so a cell needs one import.
export * as tf from "@tensorflow/tfjs";
export * as aq from "arquero";

import { sealBuiltins } from "./core/registry.js";
sealBuiltins();
