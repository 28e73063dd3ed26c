"""The OpenAI-compatible API through Weir, driven by the official openai client."""

import json

import openai
import pytest
import requests


def client(weir, key=None):
    return openai.OpenAI(base_url=weir.url("/v1"), api_key=key or weir.admin_key, max_retries=0)


def sim_direct(sim, body):
    return requests.post(f"{sim.url}/chat/completions", json=body, timeout=10)


def test_chat_non_stream_content_unchanged(sim, weir):
    messages = [{"role": "user", "content": "Tell me about weirs."}]
    answer = client(weir).chat.completions.create(model="demo", messages=messages)
    direct = sim_direct(sim, {"model": "demo", "messages": messages}).json()
    assert answer.choices[0].message.content == direct["choices"][0]["message"]["content"]
    assert answer.usage.prompt_tokens == direct["usage"]["prompt_tokens"]
    assert answer.usage.completion_tokens == direct["usage"]["completion_tokens"]


def test_chat_stream_content_unchanged(sim, weir):
    messages = [{"role": "user", "content": "Stream me a sentence."}]
    stream = client(weir).chat.completions.create(model="demo", messages=messages, stream=True)
    chunks = list(stream)
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    direct = sim_direct(sim, {"model": "demo", "messages": messages}).json()
    assert streamed == direct["choices"][0]["message"]["content"]
    # The client did not ask for usage, so the usage-only chunk Weir requested is not passed on.
    assert all(c.choices for c in chunks)


def test_stream_passes_usage_when_client_asks(weir):
    stream = client(weir).chat.completions.create(
        model="demo", messages=[{"role": "user", "content": "hi"}], stream=True,
        stream_options={"include_usage": True})
    usage = [c.usage for c in stream if c.usage is not None]
    assert len(usage) == 1
    assert usage[0].completion_tokens == 16


def test_stream_and_non_stream_record_equal_tokens(weir):
    messages = [{"role": "user", "content": "Count my tokens the same way twice."}]
    client(weir).chat.completions.create(model="demo", messages=messages, extra_headers={"x-request-id": "tok-plain"})
    list(client(weir).chat.completions.create(model="demo", messages=messages, stream=True,
                                              extra_headers={"x-request-id": "tok-stream"}))
    records = {r["request_id"]: r for r in weir.audit(model="demo", limit=10) if r["request_id"].startswith("tok-")}
    for _ in range(20):
        if len(records) == 2:
            break
        records = {r["request_id"]: r for r in weir.audit(model="demo", limit=10) if r["request_id"].startswith("tok-")}
    assert records["tok-plain"]["prompt_tokens"] == records["tok-stream"]["prompt_tokens"] > 0
    assert records["tok-plain"]["completion_tokens"] == records["tok-stream"]["completion_tokens"] == 16
    assert not records["tok-stream"]["tokens_estimated"]


@pytest.mark.parametrize("shape,cached", [("final_empty", 0), ("with_choice", 0), ("deepseek", 4)])
def test_every_usage_shape_is_recorded(weir, shape, cached):
    request_id = f"shape-{shape}"
    content = "x" * 32  # 8 prompt tokens in the simulator's count.
    list(client(weir).chat.completions.create(
        model="demo", messages=[{"role": "user", "content": content}], stream=True,
        extra_body={"sim": {"usage_shape": shape, "reasoning": True}},
        extra_headers={"x-request-id": request_id}))
    record = next(r for r in weir.audit(q=content[:8], limit=50) if r["request_id"] == request_id)
    assert record["prompt_tokens"] == 8
    assert record["completion_tokens"] == 16 + 4
    assert record["reasoning_tokens"] == 4
    assert record["cached_tokens"] == cached
    assert record["tokens_estimated"] is False


def test_stream_without_usage_is_estimated(weir):
    list(client(weir).chat.completions.create(
        model="demo", messages=[{"role": "user", "content": "no usage here please"}], stream=True,
        extra_body={"sim": {"usage_shape": "none"}}, extra_headers={"x-request-id": "estimated-1"}))
    record = next(r for r in weir.audit(limit=20) if r["request_id"] == "estimated-1")
    assert record["tokens_estimated"] is True
    assert record["completion_tokens"] == 16
    assert record["prompt_tokens"] == 5


def test_reasoning_content_is_passed_through(weir):
    chunks = list(client(weir).chat.completions.create(
        model="demo", messages=[{"role": "user", "content": "think"}], stream=True,
        extra_body={"sim": {"reasoning": True}}))
    reasoning = "".join(getattr(c.choices[0].delta, "reasoning_content", None) or "" for c in chunks if c.choices)
    assert reasoning == "Let me think."


def test_completions_and_embeddings(weir):
    api = client(weir)
    completion = api.completions.create(model="demo", prompt="Once upon a time", max_tokens=4)
    assert len(completion.choices[0].text.split()) == 4
    embedding = api.embeddings.create(model="demo", input="embed me")
    assert len(embedding.data[0].embedding) == 8
    assert embedding.usage.prompt_tokens == 2


def test_proxied_response_headers(weir):
    response = weir.admin("POST", "/v1/chat/completions",
                          json={"model": "demo", "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 200
    assert response.headers["x-request-id"].startswith("req_")
    assert int(response.headers["x-weir-overhead-us"]) >= 0
    streamed = weir.admin("POST", "/v1/chat/completions", stream=True,
                          json={"model": "demo", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    assert streamed.headers["content-type"] == "text/event-stream"
    assert "x-weir-overhead-us" in streamed.headers
    body = streamed.content.decode()
    assert body.rstrip().endswith("data: [DONE]")


def test_models_lists_only_allowed_models(sim, weir_factory):
    weir = weir_factory([
        {"name": "alpha", "upstreams": [{"url": sim.url}]},
        {"name": "beta", "upstreams": [{"url": sim.url}]},
    ])
    user = weir.create_user("modeluser", "viewer")
    key = weir.create_key(user["id"], models=["beta"])
    ids = [m.id for m in client(weir, key).models.list()]
    assert ids == ["beta"]
    with pytest.raises(openai.PermissionDeniedError) as denied:
        client(weir, key).chat.completions.create(model="alpha", messages=[{"role": "user", "content": "hi"}])
    assert denied.value.body["code"] == "model_not_allowed"


def test_model_params_policy(weir):
    response = weir.admin("PATCH", "/admin/v1/models/demo", json={
        "params": {"default_max_tokens": 3, "max_tokens_limit": 50, "temperature_min": 0.0, "temperature_max": 1.0,
                   "system_prompt": "You are helpful."}})
    assert response.status_code == 200, response.text
    answer = client(weir).chat.completions.create(model="demo", messages=[{"role": "user", "content": "hi"}])
    assert answer.usage.completion_tokens == 3
    with pytest.raises(openai.BadRequestError) as too_many:
        client(weir).chat.completions.create(model="demo", messages=[{"role": "user", "content": "hi"}],
                                             max_tokens=51)
    assert "at most 50" in too_many.value.body["message"]
    with pytest.raises(openai.BadRequestError) as too_hot:
        client(weir).chat.completions.create(model="demo", messages=[{"role": "user", "content": "hi"}],
                                             temperature=1.5)
    assert too_hot.value.body["param"] == "temperature"
    models = weir.admin("GET", "/admin/v1/models").json()["data"]
    assert models[0]["params"]["system_prompt"] == "You are helpful."


def test_metrics_have_no_key_material(weir):
    client(weir).chat.completions.create(model="demo", messages=[{"role": "user", "content": "hi"}])
    text = requests.get(weir.url("/metrics"), timeout=5).text
    assert 'weir_requests_total{route="/v1/chat/completions",model="demo"' in text
    assert "weir_gateway_overhead_seconds_bucket" in text
    assert "weir_tokens_total" in text
    assert weir.admin_key not in text
    assert weir.admin_key[:10] not in text


def test_health_and_readiness(weir):
    assert requests.get(weir.url("/healthz"), timeout=5).status_code == 200
    assert requests.get(weir.url("/readyz"), timeout=5).json()["status"] == "ready"
