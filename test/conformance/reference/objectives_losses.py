"""Reference numerics of the 2026 policy objectives (issue 15, item 3), rewritten in PyTorch from the public code, and
the fixtures test/conformance/objectives-losses.test.ts compares cellrl against (printed as JSON on stdout):

- verl/trainer/ppo/core_algos.py (volcengine/verl, Apache-2.0, 2026): compute_policy_loss_dppo_tv / _dppo_kl,
  _sapo, _geo_mean (GMPO), _gspo (the GSPO-token form), _clip_cov, _kl_cov;
- prime-rl src/prime_rl/trainer/rl/loss.py (PrimeIntellect-ai/prime-rl, Apache-2.0): default_loss_fn (DPPO-Binary-TV
  mask + the Kimi-K2.5 KL tau * (log pi/mu)^2, summed over tokens);
- TRL trl/trainer/grpo_trainer.py (huggingface/trl, Apache-2.0): get_high_entropy_mask (top_entropy_quantile);
- Tinker's `dro` loss: -sum[logp * A - beta/2 * (logp - logp_old)^2];
- the papers where no library has the form: GSPO's sequence form (arXiv 2507.18071, eq. 5-7) and LUSPO
  (arXiv 2602.05261: the GSPO loss times |y_i|).

Not their code: the same formulas in the same order, written for this test. float64 throughout; nothing imports cellrl.
Usage: python3 test/conformance/reference/objectives_losses.py | head -c 400
"""

import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import verl_core_algos as verl  # noqa: E402  (agg_loss, masked_mean, policy_loss_gspo, policy_loss_vanilla)

torch.set_default_dtype(torch.float64)
gen = torch.Generator().manual_seed(20261207)


# ---- verl: DPPO-Binary-TV / -KL ---------------------------------------------------------------------------------


def dppo(old_log_prob, log_prob, advantages, response_mask, agg, clip_low, clip_high, clip_c, divergence):
    negative_approx_kl = torch.clamp(log_prob - old_log_prob, min=-20.0, max=20.0)
    ratio = torch.exp(negative_approx_kl)
    truncated = (ratio if clip_c is None else torch.clamp(ratio, max=clip_c)).detach()
    prob = torch.exp(log_prob)
    old_prob = torch.exp(old_log_prob)
    if divergence == "tv":
        valid_pos = (prob - old_prob) <= clip_high
        valid_neg = (prob - old_prob) >= -clip_low
    else:
        binary_kl = old_prob * (old_log_prob - log_prob) + (1 - old_prob) * torch.log(
            (1.0 - old_prob + 1e-8) / (1.0 - prob + 1e-8)
        )
        valid_pos = (binary_kl <= clip_high) | (prob <= old_prob)
        valid_neg = (binary_kl <= clip_low) | (prob >= old_prob)
    valid = torch.where(advantages > 0, valid_pos, valid_neg).detach().to(log_prob.dtype)
    pg_losses = -advantages * truncated * log_prob * valid
    return verl.agg_loss(pg_losses, response_mask, agg)


# ---- prime-rl: default_loss_fn (one packed batch: the sum over every response token) -----------------------------


def prime_rl_default(trainer_logprobs, inference_logprobs, advantages, loss_mask, mask_low, mask_high, kl_tau):
    probs_diff = torch.exp(trainer_logprobs) - torch.exp(inference_logprobs)
    invalid_high = probs_diff > mask_high
    invalid_low = probs_diff < -mask_low
    invalid = torch.where(advantages > 0, invalid_high, invalid_low)
    keep = loss_mask.bool() & ~invalid
    log_ratio = trainer_logprobs - inference_logprobs
    pg = keep * advantages * torch.exp(log_ratio)
    kl = loss_mask * log_ratio**2
    return (-pg + kl_tau * kl).sum()


# ---- verl: SAPO -------------------------------------------------------------------------------------------------


def sapo(old_log_prob, log_prob, advantages, response_mask, agg, tau_pos, tau_neg):
    ratio = torch.exp(torch.clamp(log_prob - old_log_prob, min=-20.0, max=20.0))
    taus = torch.where(advantages > 0, torch.tensor(tau_pos), torch.tensor(tau_neg))
    gates = torch.sigmoid(taus * (ratio - 1.0)) * (4.0 / taus)
    return verl.agg_loss(-gates * advantages, response_mask, agg)


# ---- verl: geo_mean (GMPO) --------------------------------------------------------------------------------------


def geo_mean(old_log_prob, log_prob, advantages, response_mask, clip_low, clip_high):
    negative_approx_kl = log_prob - old_log_prob
    sgn = torch.sign(advantages)
    clamped = torch.clamp(negative_approx_kl, -clip_low, clip_high)
    kl_min = sgn * torch.min(sgn * negative_approx_kl, sgn * clamped)
    lengths = response_mask.sum(dim=-1)
    ratio = torch.exp((kl_min * response_mask).sum(dim=-1) / (lengths + 1e-8))
    advantage = (advantages * response_mask).sum(dim=-1) / (lengths + 1e-8)
    return torch.mean(-advantage * ratio)


# ---- GSPO's sequence form (paper) and LUSPO ----------------------------------------------------------------------


def gspo_sequence(old_log_prob, log_prob, advantages, response_mask, clip_low, clip_high):
    lengths = response_mask.sum(dim=-1).clamp(min=1)
    s = torch.exp(torch.clamp(((log_prob - old_log_prob) * response_mask).sum(-1) / lengths, max=10.0))
    a = (advantages * response_mask).sum(-1) / lengths
    per_seq = torch.maximum(-a * s, -a * torch.clamp(s, 1 - clip_low, 1 + clip_high))
    rows = (response_mask.sum(-1) > 0).to(log_prob.dtype)
    return (per_seq * rows).sum() / rows.sum()


def luspo(old_log_prob, log_prob, advantages, response_mask, clip_low, clip_high):
    """verl's gspo per-token loss (the GSPO-token form) times |y_i|, aggregated seq-mean-token-mean as GSPO."""
    negative_approx_kl = log_prob - old_log_prob
    seq_lengths = torch.sum(response_mask, dim=-1).clamp(min=1)
    kl_seq = torch.sum(negative_approx_kl * response_mask, dim=-1) / seq_lengths
    log_ratio = torch.clamp(log_prob - log_prob.detach() + kl_seq.detach().unsqueeze(-1), max=10.0)
    ratio = torch.exp(log_ratio)
    pg = torch.maximum(-advantages * ratio, -advantages * torch.clamp(ratio, 1 - clip_low, 1 + clip_high))
    pg = pg * response_mask.sum(-1, keepdim=True)
    return verl.agg_loss(pg, response_mask, "seq-mean-token-mean")


# ---- verl: clip_cov / kl_cov ------------------------------------------------------------------------------------


def clip_cov(old_log_prob, log_prob, advantages, response_mask, agg, clip_low, clip_high, ratio_frac, lb, ub):
    """verl's clip_cov. The random draw (torch.randperm) is replaced by "take every candidate": the fixtures choose
    ratio_frac so that max(1, int(ratio_frac * N)) >= the number of candidates, where any draw selects them all."""
    negative_approx_kl = log_prob - old_log_prob
    ratio = torch.exp(negative_approx_kl)
    pg_losses1 = -advantages * ratio
    corr = torch.ones_like(advantages)
    pg_losses2 = -advantages * torch.clamp(ratio, 1 - clip_low, 1 + clip_high)
    clip_by_origin = (pg_losses2 > pg_losses1) & (response_mask > 0)
    cov_all = (advantages - verl.masked_mean(advantages, response_mask)) * (
        log_prob - verl.masked_mean(log_prob.detach(), response_mask)
    )
    cov_all = cov_all.detach().clone()
    cov_all[response_mask == 0] = -torch.inf
    cov_all[clip_by_origin] = -torch.inf
    clip_num = max(int(ratio_frac * response_mask.sum().item()), 1)
    idx = torch.nonzero((cov_all < ub) & (cov_all > lb) & (response_mask > 0))
    assert len(idx) <= clip_num, "fixture: the draw would be random"
    corr[idx[:, 0], idx[:, 1]] = 0
    pg_losses = torch.maximum(pg_losses1, pg_losses2) * corr
    return verl.agg_loss(pg_losses, response_mask, agg), len(idx)


def kl_cov(old_log_prob, log_prob, advantages, response_mask, agg, ratio_frac, coef):
    negative_approx_kl = log_prob - old_log_prob
    abs_kl = negative_approx_kl.abs()
    ratio = torch.exp(negative_approx_kl)
    pg_losses1 = -advantages * ratio
    pg_losses_kl = -advantages * ratio + coef * abs_kl
    pg_losses = pg_losses1.clone()
    valid = response_mask > 0
    valid_idx = torch.nonzero(valid.reshape(-1), as_tuple=True)[0]
    adv_v = advantages[valid].detach().reshape(-1)
    logp_v = log_prob[valid].detach().reshape(-1)
    if len(adv_v):
        cov = (adv_v - adv_v.mean()) * (logp_v - logp_v.mean())
        k = max(1, int(len(cov) * ratio_frac))
        top = valid_idx[torch.topk(cov, k, largest=True).indices]
        T = advantages.shape[1]
        pg_losses[top // T, top % T] = pg_losses_kl[top // T, top % T]
    return verl.agg_loss(pg_losses, response_mask, agg)


# ---- Tinker: dro (summed) ---------------------------------------------------------------------------------------


def dro(old_log_prob, log_prob, advantages, response_mask, beta):
    objective = log_prob * advantages - 0.5 * beta * (log_prob - old_log_prob) ** 2
    return -(objective * response_mask).sum()


# ---- TRL: top_entropy_quantile (80/20 forking tokens) on verl's vanilla PPO loss, token-mean --------------------


def high_entropy_mask(entropies, mask, threshold):
    non_pad = entropies[mask.bool()]
    if non_pad.numel() == 0:
        return torch.zeros_like(entropies, dtype=torch.bool)
    thr = torch.quantile(non_pad, threshold)
    return ((entropies * mask) >= thr) & mask.bool()


def forking_ppo(old_log_prob, log_prob, advantages, response_mask, entropies, rho, clip_low, clip_high, clip_c):
    negative_approx_kl = torch.clamp(log_prob - old_log_prob, min=-20.0, max=20.0)
    ratio = torch.exp(negative_approx_kl)
    l1 = -advantages * ratio
    l2 = -advantages * torch.clamp(ratio, 1 - clip_low, 1 + clip_high)
    c1 = torch.maximum(l1, l2)
    c2 = torch.min(-advantages * clip_c, c1)
    per_token = torch.where(advantages < 0, c2, c1)
    keep = high_entropy_mask(entropies, response_mask, 1 - rho).to(log_prob.dtype)
    return verl.agg_loss(per_token * keep, response_mask, "token-mean"), keep


# ---- fixtures ---------------------------------------------------------------------------------------------------


def L(x):
    return x.tolist()


def mask_from_lengths(lengths, T):
    return torch.tensor([[1.0 if t < n else 0.0 for t in range(T)] for n in lengths])


B, T = 6, 7
mask = mask_from_lengths([7, 4, 0, 6, 5, 2], T)
p = 0.03 + 0.94 * torch.rand(B, T, generator=gen)
q = (p + 0.25 * torch.randn(B, T, generator=gen)).clamp(0.02, 0.98)
q[0, 0], p[0, 0] = 0.1, 0.9  # p − μ = +0.8: TV and KL bind for A > 0
q[0, 1], p[0, 1] = 0.9, 0.1  # −0.8: bind for A < 0
q[3, 2], p[3, 2] = 0.5, 0.5  # exactly on-policy
logp = torch.log(p)
old = torch.log(q)
adv_seq = torch.randn(B, generator=gen).unsqueeze(-1).expand(B, T).clone()
adv_seq[5] = 0.0  # a zero-advantage row
adv_tok = torch.randn(B, T, generator=gen)
adv_tok[0, 0], adv_tok[0, 1], adv_tok[1, 1] = 1.3, -0.7, 0.0
entropy = torch.rand(B, T, generator=gen) * 3
cases = []


def grad_of(fn):
    lp = logp.clone().requires_grad_(True)
    out = fn(lp)
    loss = out[0] if isinstance(out, tuple) else out
    loss.backward()
    return loss.item(), L(lp.grad), out


def add(name, cid, options, adv, fn, compare="value+grad", extra=None):
    value, grad, _ = grad_of(fn)
    case = dict(id=cid, name=name, options=options, logp=L(logp), oldLogp=L(old), adv=L(adv), mask=L(mask),
                expected=value, grad=grad, compare=compare)
    if extra:
        case.update(extra)
    cases.append(case)


AGG = ["token-mean", "seq-mean-token-mean", "seq-mean-token-sum"]
for adv_name, adv in (("sequence adv", adv_seq), ("token adv", adv_tok)):
    for div in ("tv", "kl"):
        for agg in AGG:
            for clip, clip_c in (((0.2, 0.2), 3.0), ((0.1, 0.3), None)):
                add(f"dppo-{div}", f"dppo-{div} verl {agg} clip {clip} c {clip_c} {adv_name}",
                    {"clip": list(clip), "clipC": clip_c, "agg": agg}, adv,
                    lambda lp, a=adv, g=agg, c=clip, cc=clip_c, d=div: dppo(old, lp, a, mask, g, c[0], c[1], cc, d))
    # prime-rl's default loss: its value is −keep·A·ρ (not verl's −keep·A·sg(ρ)·log π): gradients only
    add("dppo-tv", f"dppo-tv prime-rl default_loss_fn (kl_tau 1e-3, no truncation) {adv_name}",
        {"clip": [0.2, 0.2], "clipC": None, "klTau": 1e-3, "agg": "seq-mean-token-sum", "seqs": 1}, adv,
        lambda lp, a=adv: prime_rl_default(lp, old, a, mask, 0.2, 0.2, 1e-3), compare="grad")
    for agg in ("seq-mean-token-mean", "token-mean"):
        for taus in ((1.0, 1.05), (0.5, 2.0)):
            add("sapo", f"sapo verl {agg} tau {taus} {adv_name}", {"tauPos": taus[0], "tauNeg": taus[1], "agg": agg},
                adv, lambda lp, a=adv, g=agg, t=taus: sapo(old, lp, a, mask, g, t[0], t[1]))
    for clip in ((0.2, 0.2), (0.4, 0.4), (0.05, 0.1)):
        add("gmpo", f"gmpo verl geo_mean clip {clip} {adv_name}", {"clip": list(clip), "seqs": B}, adv,
            lambda lp, a=adv, c=clip: geo_mean(old, lp, a, mask, c[0], c[1]))
    for clip in ((0.2, 0.28), (3e-4, 4e-4)):
        add("gspo-token", f"gspo-token = verl gspo clip {clip} {adv_name}", {"clip": list(clip)}, adv,
            lambda lp, a=adv, c=clip: verl.policy_loss_gspo(old, lp, a, mask, c[0], c[1])[0])
        add("luspo", f"luspo clip {clip} {adv_name}", {"clip": list(clip)}, adv,
            lambda lp, a=adv, c=clip: luspo(old, lp, a, mask, c[0], c[1]))
    for beta in (1.0, 0.1):
        add("dro", f"dro Tinker beta {beta} {adv_name}", {"droBeta": beta, "agg": "seq-mean-token-sum", "seqs": 1},
            adv, lambda lp, a=adv, b=beta: dro(old, lp, a, mask, b))
    for agg in ("token-mean", "seq-mean-token-sum"):
        for frac, coef in ((0.2, 1.0), (0.05, 0.5), (1.0, 1.0)):
            add("kl-cov", f"kl-cov verl {agg} ratio {frac} coef {coef} {adv_name}",
                {"klCovRatio": frac, "klCovCoef": coef, "agg": agg}, adv,
                lambda lp, a=adv, g=agg, f=frac, k=coef: kl_cov(old, lp, a, mask, g, f, k))
    for lb, ub in ((0.05, 5.0), (-1.0, 0.02)):
        v, g, out = grad_of(lambda lp, a=adv, b=(lb, ub): clip_cov(old, lp, a, mask, "token-mean", 0.2, 0.28, 1.0,
                                                                     b[0], b[1]))
        cases.append(dict(id=f"clip-cov verl band ({lb}, {ub}) every candidate {adv_name}", name="clip-cov",
                          options={"clip": [0.2, 0.28], "clipCovRatio": 1.0, "clipCovLb": lb, "clipCovUb": ub,
                                   "seed": 0},
                          logp=L(logp), oldLogp=L(old), adv=L(adv), mask=L(mask), expected=v, grad=g,
                          compare="value+grad", candidates=out[1]))
    for rho in (0.2, 0.5, 1.0):
        v, g, out = grad_of(lambda lp, a=adv, r=rho: forking_ppo(old, lp, a, mask, entropy, r, 0.2, 0.28, 3.0))
        cases.append(dict(id=f"ppo-clip + TRL top_entropy_quantile {rho} {adv_name}", name="ppo-clip",
                          options={"clip": [0.2, 0.28], "clipC": 3, "topEntropyQuantile": rho},
                          logp=L(logp), oldLogp=L(old), adv=L(adv), mask=L(mask), entropy=L(entropy), expected=v,
                          grad=g, compare="value+grad", kept=int(out[1].sum().item())))

# GSPO's sequence form (paper): against the sequence-level reference, one advantage per sequence
for clip in ((0.2, 0.28), (3e-4, 4e-4)):
    add("gspo-seq", f"gspo-seq (paper, sequence form) clip {clip}", {"clip": list(clip)}, adv_seq,
        lambda lp, c=clip: gspo_sequence(old, lp, adv_seq, mask, c[0], c[1]))
# ... and a row at +12 (the cap at 10 binds)
old_cap = old.clone()
old_cap[4] = logp[4] - 12
lp = logp.clone().requires_grad_(True)
loss = gspo_sequence(old_cap, lp, adv_seq, mask, 0.2, 0.28)
loss.backward()
cases.append(dict(id="gspo-seq cap 10 binds on row 4", name="gspo-seq", options={"clip": [0.2, 0.28]}, logp=L(logp),
                  oldLogp=L(old_cap), adv=L(adv_seq), mask=L(mask), expected=loss.item(), grad=L(lp.grad),
                  compare="value+grad"))

json.dump({"torch": torch.__version__, "cases": cases}, sys.stdout)
