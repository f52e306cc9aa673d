#!/usr/bin/env python3
"""The PyTorch baseline of the CUDA backend's benchmark, and the roofline bound, measured in one run.

A plain Llama decode loop in PyTorch: bf16 weights of the Llama-3.2-1B shape (1.24 B parameters,
16 layers, d = 2048, 32 heads, 8 KV heads, FFN 8192, vocab 128256, tied LM head) with random
values, a static KV cache, one prefill of the prompt, then one greedy token per sequence per step,
eagerly (no CUDA graphs, no torch.compile). For each batch size it reports the aggregate decode
tokens/s, and the roofline bound of that decode: bytes read per step (every weight matrix once, plus
the KV cache each sequence attends over) divided by the memory bandwidth measured here, in the same
run, with a device-to-device copy.

    python3 batch-gpu-cuda/scripts/pytorch_baseline.py                      # 1, 64, 256 sequences
    python3 batch-gpu-cuda/scripts/pytorch_baseline.py --shape tiny --device cpu --batches 1,4 --gen 8

Prints one JSON object per batch size, then a table.
"""
import argparse
import json
import time

import torch

SHAPES = {
    "llama-3.2-1b": dict(dim=2048, layers=16, heads=32, kv_heads=8, ffn=8192, vocab=128256, rope_base=500000.0),
    "tiny": dict(dim=64, layers=2, heads=4, kv_heads=2, ffn=128, vocab=512, rope_base=10000.0),
}


def weights(shape, device, dtype, seed):
    g = torch.Generator(device="cpu").manual_seed(seed)
    d, hd = shape["dim"], shape["dim"] // shape["heads"]
    qkv_rows = (shape["heads"] + 2 * shape["kv_heads"]) * hd

    def w(*size):
        return (torch.randn(*size, generator=g) * 0.02).to(device=device, dtype=dtype)

    layers = [dict(attn_norm=torch.ones(d, device=device, dtype=dtype), wqkv=w(qkv_rows, d),
                   wo=w(d, shape["heads"] * hd), ffn_norm=torch.ones(d, device=device, dtype=dtype),
                   w_gate_up=w(2 * shape["ffn"], d), w_down=w(d, shape["ffn"]))
              for _ in range(shape["layers"])]
    return dict(embedding=w(shape["vocab"], d), out_norm=torch.ones(d, device=device, dtype=dtype), layers=layers)


def matrix_bytes(shape):
    """Bytes of the bf16 matrices one decode step reads: every layer's projections and the LM head."""
    d, hd, ffn = shape["dim"], shape["dim"] // shape["heads"], shape["ffn"]
    per_layer = (shape["heads"] + 2 * shape["kv_heads"]) * hd * d + d * shape["heads"] * hd + 3 * ffn * d
    return 2 * (shape["layers"] * per_layer + shape["vocab"] * d)


def kv_bytes_per_token(shape):
    return 2 * shape["layers"] * shape["kv_heads"] * (shape["dim"] // shape["heads"]) * 2


def rms_norm(x, w, eps=1e-5):
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype) * w


def rope(x, cos, sin):
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half].float(), x[..., half:].float()
    return torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1).to(x.dtype)


class Model:
    def __init__(self, shape, device, dtype, batch, max_len, seed=0):
        self.s = shape
        self.w = weights(shape, device, dtype, seed)
        self.hd = shape["dim"] // shape["heads"]
        self.group = shape["heads"] // shape["kv_heads"]
        # static cache: [layer][k|v] -> [batch, kv_heads, max_len, head_dim]
        self.cache = torch.zeros(shape["layers"], 2, batch, shape["kv_heads"], max_len, self.hd, device=device,
                                 dtype=dtype)
        inv = 1.0 / (shape["rope_base"] ** (torch.arange(0, self.hd, 2, device=device).float() / self.hd))
        angles = torch.outer(torch.arange(max_len, device=device).float(), inv)
        self.cos, self.sin = angles.cos(), angles.sin()

    @torch.no_grad()
    def forward(self, tokens, pos):
        """tokens [B, T] at positions pos..pos+T-1; returns the greedy next token of each sequence."""
        s, hd, B, T = self.s, self.hd, tokens.shape[0], tokens.shape[1]
        h, kvh = s["heads"], s["kv_heads"]
        x = self.w["embedding"][tokens]
        cos, sin = self.cos[pos:pos + T][None, :, None, :], self.sin[pos:pos + T][None, :, None, :]
        end = pos + T
        mask = None
        if T > 1:
            q_pos = torch.arange(pos, end, device=tokens.device)[:, None]
            k_pos = torch.arange(end, device=tokens.device)[None, :]
            mask = torch.where(k_pos <= q_pos, 0.0, float("-inf"))
        for i, l in enumerate(self.w["layers"]):
            qkv = rms_norm(x, l["attn_norm"]) @ l["wqkv"].t()
            q, k, v = qkv.split([h * hd, kvh * hd, kvh * hd], dim=-1)
            q = rope(q.view(B, T, h, hd), cos, sin)
            k = rope(k.view(B, T, kvh, hd), cos, sin)
            self.cache[i, 0, :, :, pos:end] = k.transpose(1, 2)
            self.cache[i, 1, :, :, pos:end] = v.view(B, T, kvh, hd).transpose(1, 2)
            keys = self.cache[i, 0, :, :, :end].unsqueeze(2)      # [B, kvh, 1, S, hd]: shared by the group
            values = self.cache[i, 1, :, :, :end].unsqueeze(2)
            qg = q.view(B, T, kvh, self.group, hd).permute(0, 2, 3, 1, 4)  # [B, kvh, group, T, hd]
            scores = (qg @ keys.transpose(-1, -2)).float() / hd ** 0.5
            if mask is not None:
                scores = scores + mask
            att = torch.softmax(scores, dim=-1).to(x.dtype) @ values       # [B, kvh, group, T, hd]
            x = x + att.permute(0, 3, 1, 2, 4).reshape(B, T, h * hd) @ l["wo"].t()
            gate, up = (rms_norm(x, l["ffn_norm"]) @ l["w_gate_up"].t()).chunk(2, dim=-1)
            x = x + (torch.nn.functional.silu(gate) * up) @ l["w_down"].t()
        logits = rms_norm(x[:, -1], self.w["out_norm"]) @ self.w["embedding"].t()
        return logits.argmax(-1, keepdim=True)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def bandwidth(device, dtype, mib):
    """Device memory bandwidth in bytes/s: read + write of a copy of `mib` MiB, best of 5."""
    n = mib * 1024 * 1024 // 2
    src = torch.ones(n, device=device, dtype=dtype)
    dst = torch.empty_like(src)
    dst.copy_(src)
    best = float("inf")
    for _ in range(5):
        sync(device)
        t = time.perf_counter()
        dst.copy_(src)
        sync(device)
        best = min(best, time.perf_counter() - t)
    return 2 * n * 2 / best


def measure(shape, device, dtype, batch, prompt, gen, bw):
    model = Model(shape, device, dtype, batch, prompt + gen)
    g = torch.Generator(device="cpu").manual_seed(42)
    tokens = torch.randint(0, shape["vocab"], (batch, prompt), generator=g).to(device)
    warm = model.forward(tokens, 0)
    for step in range(min(4, gen)):
        warm = model.forward(warm, prompt + step)
    sync(device)
    t = time.perf_counter()
    nxt = model.forward(tokens, 0)
    sync(device)
    prefill_s = time.perf_counter() - t
    t = time.perf_counter()
    for step in range(gen):
        nxt = model.forward(nxt, prompt + step)
    sync(device)
    decode_s = time.perf_counter() - t
    mean_context = prompt + (gen + 1) / 2
    step_bytes = matrix_bytes(shape) + batch * mean_context * kv_bytes_per_token(shape)
    roofline = batch * bw / step_bytes
    measured = batch * gen / decode_s
    del model
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return dict(engine="pytorch", shape=args.shape, device=device_name(device), batch=batch, prompt_tokens=prompt,
                gen_tokens=gen, prefill_seconds=prefill_s, decode_seconds=decode_s,
                decode_tokens_per_second=measured, bytes_per_step=step_bytes, bandwidth_bytes_per_second=bw,
                roofline_tokens_per_second=roofline, percent_of_roofline=100 * measured / roofline,
                torch=torch.__version__)


def device_name(device):
    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--shape", choices=sorted(SHAPES), default="llama-3.2-1b")
    p.add_argument("--device", default="cuda")
    p.add_argument("--batches", default="1,64,256", help="comma-separated sequence counts (default 1,64,256)")
    p.add_argument("--prompt", type=int, default=128, help="prompt tokens per sequence (default 128)")
    p.add_argument("--gen", type=int, default=128, help="decode steps (default 128)")
    p.add_argument("--bandwidth-mib", type=int, default=2048, help="size of the bandwidth copy (default 2048 MiB)")
    args = p.parse_args()
    dev = torch.device(args.device)
    shape = SHAPES[args.shape]
    bw = bandwidth(dev, torch.bfloat16, args.bandwidth_mib)
    print(json.dumps(dict(measurement="bandwidth", device=device_name(dev), bytes_per_second=bw,
                          copy_mib=args.bandwidth_mib)), flush=True)
    rows = []
    for b in [int(x) for x in args.batches.split(",")]:
        r = measure(shape, dev, torch.bfloat16, b, args.prompt, args.gen, bw)
        rows.append(r)
        print(json.dumps(r), flush=True)
    print(f"\n{'B':>5} | {'decode tok/s':>12} | {'roofline tok/s':>14} | {'% roofline':>10} | bytes/step")
    for r in rows:
        print(f"{r['batch']:>5} | {r['decode_tokens_per_second']:>12.1f} | {r['roofline_tokens_per_second']:>14.1f} | "
              f"{r['percent_of_roofline']:>10.1f} | {r['bytes_per_step'] / 1e9:.3f} GB")
    print(f"bandwidth {bw / 1e9:.1f} GB/s ({device_name(dev)}), weights {matrix_bytes(shape) / 1e9:.3f} GB bf16")
