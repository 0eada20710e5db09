"""Reference numerics of verl's GKD recipe (verl-recipe gkd/megatron, megatron_distill_losses.py, Apache-2.0), per token
from the teacher's top-k log-probs P_K (not renormalised) and the student's full log-softmax Q, as documented in
shared/reference/algorithms.md §4.4 from the public source:

- kl:  Σ_K P (log P − log Q); backward w.r.t. the student logits is Q − P scattered on K (the recipe assumes Σ_K P = 1);
- rkl: both renormalised on K, Σ_K Q̂ log(Q̂ / P̂) (autodiff gives the recipe's Q̂ (log(Q̂/P̂) − RKL) on K, 0 elsewhere);
- jsd: β clamped to [1e-6, 1 − 1e-6]; on K, M = βP + (1 − β)Q; off K the teacher is 0, M = (1 − β)Q, so the rest term
  of KL(Q‖M) is (1 − Σ_K Q)·(−log(1 − β)); value β Σ_K P log(P/M) + (1 − β)[Σ_K Q log(Q/M) + rest]; exact gradient.

Not verl's code: the same formulas written for this test, float64. Inputs: logits [N, V], topk_logp / topk_ids [N, K].
"""

import math

import torch


class _TopkForwardKl(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, topk_logp, topk_ids):
        logq = torch.log_softmax(logits, dim=-1)
        p = topk_logp.exp()
        value = (p * (topk_logp - logq.gather(-1, topk_ids))).sum(-1)
        ctx.save_for_backward(logq, p, topk_ids)
        return value

    @staticmethod
    def backward(ctx, grad):
        logq, p, topk_ids = ctx.saved_tensors
        g = logq.exp()
        g = g.scatter_add(-1, topk_ids, -p)  # Q − P_K
        return grad.unsqueeze(-1) * g, None, None


def topk_kl(logits, topk_logp, topk_ids):
    return _TopkForwardKl.apply(logits, topk_logp, topk_ids)


def topk_rkl(logits, topk_logp, topk_ids):
    logq_k = torch.log_softmax(logits, dim=-1).gather(-1, topk_ids)
    logq_hat = logq_k - torch.logsumexp(logq_k, dim=-1, keepdim=True)
    logp_hat = topk_logp - torch.logsumexp(topk_logp, dim=-1, keepdim=True)
    return (logq_hat.exp() * (logq_hat - logp_hat)).sum(-1)


def topk_jsd(logits, topk_logp, topk_ids, beta):
    beta = min(max(beta, 1e-6), 1 - 1e-6)
    logq_k = torch.log_softmax(logits, dim=-1).gather(-1, topk_ids)
    p = topk_logp.exp()
    q = logq_k.exp()
    logm = torch.logsumexp(torch.stack([topk_logp + math.log(beta), logq_k + math.log(1 - beta)]), dim=0)
    kl_p = (p * (topk_logp - logm)).sum(-1)
    rest = (1 - q.sum(-1)) * (-math.log(1 - beta))
    kl_q = (q * (logq_k - logm)).sum(-1) + rest
    return beta * kl_p + (1 - beta) * kl_q
