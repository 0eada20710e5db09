"""Reference numerics for the 2026 advantage estimators (Lite PPO, MaxRL, GDPO) and on-policy distillation (Tinker's
importance-sampling OPD, verl's k1/k2/k3 and forward_kl_topk distillation losses), restated line by line from:

- TRL `GRPOTrainer._generate_and_score_completions`, scale_rewards="batch" (Lite PPO, arXiv 2508.08221): group mean,
  torch.std of the whole batch's rewards, `/ (std + 1e-4)`.
- prime-rl orchestrator advantage "max_rl" (PR #2778, arXiv 2602.02710): (r - mean) / mean, zero where mean == 0.
- NVlabs/GDPO trl-0.18.0-gdpo grpo_trainer.py (arXiv 2601.05242): per reward function, (r - group mean) /
  (group torch.std + 1e-4); weighted nansum; (x - mean) / (torch.std + 1e-4) over the batch.
- tinker-cookbook distillation/train_on_policy.py `incorporate_kl_penalty` (advantage -coef * mask * (sampled logprob -
  teacher logprob), optional discounted future sum) and Tinker's `importance_sampling` loss
  -(exp(target - sampling) * advantages).sum(); the loss is masked to the response (cellrl's documented departure).
- verl trainer/distillation/losses.py: estimator modes kl_penalty(student, teacher, mode) with loss_max_clamp, direct
  (agg_loss) or policy-gradient (vanilla PPO loss with advantages = -losses.detach()); fsdp/losses.py
  compute_forward_kl_topk: log_softmax(student).gather(teacher ids), clamp_min(log_prob_min_clamp) on both,
  sum p_T (log p_T - log q), clamp_min(0).
- verl recipe/dapo: the reward manager's overlong_buffer term min(-(len - (L - C)) / C * factor, 0), and
  filter_groups' kept prompts (np.std(metric) > 0 or one sample).

Run as a script, this file prints every case as JSON for test/conformance/objectives-opd.test.ts (which claims the
estimators in covered-elsewhere.ts).
"""

import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import verl_core_algos as verl  # noqa: E402

torch.set_default_dtype(torch.float64)


def L(x):
    return None if x is None else x.tolist()


# ---- advantages (one value per completion; groups contiguous, G each, as TRL's view(-1, G)) ----


def lite_ppo(rewards, G, eps=1e-4):
    mean_grouped = rewards.view(-1, G).mean(dim=1).repeat_interleave(G, dim=0)
    advantages = rewards - mean_grouped
    std_rewards = rewards.std().expand_as(rewards)  # scale_rewards == "batch"
    return advantages / (std_rewards + eps)


def maxrl(rewards, G):
    mean = rewards.view(-1, G).mean(dim=1, keepdim=True)
    r = rewards.view(-1, G)
    adv = torch.where(mean > 0, (r - mean) / torch.where(mean > 0, mean, torch.ones_like(mean)), torch.zeros_like(r))
    return adv.flatten()


def gdpo(rewards_per_func, weights, G, eps=1e-4):
    parts = []
    for i in range(rewards_per_func.shape[1]):
        r = rewards_per_func[:, i]
        m = r.view(-1, G).mean(dim=1).repeat_interleave(G, dim=0)
        s = r.view(-1, G).std(dim=1).repeat_interleave(G, dim=0)
        parts.append((r - m) / (s + eps))
    pre = (torch.stack(parts, dim=1) * weights.unsqueeze(0)).nansum(dim=1)
    return (pre - pre.mean()) / (pre.std() + eps)


def advantage_cases():
    gen = torch.Generator().manual_seed(20261207)
    G, nG, T = 4, 4, 5
    B = G * nG
    groups = [i // G for i in range(B)]
    lengths = [1 + (i * 3) % T for i in range(B)]
    mask = torch.tensor([[1.0 if t < n else 0.0 for t in range(T)] for n in lengths])
    binary = (torch.rand(B, generator=gen) < 0.4).double()
    binary[8:12] = 0.0  # a group without success (MaxRL: 0; zero spread elsewhere)
    binary[12:16] = 1.0  # an all-correct group
    graded = torch.round(torch.rand(B, generator=gen) * 4) / 4
    out = []

    def case(name, rewards, options, adv, tag):
        out.append(dict(kind="advantage", id=f"{name} {tag} {json.dumps(options)}", name=name,
                        inputs=dict(rewards=rewards, groups=groups, mask=L(mask), lengths=lengths),
                        options=options, expected=L(adv.unsqueeze(-1) * mask)))

    for tag, r in (("binary", binary), ("graded", graded)):
        case("lite-ppo", L(r), {}, lite_ppo(r, G), tag)
        case("maxrl", L(r), {}, maxrl(r, G), tag)
    comps = torch.stack([binary, graded, (torch.rand(B, generator=gen) < 0.5).double()], dim=1)
    for w in ([1.0, 1.0, 1.0], [1.0, 0.5, 2.0]):
        names = ["correct", "graded", "format"]
        case("gdpo", {n: L(comps[:, i]) for i, n in enumerate(names)},
             {"weights": dict(zip(names, w))}, gdpo(comps, torch.tensor(w), G), f"3 rewards w={w}")
    return out


# ---- on-policy distillation ----


def discounted_future_sum(x, gamma):
    out = torch.zeros_like(x)
    acc = torch.zeros(x.shape[0])
    for t in range(x.shape[1] - 1, -1, -1):
        acc = x[:, t] + gamma * acc
        out[:, t] = acc
    return out


def tinker_opd(logp, sampling_lp, teacher_lp, mask, coef, discount):
    reverse_kl = (sampling_lp - teacher_lp) * mask
    adv = -coef * mask * reverse_kl
    if discount > 0:
        adv = discounted_future_sum(adv, discount)
    prob_ratio = torch.exp(logp - sampling_lp)
    return -(prob_ratio * adv * mask).sum()


def verl_estimator(logp, teacher_lp, mask, mode, loss_max_clamp=None, use_policy_gradient=False, old_lp=None):
    losses = verl.kl_penalty(logp, teacher_lp, mode)
    if loss_max_clamp is not None:
        losses = losses.clamp(min=-loss_max_clamp, max=loss_max_clamp)
    if use_policy_gradient:
        return verl.policy_loss_vanilla(old_lp, logp, -losses.detach(), mask, "token-mean", 0.2, 0.2, 3.0)
    return verl.agg_loss(losses, mask, "token-mean")


def verl_forward_kl_topk(logits, teacher_topk_lp, teacher_topk_ids, mask, log_prob_min_clamp=None):
    student_topk_lp = torch.log_softmax(logits, dim=-1).gather(-1, teacher_topk_ids)
    t = teacher_topk_lp
    if log_prob_min_clamp is not None:
        student_topk_lp = student_topk_lp.clamp_min(log_prob_min_clamp)
        t = t.clamp_min(log_prob_min_clamp)
    kld = (t.exp() * (t - student_topk_lp)).sum(dim=-1)
    losses = kld.clamp_min(0.0)
    return verl.agg_loss(losses, mask, "token-mean")


def opd_cases():
    gen = torch.Generator().manual_seed(5041)
    out = []
    B, T = 3, 7
    # prompt (mask 0) then response (mask 1) then padding (mask 0), as a rollout's tokens-aligned rows
    mask = torch.tensor([[0, 0, 1, 1, 1, 1, 1], [0, 1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1, 0]], dtype=torch.float64)
    logp = -torch.rand(B, T, generator=gen) * 3
    sampling = logp + torch.randn(B, T, generator=gen) * 0.2
    teacher = -torch.rand(B, T, generator=gen) * 3
    teacher[0, 3] = logp[0, 3] - 14  # a far-off token: k3's clamp at 10 and loss_max_clamp bind
    teacher[1, 2] = logp[1, 2] + 25  # k3's inner clamp at 20
    for coef, discount in ((1.0, 0.0), (0.5, 0.0), (1.0, 0.9)):
        x = logp.clone().requires_grad_(True)
        loss = tinker_opd(x, sampling, teacher, mask, coef, discount)
        loss.backward()
        out.append(dict(kind="opd", id=f"tinker coef {coef} discount {discount} agg sum", input="logp",
                        options={"mode": "tinker", "coef": coef, "discount": discount, "agg": "sum"},
                        logp=L(logp), samplerLogp=L(sampling), teacherLogp=L(teacher), mask=L(mask),
                        expected=loss.item(), grad=L(x.grad)))
    for mode in ("k1", "k2", "k3"):
        for clamp in (None, 2.0):
            x = logp.clone().requires_grad_(True)
            loss = verl_estimator(x, teacher, mask, mode, clamp)
            loss.backward()
            opts = {"mode": mode, **({"maxClamp": clamp} if clamp is not None else {})}
            out.append(dict(kind="opd", id=f"verl {mode} loss_max_clamp {clamp}", input="logp", options=opts,
                            logp=L(logp), teacherLogp=L(teacher), mask=L(mask), expected=loss.item(),
                            grad=L(x.grad)))
        # use_policy_gradient on the first on-policy step: old = sampler = current log-probs
        x = logp.clone().requires_grad_(True)
        loss, _ = verl_estimator(x, teacher, mask, mode, None, True, logp.clone())
        loss.backward()
        out.append(dict(kind="opd", id=f"verl {mode} use_policy_gradient on-policy", input="logp",
                        options={"mode": mode, "policyGradient": True}, logp=L(logp), samplerLogp=L(logp),
                        teacherLogp=L(teacher), mask=L(mask), expected=loss.item(), grad=L(x.grad)))
    V = 9
    logits = torch.randn(B, T, V, generator=gen) * 2
    teacher_lp = torch.log_softmax(torch.randn(B, T, V, generator=gen) * 2, dim=-1)
    for K in (3, V):
        tk_lp, tk_ids = torch.topk(teacher_lp, K, dim=-1)
        for floor in (None, -3.0):
            z = logits.clone().requires_grad_(True)
            loss = verl_forward_kl_topk(z, tk_lp, tk_ids, mask, floor)
            loss.backward()
            opts = {"mode": "forward-kl-topk", **({"logProbMinClamp": floor} if floor is not None else {})}
            out.append(dict(kind="opd", id=f"verl forward_kl_topk K {K} log_prob_min_clamp {floor}",
                            input="logits", options=opts, logits=L(logits), topkIds=L(tk_ids),
                            topkLogprobs=L(tk_lp), K=K, mask=L(mask), expected=loss.item(), grad=L(z.grad)))
    return out


# ---- DAPO sampling side (verl recipe/dapo) ----


def verl_overlong_reward(valid_response_length, max_resp_len, overlong_buffer_len, penalty_factor):
    expected_len = max_resp_len - overlong_buffer_len
    exceed_len = valid_response_length - expected_len
    return min(-exceed_len / overlong_buffer_len * penalty_factor, 0)


def verl_filter_groups(uids, metric_vals):
    import numpy as np

    vals = {}
    for uid, v in zip(uids, metric_vals):
        vals.setdefault(uid, []).append(v)
    return [uid for uid, v in vals.items() if np.std(v) > 0 or len(v) == 1]


def sampling_cases():
    gen = torch.Generator().manual_seed(4897)
    out = []
    for L, C, f in ((64, 16, 1.0), (20, 5, 0.5), (4096, 1024, 1.0)):
        drawn = {int(x) for x in torch.randint(0, L + 1, (12,), generator=gen)}
        lengths = sorted({0, 1, L - C, L - C + 1, L - 1, L} | drawn)
        out.append(dict(kind="overlong", id=f"verl overlong_buffer L {L} C {C} factor {f}", lengths=lengths,
                        options={"maxLength": L, "buffer": C, "penalty": f},
                        expected=[verl_overlong_reward(n, L, C, f) for n in lengths]))
    for G, nG in ((4, 6), (1, 3), (8, 5)):
        uids = [f"p{g}" for g in range(nG) for _ in range(G)]
        r = (torch.randint(0, 3, (G * nG,), generator=gen).double() / 2).tolist()  # 0, 0.5, 1: exact in float
        if G > 1:
            r[:G] = [1.0] * G  # an all-equal group
        out.append(dict(kind="filter", id=f"verl filter_groups G {G}", groups=uids, rewards=r,
                        expected=verl_filter_groups(uids, r)))
    return out


if __name__ == "__main__":
    json.dump({"torch": torch.__version__, "cases": advantage_cases() + opd_cases() + sampling_cases()}, sys.stdout)
