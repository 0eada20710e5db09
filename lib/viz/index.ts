// Public API of lib/viz: every function returns a Displayable (display it, or leave it as a cell's last value).
// Colours, number formatting, the HTML table builder and the View class's plumbing are internal.
export { stack, type View } from "./view.js";
export { tokenView, type TokenSeries, type TokenScale, type TokenViewOptions } from "./token-view.js";
export { histogram, heatmap, type HistogramOptions } from "./histogram.js";
export { lineChart, type LineSeries } from "./line-chart.js";
export {
  dashboard,
  liveDashboard,
  type DashboardPanel,
  type DashboardOptions,
  type LiveDashboard,
} from "./dashboard.js";
export { groupCard, rolloutGroupCard, type GroupSample, type GroupCardOptions } from "./group-card.js";
export { samplesTable, type SamplesTableOptions } from "./samples-table.js";
export { topkTable, type TokenCandidate, type TopkTableOptions } from "./topk-table.js";
export { compareRuns } from "./run-compare.js";
export {
  filmStrip,
  type FilmShot,
  type FilmFrame,
  type FilmSample,
  type FilmStripOptions,
  type FilmFrameOptions,
} from "./film-strip.js";
export { flowrlTarget, type FlowrlTargetOptions } from "./flowrl-view.js";
export { exposureBias, type ExposureBiasSeries } from "./gkd-view.js";
export { passAtKCurve, accuracyBy, lengthVsCorrectness, letterConfusion } from "./eval-views.js";
export { table, type HtmlTableOptions } from "./html-table.js";
export {
  tokenStrings,
  lossWeights,
  tokenKl,
  teacherGap,
  rolloutTokens,
  logprobTokens,
  type TokenMatrix,
  type TokenValues,
  type LossWeightOptions,
  type RolloutTokensOptions,
} from "./token-adapters.js";
export {
  topkAt,
  distributionBars,
  entropyLine,
  klEstimatorStats,
  klEstimatorView,
  klStatsTable,
  type DistributionBarsOptions,
  type KlEstimatorStats,
} from "./logits-explorer.js";
export {
  rewardProbes,
  probeReward,
  rewardWorkbench,
  probeChart,
  type RewardProbe,
  type RewardProbeOptions,
  type RewardProbeReport,
  type RewardWorkbenchOptions,
} from "./reward-workbench.js";
export { lossLabView, replayView, type LossLabViewOptions } from "./loss-lab-view.js";
export { stepHistograms, advantageHeatmap, type StepHistogramOptions } from "./distributions.js";
export {
  mismatchView,
  type MismatchViewOptions,
  type MismatchCorrections,
  type MismatchRolloutLike,
} from "./mismatch-view.js";
