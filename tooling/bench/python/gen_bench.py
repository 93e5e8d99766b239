#!/usr/bin/env python3
"""PyTorch reference for the bench's generation figure (gen_tokens_per_s_10_samples).

Decodes the bench's generation shapes with an eager PyTorch Llama and a KV cache:
4 prompts x 10 weight samples = 40 sequences in one batch, prompts of 64 random tokens,
32 new tokens, temperature 0.7, top-p 0.9 (transformers' TopPLogitsWarper), LoRA r 8 /
alpha 16 on q_proj and v_proj with one weight draw A + E_s fixed per sequence (BLoB's
generation: E_s = sigma * z_s, z_s ~ N(0, 1)).

Debian has no python3-transformers, so the decoder is written here in plain torch, op for op
as transformers' eager LlamaForCausalLM (RMSNorm, rotate_half RoPE, eager attention with a
causal mask, SiLU MLP, tied head) and its generate loop (the prompt in one prefill, then one
token per step with torch.cat onto the cache, as DynamicCache does). The weights are the
bench's random-40M model.safetensors (read with the small parser below: no safetensors
package needed), or random ones of the config's shapes with --random-weights.

    apt-get install -y python3-torch
    pnpm bench --models random-40M   # makes node_modules/.cache/bayes-peft/random-40M once
    /usr/bin/python3 tooling/bench/python/gen_bench.py --threads 1
    /usr/bin/python3 tooling/bench/python/gen_bench.py --threads 2

One JSON line on stdout: tokens/s and seconds per question (medians of --repeats timed runs
after one warm-up), the prefill alone, CPU seconds, and the threads torch ran with. See
docs/performance.md.
"""
import argparse
import json
import math
import os
import struct
import sys
import time

DEFAULT_DIR = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'node_modules', '.cache', 'bayes-peft', 'random-40M')


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--model-dir', default=DEFAULT_DIR, help='Hugging Face Llama folder (config.json, model.safetensors)')
    p.add_argument('--threads', type=int, default=1, help='torch intra-op threads (and OpenBLAS/OpenMP threads)')
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--questions', type=int, default=4)
    p.add_argument('--samples', type=int, default=10)
    p.add_argument('--prompt-tokens', type=int, default=64)
    p.add_argument('--new-tokens', type=int, default=32)
    p.add_argument('--temperature', type=float, default=0.7)
    p.add_argument('--top-p', type=float, default=0.9)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--random-weights', action='store_true', help='random weights of the config shapes instead of model.safetensors')
    return p.parse_args()


args = parse_args()
# Before torch loads: the BLAS below torch reads these once.
for var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ[var] = str(args.threads)

import torch  # noqa: E402

torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)


def read_safetensors(path):
    """name -> float32 tensor, for F32 files (the bench's random models are F32)."""
    with open(path, 'rb') as f:
        (n,) = struct.unpack('<Q', f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name == '__metadata__':
            continue
        if meta['dtype'] != 'F32':
            raise SystemExit(f'{name}: dtype {meta["dtype"]} (only F32 is read here; use --random-weights)')
        start, end = meta['data_offsets']
        out[name] = torch.frombuffer(bytearray(data[start:end]), dtype=torch.float32).reshape(meta['shape'])
    return out


class Config:
    def __init__(self, d):
        self.hidden = d['hidden_size']
        self.layers = d['num_hidden_layers']
        self.heads = d['num_attention_heads']
        self.kv_heads = d.get('num_key_value_heads', self.heads)
        self.head_dim = d.get('head_dim') or self.hidden // self.heads
        self.inter = d['intermediate_size']
        self.vocab = d['vocab_size']
        self.eps = d['rms_norm_eps']
        self.theta = d.get('rope_theta', 10000.0)
        self.tied = d.get('tie_word_embeddings', False)
        self.eos = d.get('eos_token_id')


def rms_norm(x, w, eps):
    variance = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(variance + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Llama:
    """Eager Llama with per-sequence LoRA draws on q_proj and v_proj."""

    def __init__(self, cfg, weights, lora_r, lora_alpha, sequences):
        self.cfg = cfg
        self.w = weights
        c = cfg
        inv = 1.0 / (c.theta ** (torch.arange(0, c.head_dim, 2, dtype=torch.float32) / c.head_dim))
        self.inv_freq = inv
        self.scaling = lora_alpha / lora_r
        # BLoB's fixed generation draw per sequence: A + sigma * z_s, sigma = rho^2 (eps >= 0), rho ~ U(eps-ish): small.
        self.lora = {}
        for l in range(c.layers):
            for name, out_f in (('q_proj', c.heads * c.head_dim), ('v_proj', c.kv_heads * c.head_dim)):
                A = torch.randn(lora_r, c.hidden) / math.sqrt(c.hidden)
                B = torch.randn(out_f, lora_r) * 0.01
                sigma = torch.full((lora_r, c.hidden), 0.05) ** 2
                E = sigma * torch.randn(sequences, lora_r, c.hidden)
                # [S, in, r]: one (A + E_s)^T per sequence, and B^T [r, out].
                self.lora[(l, name)] = ((A + E).transpose(1, 2).contiguous(), B.t().contiguous())

    def rope(self, positions):
        freqs = positions[..., None].float() * self.inv_freq  # [N, T, D/2]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos()[:, None], emb.sin()[:, None]  # [N, 1, T, D]

    def proj(self, x, l, name):
        y = torch.nn.functional.linear(x, self.w[f'model.layers.{l}.self_attn.{name}.weight'])
        lora = self.lora.get((l, name))
        if lora is not None:
            At, Bt = lora
            y = y + torch.bmm(x, At) @ Bt * self.scaling
        return y

    def forward(self, ids, positions, mask, cache):
        """ids, positions [N, T]; mask [N, total] (1 = real); cache: list of (k, v) or None. Last-position logits."""
        c = self.cfg
        n, t = ids.shape
        h = torch.nn.functional.embedding(ids, self.w['model.embed_tokens.weight'])
        cos, sin = self.rope(positions)
        past = 0 if cache is None else cache[0][0].shape[2]
        total = past + t
        # Causal + padding bias [N, 1, T, total].
        causal = torch.ones(t, total, dtype=torch.bool).tril(past)
        allowed = causal[None, None] & mask[:, None, None, :].bool()
        bias = torch.zeros(n, 1, t, total).masked_fill(~allowed, torch.finfo(torch.float32).min)
        new_cache = []
        for l in range(c.layers):
            p = f'model.layers.{l}.'
            x = rms_norm(h, self.w[p + 'input_layernorm.weight'], c.eps)
            q = self.proj(x, l, 'q_proj').view(n, t, c.heads, c.head_dim).transpose(1, 2)
            k = torch.nn.functional.linear(x, self.w[p + 'self_attn.k_proj.weight']).view(n, t, c.kv_heads, c.head_dim).transpose(1, 2)
            v = self.proj(x, l, 'v_proj').view(n, t, c.kv_heads, c.head_dim).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            if cache is not None:
                k = torch.cat([cache[l][0], k], dim=2)
                v = torch.cat([cache[l][1], v], dim=2)
            new_cache.append((k, v))
            rep = c.heads // c.kv_heads
            kr = k.repeat_interleave(rep, dim=1) if rep > 1 else k
            vr = v.repeat_interleave(rep, dim=1) if rep > 1 else v
            scores = torch.matmul(q, kr.transpose(2, 3)) / math.sqrt(c.head_dim) + bias
            probs = torch.softmax(scores, dim=-1, dtype=torch.float32)
            attn = torch.matmul(probs, vr).transpose(1, 2).reshape(n, t, c.heads * c.head_dim)
            h = h + torch.nn.functional.linear(attn, self.w[p + 'self_attn.o_proj.weight'])
            x = rms_norm(h, self.w[p + 'post_attention_layernorm.weight'], c.eps)
            gate = torch.nn.functional.linear(x, self.w[p + 'mlp.gate_proj.weight'])
            up = torch.nn.functional.linear(x, self.w[p + 'mlp.up_proj.weight'])
            h = h + torch.nn.functional.linear(torch.nn.functional.silu(gate) * up, self.w[p + 'mlp.down_proj.weight'])
        last = rms_norm(h[:, -1, :], self.w['model.norm.weight'], c.eps)
        head = self.w['model.embed_tokens.weight'] if c.tied else self.w['lm_head.weight']
        return torch.nn.functional.linear(last, head), new_cache


def top_p_sample(logits, temperature, top_p):
    """transformers' TemperatureLogitsWarper, TopPLogitsWarper, then multinomial."""
    scores = logits / temperature
    sorted_logits, sorted_indices = torch.sort(scores, descending=False)
    cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    remove_sorted = cumulative <= (1 - top_p)
    remove_sorted[..., -1:] = 0  # keep at least one token
    remove = remove_sorted.scatter(1, sorted_indices, remove_sorted)
    scores = scores.masked_fill(remove, -float('inf'))
    return torch.multinomial(torch.softmax(scores, dim=-1), num_samples=1).squeeze(1)


@torch.no_grad()
def generate(model, prompts, samples, new_tokens, temperature, top_p):
    """prompts [Q, T] (no padding): every prompt repeated `samples` times, as num_return_sequences does."""
    ids = prompts.repeat_interleave(samples, dim=0)
    n, t = ids.shape
    mask = torch.ones(n, t, dtype=torch.long)
    positions = torch.arange(t)[None].expand(n, t)
    logits, cache = model.forward(ids, positions, mask, None)
    out = []
    finished = torch.zeros(n, dtype=torch.bool)
    eos = model.cfg.eos
    for step in range(new_tokens):
        token = top_p_sample(logits, temperature, top_p)
        if eos is not None:
            token = torch.where(finished, torch.full_like(token, eos), token)
            finished |= token == eos
        out.append(token)
        if step + 1 == new_tokens or bool(finished.all()):
            break
        mask = torch.cat([mask, torch.ones(n, 1, dtype=torch.long)], dim=1)
        logits, cache = model.forward(token[:, None], torch.full((n, 1), t + step), mask, cache)
    return torch.stack(out, dim=1)


def generated_tokens(out, eos):
    """Tokens up to and including each sequence's EOS (the padding after it is not generated)."""
    if eos is None:
        return int(out.numel())
    hit = (out == eos).int()
    # A position counts while no EOS came strictly before it.
    before = hit.cumsum(dim=1) - hit
    return int((before == 0).sum())


def main():
    with open(os.path.join(args.model_dir, 'config.json')) as f:
        cfg = Config(json.load(f))
    if args.random_weights:
        weights = random_weights(cfg)
    else:
        path = os.path.join(args.model_dir, 'model.safetensors')
        if not os.path.exists(path):
            raise SystemExit(f'{path} not found: run `pnpm bench --models random-40M` once (it makes the model), or pass --random-weights')
        weights = read_safetensors(path)
    sequences = args.questions * args.samples
    model = Llama(cfg, weights, 8, 16, sequences)
    g = torch.Generator().manual_seed(args.seed)
    prompts = torch.randint(4, cfg.vocab, (args.questions, args.prompt_tokens), generator=g)

    def timed(new_tokens):
        t0, c0 = time.perf_counter(), time.process_time()
        out = generate(model, prompts, args.samples, new_tokens, args.temperature, args.top_p)
        s, cpu = time.perf_counter() - t0, time.process_time() - c0
        return s, generated_tokens(out, cfg.eos), cpu

    runs, prefill = [], []
    for i in range(1 + args.repeats):
        s, tokens, cpu = timed(args.new_tokens)
        p, _, _ = timed(1)
        print(f'run {i + 1}/{1 + args.repeats}{" (warm-up)" if i == 0 else ""}: {s:.2f} s ({cpu:.2f} s CPU) for {tokens} tokens, prefill + first token {p:.2f} s', file=sys.stderr)
        if i > 0:
            runs.append((s, tokens, cpu))
            prefill.append(p)
    med = sorted(runs)[len(runs) // 2]
    print(json.dumps({
        'engine': f'pytorch {torch.__version__} eager',
        'threads': torch.get_num_threads(),
        'gen_tokens_per_s_10_samples': round(med[1] / med[0], 2),
        'gen_s_per_question': round(med[0] / args.questions, 3),
        'gen_s': round(med[0], 3),
        'gen_prefill_s': round(sorted(prefill)[len(prefill) // 2], 3),
        # CPU seconds of the process (every thread): steadier than wall time on a shared machine.
        'gen_cpu_s': round(sorted(c for _, _, c in runs)[len(runs) // 2], 3),
        'gen_runs_s': [round(s, 3) for s, _, _ in runs],
        'shape': {'questions': args.questions, 'samples': args.samples, 'prompt_tokens': args.prompt_tokens, 'new_tokens': args.new_tokens,
                  'temperature': args.temperature, 'top_p': args.top_p},
        'openblas_coretype': os.environ.get('OPENBLAS_CORETYPE'),
    }))


def random_weights(cfg):
    c = cfg
    std = 0.02
    w = {'model.embed_tokens.weight': torch.randn(c.vocab, c.hidden) * std, 'model.norm.weight': torch.ones(c.hidden)}
    if not c.tied:
        w['lm_head.weight'] = torch.randn(c.vocab, c.hidden) * std
    for l in range(c.layers):
        p = f'model.layers.{l}.'
        w[p + 'input_layernorm.weight'] = torch.ones(c.hidden)
        w[p + 'post_attention_layernorm.weight'] = torch.ones(c.hidden)
        w[p + 'self_attn.q_proj.weight'] = torch.randn(c.heads * c.head_dim, c.hidden) * std
        w[p + 'self_attn.k_proj.weight'] = torch.randn(c.kv_heads * c.head_dim, c.hidden) * std
        w[p + 'self_attn.v_proj.weight'] = torch.randn(c.kv_heads * c.head_dim, c.hidden) * std
        w[p + 'self_attn.o_proj.weight'] = torch.randn(c.hidden, c.heads * c.head_dim) * std
        w[p + 'mlp.gate_proj.weight'] = torch.randn(c.inter, c.hidden) * std
        w[p + 'mlp.up_proj.weight'] = torch.randn(c.inter, c.hidden) * std
        w[p + 'mlp.down_proj.weight'] = torch.randn(c.hidden, c.inter) * std
    return w


if __name__ == '__main__':
    main()
