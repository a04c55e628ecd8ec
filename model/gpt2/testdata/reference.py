#!/usr/bin/python3
"""Independent NumPy reference for deskbot/model/gpt2.

Writes tiny GPT-2 checkpoints in the Hugging Face layout (config.json +
model.safetensors, written here with struct+json, not by the Go code) and,
computed in float64 from the weights exactly as stored, the logits of every
prompt position and a greedy continuation with the logits of each step
(recomputing the whole sequence each step: no KV cache).

Run from model/gpt2:  /usr/bin/python3 testdata/reference.py
Needs only python3-numpy (Debian). The outputs are committed; the Go tests
do not need Python.

Per model folder testdata/tiny-NAME/:
  config.json, model.safetensors        the checkpoint
  expected.json                         prompt_ids, greedy_ids, shapes
  expected_prompt_logits.f32            len(prompt) x vocab, little-endian
  expected_greedy_logits.f32            steps x vocab: logits that chose
                                        greedy_ids[i] (after prompt+ids[:i])
"""
import json
import math
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

MODELS = [
    # name, dtype, prefix, extra buffers, n_layer, n_head, n_embd, vocab, n_pos, act, seed
    dict(name="tiny-f32", dtype="F32", prefix=True, buffers=True, lm_head=True,
         n_layer=2, n_head=2, n_embd=20, vocab=384, n_pos=48, act="gelu_new", seed=1),
    dict(name="tiny-f16", dtype="F16", prefix=False, buffers=True, lm_head=False,
         n_layer=3, n_head=4, n_embd=40, vocab=300, n_pos=40, act="gelu_new", seed=2),
    dict(name="tiny-bf16", dtype="BF16", prefix=True, buffers=False, lm_head=False,
         n_layer=1, n_head=4, n_embd=64, vocab=200, n_pos=32, act="gelu", seed=5),
]
STEPS = 12


def to_stored(a, dtype):
    """Returns (bytes, float64 values as the checkpoint holds them)."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    if dtype == "F32":
        return a.astype("<f4").tobytes(), a.astype(np.float64)
    if dtype == "F16":
        h = a.astype("<f2")
        return h.tobytes(), h.astype(np.float64)
    if dtype == "BF16":
        u = a.view(np.uint32).astype(np.uint64)
        r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype("<u2")
        back = (r.astype(np.uint32) << 16).view(np.float32)
        return r.tobytes(), back.astype(np.float64)
    raise ValueError(dtype)


def write_safetensors(path, tensors):
    """tensors: list of (name, dtype, shape, bytes)."""
    header = {"__metadata__": {"format": "pt"}}
    off = 0
    for name, dt, shape, b in tensors:
        header[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for _, _, _, b in tensors:
            f.write(b)


def gelu_new(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


_erf = np.vectorize(math.erf)


def gelu(x):
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


def layer_norm(x, g, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def forward(W, cfg, ids):
    """Logits (T x vocab) of every position, float64, no cache."""
    E, H = cfg["n_embd"], cfg["n_head"]
    hd = E // H
    T = len(ids)
    act = gelu_new if cfg["activation_function"] == "gelu_new" else gelu
    x = W["wte.weight"][ids] + W["wpe.weight"][:T]
    mask = np.triu(np.ones((T, T), dtype=bool), 1)
    for i in range(cfg["n_layer"]):
        p = "h.%d." % i
        h = layer_norm(x, W[p + "ln_1.weight"], W[p + "ln_1.bias"], cfg["layer_norm_epsilon"])
        qkv = h @ W[p + "attn.c_attn.weight"] + W[p + "attn.c_attn.bias"]  # Conv1D: x @ [in,out]
        q, k, v = qkv[:, :E], qkv[:, E:2 * E], qkv[:, 2 * E:]
        q = q.reshape(T, H, hd).transpose(1, 0, 2)
        k = k.reshape(T, H, hd).transpose(1, 0, 2)
        v = v.reshape(T, H, hd).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
        s = np.where(mask, -np.inf, s)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        a = (s @ v).transpose(1, 0, 2).reshape(T, E)
        x = x + a @ W[p + "attn.c_proj.weight"] + W[p + "attn.c_proj.bias"]
        h = layer_norm(x, W[p + "ln_2.weight"], W[p + "ln_2.bias"], cfg["layer_norm_epsilon"])
        f = act(h @ W[p + "mlp.c_fc.weight"] + W[p + "mlp.c_fc.bias"])
        x = x + f @ W[p + "mlp.c_proj.weight"] + W[p + "mlp.c_proj.bias"]
    x = layer_norm(x, W["ln_f.weight"], W["ln_f.bias"], cfg["layer_norm_epsilon"])
    return x @ W["wte.weight"].T


def make(spec):
    rng = np.random.default_rng(spec["seed"])
    E, L, V, P = spec["n_embd"], spec["n_layer"], spec["vocab"], spec["n_pos"]
    F = 4 * E
    cfg = {
        "activation_function": spec["act"], "architectures": ["GPT2LMHeadModel"],
        "bos_token_id": V - 1, "eos_token_id": V - 1, "layer_norm_epsilon": 1e-5,
        "model_type": "gpt2", "n_ctx": P, "n_embd": E, "n_head": spec["n_head"],
        "n_inner": None, "n_layer": L, "n_positions": P, "vocab_size": V,
        "scale_attn_weights": True, "torch_dtype": spec["dtype"].lower(),
    }
    shapes = [("wte.weight", (V, E), 0.3), ("wpe.weight", (P, E), 0.1)]
    for i in range(L):
        p = "h.%d." % i
        shapes += [
            (p + "ln_1.weight", (E,), "g"), (p + "ln_1.bias", (E,), 0.05),
            (p + "attn.c_attn.weight", (E, 3 * E), 0.25), (p + "attn.c_attn.bias", (3 * E,), 0.05),
            (p + "attn.c_proj.weight", (E, E), 0.2), (p + "attn.c_proj.bias", (E,), 0.05),
            (p + "ln_2.weight", (E,), "g"), (p + "ln_2.bias", (E,), 0.05),
            (p + "mlp.c_fc.weight", (E, F), 0.2), (p + "mlp.c_fc.bias", (F,), 0.05),
            (p + "mlp.c_proj.weight", (F, E), 0.1), (p + "mlp.c_proj.bias", (E,), 0.05),
        ]
    shapes += [("ln_f.weight", (E,), "g"), ("ln_f.bias", (E,), 0.05)]
    W, tensors = {}, []
    pre = "transformer." if spec["prefix"] else ""
    for name, shape, sd in shapes:
        if sd == "g":
            a = 1 + 0.1 * rng.standard_normal(shape)
        else:
            a = sd * rng.standard_normal(shape)
        b, stored = to_stored(a, spec["dtype"])
        W[name] = stored.reshape(shape)
        tensors.append((pre + name, spec["dtype"], shape, b))
        if spec["buffers"] and name.endswith("ln_1.bias"):
            # the causal-mask buffers older checkpoints carry; loaders ignore them
            m = np.tril(np.ones((P, P), dtype=np.float32)).reshape(1, 1, P, P)
            mb, _ = to_stored(m, spec["dtype"])
            tensors.append((pre + name.replace("ln_1.bias", "attn.bias"), spec["dtype"], m.shape, mb))
            mb2, _ = to_stored(np.array(-1e4, dtype=np.float32), spec["dtype"])
            tensors.append((pre + name.replace("ln_1.bias", "attn.masked_bias"), spec["dtype"], (), mb2))
    if spec["lm_head"]:
        b, _ = to_stored(W["wte.weight"], spec["dtype"])
        tensors.append(("lm_head.weight", spec["dtype"], (V, E), b))
    # shuffle the order of tensors in the file: loaders must go by name
    order = rng.permutation(len(tensors))
    tensors = [tensors[i] for i in order]

    d = os.path.join(HERE, spec["name"])
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
    write_safetensors(os.path.join(d, "model.safetensors"), tensors)

    prompt = [int(t) for t in rng.integers(0, V - 1, size=11)]
    pl = forward(W, cfg, prompt)
    ids, steps = list(prompt), []
    for _ in range(STEPS):
        lg = forward(W, cfg, ids)[-1]
        srt = np.sort(lg)
        if srt[-1] - srt[-2] < 1e-3:
            raise SystemExit("%s: near tie in greedy step; change the seed" % spec["name"])
        steps.append(lg)
        ids.append(int(np.argmax(lg)))
    greedy = ids[len(prompt):]
    pl.astype("<f4").tofile(os.path.join(d, "expected_prompt_logits.f32"))
    np.array(steps).astype("<f4").tofile(os.path.join(d, "expected_greedy_logits.f32"))
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump({"prompt_ids": prompt, "greedy_ids": greedy, "vocab_size": V,
                   "note": "written by testdata/reference.py (NumPy %s, float64)" % np.__version__},
                  f, indent=1)
    print(spec["name"], "prompt", prompt, "greedy", greedy,
          "logit range %.3f..%.3f" % (pl.min(), pl.max()))


if __name__ == "__main__":
    for s in MODELS:
        make(s)
