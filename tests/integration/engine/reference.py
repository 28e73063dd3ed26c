"""NumPy reference forward pass for `llama` and `qwen2` GGUF files.

It shares no code with Weir: the weights are read and dequantized by the
`gguf` Python package, and the arithmetic is plain float64 NumPy written from
the published architecture descriptions.
"""

import numpy as np
import gguf


def _field(reader, key, default=None):
    field = reader.fields.get(key)
    if field is None:
        return default
    return field.contents()


class ReferenceModel:
    def __init__(self, path):
        reader = gguf.GGUFReader(path)
        arch = _field(reader, "general.architecture")
        self.arch = arch
        self.layers = int(_field(reader, f"{arch}.block_count"))
        self.embedding = int(_field(reader, f"{arch}.embedding_length"))
        self.heads = int(_field(reader, f"{arch}.attention.head_count"))
        self.kv_heads = int(_field(reader, f"{arch}.attention.head_count_kv", self.heads))
        self.head_dim = self.embedding // self.heads
        self.rope_dims = int(_field(reader, f"{arch}.rope.dimension_count", self.head_dim))
        self.theta = float(_field(reader, f"{arch}.rope.freq_base", 10000.0))
        self.eps = float(_field(reader, f"{arch}.attention.layer_norm_rms_epsilon", 1e-5))
        self.weights = {}
        for tensor in reader.tensors:
            values = gguf.quants.dequantize(tensor.data, tensor.tensor_type)
            self.weights[tensor.name] = np.asarray(values, dtype=np.float64)

    def _norm(self, x, weight):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * weight

    def _rope(self, x, positions):
        # x: [tokens, heads, head_dim]. llama files store q/k permuted so that
        # adjacent pairs rotate; qwen2 rotates the two halves (NeoX style).
        half = self.rope_dims // 2
        inv = self.theta ** (-np.arange(half, dtype=np.float64) * 2.0 / self.rope_dims)
        angles = positions[:, None] * inv[None, :]
        cos = np.cos(angles)[:, None, :]
        sin = np.sin(angles)[:, None, :]
        out = x.copy()
        if self.arch == "qwen2":
            a = x[..., :half]
            b = x[..., half:2 * half]
            out[..., :half] = a * cos - b * sin
            out[..., half:2 * half] = a * sin + b * cos
        else:
            a = x[..., 0:2 * half:2]
            b = x[..., 1:2 * half:2]
            out[..., 0:2 * half:2] = a * cos - b * sin
            out[..., 1:2 * half:2] = a * sin + b * cos
        return out

    def logits(self, ids):
        """Return the logits of every position, shape [len(ids), vocab]."""
        w = self.weights
        n = len(ids)
        positions = np.arange(n, dtype=np.float64)
        x = w["token_embd.weight"][ids]
        group = self.heads // self.kv_heads
        mask = np.triu(np.full((n, n), -np.inf), k=1)
        for layer in range(self.layers):
            p = f"blk.{layer}."
            h = self._norm(x, w[p + "attn_norm.weight"])
            q = h @ w[p + "attn_q.weight"].T
            k = h @ w[p + "attn_k.weight"].T
            v = h @ w[p + "attn_v.weight"].T
            if p + "attn_q.bias" in w:
                q = q + w[p + "attn_q.bias"]
                k = k + w[p + "attn_k.bias"]
                v = v + w[p + "attn_v.bias"]
            q = self._rope(q.reshape(n, self.heads, self.head_dim), positions)
            k = self._rope(k.reshape(n, self.kv_heads, self.head_dim), positions)
            v = v.reshape(n, self.kv_heads, self.head_dim)
            out = np.zeros((n, self.heads, self.head_dim))
            for head in range(self.heads):
                kv = head // group
                scores = q[:, head, :] @ k[:, kv, :].T / np.sqrt(self.head_dim) + mask
                scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
                scores /= scores.sum(axis=-1, keepdims=True)
                out[:, head, :] = scores @ v[:, kv, :]
            x = x + out.reshape(n, -1) @ w[p + "attn_output.weight"].T
            h = self._norm(x, w[p + "ffn_norm.weight"])
            gate = h @ w[p + "ffn_gate.weight"].T
            up = h @ w[p + "ffn_up.weight"].T
            x = x + (gate / (1.0 + np.exp(-gate)) * up) @ w[p + "ffn_down.weight"].T
        x = self._norm(x, w["output_norm.weight"])
        output = w.get("output.weight", w["token_embd.weight"])
        return x @ output.T
