"""Client behaviour against a scripted local HTTP server: errors, retries, streaming."""

import asyncio
import json
import time
from email.utils import formatdate

import pytest

import weir
from weir import RetryPolicy
from stub_server import StubResponse

FAST_RETRY = RetryPolicy(max_retries=3, initial_backoff=0.05, max_backoff=0.2)

COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "sim",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}


def error_body(message, code, error_type="invalid_request_error", param=None):
    return {"error": {"message": message, "type": error_type, "code": code, "param": param}}


def chunk(text, finish=None):
    return json.dumps({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "sim",
        "choices": [{"index": 0, "delta": {"content": text} if text else {}, "finish_reason": finish}],
    })


def ask(client):
    return client.chat.completions.create(model="sim", messages=[{"role": "user", "content": "hi"}])


def test_chat_sends_key_and_parses_completion(stub):
    stub.queue(StubResponse(200, COMPLETION))
    with weir.Weir(base_url=stub.url + "/v1", api_key="wr-test") as client:
        answer = ask(client)
    assert answer.text == "hello"
    assert answer.usage.total_tokens == 4
    assert stub.requests[0].path == "/v1/chat/completions"
    assert stub.requests[0].headers["authorization"] == "Bearer wr-test"
    assert stub.requests[0].body["messages"] == [{"role": "user", "content": "hi"}]
    assert "stream" not in stub.requests[0].body


@pytest.mark.parametrize("status, error_class", [
    (400, weir.BadRequestError),
    (401, weir.AuthenticationError),
    (403, weir.PermissionDeniedError),
    (404, weir.NotFoundError),
    (500, weir.InternalServerError),
])
def test_error_status_maps_to_exception(stub, status, error_class):
    body = error_body("model 'x' is not allowed for this key", "model_not_allowed", param="model")
    stub.queue(StubResponse(status, body, {"X-Request-Id": "req-42"}))
    with weir.Weir(base_url=stub.url, api_key="wr-test", retry_policy=FAST_RETRY) as client:
        with pytest.raises(error_class) as caught:
            ask(client)
    assert caught.value.status_code == status
    assert caught.value.body == body
    assert caught.value.code == "model_not_allowed"
    assert caught.value.param == "model"
    assert caught.value.request_id == "req-42"
    assert len(stub.requests) == 1, "only 429 and 503 are retried"


def test_rate_limit_honours_retry_after(stub):
    stub.queue(
        StubResponse(429, error_body("rate limit", "rate_limit_exceeded", "rate_limit_error"), {"Retry-After": "1"}),
        StubResponse(200, COMPLETION),
    )
    with weir.Weir(base_url=stub.url, api_key="wr-test", retry_policy=FAST_RETRY) as client:
        answer = ask(client)
    assert answer.text == "hello"
    assert len(stub.requests) == 2
    waited = stub.requests[1].time - stub.requests[0].time
    assert waited >= 0.95, f"retried after {waited:.2f}s, Retry-After asked for 1s"


def test_retry_after_http_date_is_honoured(stub):
    retry_at = formatdate(time.time() + 2, usegmt=True)
    stub.queue(StubResponse(503, error_body("no upstream", "upstream_unavailable", "server_error"),
                            {"Retry-After": retry_at}),
               StubResponse(200, COMPLETION))
    with weir.Weir(base_url=stub.url, api_key="wr-test", retry_policy=FAST_RETRY) as client:
        ask(client)
    waited = stub.requests[1].time - stub.requests[0].time
    # An HTTP date has one-second resolution, so the wait is between 1 and 2 seconds.
    assert 0.9 <= waited <= 2.5


def test_service_unavailable_backs_off_exponentially(stub):
    unavailable = StubResponse(503, error_body("no upstream", "upstream_unavailable", "server_error"))
    stub.queue(unavailable, unavailable, StubResponse(200, COMPLETION))
    policy = RetryPolicy(max_retries=3, initial_backoff=0.2, max_backoff=5)
    with weir.Weir(base_url=stub.url, api_key="wr-test", retry_policy=policy) as client:
        ask(client)
    first_wait = stub.requests[1].time - stub.requests[0].time
    second_wait = stub.requests[2].time - stub.requests[1].time
    # Jitter picks between half and all of 0.2 s, then of 0.4 s.
    assert 0.09 <= first_wait <= 0.5
    assert 0.19 <= second_wait <= 0.8


def test_retries_stop_after_max_retries(stub):
    limited = StubResponse(429, error_body("rate limit", "rate_limit_exceeded", "rate_limit_error"), {"Retry-After": "0"})
    stub.queue(limited, limited, limited, limited, limited)
    with weir.Weir(base_url=stub.url, api_key="wr-test", retry_policy=RetryPolicy(max_retries=2)) as client:
        with pytest.raises(weir.RateLimitError) as caught:
            ask(client)
    assert len(stub.requests) == 3
    assert caught.value.retry_after == 0


def test_long_retry_after_raises_at_once(stub):
    stub.queue(StubResponse(429, error_body("daily budget spent", "daily_quota_exceeded", "rate_limit_error"),
                            {"Retry-After": "3600"}))
    with weir.Weir(base_url=stub.url, api_key="wr-test", retry_policy=FAST_RETRY) as client:
        started = time.monotonic()
        with pytest.raises(weir.RateLimitError) as caught:
            ask(client)
    assert time.monotonic() - started < 1
    assert caught.value.retry_after == 3600
    assert caught.value.code == "daily_quota_exceeded"
    assert len(stub.requests) == 1


def test_refused_connection_raises_connection_error():
    client = weir.Weir(base_url="http://127.0.0.1:9", api_key="wr-test",
                       retry_policy=RetryPolicy(max_retries=1, initial_backoff=0.01))
    with pytest.raises(weir.APIConnectionError):
        ask(client)


def test_stream_yields_chunks_until_done(stub):
    stub.queue(StubResponse(events=[chunk("Hel"), chunk("lo"), chunk("", "stop"), "[DONE]"]))
    with weir.Weir(base_url=stub.url, api_key="wr-test") as client:
        stream = client.chat.completions.create(model="sim", messages=[{"role": "user", "content": "hi"}], stream=True)
        chunks = list(stream)
    assert "".join(c.text for c in chunks) == "Hello"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert stub.requests[0].body["stream"] is True
    assert stub.requests[0].headers["accept"] == "text/event-stream"


def test_stream_error_event_raises(stub):
    failure = json.dumps(error_body("upstream closed the stream", "upstream_error", "server_error"))
    stub.queue(StubResponse(events=[chunk("Hel"), failure]))
    with weir.Weir(base_url=stub.url, api_key="wr-test") as client:
        stream = client.chat.completions.create(model="sim", messages=[{"role": "user", "content": "hi"}], stream=True)
        received = []
        with pytest.raises(weir.StreamError) as caught:
            for item in stream:
                received.append(item.text)
    assert received == ["Hel"]
    assert caught.value.code == "upstream_error"


def test_stream_retries_before_first_byte(stub):
    stub.queue(StubResponse(429, error_body("rate limit", "rate_limit_exceeded", "rate_limit_error"), {"Retry-After": "0"}),
               StubResponse(events=[chunk("ok"), "[DONE]"]))
    with weir.Weir(base_url=stub.url, api_key="wr-test", retry_policy=FAST_RETRY) as client:
        with client.chat.completions.create(model="sim", messages=[], stream=True) as stream:
            assert [c.text for c in stream] == ["ok"]
    assert len(stub.requests) == 2


def test_async_chat_retries_and_streams(stub):
    stub.queue(
        StubResponse(503, error_body("no upstream", "upstream_unavailable", "server_error"), {"Retry-After": "0"}),
        StubResponse(200, COMPLETION),
        StubResponse(events=[chunk("a"), chunk("b"), "[DONE]"]),
    )

    async def run():
        async with weir.AsyncWeir(base_url=stub.url, api_key="wr-test", retry_policy=FAST_RETRY) as client:
            answer = await client.chat.completions.create(model="sim", messages=[{"role": "user", "content": "hi"}])
            stream = await client.chat.completions.create(model="sim", messages=[], stream=True)
            texts = [c.text async for c in stream]
            return answer, texts

    answer, texts = asyncio.run(run())
    assert answer.text == "hello"
    assert texts == ["a", "b"]
    assert len(stub.requests) == 3


def test_async_error_maps_to_exception(stub):
    stub.queue(StubResponse(401, error_body("invalid API key", "invalid_api_key", "authentication_error")))

    async def run():
        async with weir.AsyncWeir(base_url=stub.url, api_key="wr-bad") as client:
            await client.models.list()

    with pytest.raises(weir.AuthenticationError) as caught:
        asyncio.run(run())
    assert caught.value.code == "invalid_api_key"


def test_admin_calls_build_expected_requests(stub):
    stub.queue(
        StubResponse(200, {"id": 7, "key": "wr-secret", "prefix": "wr-secr", "user_id": 3, "name": "ci",
                           "created_at": "2026-01-01T00:00:00Z", "expires_at": None, "models": ["sim"]}),
        StubResponse(200, {"data": [{"id": 1, "status": 429, "model": "sim", "user": "ann"}], "next_cursor": "c2"}),
        StubResponse(200, {"data": [{"id": 2, "status": 200, "model": "sim", "user": "ann"}], "next_cursor": None}),
        StubResponse(200, {"id": 3, "name": "ann", "role": "user", "disabled": True,
                           "quota": {"requests_per_second": 1, "burst": 2, "tokens_per_minute": 100, "daily_tokens": 1000}}),
    )
    with weir.Weir(base_url=stub.url, api_key="wr-admin") as client:
        key = client.admin.keys.create(user_id=3, name="ci", models=["sim"])
        events = list(client.admin.audit.iterate(user="ann", model="sim", limit=1))
        user = client.admin.users.update(3, disabled=True, quota={"requests_per_second": 1})
    assert key.key == "wr-secret"
    assert key.models == ["sim"]
    assert [event.id for event in events] == [1, 2]
    assert stub.requests[1].path == "/admin/v1/audit?user=ann&model=sim&limit=1"
    assert stub.requests[2].path == "/admin/v1/audit?user=ann&model=sim&limit=1&cursor=c2"
    assert stub.requests[3].method == "PATCH"
    assert stub.requests[3].body == {"disabled": True, "quota": {"requests_per_second": 1}}
    assert user.quota.daily_tokens == 1000


def test_usage_rejects_unknown_grouping():
    client = weir.Weir(base_url="http://127.0.0.1:9", api_key="wr-test")
    with pytest.raises(ValueError, match="group_by"):
        client.admin.usage(group_by="week")
