// One SFT step from the pieces: masked token cross-entropy of the batch's response tokens, one optimizer update.
import type { LogprobsBatch } from "../model/logprobs.js";
import type { AdamW } from "../model/optim.js";
import { sftLoss, type SftLossOptions } from "./sft.js";
import { step, type StepMetrics, type TrainableModel } from "./step.js";

/**
 * One supervised step on `batch` (ids with responseMask marking the target tokens): loss = mean NLL per token.
 * @example update.sftStep({policy, opt, batch: ro}) // {"update/sftLoss": 1.9, "update/gradNorm": ..., ...}
 */
export function sftStep(
  inputs: { policy: TrainableModel; opt: AdamW; batch: LogprobsBatch },
  options: SftLossOptions & { microBatch?: number; temperature?: number } = {},
): StepMetrics {
  const { microBatch, temperature, ...lossOpts } = options;
  return step(inputs.policy, inputs.opt, inputs.batch, ({ logp, mask }) => sftLoss({ logp, mask }, lossOpts), {
    microBatch,
    temperature,
    weightBy: (lossOpts.agg ?? "token-mean") === "token-mean" ? "tokens" : "rows",
  });
}
