#!/usr/bin/env python3
"""Write a random-weight `llama` GGUF model of about 1B parameters in Q4_K.

Shapes follow Llama 3.2 1B (16 layers, width 2048, 32 query and 8 key/value
heads, feed-forward 8192) with a 32000-token byte-level vocabulary and tied
embeddings. The weights are random Q4_K blocks with small scales, so the file
measures speed only: its text is meaningless.

Usage: bench/engine/make_model.py OUTPUT.gguf
"""

import sys

import gguf
import numpy as np

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2] / "tests/integration/engine"))
from tiny_models import SPECIAL_TOKENS, _byte_alphabet  # noqa: E402

LAYERS, WIDTH, HEADS, KV_HEADS, FEED_FORWARD, VOCAB = 16, 2048, 32, 8, 8192, 32000
Q4_K = gguf.GGMLQuantizationType.Q4_K


def q4_k_matrix(rng, rows, columns):
    blocks = rows * columns // 256
    data = rng.integers(0, 256, size=(blocks, 144), dtype=np.uint8)
    for offset in (0, 2):
        scales = rng.uniform(2e-5, 8e-5, size=blocks).astype(np.float16)
        data[:, offset:offset + 2] = scales.view(np.uint8).reshape(blocks, 2)
    return data.reshape(rows, columns // 256 * 144)


def main(path):
    rng = np.random.default_rng(1)
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_block_count(LAYERS)
    writer.add_context_length(4096)
    writer.add_embedding_length(WIDTH)
    writer.add_feed_forward_length(FEED_FORWARD)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_rope_dimension_count(WIDTH // HEADS)
    writer.add_rope_freq_base(500000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    tokens = _byte_alphabet() + SPECIAL_TOKENS
    tokens += [f"<|unused_{i}|>" for i in range(VOCAB - len(tokens))]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("gpt-2")
    writer.add_token_list(tokens)
    writer.add_token_types([1] * 256 + [3] * (VOCAB - 256))
    writer.add_token_merges(["a b"])
    writer.add_bos_token_id(tokens.index("<|begin_of_text|>"))
    writer.add_eos_token_id(tokens.index("<|eot_id|>"))

    head_dim = WIDTH // HEADS
    writer.add_tensor("token_embd.weight", q4_k_matrix(rng, VOCAB, WIDTH), raw_dtype=Q4_K)
    writer.add_tensor("output_norm.weight", np.ones(WIDTH, dtype=np.float32))
    for layer in range(LAYERS):
        p = f"blk.{layer}."
        writer.add_tensor(p + "attn_norm.weight", np.ones(WIDTH, dtype=np.float32))
        writer.add_tensor(p + "ffn_norm.weight", np.ones(WIDTH, dtype=np.float32))
        for name, rows, columns in (("attn_q", HEADS * head_dim, WIDTH), ("attn_k", KV_HEADS * head_dim, WIDTH),
                                    ("attn_v", KV_HEADS * head_dim, WIDTH), ("attn_output", WIDTH, HEADS * head_dim),
                                    ("ffn_gate", FEED_FORWARD, WIDTH), ("ffn_up", FEED_FORWARD, WIDTH),
                                    ("ffn_down", WIDTH, FEED_FORWARD)):
            writer.add_tensor(p + name + ".weight", q4_k_matrix(rng, rows, columns), raw_dtype=Q4_K)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main(sys.argv[1])
