"""PyTorch peer of cellrl's benchmark model: the same Llama-style decoder, trained and sampled on the CPU.

Run by bench/run.ts with /usr/bin/python3 (Debian python3-torch). It reads one JSON command per line on stdin and
answers one JSON line on stdout, so the TypeScript side can interleave tfjs and torch measurements in one run (both
see the same machine load). Commands:

  {"cmd": "train", "config": {...}, "steps": 5}      -> {"times": [wall seconds per step], "cpu": [CPU seconds per step]}
  {"cmd": "generate", "config": {...}, "reps": 3}     -> {"times": [...], "cpu": [...]} per generate call
  train and generate also answer "peak_rss_mb": the process's peak resident set during that call (Linux: VmHWM after
  resetting it through /proc/self/clear_refs; elsewhere the lifetime maximum, ru_maxrss).
  {"cmd": "profile", "config": {...}, "kind": "train"|"generate", "steps": 2}
                                                    -> {"step_ms": median unprofiled wall ms, "profiled_ms",
                                                        "ops": [{"name", "ms" (self CPU), "calls", "flops"}]}
  Every reply also carries "cmd_cpu_s" and "cmd_wall_s": the command's own process CPU and wall seconds.
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


def make_train(cfg):
    """One train step of a fresh seeded model: forward + cross-entropy + backward + AdamW."""
    torch.manual_seed(0)
    B, T = cfg["batch"], cfg["seq"]
    m = Llama(cfg, T)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=0.01)
    ids = torch.randint(0, cfg["vocab_size"], (B, T))

    def step():
        logits = m(ids[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def make_generate(cfg):
    """One generate call of a fresh seeded model: prefill, then one sampled token per step from a KV cache."""
    torch.manual_seed(0)
    B, P, N = cfg["batch"], cfg["prompt_len"], cfg["new_tokens"]
    S = P + N
    m = Llama(cfg, S)
    m.eval()
    H = cfg["num_attention_heads"]
    hd = cfg["hidden_size"] // H
    prompt = torch.randint(0, cfg["vocab_size"], (B, P))

    @torch.inference_mode()
    def step():
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

    return step


def timed(step, n):
    """Wall and CPU seconds of n calls after one untimed warm-up call (allocator warm-up)."""
    times, cpu = [], []
    for i in range(n + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        if i > 0:
            times.append(dt)
            cpu.append(dc)
    return times, cpu


def train(cfg, steps):
    return timed(make_train(cfg), steps)


def generate(cfg, reps):
    return timed(make_generate(cfg), reps)


MATMUL_OPS = {"aten::mm", "aten::bmm", "aten::addmm", "aten::baddbmm", "aten::addbmm", "aten::mv", "aten::dot"}


def matmul_flops(name, shapes):
    """2 x batch x M x K x N of one matmul op from its recorded input shapes ([] when not recorded)."""
    mats = [s for s in shapes if isinstance(s, list) and len(s) >= 1]
    if name in ("aten::addmm", "aten::baddbmm", "aten::addbmm"):
        mats = mats[1:3]  # (bias or accumulator, a, b, ...)
    if len(mats) < 2:
        return 0
    a, b = mats[0], mats[1]
    if len(a) == 1:  # dot
        return 2 * a[0]
    M, K = a[-2], a[-1]
    N = b[-1] if len(b) >= 2 else 1
    batch = 1
    for d in a[:-2]:
        batch *= d
    return 2 * batch * M * K * N


def self_times(events):
    """Self time (us) of each (name, shapes) from raw profiler events: an op's duration minus its direct children's,
    per thread (events nest by start and end time on the thread that ran them)."""
    by_thread = {}
    for e in events:
        by_thread.setdefault(e[3], []).append(e)
    out = []
    for evs in by_thread.values():
        evs.sort(key=lambda e: (e[1], -e[2]))
        stack = []  # (end_us, index into out)
        for name, start, dur, _tid, shapes in evs:
            while stack and stack[-1][0] <= start:
                stack.pop()
            if stack:
                out[stack[-1][1]][1] -= dur
            out.append([name, dur, shapes])
            stack.append((start + dur, len(out) - 1))
    return out


def profiled_ops(step):
    """Run step() under the profiler; returns (wall seconds of the profiled call, raw events as (name, start_us,
    duration_us, thread, shapes)). torch.profiler's python-side parsing of a generate call's ~5x10^5 events takes
    ~40 s, so the C++ results are read directly when this torch has the API (1.13 does), else torch.profiler is used."""
    try:
        from torch._C._profiler import _ExperimentalConfig
        from torch.autograd import (
            ProfilerActivity,
            ProfilerConfig,
            ProfilerState,
            _disable_profiler,
            _enable_profiler,
            _prepare_profiler,
        )

        conf = ProfilerConfig(ProfilerState.KINETO, True, False, False, False, False, _ExperimentalConfig())
        acts = {ProfilerActivity.CPU}
        _prepare_profiler(conf, acts)
        _enable_profiler(conf, acts)
        t0 = time.perf_counter()
        try:
            step()
        finally:
            profiled = time.perf_counter() - t0
            res = _disable_profiler()
        events = [(e.name(), e.start_us(), e.duration_us(), e.start_thread_id(), e.shapes()) for e in res.events()]
        return profiled, events
    except (ImportError, TypeError, AttributeError):
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
            t0 = time.perf_counter()
            step()
            profiled = time.perf_counter() - t0
        events = [
            (e.name, e.time_range.start, e.time_range.end - e.time_range.start, e.thread, e.input_shapes or [])
            for e in prof.events()
        ]
        return profiled, events


def profile_step(cfg, kind, steps):
    """One warm-up call, `steps` unprofiled calls (median wall ms), one call under the profiler: self CPU ms, calls
    and matmul FLOPs per op name (bench/profile.ts groups them)."""
    step = make_train(cfg) if kind == "train" else make_generate(cfg)
    times, _ = timed(step, max(1, steps))
    profiled, events = profiled_ops(step)
    ops = {}
    for name, self_us, shapes in self_times(events):
        o = ops.setdefault(name, {"name": name, "ms": 0.0, "calls": 0, "flops": 0})
        o["ms"] += self_us / 1000.0
        o["calls"] += 1
        if name in MATMUL_OPS:
            o["flops"] += matmul_flops(name, shapes)
    times.sort()
    mid = len(times) // 2
    step_s = times[mid] if len(times) % 2 else (times[mid - 1] + times[mid]) / 2
    return {
        "step_ms": step_s * 1000.0,
        "profiled_ms": profiled * 1000.0,
        "ops": sorted(ops.values(), key=lambda o: -o["ms"]),
    }


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
        # The whole command's CPU and wall seconds (model build and warm-up included): bench/run.ts sets them against
        # the machine's busy time over the same interval to tell how much CPU other processes took meanwhile.
        c_cmd, t_cmd = time.process_time(), time.perf_counter()
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
                elif cmd == "profile":
                    res = profile_step(cfg, msg.get("kind", "train"), int(msg.get("steps", 2)))
                else:
                    res = {"error": "unknown cmd " + str(cmd)}
        except Exception as e:  # report to the caller instead of dying mid-run
            res = {"error": repr(e)}
        res["cmd_cpu_s"] = time.process_time() - c_cmd
        res["cmd_wall_s"] = time.perf_counter() - t_cmd
        sys.stdout.write(json.dumps(res) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
