"""Reference numerics of TRL (huggingface/trl, Apache-2.0), rewritten line by line in PyTorch from the public sources:

- trl/trainer/gkd_trainer.py GKDTrainer.generalized_jsd_loss (reduction "batchmean" with labels: the sum over the
  unmasked tokens' divergences divided by their count);
- trl/trainer/grpo_trainer.py: the group advantages, (r − mean_g) / (std_g + 1e-4) with torch.std (scale_rewards "group").

Not TRL's code: the same formulas written for this test, float64.
"""

import torch
import torch.nn.functional as F


def generalized_jsd_loss(student_logits, teacher_logits, mask, beta=0.5, temperature=1.0):
    student_logits = student_logits / temperature
    teacher_logits = teacher_logits / temperature
    student_log_probs = F.log_softmax(student_logits, dim=-1)
    teacher_log_probs = F.log_softmax(teacher_logits, dim=-1)
    if beta == 0:
        jsd = F.kl_div(student_log_probs, teacher_log_probs, reduction="none", log_target=True)
    elif beta == 1:
        jsd = F.kl_div(teacher_log_probs, student_log_probs, reduction="none", log_target=True)
    else:
        b = torch.tensor(beta, dtype=student_log_probs.dtype)
        mixture_log_probs = torch.logsumexp(
            torch.stack([student_log_probs + torch.log(1 - b), teacher_log_probs + torch.log(b)]), dim=0
        )
        kl_teacher = F.kl_div(mixture_log_probs, teacher_log_probs, reduction="none", log_target=True)
        kl_student = F.kl_div(mixture_log_probs, student_log_probs, reduction="none", log_target=True)
        jsd = b * kl_teacher + (1 - b) * kl_student
    keep = mask > 0
    jsd = jsd[keep]
    return jsd.sum() / keep.sum()


def grpo_advantages(rewards, num_generations, eps=1e-4):
    grouped = rewards.view(-1, num_generations)
    mean = grouped.mean(dim=1).repeat_interleave(num_generations, dim=0)
    std = grouped.std(dim=1).repeat_interleave(num_generations, dim=0)
    return (rewards - mean) / (std + eps)
