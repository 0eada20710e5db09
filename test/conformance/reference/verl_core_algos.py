"""Reference numerics of verl (volcengine/verl, Apache-2.0), rewritten line by line in PyTorch from the public sources:

- verl/trainer/ppo/core_algos.py at commit 012be9d9dcb7c38499f23616142870d2682757fc: the advantage estimators
  (compute_grpo_outcome_advantage, compute_rloo_outcome_advantage, compute_reinforce_plus_plus_baseline_outcome_advantage,
  compute_reinforce_plus_plus_outcome_advantage, compute_remax_outcome_advantage), the policy losses (vanilla, gspo, cispo,
  gpg) and kl_penalty;
- agg_loss as on verl HEAD (2026): the seq-mean modes divide by the rows that have at least one unmasked token
  (seq_mask), and seq-mean-token-sum-norm divides that by loss_scale_factor (default: the response width);
- verl/utils/torch_functional.py: masked_mean, masked_var (unbiased), masked_whiten (rsqrt(var + 1e-8)),
  entropy_from_logits.

Not verl's code: the same formulas, in the same order, written for this test. Every function takes and returns float64
tensors; nothing here imports cellrl.
"""

from collections import defaultdict

import torch


# ---- verl/utils/torch_functional.py -------------------------------------------------------------------------------


def masked_sum(values, mask, axis=None):
    return (values * mask).sum(axis) if axis is not None else (values * mask).sum()


def masked_mean(values, mask, axis=None):
    if axis is not None:
        return (values * mask).sum(axis=axis) / (mask.sum(axis=axis) + 1e-8)
    return (values * mask).sum() / (mask.sum() + 1e-8)


def masked_var(values, mask, unbiased=True):
    mean = masked_mean(values, mask)
    centered = values - mean
    variance = masked_mean(centered**2, mask)
    if unbiased:
        mask_sum = mask.sum()
        if mask_sum <= 1:
            raise ValueError("masked_var: the mask needs at least two elements")
        variance = variance * (mask_sum / (mask_sum - 1))
    return variance


def entropy_from_logits(logits):
    pd = torch.nn.functional.softmax(logits, dim=-1)
    return torch.logsumexp(logits, dim=-1) - torch.sum(pd * logits, dim=-1)


def masked_whiten(values, mask, shift_mean=True):
    mean, var = masked_mean(values, mask), masked_var(values, mask)
    whitened = (values - mean) * torch.rsqrt(var + 1e-8)
    if not shift_mean:
        whitened = whitened + mean
    return whitened


# ---- advantage estimators (token_level_rewards [B, T], response_mask [B, T], index [B]) ---------------------------


def grpo(token_level_rewards, response_mask, index, epsilon=1e-6, norm_adv_by_std_in_grpo=True):
    scores = token_level_rewards.sum(dim=-1).clone()
    id2score, id2mean, id2std = defaultdict(list), {}, {}
    bsz = scores.shape[0]
    for i in range(bsz):
        id2score[index[i]].append(scores[i])
    for idx in id2score:
        if len(id2score[idx]) == 1:
            id2mean[idx] = torch.tensor(0.0, dtype=scores.dtype)
            id2std[idx] = torch.tensor(1.0, dtype=scores.dtype)
        else:
            group = torch.stack(id2score[idx])
            id2mean[idx] = torch.mean(group)
            id2std[idx] = torch.std(group)
    for i in range(bsz):
        if norm_adv_by_std_in_grpo:
            scores[i] = (scores[i] - id2mean[index[i]]) / (id2std[index[i]] + epsilon)
        else:
            scores[i] = scores[i] - id2mean[index[i]]
    return scores.unsqueeze(-1) * response_mask


def rloo(token_level_rewards, response_mask, index):
    scores = token_level_rewards.sum(dim=-1).clone()
    id2score, id2mean = defaultdict(list), {}
    bsz = scores.shape[0]
    for i in range(bsz):
        id2score[index[i]].append(scores[i])
    for idx in id2score:
        if len(id2score[idx]) == 1:
            id2mean[idx] = torch.tensor(0.0, dtype=scores.dtype)
        else:
            id2mean[idx] = torch.mean(torch.stack(id2score[idx]))
    for i in range(bsz):
        n = len(id2score[index[i]])
        if n > 1:
            scores[i] = scores[i] * n / (n - 1) - id2mean[index[i]] * n / (n - 1)
    return scores.unsqueeze(-1) * response_mask


def reinforce_plus_plus_baseline(token_level_rewards, response_mask, index):
    response_length = token_level_rewards.shape[-1]
    scores = token_level_rewards.sum(dim=-1).clone()
    id2score, id2mean = defaultdict(list), {}
    bsz = scores.shape[0]
    for i in range(bsz):
        id2score[index[i]].append(scores[i])
    for idx in id2score:
        if len(id2score[idx]) == 1:
            id2mean[idx] = torch.tensor(0.0, dtype=scores.dtype)
        else:
            id2mean[idx] = torch.mean(torch.stack(id2score[idx]))
    for i in range(bsz):
        scores[i] = scores[i] - id2mean[index[i]]
    scores = scores.unsqueeze(-1).tile([1, response_length]) * response_mask
    return masked_whiten(scores, response_mask) * response_mask


def reinforce_plus_plus(token_level_rewards, response_mask, gamma):
    returns = torch.zeros_like(token_level_rewards)
    running_return = 0
    for t in reversed(range(token_level_rewards.shape[1])):
        running_return = token_level_rewards[:, t] + gamma * running_return
        returns[:, t] = running_return
        running_return = running_return * response_mask[:, t]  # reset after EOS / a masked span
    advantages = masked_whiten(returns, response_mask)
    return advantages * response_mask


def remax(token_level_rewards, reward_baselines, response_mask):
    returns = (token_level_rewards * response_mask).flip(dims=[-1]).cumsum(dim=-1).flip(dims=[-1])
    return returns - reward_baselines.unsqueeze(-1) * response_mask


# ---- agg_loss (verl HEAD) -----------------------------------------------------------------------------------------


def agg_loss(loss_mat, loss_mask, loss_agg_mode, loss_scale_factor=None):
    if loss_agg_mode == "token-mean":
        denom = loss_mask.sum()
        loss_sum = masked_sum(loss_mat, loss_mask)
        if denom.item() == 0:
            return loss_sum * 0.0
        return loss_sum / denom
    if loss_agg_mode in ("seq-mean-token-sum", "seq-mean-token-sum-norm"):
        seq_losses = torch.sum(loss_mat * loss_mask, dim=-1)
        seq_mask = (torch.sum(loss_mask, dim=-1) > 0).to(loss_mat.dtype)
        denom = seq_mask.sum()
        loss_sum = masked_sum(seq_losses, seq_mask)
        if denom.item() == 0:
            return loss_sum * 0.0
        loss = loss_sum / denom
        if loss_agg_mode == "seq-mean-token-sum-norm":
            loss = loss / (loss_scale_factor if loss_scale_factor is not None else loss_mask.shape[-1])
        return loss
    if loss_agg_mode == "seq-mean-token-mean":
        counts = torch.sum(loss_mask, dim=-1)
        seq_losses = torch.sum(loss_mat * loss_mask, dim=-1) / (counts + 1e-8)
        seq_mask = (counts > 0).to(loss_mat.dtype)
        denom = seq_mask.sum()
        loss_sum = masked_sum(seq_losses, seq_mask)
        if denom.item() == 0:
            return loss_sum * 0.0
        return loss_sum / denom
    raise ValueError(loss_agg_mode)


# ---- policy losses: (pg_loss, ppo_kl) -----------------------------------------------------------------------------


def policy_loss_vanilla(old_log_prob, log_prob, advantages, response_mask, loss_agg_mode, clip_low, clip_high, clip_c):
    negative_approx_kl = torch.clamp(log_prob - old_log_prob, min=-20.0, max=20.0)
    ratio = torch.exp(negative_approx_kl)
    ppo_kl = masked_mean(-negative_approx_kl, response_mask)
    pg_losses1 = -advantages * ratio
    pg_losses2 = -advantages * torch.clamp(ratio, 1 - clip_low, 1 + clip_high)
    clip_pg_losses1 = torch.maximum(pg_losses1, pg_losses2)
    pg_losses3 = -advantages * clip_c
    clip_pg_losses2 = torch.min(pg_losses3, clip_pg_losses1)
    pg_losses = torch.where(advantages < 0, clip_pg_losses2, clip_pg_losses1)
    return agg_loss(pg_losses, response_mask, loss_agg_mode), ppo_kl


def policy_loss_gspo(old_log_prob, log_prob, advantages, response_mask, clip_low, clip_high):
    negative_approx_kl = log_prob - old_log_prob
    seq_lengths = torch.sum(response_mask, dim=-1).clamp(min=1)
    negative_approx_kl_seq = torch.sum(negative_approx_kl * response_mask, dim=-1) / seq_lengths
    log_seq_ratio = log_prob - log_prob.detach() + negative_approx_kl_seq.detach().unsqueeze(-1)
    log_seq_ratio = torch.clamp(log_seq_ratio, max=10.0)
    seq_ratio = torch.exp(log_seq_ratio)
    pg_losses1 = -advantages * seq_ratio
    pg_losses2 = -advantages * torch.clamp(seq_ratio, 1 - clip_low, 1 + clip_high)
    pg_losses = torch.maximum(pg_losses1, pg_losses2)
    ppo_kl = masked_mean(-negative_approx_kl, response_mask)
    return agg_loss(pg_losses, response_mask, "seq-mean-token-mean"), ppo_kl


def policy_loss_cispo(old_log_prob, log_prob, advantages, response_mask, loss_agg_mode, clip_low, clip_high):
    negative_approx_kl = torch.clamp(log_prob - old_log_prob, min=-20.0, max=20.0)
    ratio = torch.exp(negative_approx_kl)
    ppo_kl = masked_mean(-negative_approx_kl, response_mask)
    clipped_ratio = torch.clamp(ratio, 1 - clip_low, 1 + clip_high).detach()
    pg_losses = -clipped_ratio * advantages * log_prob
    return agg_loss(pg_losses, response_mask, loss_agg_mode), ppo_kl


def policy_loss_gpg(log_prob, advantages, response_mask, loss_agg_mode):
    return agg_loss(-log_prob * advantages, response_mask, loss_agg_mode), None


# ---- kl_penalty ---------------------------------------------------------------------------------------------------


def kl_penalty_forward(logprob, ref_logprob, kl_penalty):
    if kl_penalty in ("kl", "k1"):
        return logprob - ref_logprob
    if kl_penalty == "abs":
        return (logprob - ref_logprob).abs()
    if kl_penalty in ("mse", "k2"):
        return 0.5 * (logprob - ref_logprob).square()
    if kl_penalty in ("low_var_kl", "k3"):
        kl = torch.clamp(ref_logprob - logprob, min=-20, max=20)
        ratio = torch.exp(kl)
        kld = ratio - kl - 1
        return torch.clamp(kld, min=-10, max=10)
    raise NotImplementedError(kl_penalty)


def kl_penalty(logprob, ref_logprob, kl_penalty):
    """verl's "+" suffix: the value of the named estimator, the gradient of k2 (straight-through)."""
    forward = kl_penalty_forward(logprob, ref_logprob, kl_penalty.rstrip("+"))
    if not kl_penalty.endswith("+"):
        return forward
    backward = kl_penalty_forward(logprob, ref_logprob, "k2")
    return backward - backward.detach() + forward.detach()
