"""Conformance fixtures: seeded inputs and the outputs of the verl / TRL references (verl_core_algos.py,
verl_gkd_losses.py, trl_reference.py), printed as JSON on stdout. test/conformance/numerics.test.ts runs this file with
the python3 that has torch and compares cellrl's values and gradients to these.

Usage: python3 test/conformance/reference/fixtures.py > fixtures.json
"""

import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import trl_reference as trl  # noqa: E402
import verl_core_algos as verl  # noqa: E402
import verl_gkd_losses as gkd  # noqa: E402

torch.set_default_dtype(torch.float64)
gen = torch.Generator().manual_seed(20260107)
cases = []


def rand(*shape):
    return torch.rand(*shape, generator=gen)


def randn(*shape):
    return torch.randn(*shape, generator=gen)


def mask_from_lengths(lengths, T):
    return torch.tensor([[1.0 if t < n else 0.0 for t in range(T)] for n in lengths])


def L(x):
    return None if x is None else x.tolist()


def outcome_token_rewards(rewards, mask):
    """verl's reward managers put the outcome reward on the last unmasked response token."""
    out = torch.zeros_like(mask)
    for b in range(mask.shape[0]):
        idx = torch.nonzero(mask[b]).flatten()
        if len(idx):
            out[b, idx[-1]] = rewards[b]
    return out


# ---- advantage batches ----
T = 6
batches = {
    # 8 completions, groups of 3, 3, 2; group 2 all equal (zero spread); row 7 fully masked (reward 0: no token holds it)
    "groups": dict(groups=[0, 0, 0, 1, 1, 1, 2, 2], lengths=[6, 3, 1, 5, 2, 4, 3, 0]),
    # singleton groups 1 and 3
    "singletons": dict(groups=[0, 0, 0, 1, 2, 2, 3], lengths=[2, 6, 4, 3, 5, 0, 6]),
}
for bname, spec in batches.items():
    B = len(spec["groups"])
    mask = mask_from_lengths(spec["lengths"], T)
    rewards = torch.round(rand(B) * 4) / 4 + (rand(B) < 0.5).double()
    if bname == "groups":
        rewards[6] = rewards[7] = 1.0
    for b in range(B):
        if spec["lengths"][b] == 0:
            rewards[b] = 0.0
    tlr = outcome_token_rewards(rewards, mask)
    index = spec["groups"]
    base = dict(rewards=L(rewards), groups=index, mask=L(mask), lengths=spec["lengths"])
    singleton = {"singleton": "verl"} if bname == "singletons" else {}
    adv_cases = [
        ("grpo", singleton, verl.grpo(tlr, mask, index)),
        ("dr-grpo", singleton, verl.grpo(tlr, mask, index, norm_adv_by_std_in_grpo=False)),
        ("rloo", singleton, verl.rloo(tlr, mask, index)),
        ("reinforce-pp", {}, verl.reinforce_plus_plus(tlr, mask, 1.0)),
        ("reinforce-pp-baseline", singleton, verl.reinforce_plus_plus_baseline(tlr, mask, index)),
        ("reinforce-pp-token", {}, verl.reinforce_plus_plus(tlr, mask, 1.0)),
        ("reinforce-pp-token", {"gamma": 0.9}, verl.reinforce_plus_plus(tlr, mask, 0.9)),
    ]
    for name, opts, expected in adv_cases:
        cases.append(dict(kind="advantage", id=f"{name} {bname} {json.dumps(opts)}", name=name, inputs=base,
                          options=opts, expected=L(expected)))
    baselines = torch.round(rand(B) * 4) / 4
    cases.append(dict(kind="advantage", id=f"remax outcome {bname}", name="remax",
                      inputs={**base, "baselines": L(baselines)}, options={},
                      expected=L(verl.remax(tlr, baselines, mask))))

# per-token rewards, gamma and masked spans (a tool-output span inside a response; a fully masked row)
B, T = 4, 8
mask = torch.tensor([
    [1, 1, 1, 0, 0, 1, 1, 1],
    [1, 1, 1, 1, 1, 1, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0],
    [1, 0, 1, 0, 1, 1, 1, 0],
], dtype=torch.float64)
token_rewards = randn(B, T) * (rand(B, T) < 0.4).double()
for gamma in (1.0, 0.95, 0.5):
    cases.append(dict(kind="advantage", id=f"reinforce-pp-token spans gamma {gamma}", name="reinforce-pp-token",
                      inputs=dict(rewards=[0.0] * B, groups=[0, 0, 1, 1], mask=L(mask), tokenRewards=L(token_rewards)),
                      options={"gamma": gamma}, expected=L(verl.reinforce_plus_plus(token_rewards, mask, gamma))))
baselines = randn(B)
cases.append(dict(kind="advantage", id="remax token rewards spans", name="remax",
                  inputs=dict(rewards=[0.0] * B, groups=[0, 1, 2, 3], mask=L(mask), tokenRewards=L(token_rewards),
                              baselines=L(baselines)),
                  options={}, expected=L(verl.remax(token_rewards, baselines, mask))))

# TRL's GRPO advantage: eps 1e-4 (cellrl {eps: 1e-4})
rewards = torch.round(rand(12) * 3) / 3
mask = torch.ones(12, 1)
cases.append(dict(kind="advantage", id="grpo TRL eps 1e-4", name="grpo",
                  inputs=dict(rewards=L(rewards), groups=[i // 4 for i in range(12)], mask=L(mask)),
                  options={"eps": 1e-4}, expected=L(trl.grpo_advantages(rewards, 4).unsqueeze(-1))))

# ---- aggregation ----
AGG = ["token-mean", "seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm"]
values = randn(5, 6)
masks = {
    "masked row": mask_from_lengths([6, 0, 3, 1, 5], 6),
    "all masked": torch.zeros(5, 6),
}
for mname, m in masks.items():
    for mode in AGG:
        for scale in ([None, 16] if mode == "seq-mean-token-sum-norm" else [None]):
            v = values.clone().requires_grad_(True)
            out = verl.agg_loss(v, m, mode, loss_scale_factor=scale)
            out.backward()
            cases.append(dict(kind="agg", id=f"{mode} {mname}{' C=16' if scale else ''}", mode=mode,
                              options={"scaleFactor": scale} if scale else {}, values=L(values), mask=L(m),
                              expected=out.item(), grad=L(v.grad)))

# ---- policy losses ----
B, T = 6, 7
logp = -rand(B, T) * 3
old = logp + randn(B, T) * 0.3
old[0, 0] = logp[0, 0] - 25  # log-ratio +25 (the ±20 clamp binds)
old[0, 1] = logp[0, 1] + 25  # −25
old[0, 2] = logp[0, 2] - 15  # +15
old[0, 3] = logp[0, 3]  # exactly 0
old[4] = logp[4] - 12  # a whole row at +12: GSPO's sequence log-ratio cap (10) binds
mask = mask_from_lengths([7, 4, 0, 6, 5, 1], T)
adv_tok = randn(B, T)
adv_tok[1, 1] = 0.0
adv_seq = randn(B).unsqueeze(-1).expand(B, T).clone()


def run_loss(fn, adv):
    lp = logp.clone().requires_grad_(True)
    loss, kl = fn(lp, adv)
    loss.backward()
    return loss.item(), L(lp.grad), None if kl is None else kl.item()


for adv_name, adv in (("token adv", adv_tok), ("sequence adv", adv_seq)):
    for mode in AGG:
        for name, fn, opts in (
            ("ppo-clip", lambda lp, a, m=mode: verl.policy_loss_vanilla(old, lp, a, mask, m, 0.2, 0.28, 3.0),
             {"clip": [0.2, 0.28], "clipC": 3}),
            ("cispo", lambda lp, a, m=mode: verl.policy_loss_cispo(old, lp, a, mask, m, 0.2, 0.28),
             {"clip": [0.2, 0.28]}),
            ("pg", lambda lp, a, m=mode: verl.policy_loss_gpg(lp, a, mask, m), {}),
        ):
            value, grad, kl = run_loss(fn, adv)
            cases.append(dict(kind="policy-loss", id=f"{name} {mode} {adv_name}", name=name,
                              options={**opts, "agg": mode}, logp=L(logp), oldLogp=L(old), adv=L(adv), mask=L(mask),
                              expected=value, grad=grad, approxKl=kl))
    for clip in ((3e-4, 4e-4), (0.2, 0.28)):
        value, grad, kl = run_loss(lambda lp, a: verl.policy_loss_gspo(old, lp, a, mask, clip[0], clip[1]), adv)
        cases.append(dict(kind="policy-loss", id=f"gspo clip {clip} {adv_name}", name="gspo",
                          options={"clip": list(clip), "agg": "seq-mean-token-mean"}, logp=L(logp), oldLogp=L(old),
                          adv=L(adv), mask=L(mask), expected=value, grad=grad, approxKl=kl))

# ---- KL estimators ----
x = torch.tensor([0.0, 1e-3, -1e-3, 0.5, -0.5, 2.0, -2.0, 5.0, -5.0, 15.0, -15.0, 25.0, -25.0, 30.0])
ref = -rand(1, x.numel()) * 2
lpk = ref + x.unsqueeze(0)
w = rand(1, x.numel()) + 0.5
for est, verl_name in (("k1", "kl"), ("abs", "abs"), ("k2", "mse"), ("k3", "low_var_kl"), ("k3+", "k3+")):
    lp = lpk.clone().requires_grad_(True)
    kl = verl.kl_penalty(lp, ref, verl_name)
    (kl * w).sum().backward()
    cases.append(dict(kind="kl", id=f"{est} (verl {verl_name})", estimator=est, logp=L(lpk), refLogp=L(ref), weights=L(w),
                      expected=L(kl.detach()), grad=L(lp.grad)))

# the exact full-vocabulary KL(π‖π_ref) per position: TRL's generalized_jsd at beta = 1 (KL(student‖teacher)) per token
pol = randn(2, 3, 7) * 2
refl = randn(2, 3, 7) * 2
wk = rand(2, 3) + 0.5
lg = pol.clone().requires_grad_(True)
per = torch.nn.functional.kl_div(torch.log_softmax(refl, -1), torch.log_softmax(lg, -1), reduction="none",
                                 log_target=True).sum(-1)
(per * wk).sum().backward()
cases.append(dict(kind="kl", id="exact (TRL kl_div, beta = 1, per position)", estimator="exact", logits=L(pol),
                  refLogits=L(refl), weights=L(wk), expected=L(per.detach()), grad=L(lg.grad)))

# ---- entropy from logits (verl_F.entropy_from_logits; model.entropyFromLogits) ----
ent_logits = randn(2, 3, 9) * 3
ent_logits[0, 0] = torch.tensor([40.0, -40.0, 0, 0, 0, 0, 0, 0, 0])  # nearly one-hot
lg = ent_logits.clone().requires_grad_(True)
H = verl.entropy_from_logits(lg)
wk = rand(2, 3) + 0.5
(H * wk).sum().backward()
cases.append(dict(kind="entropy", id="entropy_from_logits", logits=L(ent_logits), weights=L(wk), expected=L(H.detach()),
                  grad=L(lg.grad)))

# ---- distillation ----
B, T, V = 3, 4, 11
student = randn(B, T, V) * 2
teacher = randn(B, T, V) * 3
dmask = mask_from_lengths([4, 2, 0], T)
for beta in (0.0, 0.3, 0.5, 1.0):
    for temp in (1.0, 2.0):
        s = student.clone().requires_grad_(True)
        loss = trl.generalized_jsd_loss(s, teacher, dmask, beta=beta, temperature=temp)
        loss.backward()
        names = ["jsd"] + (["forward-kl"] if beta == 0 else ["reverse-kl"] if beta == 1 else [])
        for div in names:
            cases.append(dict(kind="distill", id=f"TRL generalized_jsd beta {beta} T {temp} as {div}",
                              options={"divergence": div, "beta": beta, "temperature": temp}, teacher="full",
                              student=L(student), teacherLogits=L(teacher), mask=L(dmask), expected=loss.item(),
                              grad=L(s.grad)))
    # top-k = V with the tail bucket: the full distributions again
    if beta in (0.0, 0.5):
        s = student.clone().requires_grad_(True)
        loss = trl.generalized_jsd_loss(s, teacher, dmask, beta=beta)
        loss.backward()
        tk_lp, tk_ids = torch.topk(torch.log_softmax(teacher, dim=-1), V, dim=-1)
        cases.append(dict(kind="distill", id=f"TRL generalized_jsd beta {beta}, top-k = V, tail bucket",
                          options={"divergence": "jsd", "beta": beta}, teacher="topk", K=V, student=L(student),
                          topkIds=L(tk_ids), topkLogprobs=L(tk_lp), mask=L(dmask), expected=loss.item(),
                          grad=L(s.grad)))

teacher_lp = torch.log_softmax(teacher, dim=-1)
for K in (4, V):
    tk_lp, tk_ids = torch.topk(teacher_lp, K, dim=-1)
    for div, beta, fn in (
        ("forward-kl", 0.5, lambda z, tl, ti, b: gkd.topk_kl(z, tl, ti)),
        ("jsd", 0.5, gkd.topk_jsd),
        ("jsd", 0.1, gkd.topk_jsd),
        ("reverse-kl", 0.5, lambda z, tl, ti, b: gkd.topk_rkl(z, tl, ti)),
    ):
        s = student.clone().requires_grad_(True)
        per = fn(s.reshape(-1, V), tk_lp.reshape(-1, K), tk_ids.reshape(-1, K), beta)
        m = dmask.reshape(-1)
        loss = (per * m).sum() / m.sum()  # token mean over the mask
        loss.backward()
        cases.append(dict(kind="distill", id=f"verl gkd {div} beta {beta} K {K}",
                          options={"divergence": div, "beta": beta, "topkTail": "verl"}, teacher="topk", K=K,
                          student=L(student), topkIds=L(tk_ids), topkLogprobs=L(tk_lp), mask=L(dmask),
                          expected=loss.item(), grad=L(s.grad)))

json.dump({"torch": torch.__version__, "cases": cases}, sys.stdout)
