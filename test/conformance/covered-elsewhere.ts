// Registered names whose conformance fixtures live in a suite other than numerics.test.ts (whose coverage check
// accepts them). Each suite that claims a name here asserts it has a fixture for it, so this list cannot lie.
export const coveredElsewhere: Record<string, string[]> = {
  // test/conformance/objectives-losses.test.ts (reference/objectives_losses.py)
  "policy loss": ["dppo-tv", "dppo-kl", "sapo", "gmpo", "gspo-token", "gspo-seq", "luspo", "clip-cov", "kl-cov", "dro"],
  // test/conformance/rollout-correction.test.ts (reference/rollout_correction.py: TRL use_bias_correction_kl)
  "KL estimator": ["k3-unbiased"],
  // test/conformance/objectives-opd.test.ts (reference/objectives_opd.py: TRL, prime-rl, NVlabs GDPO)
  "advantage estimator": ["lite-ppo", "maxrl", "gdpo"],
};
