"""Bad GGUF files give errors that name the file, the tensor and the type."""

import struct
import subprocess

import gguf
import numpy as np

from tiny_models import write_tiny_model


def run_logits(weir_bin, path):
    return subprocess.run([weir_bin, "engine", "logits", "--model", str(path), "--prompt-ids", "1"],
                          capture_output=True, text=True, timeout=60)


def test_missing_file_names_path(weir_bin, tmp_path):
    result = run_logits(weir_bin, tmp_path / "absent.gguf")
    assert result.returncode != 0
    assert "absent.gguf" in result.stderr
    assert "No such file" in result.stderr


def test_not_gguf_file_rejected(weir_bin, tmp_path):
    path = tmp_path / "text.gguf"
    path.write_bytes(b"this is not a model file at all, just text")
    result = run_logits(weir_bin, path)
    assert result.returncode != 0
    assert "is not a GGUF file" in result.stderr


def test_unsupported_version_rejected(weir_bin, tmp_path):
    path = tmp_path / "v1.gguf"
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 1, 0, 0))
    result = run_logits(weir_bin, path)
    assert result.returncode != 0
    assert "version 1" in result.stderr


def test_truncated_file_names_tensor_and_type(weir_bin, tmp_path):
    path = write_tiny_model(tmp_path / "full.gguf", "llama", "Q4_1")
    data = path.read_bytes()
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(data[: len(data) - 5000])
    result = run_logits(weir_bin, truncated)
    assert result.returncode != 0
    assert "truncated or corrupt" in result.stderr
    assert "Q4_1" in result.stderr
    assert "blk.1." in result.stderr


def test_truncated_header_rejected(weir_bin, tmp_path):
    path = write_tiny_model(tmp_path / "full.gguf", "llama", "F16")
    truncated = tmp_path / "header.gguf"
    truncated.write_bytes(path.read_bytes()[:300])
    result = run_logits(weir_bin, truncated)
    assert result.returncode != 0
    assert "truncated or corrupt" in result.stderr


def test_unsupported_tensor_type_named(weir_bin, tmp_path):
    path = tmp_path / "q5_0.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    values = np.zeros((4, 64), dtype=np.float32)
    writer.add_tensor("token_embd.weight", gguf.quants.quantize(values, gguf.GGMLQuantizationType.Q5_0),
                      raw_dtype=gguf.GGMLQuantizationType.Q5_0)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    result = run_logits(weir_bin, path)
    assert result.returncode != 0
    assert "token_embd.weight" in result.stderr
    assert "Q5_0" in result.stderr
    assert "does not support" in result.stderr


def test_unknown_architecture_rejected(weir_bin, tmp_path):
    path = tmp_path / "mamba.gguf"
    writer = gguf.GGUFWriter(str(path), "mamba")
    writer.add_tensor("token_embd.weight", np.zeros((4, 32), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    result = run_logits(weir_bin, path)
    assert result.returncode != 0
    assert 'architecture "mamba" is not supported' in result.stderr


def test_missing_tensor_named(weir_bin, tmp_path):
    path = tmp_path / "partial.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_block_count(1)
    writer.add_embedding_length(32)
    writer.add_feed_forward_length(64)
    writer.add_head_count(2)
    writer.add_tensor("token_embd.weight", np.zeros((8, 32), dtype=np.float32))
    writer.add_tensor("output_norm.weight", np.ones(32, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    result = run_logits(weir_bin, path)
    assert result.returncode != 0
    assert "tensor blk.0.attn_norm.weight is missing" in result.stderr
