"""Writers of tiny random-weight GGUF models for the engine tests.

Every 2-D weight is stored in the requested tensor type. Types that the `gguf`
package can quantize (F32, F16, BF16, Q8_0, Q4_0, Q4_1) are quantized from
random values. The package only dequantizes the K-quants (Q4_K, Q5_K, Q6_K),
so for those random blocks are written with their f16 scales set to small
finite values, which exercises every bit pattern of the quantized values.
"""

import numpy as np
import gguf

T = gguf.GGMLQuantizationType

TYPES = {
    "F32": T.F32, "F16": T.F16, "BF16": T.BF16, "Q8_0": T.Q8_0, "Q4_0": T.Q4_0,
    "Q4_1": T.Q4_1, "Q4_K": T.Q4_K, "Q5_K": T.Q5_K, "Q6_K": T.Q6_K,
}

# Byte offsets of the f16 scale fields inside one block of each K-quant.
_K_SCALE_OFFSETS = {T.Q4_K: (0, 2), T.Q5_K: (0, 2), T.Q6_K: (208,)}

VOCAB = 320
EMBEDDING = 256
HEADS = 4
KV_HEADS = 2
FEED_FORWARD = 512
LAYERS = 2


def _matrix(rng, rows, columns, qtype):
    values = rng.normal(0.0, 0.08, size=(rows, columns)).astype(np.float32)
    if qtype == T.F32:
        return values, None
    if qtype in _K_SCALE_OFFSETS:
        block_elements, block_bytes = gguf.GGML_QUANT_SIZES[qtype]
        blocks = rows * columns // block_elements
        data = rng.integers(0, 256, size=(blocks, block_bytes), dtype=np.uint8)
        for offset in _K_SCALE_OFFSETS[qtype]:
            scales = rng.uniform(0.0005, 0.004, size=blocks).astype(np.float16)
            data[:, offset:offset + 2] = scales.view(np.uint8).reshape(blocks, 2)
        return data.reshape(rows, columns // block_elements * block_bytes), qtype
    return gguf.quants.quantize(values, qtype), qtype


SPECIAL_TOKENS = ["<|im_start|>", "<|im_end|>", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>",
                  "<｜User｜>", "<｜Assistant｜>", "<|begin_of_text|>", "<|start_header_id|>",
                  "<|end_header_id|>", "<|eot_id|>", "<think>", "</think>"]


def _byte_alphabet():
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    mapping, extra = {}, 0
    for b in range(256):
        if b in printable:
            mapping[b] = chr(b)
        else:
            mapping[b] = chr(256 + extra)
            extra += 1
    return [mapping[b] for b in range(256)]


def _add_tokenizer(writer, chat_template, bos):
    tokens = _byte_alphabet() + SPECIAL_TOKENS
    tokens += [f"<|unused_{i}|>" for i in range(VOCAB - len(tokens))]
    types = [1] * 256 + [3] * (VOCAB - 256)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("gpt-2")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(["a b"])
    writer.add_bos_token_id(tokens.index(bos))
    writer.add_eos_token_id(tokens.index("<|im_end|>"))
    if chat_template is not None:
        writer.add_chat_template(chat_template)


def write_tiny_model(path, arch, type_name, seed=0, tied=False, chat_template=None,
                     bos="<|im_start|>"):
    """Write a 2-layer `llama` or `qwen2` model to `path` with weights in `type_name`.

    The byte-level vocabulary contains the 256 byte tokens and the special
    tokens of ChatML, DeepSeek-R1 and Llama 3, without merges.
    """
    rng = np.random.default_rng(seed)
    qtype = TYPES[type_name]
    writer = gguf.GGUFWriter(str(path), arch)
    _add_tokenizer(writer, chat_template, bos)
    writer.add_block_count(LAYERS)
    writer.add_context_length(256)
    writer.add_embedding_length(EMBEDDING)
    writer.add_feed_forward_length(FEED_FORWARD)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_rope_dimension_count(EMBEDDING // HEADS)
    writer.add_rope_freq_base(1000000.0 if arch == "qwen2" else 10000.0)
    writer.add_layer_norm_rms_eps(1e-6)

    def add(name, values, raw_dtype=None):
        if raw_dtype is None:
            writer.add_tensor(name, values)
        else:
            writer.add_tensor(name, values, raw_dtype=raw_dtype)

    head_dim = EMBEDDING // HEADS
    add("token_embd.weight", *_matrix(rng, VOCAB, EMBEDDING, qtype))
    add("output_norm.weight", rng.uniform(0.8, 1.2, EMBEDDING).astype(np.float32))
    if not tied:
        add("output.weight", *_matrix(rng, VOCAB, EMBEDDING, qtype))
    for layer in range(LAYERS):
        p = f"blk.{layer}."
        add(p + "attn_norm.weight", rng.uniform(0.8, 1.2, EMBEDDING).astype(np.float32))
        add(p + "ffn_norm.weight", rng.uniform(0.8, 1.2, EMBEDDING).astype(np.float32))
        add(p + "attn_q.weight", *_matrix(rng, HEADS * head_dim, EMBEDDING, qtype))
        add(p + "attn_k.weight", *_matrix(rng, KV_HEADS * head_dim, EMBEDDING, qtype))
        add(p + "attn_v.weight", *_matrix(rng, KV_HEADS * head_dim, EMBEDDING, qtype))
        add(p + "attn_output.weight", *_matrix(rng, EMBEDDING, HEADS * head_dim, qtype))
        add(p + "ffn_gate.weight", *_matrix(rng, FEED_FORWARD, EMBEDDING, qtype))
        add(p + "ffn_up.weight", *_matrix(rng, FEED_FORWARD, EMBEDDING, qtype))
        add(p + "ffn_down.weight", *_matrix(rng, EMBEDDING, FEED_FORWARD, qtype))
        if arch == "qwen2":
            add(p + "attn_q.bias", rng.normal(0, 0.1, HEADS * head_dim).astype(np.float32))
            add(p + "attn_k.bias", rng.normal(0, 0.1, KV_HEADS * head_dim).astype(np.float32))
            add(p + "attn_v.bias", rng.normal(0, 0.1, KV_HEADS * head_dim).astype(np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
