"""Generation through the builtin upstream, driven by `weir engine chat`.

The command opens the request through weir::Upstream on one io_context
thread, as the gateway does, and prints every body piece, so these tests see
the exact SSE and JSON bodies that clients receive.
"""

import json
import subprocess

import jinja2
import pytest

from tiny_models import write_tiny_model

LLAMA3_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
    "+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}")

# The DeepSeek-R1-Distill template, reduced to system, user and assistant turns.
R1_TEMPLATE = (
    "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
    "{% set ns = namespace(system_prompt='') %}{%- for message in messages %}"
    "{%- if message['role'] == 'system' %}{% if ns.system_prompt %}"
    "{% set ns.system_prompt = ns.system_prompt + '\\n\\n' + message['content'] %}{% else %}"
    "{% set ns.system_prompt = message['content'] %}{% endif %}{%- endif %}{%- endfor %}"
    "{{bos_token}}{{ns.system_prompt}}{%- for message in messages %}"
    "{%- if message['role'] == 'user' %}{{'<｜User｜>' + message['content']}}{%- endif %}"
    "{%- if message['role'] == 'assistant' %}{% set content = message['content'] %}"
    "{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}"
    "{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endfor %}"
    "{% if add_generation_prompt %}{{'<｜Assistant｜><think>\\n'}}{% endif %}")

MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "  Hello, 世界!  "},
    {"role": "assistant", "content": "<think>greet</think>\n\nHi."},
    {"role": "user", "content": "Count: 1 2 3"},
]


def run_chat(weir_bin, tmp_path, model, body, *extra, path="/chat/completions", check=True):
    request = tmp_path / "request.json"
    request.write_text(json.dumps(body))
    result = subprocess.run(
        [weir_bin, "engine", "chat", "--model", str(model), "--request", str(request),
         "--path", path, "--threads", "2", *extra],
        capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()], result


def sse_events(pieces):
    events = []
    for piece in pieces:
        assert piece.startswith("data: "), piece
        assert piece.endswith("\n\n"), piece
        events.append(piece[len("data: "):-2])
    return events


def stream_text(events):
    content, reasoning = "", ""
    for event in events[:-1]:
        chunk = json.loads(event)
        for choice in chunk["choices"]:
            content += choice["delta"].get("content") or ""
            reasoning += choice["delta"].get("reasoning_content") or ""
    return content, reasoning


def render_chat(weir_bin, tmp_path, model, messages, *extra):
    request = tmp_path / "render.json"
    request.write_text(json.dumps({"messages": messages}))
    result = subprocess.run([weir_bin, "engine", "render-chat", "--model", str(model), "--request",
                             str(request), *extra], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def jinja_render(template, messages, bos):
    return jinja2.Environment().from_string(template).render(
        messages=messages, add_generation_prompt=True, bos_token=bos, eos_token="")


def test_smollm2_chatml_matches_jinja(weir_bin, tmp_path, smollm2_path):
    import gguf
    reader = gguf.GGUFReader(smollm2_path)
    template = reader.fields["tokenizer.chat_template"].contents()
    for messages in (MESSAGES[1:2], MESSAGES):
        plain = [dict(m) for m in messages]
        got = render_chat(weir_bin, tmp_path, smollm2_path, plain)
        assert got["template"] == "chatml"
        assert got["prompt"] == jinja_render(template, plain, "<|im_start|>")


@pytest.mark.parametrize("template,bos,name", [
    (R1_TEMPLATE, "<｜begin▁of▁sentence｜>", "deepseek-r1"),
    (LLAMA3_TEMPLATE, "<|begin_of_text|>", "llama3"),
])
def test_template_matches_jinja(weir_bin, tmp_path, template, bos, name):
    model = write_tiny_model(tmp_path / "model.gguf", "llama", "F16", chat_template=template, bos=bos)
    got = render_chat(weir_bin, tmp_path, model, MESSAGES)
    assert got["template"] == name
    assert got["prompt"] == jinja_render(template, MESSAGES, bos)


def test_unknown_template_is_clear_error(weir_bin, tmp_path):
    model = write_tiny_model(tmp_path / "model.gguf", "llama", "F16", chat_template="{{ messages }}")
    lines, result = run_chat(weir_bin, tmp_path, model, {"messages": MESSAGES}, check=False)
    assert result.returncode != 0
    assert "set chat_template in the upstream configuration" in result.stderr
    lines, result = run_chat(weir_bin, tmp_path, model, {"messages": MESSAGES[:2], "max_tokens": 3},
                             "--chat-template", "chatml")
    assert lines[0]["status"] == 200


def test_smollm2_stream_with_usage(weir_bin, tmp_path, smollm2_path):
    body = {"messages": [{"role": "user", "content": "What is the capital of France?"}],
            "max_tokens": 40, "temperature": 0, "stream": True,
            "stream_options": {"include_usage": True}}
    lines, _ = run_chat(weir_bin, tmp_path, smollm2_path, body, "--context-size", "512")
    response = lines[0]
    assert response["status"] == 200
    assert response["content_type"] == "text/event-stream"
    events = sse_events(response["pieces"])
    assert events[-1] == "[DONE]"
    first = json.loads(events[0])
    assert first["object"] == "chat.completion.chunk"
    assert first["choices"][0]["delta"]["role"] == "assistant"
    usage_chunk = json.loads(events[-2])
    assert usage_chunk["choices"] == []
    finish_chunk = json.loads(events[-3])
    assert finish_chunk["choices"][0]["finish_reason"] in ("stop", "length")
    content, _ = stream_text(events[:-2])
    assert content.strip()
    usage = usage_chunk["usage"]
    assert usage["prompt_tokens"] == 37
    assert usage["completion_tokens"] >= 2
    assert usage["completion_tokens"] <= 40
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_smollm2_non_stream_equals_stream(weir_bin, tmp_path, smollm2_path):
    base = {"messages": [{"role": "user", "content": "Write a long essay about the history of Rome."}], "max_tokens": 12,
            "temperature": 0}
    lines, _ = run_chat(weir_bin, tmp_path, smollm2_path, base, "--context-size", "512")
    body = json.loads(lines[0]["pieces"][0])
    assert lines[0]["content_type"] == "application/json"
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 12
    streamed, _ = run_chat(weir_bin, tmp_path, smollm2_path, dict(base, stream=True), "--context-size", "512")
    content, _ = stream_text(sse_events(streamed[0]["pieces"]))
    assert content == body["choices"][0]["message"]["content"]


def test_smollm2_stop_string(weir_bin, tmp_path, smollm2_path):
    body = {"messages": [{"role": "user", "content": "Write a long essay about the history of Rome."}],
            "max_tokens": 30, "temperature": 0}
    lines, _ = run_chat(weir_bin, tmp_path, smollm2_path, body, "--context-size", "512")
    full = json.loads(lines[0]["pieces"][0])["choices"][0]["message"]["content"]
    words = full.split(" ")
    assert len(words) > 4
    # The third word, with its leading space, as a stop string; the reply
    # must end right before its first occurrence.
    stop = " " + words[2]
    lines, _ = run_chat(weir_bin, tmp_path, smollm2_path, dict(body, stop=["NEVER-SEEN", stop]),
                        "--context-size", "512")
    result = json.loads(lines[0]["pieces"][0])
    assert result["choices"][0]["message"]["content"] == full[:full.index(stop)]
    assert result["choices"][0]["finish_reason"] == "stop"


def test_completions_path(weir_bin, tmp_path, smollm2_path):
    body = {"prompt": "The capital of France is", "max_tokens": 5, "temperature": 0,
            "stream": True, "stream_options": {"include_usage": True}}
    lines, _ = run_chat(weir_bin, tmp_path, smollm2_path, body, "--context-size", "512", path="/v1/completions")
    events = sse_events(lines[0]["pieces"])
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "text_completion" for c in chunks)
    text = "".join(c["choices"][0]["text"] for c in chunks if c["choices"])
    assert text
    assert chunks[-1]["usage"]["completion_tokens"] == 5


def test_seed_makes_sampling_reproducible(weir_bin, tmp_path, smollm2_path):
    body = {"messages": [{"role": "user", "content": "Tell me a story."}], "max_tokens": 16,
            "temperature": 1.0, "top_p": 0.95, "top_k": 50, "min_p": 0.01,
            "repetition_penalty": 1.1, "frequency_penalty": 0.2, "presence_penalty": 0.1, "seed": 7}
    first, _ = run_chat(weir_bin, tmp_path, smollm2_path, body, "--context-size", "512")
    second, _ = run_chat(weir_bin, tmp_path, smollm2_path, body, "--context-size", "512")
    first_body = json.loads(first[0]["pieces"][0])
    second_body = json.loads(second[0]["pieces"][0])
    assert first_body["choices"] == second_body["choices"]
    assert first_body["usage"]["completion_tokens"] > 0


@pytest.mark.parametrize("field,value", [
    ("temperature", -1), ("top_p", 0), ("top_k", -5), ("min_p", 2), ("repetition_penalty", 0),
    ("frequency_penalty", 3), ("presence_penalty", -3), ("max_tokens", 0), ("n", 2),
])
def test_invalid_sampling_parameter_is_400(weir_bin, tmp_path, smollm2_path, field, value):
    body = {"messages": [{"role": "user", "content": "hi"}], field: value}
    lines, _ = run_chat(weir_bin, tmp_path, smollm2_path, body, "--context-size", "256")
    assert lines[0]["status"] == 400
    error = json.loads(lines[0]["pieces"][0])["error"]
    assert error["param"] == field
    assert field in error["message"]
    assert error["type"] == "invalid_request_error"


def test_context_overflow_is_400(weir_bin, tmp_path, smollm2_path):
    body = {"messages": [{"role": "user", "content": "word " * 400}]}
    lines, _ = run_chat(weir_bin, tmp_path, smollm2_path, body, "--context-size", "256")
    assert lines[0]["status"] == 400
    error = json.loads(lines[0]["pieces"][0])["error"]
    assert error["code"] == "context_length_exceeded"
    assert "context of 256 tokens" in error["message"]

    body = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1000}
    lines, _ = run_chat(weir_bin, tmp_path, smollm2_path, body, "--context-size", "256")
    assert lines[0]["status"] == 400
    assert json.loads(lines[0]["pieces"][0])["error"]["param"] == "max_tokens"


def test_eight_concurrent_streams_complete(weir_bin, tmp_path, smollm2_path):
    body = {"messages": [{"role": "user", "content": "Write a haiku about rivers."}],
            "max_tokens": 24, "temperature": 0, "stream": True}
    lines, _ = run_chat(weir_bin, tmp_path, smollm2_path, body, "--context-size", "256",
                        "--parallel", "8", "--concurrent", "8")
    assert len(lines) == 8
    texts = set()
    for line in lines:
        events = sse_events(line["pieces"])
        assert events[-1] == "[DONE]"
        texts.add(stream_text(events)[0])
    # Greedy decoding of the same prompt gives the same text in every slot.
    assert len(texts) == 1


def test_more_requests_than_slots_all_finish(weir_bin, tmp_path, smollm2_path):
    body = {"messages": [{"role": "user", "content": "Say yes."}], "max_tokens": 6, "temperature": 0}
    lines, _ = run_chat(weir_bin, tmp_path, smollm2_path, body, "--context-size", "256",
                        "--parallel", "2", "--concurrent", "5")
    assert [line["status"] for line in lines] == [200] * 5
    for line in lines:
        assert json.loads(line["pieces"][0])["usage"]["completion_tokens"] >= 1


def test_dropped_response_frees_slot(weir_bin, tmp_path, smollm2_path):
    # One slot; each response is dropped after 3 pieces. Were the slot not
    # freed, the second and third requests would wait forever.
    body = {"messages": [{"role": "user", "content": "Tell a long story."}], "max_tokens": 200,
            "temperature": 0, "stream": True}
    lines, _ = run_chat(weir_bin, tmp_path, smollm2_path, body, "--context-size", "512",
                        "--parallel", "1", "--concurrent", "3", "--cancel-after", "3")
    assert len(lines) == 3
    assert all(len(line["pieces"]) == 3 for line in lines)


def test_reasoning_split_with_r1_template(weir_bin, tmp_path):
    model = write_tiny_model(tmp_path / "model.gguf", "qwen2", "Q8_0", chat_template=R1_TEMPLATE,
                             bos="<｜begin▁of▁sentence｜>")
    body = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 20, "temperature": 0}
    lines, _ = run_chat(weir_bin, tmp_path, model, body)
    message = json.loads(lines[0]["pieces"][0])["choices"][0]["message"]
    # The prompt opens <think>; a random model rarely closes it, so all text
    # generated is reasoning.
    assert message["content"] == "" or "reasoning_content" in message
    assert "reasoning_content" in message
    assert len(message["reasoning_content"]) > 0


def test_load_rejected_when_memory_short(weir_bin, tmp_path, smollm2_path):
    # 100000 slots of 2048 tokens need about 4.5 TiB of KV cache.
    body = {"messages": [{"role": "user", "content": "hi"}]}
    _, result = run_chat(weir_bin, tmp_path, smollm2_path, body, "--context-size", "2048",
                         "--parallel", "100000", check=False)
    assert result.returncode != 0
    assert "MiB are available" in result.stderr
    assert "lower context_size or parallel" in result.stderr
