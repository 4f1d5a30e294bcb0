#!/usr/bin/env python3
"""Exports random-weight decoders of the shared models' families with
torch.onnx.export, to show raising does not depend on one file.

  export_test_models.py OUTDIR

Each variant gets its own folder with model.onnx, reference.json
(prompt_ids, greedy_new_ids, logits_tokens) and reference_logits.f32 from the
torch module itself (float32, full recompute: greedy_new_ids are 8 ids after
prompt_ids, the logits are those of the first 12 tokens), the layout of
../shared/models/*/. The modules are written like the shared exports' (a
hand-written Llama; GPT-2 computed as Hugging Face's GPT2LMHeadModel) and
exported the same way (torch.onnx.export, Optimum's input and output names,
do_constant_folding). Variants differ in sizes, head counts, GQA ratio, RoPE
base, tying, opset (14-17), KV-cache inputs and external data; see VARIANTS.
Each file passes onnx.checker.
"""
import json
import math
import os
import sys

import onnx
import torch
import torch.nn as nn


class RMSNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.weight = nn.Parameter(1 + 0.1 * torch.randn(dim))

    def forward(self, x):
        variance = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(variance + 1e-5))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class LlamaLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        d, h, kv, hd, ff = c["dim"], c["heads"], c["kv_heads"], c["head_dim"], c["ffn"]
        self.input_layernorm = RMSNorm(d)
        self.post_attention_layernorm = RMSNorm(d)
        self.q_proj = nn.Linear(d, h * hd, bias=False)
        self.k_proj = nn.Linear(d, kv * hd, bias=False)
        self.v_proj = nn.Linear(d, kv * hd, bias=False)
        self.o_proj = nn.Linear(h * hd, d, bias=False)
        self.gate_proj = nn.Linear(d, ff, bias=False)
        self.up_proj = nn.Linear(d, ff, bias=False)
        self.down_proj = nn.Linear(ff, d, bias=False)

    def forward(self, x, cos, sin, mask, past):
        c = self.c
        b, s, _ = x.shape
        h, kv, hd = c["heads"], c["kv_heads"], c["head_dim"]
        y = self.input_layernorm(x)
        q = self.q_proj(y).view(b, s, h, hd).transpose(1, 2)
        k = self.k_proj(y).view(b, s, kv, hd).transpose(1, 2)
        v = self.v_proj(y).view(b, s, kv, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        present = (k, v)
        rep = h // kv
        if rep > 1:
            t = k.shape[2]
            k = k[:, :, None].expand(b, kv, rep, t, hd).reshape(b, h, t, hd)
            v = v[:, :, None].expand(b, kv, rep, t, hd).reshape(b, h, t, hd)
        scores = q @ k.transpose(2, 3) / math.sqrt(hd) + mask
        out = torch.softmax(scores, dim=-1) @ v
        x = x + self.o_proj(out.transpose(1, 2).reshape(b, s, h * hd))
        y = self.post_attention_layernorm(x)
        x = x + self.down_proj(nn.functional.silu(self.gate_proj(y)) * self.up_proj(y))
        return x, present


class Llama(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed_tokens = nn.Embedding(c["vocab"], c["dim"])
        self.layers = nn.ModuleList(LlamaLayer(c) for _ in range(c["layers"]))
        self.norm = RMSNorm(c["dim"])
        self.lm_head = nn.Linear(c["dim"], c["vocab"], bias=False)
        if c["tied"]:
            self.lm_head.weight = self.embed_tokens.weight
        hd = c["head_dim"]
        self.register_buffer("inv_freq", 1.0 / (c["theta"] ** (
            torch.arange(0, hd, 2).float() / hd)), persistent=False)

    def forward(self, input_ids, attention_mask=None, position_ids=None,
                past=None):
        b, s = input_ids.shape
        past_len = 0 if past is None else past[0][0].shape[2]
        if position_ids is None:
            position_ids = torch.arange(s)[None]
        freqs = position_ids[..., None].float() * self.inv_freq
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[:, None], emb.sin()[:, None]
        rows = torch.arange(s)[:, None] + past_len
        cols = torch.arange(past_len + s)[None]
        allowed = (cols <= rows)[None, None]
        if attention_mask is not None:
            allowed = allowed & (attention_mask[:, None, None, :] > 0)
        mask = (1.0 - allowed.float()) * torch.finfo(torch.float32).min
        x = self.embed_tokens(input_ids)
        presents = []
        for i, layer in enumerate(self.layers):
            x, present = layer(x, cos, sin, mask,
                               None if past is None else past[i])
            presents.append(present)
        return self.lm_head(self.norm(x)), presents


def random_layer_norm(d):
    norm = nn.LayerNorm(d)
    with torch.no_grad():
        norm.weight.copy_(1 + 0.1 * torch.randn(d))
        norm.bias.copy_(0.02 * torch.randn(d))
    return norm


class GPT2Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["dim"]
        self.c = c
        self.ln_1 = random_layer_norm(d)
        # ln_2 keeps a fresh model's gains (1) and biases (0): equal in every
        # layer, so the exporter shares them through Identity nodes.
        self.ln_2 = nn.LayerNorm(d)
        self.c_attn_w = nn.Parameter(c["std"] * torch.randn(d, 3 * d))
        self.c_attn_b = nn.Parameter(0.02 * torch.randn(3 * d))
        self.c_proj_w = nn.Parameter(c["std"] * torch.randn(d, d))
        self.c_proj_b = nn.Parameter(0.02 * torch.randn(d))
        self.c_fc_w = nn.Parameter(c["std"] * torch.randn(d, 4 * d))
        self.c_fc_b = nn.Parameter(0.02 * torch.randn(4 * d))
        self.mlp_proj_w = nn.Parameter(c["std"] * torch.randn(4 * d, d))
        self.mlp_proj_b = nn.Parameter(0.02 * torch.randn(d))

    @staticmethod
    def conv1d(x, w, b):  # Hugging Face Conv1D: addmm on a flattened view
        shape = x.shape[:-1] + (w.shape[1],)
        return torch.addmm(b, x.view(-1, x.shape[-1]), w).view(shape)

    def forward(self, x, mask, past):
        c = self.c
        b, s, _ = x.shape
        d, h = c["dim"], c["heads"]
        hd = d // h
        q, k, v = self.conv1d(self.ln_1(x), self.c_attn_w, self.c_attn_b).split(d, dim=2)
        q = q.view(b, s, h, hd).transpose(1, 2)
        k = k.view(b, s, h, hd).transpose(1, 2)
        v = v.view(b, s, h, hd).transpose(1, 2)
        if past is not None:
            k = torch.cat([past[0], k], dim=-2)
            v = torch.cat([past[1], v], dim=-2)
        scores = q @ k.transpose(-1, -2) / math.sqrt(hd) + mask
        out = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, s, d)
        x = x + self.conv1d(out, self.c_proj_w, self.c_proj_b)
        hidden = self.conv1d(self.ln_2(x), self.c_fc_w, self.c_fc_b)
        gelu = 0.5 * hidden * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (
            hidden + 0.044715 * torch.pow(hidden, 3.0))))
        return x + self.conv1d(gelu, self.mlp_proj_w, self.mlp_proj_b), (k, v)


class GPT2(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.wte = nn.Embedding(c["vocab"], c["dim"])
        self.wpe = nn.Embedding(c["positions"], c["dim"])
        with torch.no_grad():
            self.wte.weight.normal_(0, 0.1)
            self.wpe.weight.normal_(0, 0.05)
        self.h = nn.ModuleList(GPT2Block(c) for _ in range(c["layers"]))
        self.ln_f = random_layer_norm(c["dim"])

    def forward(self, input_ids, attention_mask=None, position_ids=None,
                past=None):
        b, s = input_ids.shape
        past_len = 0 if past is None else past[0][0].shape[2]
        if position_ids is None:
            position_ids = torch.arange(s)[None]
        rows = torch.arange(s)[:, None] + past_len
        cols = torch.arange(past_len + s)[None]
        allowed = (cols <= rows)[None, None]
        if attention_mask is not None:
            allowed = allowed & (attention_mask[:, None, None, :] > 0)
        mask = (1.0 - allowed.float()) * torch.finfo(torch.float32).min
        x = self.wte(input_ids) + self.wpe(position_ids)
        presents = []
        for i, block in enumerate(self.h):
            x, present = block(x, mask, None if past is None else past[i])
            presents.append(present)
        return self.ln_f(x) @ self.wte.weight.t(), presents


class WithPast(nn.Module):
    """Optimum's I/O: flat past_key_values.i.key/value in, present out."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, position_ids, *flat_past):
        past = [(flat_past[2 * i], flat_past[2 * i + 1])
                for i in range(len(flat_past) // 2)]
        logits, presents = self.model(input_ids, attention_mask, position_ids,
                                      past)
        return (logits,) + tuple(t for kv in presents for t in kv)


class NoPast(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids):
        return self.model(input_ids)[0]


# std: normal std of the projection matrices (Llama's embedding: 0.08; GPT-2's
# wte 0.1, wpe 0.05, biases 0.02, LayerNorm gains 1 +- 0.1). Seeds and stds
# are chosen so greedy decoding does not just repeat one token (tied random
# models otherwise echo their input) and the top two logits of every greedy
# step are >= 0.07 apart.
VARIANTS = {
    # GQA ratio 3 (repeat_kv by Unsqueeze/Expand/Reshape), KV cache, opset 17.
    "llama-gqa": dict(
        kind="llama", seed=8, std=0.16, dim=48, layers=3, heads=6,
        kv_heads=2, head_dim=8, ffn=128, vocab=128, theta=10000.0,
        tied=True, opset=17, past=True, external=False),
    # MQA (1 KV head), RoPE base 5e5, untied classifier, opset 14, no cache.
    "llama-mqa-opset14": dict(
        kind="llama", seed=12, std=0.16, dim=64, layers=2, heads=4,
        kv_heads=1, head_dim=16, ffn=96, vocab=96, theta=500000.0,
        tied=False, opset=14, past=False, external=False),
    # Plain multi-head (no repeat_kv), opset 15, every initializer external.
    "llama-external": dict(
        kind="llama", seed=13, std=0.16, dim=64, layers=2, heads=4,
        kv_heads=4, head_dim=16, ffn=160, vocab=150, theta=10000.0,
        tied=True, opset=15, past=True, external=True),
    # GPT-2 at opset 16: LayerNorm decomposed (ReduceMean/Sub/Pow/Sqrt/Div),
    # Gemm Conv1D, Split of the fused QKV, tanh GELU, learned positions.
    "gpt2-opset16": dict(
        kind="gpt2", seed=5, std=0.15, dim=48, layers=2, heads=4, vocab=120,
        positions=64, opset=16, past=True, external=False),
}


def build(c):
    """The variant's torch module, with its seeded random weights."""
    torch.manual_seed(c["seed"])
    model = (Llama if c["kind"] == "llama" else GPT2)(c).eval()
    if c["kind"] == "llama":
        with torch.no_grad():
            for n, p in model.named_parameters():
                if p.dim() == 2:
                    p.normal_(0, 0.08 if n.startswith("embed") else c["std"])
    return model


def export(name, c, out):
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    model = build(c)
    prompt = [1, 5, 9, 13, 21]
    with torch.no_grad():
        ids = list(prompt)
        for _ in range(8):
            logits, _ = model(torch.tensor([ids]))
            ids.append(int(logits[0, -1].argmax()))
        tokens = ids[:12]
        logits, _ = model(torch.tensor([tokens]))
    path = os.path.join(folder, "model.onnx")
    kv = c.get("kv_heads", c["heads"])
    hd = c.get("head_dim", c["dim"] // c["heads"])
    if c["past"]:
        wrapper = WithPast(model)
        names = ["input_ids", "attention_mask", "position_ids"]
        dynamic = {"input_ids": {0: "batch", 1: "seq"},
                   "attention_mask": {0: "batch", 1: "total"},
                   "position_ids": {0: "batch", 1: "seq"},
                   "logits": {0: "batch", 1: "seq"}}
        args = [torch.tensor([prompt]), torch.ones(1, 7, dtype=torch.long),
                torch.arange(2, 7)[None]]
        outputs = ["logits"]
        for i in range(c["layers"]):
            for part in ("key", "value"):
                names.append(f"past_key_values.{i}.{part}")
                outputs.append(f"present.{i}.{part}")
                dynamic[names[-1]] = {0: "batch", 2: "past"}
                dynamic[outputs[-1]] = {0: "batch", 2: "total"}
                args.append(torch.zeros(1, kv, 2, hd))
    else:
        wrapper = NoPast(model)
        names, outputs = ["input_ids"], ["logits"]
        dynamic = {"input_ids": {0: "batch", 1: "seq"},
                   "logits": {0: "batch", 1: "seq"}}
        args = [torch.tensor([prompt])]
    torch.onnx.export(wrapper, tuple(args), path, input_names=names,
                      output_names=outputs, dynamic_axes=dynamic,
                      opset_version=c["opset"], do_constant_folding=True)
    if c["external"]:
        proto = onnx.load(path)
        onnx.save_model(proto, path, save_as_external_data=True,
                        all_tensors_to_one_file=True, location="weights.bin",
                        size_threshold=0)
    onnx.checker.check_model(path)  # by path: follows external data
    logits[0].numpy().astype("<f4").tofile(
        os.path.join(folder, "reference_logits.f32"))
    with open(os.path.join(folder, "reference.json"), "w") as f:
        json.dump({"prompt_ids": prompt, "greedy_new_ids": ids[len(prompt):],
                   "logits_tokens": tokens, "logits_file": "reference_logits.f32",
                   "config": c}, f, indent=1)
    print(f"{name}: opset {c['opset']}, {'with' if c['past'] else 'no'} past"
          f"{', external data' if c['external'] else ''}")


def main():
    out = sys.argv[1]
    for name, c in VARIANTS.items():
        export(name, c, out)


if __name__ == "__main__":
    main()
