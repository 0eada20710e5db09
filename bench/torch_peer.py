"""PyTorch peer of cellrl's benchmark model: the same Llama-style decoder, trained and sampled on the CPU.

Run by bench/run.ts with /usr/bin/python3 (Debian python3-torch). It reads one JSON command per line on stdin and
answers one JSON line on stdout, so the TypeScript side can interleave tfjs and torch measurements in one run (both
see the same machine load). Commands:

  {"cmd": "train", "config": {...}, "steps": 5}      -> {"times": [wall seconds per step], "cpu": [CPU seconds per step]}
  {"cmd": "generate", "config": {...}, "reps": 3}     -> {"times": [...], "cpu": [...]} per generate call
  train and generate also answer "peak_rss_mb": the process's peak resident set during that call (Linux: VmHWM after
  resetting it through /proc/self/clear_refs; elsewhere the lifetime maximum, ru_maxrss).
  {"cmd": "info"}                                       -> {"torch": "1.13...", "threads": 1, "maps": [...],
                                                            "matmul_gflops": fp32 GFLOP per CPU-second, 1 thread}
  {"cmd": "quit"}

Config keys (HF names): hidden_size, num_hidden_layers, num_attention_heads, vocab_size, intermediate_size,
tie_word_embeddings, batch, seq (train), prompt_len, new_tokens (generate), threads.

Architecture (matches lib/model's Llama): token embedding, per layer RMSNorm -> q/k/v projections (no bias) -> RoPE
(rotate-half, theta 10000) -> causal softmax attention -> o projection -> residual, RMSNorm -> SwiGLU
(down(silu(gate(x)) * up(x))) -> residual; final RMSNorm; LM head (tied or untied). Train step = forward +
cross-entropy on the B*(T-1) next-token targets + backward + AdamW(lr 1e-3, weight decay 0.01). Generate = one
prefill of the prompt, then one token per step from a preallocated KV cache, sampling at temperature 1.
"""

import ctypes
import gc
import json
import math
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(hd, max_len, theta=10000.0):
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2).float() / hd))
    t = torch.arange(max_len).float()
    freqs = torch.outer(t, inv)
    emb = torch.cat([freqs, freqs], dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class Block(nn.Module):
    def __init__(self, d, heads, inter):
        super().__init__()
        self.h = heads
        self.hd = d // heads
        self.n1 = RMSNorm(d)
        self.q = nn.Linear(d, d, bias=False)
        self.k = nn.Linear(d, d, bias=False)
        self.v = nn.Linear(d, d, bias=False)
        self.o = nn.Linear(d, d, bias=False)
        self.n2 = RMSNorm(d)
        self.gate = nn.Linear(d, inter, bias=False)
        self.up = nn.Linear(d, inter, bias=False)
        self.down = nn.Linear(inter, d, bias=False)

    def forward(self, x, cos, sin, mask, cache=None, pos=0):
        B, T, D = x.shape
        h = self.n1(x)
        q = self.q(h).view(B, T, self.h, self.hd).transpose(1, 2)
        k = self.k(h).view(B, T, self.h, self.hd).transpose(1, 2)
        v = self.v(h).view(B, T, self.h, self.hd).transpose(1, 2)
        c, s = cos[pos:pos + T], sin[pos:pos + T]
        q = q * c + rotate_half(q) * s
        k = k * c + rotate_half(k) * s
        if cache is not None:
            kc, vc = cache
            kc[:, :, pos:pos + T] = k
            vc[:, :, pos:pos + T] = v
            k, v = kc[:, :, :pos + T], vc[:, :, :pos + T]
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(self.hd))
        if mask is not None:
            att = att + mask
        att = att.softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, D)
        x = x + self.o(y)
        h = self.n2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Llama(nn.Module):
    def __init__(self, cfg, max_len):
        super().__init__()
        d, V = cfg["hidden_size"], cfg["vocab_size"]
        self.emb = nn.Embedding(V, d)
        self.blocks = nn.ModuleList(
            [Block(d, cfg["num_attention_heads"], cfg["intermediate_size"]) for _ in range(cfg["num_hidden_layers"])]
        )
        self.norm = RMSNorm(d)
        self.tied = cfg.get("tie_word_embeddings", False)
        if not self.tied:
            self.head = nn.Linear(d, V, bias=False)
        cos, sin = rope_tables(d // cfg["num_attention_heads"], max_len)
        self.register_buffer("cos", cos)
        self.register_buffer("sin", sin)
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)

    def forward(self, ids, caches=None, pos=0):
        T = ids.shape[1]
        x = self.emb(ids)
        if caches is None or T > 1:
            S = pos + T
            mask = torch.full((T, S), float("-inf")).triu(pos + 1)
        else:
            mask = None
        for i, blk in enumerate(self.blocks):
            x = blk(x, self.cos, self.sin, mask, None if caches is None else caches[i], pos)
        x = self.norm(x)
        return x @ self.emb.weight.t() if self.tied else self.head(x)


def train(cfg, steps):
    torch.manual_seed(0)
    B, T = cfg["batch"], cfg["seq"]
    m = Llama(cfg, T)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=0.01)
    ids = torch.randint(0, cfg["vocab_size"], (B, T))
    times, cpu = [], []
    for i in range(steps + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        logits = m(ids[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        if i > 0:  # the first step includes allocator warm-up
            times.append(dt)
            cpu.append(dc)
    return times, cpu


@torch.inference_mode()
def generate(cfg, reps):
    torch.manual_seed(0)
    B, P, N = cfg["batch"], cfg["prompt_len"], cfg["new_tokens"]
    S = P + N
    m = Llama(cfg, S)
    m.eval()
    H = cfg["num_attention_heads"]
    hd = cfg["hidden_size"] // H
    prompt = torch.randint(0, cfg["vocab_size"], (B, P))
    times, cpu = [], []
    for r in range(reps + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        caches = [(torch.empty(B, H, S, hd), torch.empty(B, H, S, hd)) for _ in range(cfg["num_hidden_layers"])]
        logits = m(prompt, caches, 0)[:, -1]
        out = []
        pos = P
        for _ in range(N):
            nxt = torch.multinomial(logits.softmax(-1), 1)
            out.append(nxt)
            if len(out) == N:
                break
            logits = m(nxt, caches, pos)[:, -1]
            pos += 1
        torch.cat(out, 1)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        if r > 0:
            times.append(dt)
            cpu.append(dc)
    return times, cpu


def blas_maps():
    """Shared objects of this process that look like a BLAS/LAPACK (bench/peer-check.ts names them)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "/" in line}
    except OSError:
        return []
    return sorted(p for p in paths if any(k in p.lower() for k in ("blas", "lapack", "mkl", "blis")))


def matmul_gflops(n=256, budget=0.3):
    """fp32 n x n x n matmul rate on the current thread count, in GFLOP per CPU-second (robust to a busy machine)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    reps, c0 = 0, time.process_time()
    while True:
        a @ b
        reps += 1
        dc = time.process_time() - c0
        if dc >= budget or reps >= 2000:
            break
    return 2.0 * n ** 3 * reps / max(dc, 1e-9) / 1e9


def reset_peak_rss():
    # Hand memory freed by earlier calls back to the OS first (glibc keeps it resident), so the mark starts at what is
    # live and the peak is this call's, not the previous call's.
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


def rss_mb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def peak_rss_mb(reset_ok):
    if reset_ok:
        try:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024.0
        except OSError:
            pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    torch.set_num_threads(1)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        msg = json.loads(line)
        cmd = msg.get("cmd")
        try:
            if cmd == "quit":
                break
            if cmd == "info":
                torch.set_num_threads(1)
                res = {
                    "torch": torch.__version__,
                    "threads": torch.get_num_threads(),
                    "maps": blas_maps(),
                    "matmul_gflops": matmul_gflops(),
                    "rss_mb": rss_mb(),
                }
            else:
                cfg = msg["config"]
                torch.set_num_threads(int(cfg.get("threads", 1)))
                reset_ok = reset_peak_rss()
                if cmd == "train":
                    t, c = train(cfg, int(msg.get("steps", 5)))
                    res = {"times": t, "cpu": c, "peak_rss_mb": peak_rss_mb(reset_ok)}
                elif cmd == "generate":
                    t, c = generate(cfg, int(msg.get("reps", 3)))
                    res = {"times": t, "cpu": c, "peak_rss_mb": peak_rss_mb(reset_ok)}
                else:
                    res = {"error": "unknown cmd " + str(cmd)}
        except Exception as e:  # report to the caller instead of dying mid-run
            res = {"error": repr(e)}
        sys.stdout.write(json.dumps(res) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
