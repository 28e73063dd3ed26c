"""The SDK against a real `weir serve` in front of `weir sim` (skipped when build/weir is missing)."""

import asyncio
import time
import uuid

import pytest

import weir
from weir import RetryPolicy

pytestmark = pytest.mark.live


def unique(name):
    return f"{name}-{uuid.uuid4().hex[:8]}"


def new_user_key(admin, role, quota=None):
    user = admin.admin.users.create(name=unique(role), role=role)
    if quota:
        admin.admin.users.update(user.id, quota=quota)
    return user, admin.admin.keys.create(user_id=user.id, name="sdk-test").key


def test_models_list_contains_sim(live, admin):
    models = admin.models.list()
    assert live.model in [model.id for model in models]
    assert all(model.owned_by == "weir" for model in models)


def test_sync_chat_returns_text_and_usage(live, admin):
    answer = admin.chat.completions.create(model=live.model, messages=[{"role": "user", "content": "Hello"}],
                                           max_tokens=16)
    assert answer.text
    assert answer.choices[0].finish_reason in ("stop", "length")
    assert answer.usage.completion_tokens > 0


def test_streaming_yields_several_chunks(live, admin):
    with admin.chat.completions.create(model=live.model, messages=[{"role": "user", "content": "Count"}],
                                       stream=True, max_tokens=16) as stream:
        chunks = list(stream)
    texts = [chunk.text for chunk in chunks if chunk.text]
    assert len(texts) >= 2, f"expected several deltas, got {texts}"
    assert any(chunk.usage is not None for chunk in chunks), "no usage chunk although include_usage was sent"


def test_async_chat_and_stream(live):
    async def run():
        async with weir.AsyncWeir(base_url=live.base_url, api_key=live.admin_key) as client:
            answer = await client.chat.completions.create(
                model=live.model, messages=[{"role": "user", "content": "Hi"}], max_tokens=8)
            stream = await client.chat.completions.create(
                model=live.model, messages=[{"role": "user", "content": "Hi"}], max_tokens=8, stream=True)
            texts = [chunk.text async for chunk in stream]
            return answer, texts

    answer, texts = asyncio.run(run())
    assert answer.text
    assert "".join(texts)


def test_unknown_key_raises_authentication_error(live):
    client = weir.Weir(base_url=live.base_url, api_key="wr-" + "x" * 40)
    with pytest.raises(weir.AuthenticationError) as caught:
        client.models.list()
    assert caught.value.status_code == 401
    assert caught.value.body["error"]["message"]


def test_viewer_conversation_raises_permission_denied(live, admin):
    _, viewer_key = new_user_key(admin, "viewer")
    viewer = weir.Weir(base_url=live.base_url, api_key=viewer_key)
    with pytest.raises(weir.PermissionDeniedError) as caught:
        viewer.conversations.create(title="not allowed")
    assert caught.value.status_code == 403
    assert caught.value.type


def tiny_chat(client, live):
    """Send one metered request: quotas count model calls, not the model list."""
    return client.chat.completions.create(model=live.model, messages=[{"role": "user", "content": "hi"}], max_tokens=1)


def test_rate_limit_raises_with_retry_after(live, admin):
    _, key = new_user_key(admin, "user", quota={"requests_per_second": 0.5, "burst": 1})
    client = weir.Weir(base_url=live.base_url, api_key=key, max_retries=0)
    tiny_chat(client, live)
    with pytest.raises(weir.RateLimitError) as caught:
        tiny_chat(client, live)
    assert caught.value.status_code == 429
    assert caught.value.retry_after is not None
    assert caught.value.retry_after >= 1


def test_rate_limit_retry_waits_for_retry_after(live, admin):
    _, key = new_user_key(admin, "user", quota={"requests_per_second": 0.5, "burst": 1})
    client = weir.Weir(base_url=live.base_url, api_key=key, retry_policy=RetryPolicy(max_retries=3))
    tiny_chat(client, live)
    started = time.monotonic()
    answer = tiny_chat(client, live)
    waited = time.monotonic() - started
    assert answer.choices
    # One token refills in 2 s at 0.5 requests/s; Retry-After rounds up to whole seconds.
    assert waited >= 0.9, f"the retry came after {waited:.2f}s, before Retry-After"


def test_conversation_keeps_history(live, admin):
    _, key = new_user_key(admin, "user")
    client = weir.Weir(base_url=live.base_url, api_key=key)
    conversation = client.conversations.create(title="sdk test", model=live.model)
    reply = client.conversations.send(conversation.id, "First question", max_tokens=8)
    assert reply.text
    with client.conversations.send(conversation.id, "Second question", stream=True, max_tokens=8) as stream:
        streamed = "".join(chunk.text for chunk in stream)
    assert streamed
    stored = client.conversations.get(conversation.id)
    assert [message.role for message in stored.messages] == ["user", "assistant", "user", "assistant"]
    assert stored.messages[0].content == "First question"
    assert conversation.id in [item.id for item in client.conversations.list()]
    assert client.conversations.delete(conversation.id).deleted is True
    with pytest.raises(weir.NotFoundError):
        client.conversations.get(conversation.id)


def test_admin_key_lifecycle_and_audit(live, admin):
    user, key = new_user_key(admin, "user")
    assert key.startswith("wr-")
    listed = admin.admin.keys.list(user_id=user.id)
    assert len(listed) == 1
    assert listed[0].key is None, "a listed key must not carry the secret"

    client = weir.Weir(base_url=live.base_url, api_key=key)
    client.chat.completions.create(model=live.model, messages=[{"role": "user", "content": "audit me"}], max_tokens=4)
    events = []
    for _ in range(40):
        events = list(admin.admin.audit.iterate(user=user.name))
        if any(event.route == "/v1/chat/completions" for event in events):
            break
        time.sleep(0.25)
    assert any(event.route == "/v1/chat/completions" and event.status == 200 for event in events), events

    revoked = admin.admin.keys.revoke(listed[0].id)
    assert revoked.revoked is True
    with pytest.raises(weir.AuthenticationError):
        client.models.list()


def test_usage_and_model_admin(live, admin):
    rows = admin.admin.usage(group_by="model")
    assert all(row.requests >= 0 for row in rows)
    configs = admin.admin.models.list()
    sim = next(config for config in configs if config.name == live.model)
    assert sim.upstreams
    assert sim.upstreams[0].url
    me = admin.admin.me()
    assert me.user.role == "superadmin"
