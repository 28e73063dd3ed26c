"""Quotas: requests/s token bucket, tokens/min and daily budgets, answered with 429 and Retry-After."""

import time

import openai
import pytest

CHAT = {"model": "demo", "messages": [{"role": "user", "content": "hi"}]}


def burst(weir, key, count):
    return [weir.request("POST", "/v1/chat/completions", key=key, json=CHAT).status_code for _ in range(count)]


def test_new_user_rate_limited_with_retry_after(weir):
    _, key = weir.user_with_key("busy", "viewer")
    statuses = burst(weir, key, 14)
    # Role default: 5 requests/s with a burst of 10.
    assert statuses[:10] == [200] * 10
    assert 429 in statuses[10:]
    response = weir.request("POST", "/v1/chat/completions", key=key, json=CHAT)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    error = response.json()["error"]
    assert error["code"] == "rate_limit_exceeded"
    assert "5 requests/s" in error["message"]


def test_openai_client_sees_rate_limit_error(weir):
    _, key = weir.user_with_key("busy2", "viewer", quota={"requests_per_second": 1, "burst": 1})
    api = openai.OpenAI(base_url=weir.url("/v1"), api_key=key, max_retries=0)
    api.chat.completions.create(**CHAT)
    with pytest.raises(openai.RateLimitError) as limited:
        api.chat.completions.create(**CHAT)
    assert limited.value.response.headers["retry-after"] == "1"


def test_per_user_override_raises_limit(weir):
    _, key = weir.user_with_key("vip", "viewer", quota={"requests_per_second": 100, "burst": 30})
    assert burst(weir, key, 25) == [200] * 25


def test_tokens_per_minute(weir):
    # Each answer uses 1 prompt + 16 completion tokens in the simulator.
    _, key = weir.user_with_key("tokenheavy", "viewer", quota={"tokens_per_minute": 30})
    statuses = burst(weir, key, 4)
    assert statuses[:2] == [200, 200]
    assert statuses[2] == 429
    response = weir.request("POST", "/v1/chat/completions", key=key, json=CHAT)
    assert "tokens/min" in response.json()["error"]["message"]
    assert int(response.headers["retry-after"]) >= 1


def test_daily_budget(weir):
    _, key = weir.user_with_key("daily", "viewer", quota={"daily_tokens": 20})
    assert burst(weir, key, 3) == [200, 200, 429]
    response = weir.request("POST", "/v1/chat/completions", key=key, json=CHAT)
    assert "daily budget" in response.json()["error"]["message"]
    assert int(response.headers["retry-after"]) <= 86400


def test_rejections_are_audited(weir):
    _, key = weir.user_with_key("audited429", "viewer", quota={"requests_per_second": 1, "burst": 1})
    burst(weir, key, 3)
    time.sleep(0.3)
    records = weir.audit(user="audited429", status=429)
    assert records
    assert records[0]["error_code"] == "rate_limit_exceeded"
