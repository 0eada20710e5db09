"""Reference numerics of the train/inference mismatch corrections (issue 15, item 2), rewritten in PyTorch from the
public code, and the fixtures test/conformance/rollout-correction.test.ts compares update.rolloutCorrection against
(printed as JSON on stdout):

- verl/trainer/ppo/rollout_corr_helper.py (verl-project/verl, Apache-2.0, 2026): compute_rollout_correction_weights
  (token / sequence IS, TIS at a single threshold, IcePop for a "lo_hi" band, batch normalisation),
  compute_is_metrics, compute_rollout_rejection_mask (token_k*, seq_sum_k*, seq_mean_k*, seq_max_k*, binary_kl; the
  combined masked fractions), compute_offpolicy_metrics (kl, k3_kl, PPL, chi2); the earlier
  verl/trainer/ppo/mismatch_helper.py for the "geometric" level (exp of the masked mean log-ratio);
- verl/trainer/config/algorithm.py RolloutCorrectionConfig: the named presets (decoupled_token_is, ...);
- slime ppo_utils.compute_opsm_mask / TRL get_off_policy_mask (OPSM, DeepSeek-V3.2 arXiv 2512.02556) and TRL's
  sampling_logp_difference mean / max and use_bias_correction_kl (per_token_kl * exp(logp - old_logp)).

Not their code: the same formulas in the same order, written for this test. float64; nothing imports cellrl. Keys of
the expected metrics are verl's (rollout_corr/...); the test maps cellrl's "mismatch/*" through update.toVerlMetrics.
Usage: python3 test/conformance/reference/rollout_correction.py | head -c 400
"""

import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import verl_core_algos as verl  # noqa: E402  (masked_mean, masked_sum: verl_F's, denominator + 1e-8)

torch.set_default_dtype(torch.float64)
gen = torch.Generator().manual_seed(20261207)
BOUND = 20.0  # verl SAFETY_BOUND


def mmean(v, m, axis=None):
    return verl.masked_mean(v, m, axis)


def msum(v, m, axis=None):
    return verl.masked_sum(v, m, axis)


# ---- IS weights (compute_rollout_correction_weights + compute_is_metrics) -----------------------------------------


def is_weights(log_ratio, mask, level, upper, lower, batch_normalize):
    icepop = lower is not None
    if level == "token":
        for_metrics = log_ratio
        raw = torch.exp(torch.clamp(log_ratio, -BOUND, BOUND))
    elif level == "sequence":
        for_metrics = msum(log_ratio, mask, -1).unsqueeze(-1)
        raw = torch.exp(torch.clamp(for_metrics, -BOUND, BOUND)).expand_as(log_ratio)
    else:  # geometric (mismatch_helper): exp of the masked mean
        for_metrics = mmean(log_ratio, mask, -1).unsqueeze(-1)
        raw = torch.exp(torch.clamp(for_metrics, -BOUND, BOUND)).expand_as(log_ratio)
    raw = raw * mask
    if not icepop:
        w = raw.clamp(max=upper)
    else:
        keep = (raw >= lower) & (raw <= upper)
        w = torch.where(keep, raw, torch.zeros_like(raw))

    m = {}
    lower_m = 1.0 / upper if lower is None else lower
    if level != "token":
        m["rollout_is_max"] = math.exp(min(for_metrics.max().item(), BOUND))
        m["rollout_is_min"] = math.exp(for_metrics.min().item())
        m["rollout_is_mean"] = mmean(w, mask).item()
        high = for_metrics > math.log(upper)
        low = for_metrics < math.log(lower_m)
        if level == "sequence":
            m["rollout_is_ratio_fraction_high"] = high.double().mean().item()
            m["rollout_is_ratio_fraction_low"] = low.double().mean().item()
        else:  # geometric: per token (mismatch_helper expands to the tokens)
            m["rollout_is_ratio_fraction_high"] = mmean(high.expand_as(mask).double(), mask).item()
            m["rollout_is_ratio_fraction_low"] = mmean(low.expand_as(mask).double(), mask).item()
    else:
        m["rollout_is_mean"] = mmean(w, mask).item()
        m["rollout_is_ratio_fraction_high"] = mmean((raw > upper).double(), mask).item()
        m["rollout_is_ratio_fraction_low"] = mmean((raw < lower_m).double(), mask).item()
        mb = mask.bool()
        m["rollout_is_max"] = w.masked_fill(~mb, float("-inf")).max().item()
        m["rollout_is_min"] = w.masked_fill(~mb, float("inf")).min().item()
    wc = w.clamp(min=0.0, max=upper)
    mc = mmean(wc, mask)
    if mask.sum() > 1:
        m["rollout_is_std"] = math.sqrt(max(0.0, (mmean(wc.square(), mask) - mc.square()).item()))
    else:
        m["rollout_is_std"] = 0.0
    m["rollout_is_eff_sample_size"] = 1.0 / mmean((wc / (mc + 1e-8)).square(), mask).item()
    seq_w = mmean(w, mask, -1)
    m["rollout_is_seq_mean"] = seq_w.mean().item()
    m["rollout_is_seq_std"] = seq_w.std().item() if seq_w.numel() > 1 else 0.0
    m["rollout_is_seq_max"] = seq_w.max().item()
    m["rollout_is_seq_min"] = seq_w.min().item()
    m["rollout_is_seq_max_deviation"] = (seq_w - 1.0).abs().max().item()
    raw_seq = mmean(raw, mask, -1)
    m["rollout_is_seq_fraction_high"] = (raw_seq > upper).double().mean().item()
    m["rollout_is_seq_fraction_low"] = (raw_seq < lower_m).double().mean().item()
    if icepop:
        m["rollout_is_oob_ratio"] = mmean(((raw < lower) | (raw > upper)).double(), mask).item()
    if batch_normalize:
        if level == "token":
            norm = mmean(w, mask)
        else:
            valid = (mask.sum(-1) > 0).double()
            norm = (seq_w * valid).sum() / valid.sum().clamp_min(1e-8)
        if norm > 1e-8:
            w = w / norm
            m["rollout_is_batch_norm_factor"] = norm.item()
        else:
            m["rollout_is_batch_norm_factor"] = 1.0
    return w, m


# ---- rejection (compute_rollout_rejection_mask) -------------------------------------------------------------------


def binary_kl(lp, lq, eps=1e-6):
    p = torch.clamp(torch.exp(lp), eps, 1 - eps)
    q = torch.clamp(torch.exp(lq), eps, 1 - eps)
    return p * torch.log(p / q) + (1 - p) * torch.log((1 - p) / (1 - q))


def reject(log_ratio, mask, options, thresholds, old, roll):
    s = torch.clamp(log_ratio, -BOUND, BOUND)
    k = {"k1": -s, "k2": 0.5 * s**2, "k3": torch.exp(s) - 1.0 - s}
    combined = torch.ones_like(mask)
    for opt, th in zip(options, thresholds):
        if opt.endswith("k1"):
            lo, hi = (1.0 / th, th) if not isinstance(th, list) else th
            ok = lambda x: (x >= math.log(lo)) & (x <= math.log(hi))  # noqa: E731
        else:
            ok = lambda x: x <= th  # noqa: E731
        if opt == "binary_kl":
            keep = torch.maximum(binary_kl(old, roll), binary_kl(roll, old)) <= th
        elif opt.startswith("token_"):
            keep = ok(k[opt[-2:]])
        else:
            kk = k[opt[-2:]]
            if opt.startswith("seq_sum"):
                agg = msum(kk, mask, -1)
            elif opt.startswith("seq_mean"):
                agg = mmean(kk, mask, -1)
            else:
                mx = kk.masked_fill(~mask.bool(), float("-inf")).max(-1).values
                agg = torch.where(mx == float("-inf"), torch.zeros_like(mx), mx)
            keep = ok(agg).unsqueeze(-1).expand_as(mask)
        combined = combined * keep.double()
    m = {"rollout_rs_masked_fraction": mmean(1 - combined, mask).item()}
    kept = (combined > 0.5) & mask.bool()
    m["rollout_rs_seq_masked_fraction"] = ((~kept) & mask.bool()).any(-1).double().mean().item()
    return mask * combined, m


# ---- off-policy metrics (compute_offpolicy_metrics) + TRL's |Δ log p| ----------------------------------------------


def offpolicy(old, roll, mask):
    m = {}
    mo = mmean(old, mask, -1)
    m["training_ppl"] = torch.exp(-mo).mean().item()
    m["training_log_ppl"] = (-mo).mean().item()
    m["kl"] = mmean(roll - old, mask).item()
    lr = old - roll
    m["k3_kl"] = mmean(torch.exp(lr) - lr - 1, mask).item()
    mr = mmean(roll, mask, -1)
    m["rollout_ppl"] = torch.exp(-mr).mean().item()
    m["rollout_log_ppl"] = (-mr).mean().item()
    d = mr - mo
    m["log_ppl_diff"] = d.mean().item()
    m["log_ppl_abs_diff"] = d.abs().mean().item()
    m["log_ppl_diff_max"] = d.max().item()
    m["log_ppl_diff_min"] = d.min().item()
    m["ppl_ratio"] = torch.exp(d).mean().item()
    rho = torch.exp(torch.clamp(lr, -BOUND, BOUND))
    m["chi2_token"] = (mmean(rho.square(), mask) - 1.0).item()
    m["chi2_seq"] = (torch.exp(2.0 * torch.clamp(msum(lr, mask, -1), -BOUND, BOUND)).mean() - 1.0).item()
    delta = (old - roll).abs()[mask.bool()]
    m["mismatch/absLogpDiffMean"] = delta.mean().item() if delta.numel() else 0.0
    m["mismatch/absLogpDiffMax"] = delta.max().item() if delta.numel() else 0.0
    return m


def opsm(old, roll, mask, adv, delta):
    """slime compute_opsm_mask: masked where A < 0 and the sequence's mean log(mu / pi_old) > delta."""
    seq_kl = ((roll - old) * mask).sum(-1, keepdim=True) / mask.sum(-1, keepdim=True).clamp(min=1.0)
    drop = (adv < 0) & (seq_kl > delta)
    valid = mask.sum(-1) > 0
    frac = ((drop & mask.bool()).any(-1) & valid).double().sum() / valid.double().sum().clamp(min=1.0)
    return 1.0 - drop.double(), frac.item()


def correction(old, roll, mask, adv, level=None, threshold=2.0, batch_normalize=False, rs=None, rs_threshold=None,
               opsm_delta=None):
    lr = (old - roll) * mask
    metrics = {}
    w = mask.clone()
    if level is not None:
        upper, lower = (threshold, None) if not isinstance(threshold, list) else (threshold[1], threshold[0])
        w, mi = is_weights(lr, mask, level, upper, lower, batch_normalize)
        metrics.update({f"rollout_corr/{k}": v for k, v in mi.items()})
    new_mask = mask
    if rs:
        ths = rs_threshold if isinstance(rs_threshold, list) and len(rs) > 1 else [rs_threshold] * len(rs)
        new_mask, mr = reject(lr, mask, rs, ths, old, roll)
        metrics.update({f"rollout_corr/{k}": v for k, v in mr.items()})
    if opsm_delta is not None:
        keep, frac = opsm(old, roll, mask, adv, opsm_delta)
        w = w * keep
        metrics["mismatch/opsmFrac"] = frac
    for k, v in offpolicy(old, roll, mask).items():
        metrics[k if k.startswith("mismatch/") else f"rollout_corr/{k}"] = v
    return w * mask, new_mask, metrics


# ---- cases -------------------------------------------------------------------------------------------------------


def batch(B, T, scale, lengths=None):
    old = torch.log(torch.softmax(torch.randn(B, T, 6, generator=gen), -1)[..., 0])
    roll = old + scale * torch.randn(B, T, generator=gen)
    roll = torch.minimum(roll, torch.zeros_like(roll) - 1e-6)  # a log-probability
    lengths = lengths or [int(x) for x in torch.randint(1, T + 1, (B,), generator=gen)]
    mask = torch.tensor([[1.0 if t < n else 0.0 for t in range(T)] for n in lengths])
    adv = torch.randn(B, 1, generator=gen)
    return old, roll, mask, adv


L = lambda x: x.tolist()  # noqa: E731
cases = []
# cellrl's preset name or options -> (verl config): the same correction on both sides
configs = [
    ("token-is", None, dict(level="token", threshold=2.0)),
    ("seq-is", None, dict(level="sequence", threshold=2.0)),
    ("geo-is", None, dict(level="geometric", threshold=2.0)),
    ("token-icepop", None, dict(level="token", threshold=[0.5, 5.0])),
    ("seq-is-rs", None, dict(level="sequence", threshold=2.0, rs=["seq_sum_k1"], rs_threshold=[0.5, 2.0])),
    ("geo-rs", None, dict(rs=["seq_mean_k1"], rs_threshold=[0.999, 1.001])),
    ("geo-rs-token-is", None, dict(level="token", threshold=2.0, rs=["seq_mean_k1"], rs_threshold=[0.999, 1.001])),
    ("geo-rs-seq-is", None, dict(level="sequence", threshold=2.0, rs=["seq_mean_k1"], rs_threshold=[0.999, 1.001])),
    ("k3-rs", None, dict(rs=["seq_mean_k3"], rs_threshold=0.01)),
    ("k3-rs-token-is", None, dict(level="token", threshold=2.0, rs=["seq_mean_k3"], rs_threshold=0.01)),
    ("k3-rs-seq-is", None, dict(level="sequence", threshold=2.0, rs=["seq_mean_k3"], rs_threshold=0.01)),
    ("opsm", None, dict(opsm_delta=1e-4)),
    ("none", None, dict()),
    (None, dict(level="token", threshold=1.5, batchNormalize=True), dict(level="token", threshold=1.5, batch_normalize=True)),
    (None, dict(level="sequence", threshold=3.0, batchNormalize=True),
     dict(level="sequence", threshold=3.0, batch_normalize=True)),
    (None, dict(level="geometric", threshold=[0.8, 1.25]), dict(level="geometric", threshold=[0.8, 1.25])),
    (None, dict(level=None, reject=["token-k1", "seq-max-k2"], rejectThreshold=[1.5, 0.3]),
     dict(rs=["token_k1", "seq_max_k2"], rs_threshold=[1.5, 0.3])),
    (None, dict(level=None, reject=["token-k2", "token-k3", "seq-sum-k2"], rejectThreshold=[0.1, 0.1, 0.5]),
     dict(rs=["token_k2", "token_k3", "seq_sum_k2"], rs_threshold=[0.1, 0.1, 0.5])),
    (None, dict(level=None, reject="seq-sum-k3", rejectThreshold=0.2), dict(rs=["seq_sum_k3"], rs_threshold=0.2)),
    (None, dict(level=None, reject="seq-mean-k2", rejectThreshold=0.05), dict(rs=["seq_mean_k2"], rs_threshold=0.05)),
    (None, dict(level=None, reject="seq-sum-k1", rejectThreshold=[0.6, 1.4]),
     dict(rs=["seq_sum_k1"], rs_threshold=[0.6, 1.4])),
    (None, dict(level=None, reject="binary-kl", rejectThreshold=0.01), dict(rs=["binary_kl"], rs_threshold=0.01)),
    (None, dict(level="token", threshold=2.0, opsm=0.05), dict(level="token", threshold=2.0, opsm_delta=0.05)),
]
batches = [
    ("small mismatch (bf16-like)", batch(6, 9, 0.05)),
    ("large mismatch (stale sampler)", batch(8, 12, 0.8)),
    ("one-token rows and a full row", batch(5, 7, 0.4, lengths=[1, 7, 1, 3, 5])),
]
# boundary values: ratios exactly at the caps (2, 0.5, 5, 1/2 on the log scale), a row with log-ratio 30 (> the
# ±20 safety bound), an empty row
bold = torch.log(torch.tensor([[0.5, 0.2, 0.5, 0.3], [0.9, 0.1, 0.3, 0.2], [0.5, 0.25, 0.4, 0.3], [0.1, 0.1, 0.1, 0.1]]))
broll = bold.clone()
broll[0] = torch.log(torch.tensor([0.25, 0.4, 0.1, 0.3]))  # ratios 2, 0.5, 5, 1
broll[1, 0] = bold[1, 0] - 30.0
bmask = torch.tensor([[1.0, 1, 1, 1], [1, 1, 1, 0], [1, 1, 0, 0], [0, 0, 0, 0]])
batches.append(("boundary: ratio exactly C, 1/C, 5; a log-ratio of 30; an empty row", (bold, broll, bmask,
                                                                                    torch.tensor([[-1.0], [1], [-1], [1]]))))
for bname, (old, roll, mask, adv) in batches:
    for name, options, cfg in configs:
        w, new_mask, metrics = correction(old, roll, mask, adv, **cfg)
        cases.append(dict(kind="correction", id=f"{name or json.dumps(options)} / {bname}", name=name, options=options,
                          oldLogp=L(old), rolloutLogp=L(roll), mask=L(mask), adv=L(adv[:, 0]),
                          weights=L(w), newMask=L(new_mask), metrics=metrics))

# the unbiased KL: TRL per_token_kl (k3 of pi vs pi_ref, clamped as verl's low_var_kl) * exp(logp - old_logp)
for i, scale in enumerate((0.1, 1.0, 3.0)):
    logp = torch.log(torch.softmax(torch.randn(3, 5, 4, generator=gen), -1)[..., 0]).requires_grad_(True)
    ref = logp.detach() + scale * torch.randn(3, 5, generator=gen)
    old = logp.detach() + 0.5 * scale * torch.randn(3, 5, generator=gen)
    d = torch.clamp(ref - logp, -20, 20)
    k3 = torch.clamp(torch.exp(d) - d - 1, -10, 10)
    kl = torch.exp(torch.clamp(logp - old, -20, 20)) * k3
    (grad,) = torch.autograd.grad(kl.sum(), logp)
    cases.append(dict(kind="kl", id=f"k3-unbiased (TRL use_bias_correction_kl), scale {scale}", estimator="k3-unbiased",
                      logp=L(logp.detach()), refLogp=L(ref), oldLogp=L(old), expected=L(kl.detach()), grad=L(grad)))

json.dump({"cases": cases}, sys.stdout)
