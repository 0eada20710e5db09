// Public API of lib/viz: every function returns a Displayable (display it, or leave it as a cell's last value).
export { View, stack } from "./view.js";
export { css, diverging, sequential, textOn, type RGB } from "./color.js";
export { num, visibleToken, badge, clip } from "./format.js";
export { tokenView, tokenViewDefaults, type TokenSeries, type TokenScale, type TokenViewOptions } from "./token-view.js";
export { histogram, heatmap, type HistogramOptions } from "./histogram.js";
export { lineChart, type LineSeries } from "./line-chart.js";
export { dashboard, liveDashboard, defaultPanels, type DashboardPanel, type DashboardOptions, type LiveDashboard, type MetricsRow, type DashboardAlert } from "./dashboard.js";
export { groupCard, rolloutGroupCard, type GroupSample, type GroupCardOptions, type RolloutGroupLike } from "./group-card.js";
export { samplesTable, type SamplesTableOptions } from "./samples-table.js";
export { topkTable, type TokenCandidate, type TopkTableOptions } from "./topk-table.js";
export { compareRuns, configDiff, type RunLog } from "./run-compare.js";
export { passAtKCurve, accuracyBy, lengthVsCorrectness, letterConfusion, type ItemCounts } from "./eval-views.js";
export { htmlTable, table, type HtmlTableOptions } from "./html-table.js";
export { tokenStrings, lossWeights, lossWeightDefaults, tokenKl, teacherGap, rolloutTokens, logprobTokens, labTokens, type TokenMatrix, type TokenValues, type RolloutLike, type TokenBatch, type LossWeightOptions, type RolloutTokensOptions, type LogprobsLike, type LabVariantLike } from "./token-adapters.js";
export { topkAt, distributionBars, entropyLine, klEstimatorStats, klEstimatorView, klStatsTable, type DistributionBarsOptions, type KlEstimatorInputs, type KlEstimatorStats } from "./logits-explorer.js";
export { rewardProbes, rewardProbeDefaults, probeReward, rewardWorkbench, probeChart, type RewardProbe, type RewardProbeOptions, type ProbeExpectation, type ProbeRow, type RewardProbeReport, type RewardWorkbenchOptions } from "./reward-workbench.js";
export { lossLabView, replayView, type LossLabLike, type LabBatchLike, type LossLabViewOptions, type ReplayLike } from "./loss-lab-view.js";
export { stepHistograms, stepHistogramDefaults, advantageHeatmap, type StepHistogramOptions, type GroupedRollout } from "./distributions.js";
