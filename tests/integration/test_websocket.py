"""GET /v1/ws against a real weir serve: the same keys, roles, quotas and audit as HTTP.

The gateway is started by the SDK tests' launcher (weir sim + weir serve on
port 0) and set up through the SDK, so these tests also use both as a
client would.
"""

import json
import os
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "sdk" / "python" / "src"))
sys.path.insert(0, str(ROOT / "sdk" / "python" / "tests"))

import weir  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

TIMEOUT = 10


@pytest.fixture(scope="module")
def live():
    binary = os.environ.get("WEIR_BIN") or str(ROOT / "build" / "weir")
    if not os.access(binary, os.X_OK):
        pytest.skip(f"{binary} is missing; run `make build`")
    from live_gateway import start_gateway

    # 20 tokens/s keeps a 40-token reply streaming for two seconds, long enough to cut it off.
    gateway = start_gateway(binary, sim_args=("--tokens-per-second", "20", "--completion-tokens", "40"))
    yield gateway
    gateway.stop()


@pytest.fixture(scope="module")
def admin(live):
    with weir.Weir(base_url=live.base_url, api_key=live.admin_key) as client:
        yield client


def ws_url(live):
    return live.base_url.replace("http://", "ws://") + "/v1/ws"


def new_key(admin, role, quota=None):
    user = admin.admin.users.create(name=f"{role}-{uuid.uuid4().hex[:8]}", role=role)
    if quota:
        admin.admin.users.update(user.id, quota=quota)
    return user, admin.admin.keys.create(user_id=user.id).key


def receive(socket):
    return json.loads(socket.recv(timeout=TIMEOUT))


def authenticate(socket, key):
    socket.send(json.dumps({"type": "auth", "api_key": key}))
    ready = receive(socket)
    assert ready["type"] == "ready", ready
    return ready


def chat(socket, chat_id, live, **extra):
    message = {"type": "chat", "id": chat_id, "model": live.model,
               "messages": [{"role": "user", "content": "hello"}], **extra}
    socket.send(json.dumps(message))


def collect(socket, chat_id):
    """Return (deltas, final frame) of one chat."""
    deltas = []
    while True:
        frame = receive(socket)
        if frame.get("type") == "ping":
            continue
        assert frame.get("id") == chat_id, frame
        if frame["type"] == "delta":
            deltas.append(frame["content"])
        else:
            return deltas, frame


def audit_events(admin, user_name, expected_count=1):
    events = []
    for _ in range(40):
        events = list(admin.admin.audit.iterate(user=user_name))
        if len(events) >= expected_count:
            return events
        time.sleep(0.25)
    return events


def test_auth_frame_then_streamed_chat(live, admin):
    user, key = new_key(admin, "viewer")
    with connect(ws_url(live)) as socket:
        ready = authenticate(socket, key)
        assert ready["user"]["name"] == user.name
        assert ready["user"]["role"] == "viewer"
        assert live.model in ready["models"]
        chat(socket, "c1", live)
        deltas, done = collect(socket, "c1")
    assert len(deltas) >= 2, deltas
    assert done["type"] == "done"
    assert done["finish_reason"] == "stop"
    assert done["usage"]["completion_tokens"] > 0


def test_authorization_header_skips_auth_frame(live, admin):
    _, key = new_key(admin, "user")
    with connect(ws_url(live), additional_headers={"Authorization": f"Bearer {key}"}) as socket:
        ready = receive(socket)
        assert ready["type"] == "ready"
        socket.send(json.dumps({"type": "ping"}))
        assert receive(socket) == {"type": "pong"}


def test_unknown_key_is_rejected_and_closed(live):
    with connect(ws_url(live)) as socket:
        socket.send(json.dumps({"type": "auth", "api_key": "wr-" + "z" * 40}))
        error = receive(socket)
        assert error["type"] == "error"
        assert error["status"] == 401
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=TIMEOUT)
    assert closed.value.rcvd.code == 1008


def test_bad_header_key_fails_upgrade_with_401(live):
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus) as rejected:
        connect(ws_url(live), additional_headers={"Authorization": "Bearer wr-" + "z" * 40})
    assert rejected.value.response.status_code == 401


def test_chat_before_auth_is_rejected(live):
    with connect(ws_url(live)) as socket:
        chat(socket, "c1", live)
        error = receive(socket)
        assert error["status"] == 401
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=TIMEOUT)


def test_viewer_cannot_use_conversation(live, admin):
    _, viewer_key = new_key(admin, "viewer")
    owner, owner_key = new_key(admin, "user")
    conversation = weir.Weir(base_url=live.base_url, api_key=owner_key).conversations.create(title="private")
    with connect(ws_url(live)) as socket:
        authenticate(socket, viewer_key)
        socket.send(json.dumps({"type": "chat", "id": "c1", "conversation_id": conversation.id, "content": "hi"}))
        error = receive(socket)
    assert error["type"] == "error"
    assert error["id"] == "c1"
    assert error["status"] == 403
    assert error["error"]["type"] == "permission_error"


def test_user_conversation_is_stored(live, admin):
    _, key = new_key(admin, "user")
    client = weir.Weir(base_url=live.base_url, api_key=key)
    conversation = client.conversations.create(title="over ws", model=live.model)
    with connect(ws_url(live)) as socket:
        authenticate(socket, key)
        socket.send(json.dumps({"type": "chat", "id": "c1", "conversation_id": conversation.id,
                                "content": "remember me", "model": live.model}))
        deltas, done = collect(socket, "c1")
    assert done["type"] == "done"
    stored = client.conversations.get(conversation.id)
    assert [message.role for message in stored.messages] == ["user", "assistant"]
    assert stored.messages[0].content == "remember me"
    assert stored.messages[1].content == "".join(deltas)


def test_quota_applies_as_over_http(live, admin):
    _, key = new_key(admin, "user", quota={"requests_per_second": 0.2, "burst": 1})
    with connect(ws_url(live)) as socket:
        authenticate(socket, key)
        chat(socket, "c1", live, max_tokens=2)
        _, first = collect(socket, "c1")
        assert first["type"] == "done"
        chat(socket, "c2", live, max_tokens=2)
        _, second = collect(socket, "c2")
    assert second["type"] == "error"
    assert second["status"] == 429
    assert second["retry_after"] >= 1

    # The same key over HTTP is out of quota too: both paths share one bucket.
    with pytest.raises(weir.RateLimitError):
        weir.Weir(base_url=live.base_url, api_key=key, max_retries=0).chat.completions.create(
            model=live.model, messages=[{"role": "user", "content": "hi"}], max_tokens=2)


def test_second_chat_while_streaming_is_conflict(live, admin):
    _, key = new_key(admin, "user")
    with connect(ws_url(live)) as socket:
        authenticate(socket, key)
        chat(socket, "c1", live)
        chat(socket, "c2", live)
        frames = [receive(socket) for _ in range(3)]
        conflict = next(frame for frame in frames if frame.get("id") == "c2")
        assert conflict["status"] == 409
        assert conflict["error"]["code"] == "chat_in_progress"


def test_cancel_stops_stream(live, admin):
    user, key = new_key(admin, "user")
    with connect(ws_url(live)) as socket:
        authenticate(socket, key)
        chat(socket, "c1", live)
        first = receive(socket)
        assert first["type"] == "delta"
        socket.send(json.dumps({"type": "cancel", "id": "c1"}))
        _, end = collect(socket, "c1")
    assert end["type"] == "cancelled"
    events = audit_events(admin, user.name)
    assert [event.status for event in events] == [499]
    assert events[0].error_code == "client_disconnected"


def test_disconnect_mid_stream_is_audited(live, admin):
    user, key = new_key(admin, "user")
    with connect(ws_url(live)) as socket:
        authenticate(socket, key)
        chat(socket, "c1", live)
        assert receive(socket)["type"] == "delta"
    # Leaving the block closed the socket while the reply was still streaming.

    events = audit_events(admin, user.name)
    assert len(events) == 1, events
    assert events[0].status == 499
    assert events[0].error_code == "client_disconnected"
    assert events[0].route == "/v1/chat/completions"
    assert events[0].completion_tokens < 40, "the upstream kept streaming after the client left"


def test_invalid_frames_get_400(live, admin):
    _, key = new_key(admin, "viewer")
    with connect(ws_url(live)) as socket:
        authenticate(socket, key)
        socket.send("not json")
        assert receive(socket)["status"] == 400
        socket.send(json.dumps({"type": "dance", "id": "x"}))
        unknown = receive(socket)
        assert unknown["status"] == 400
        assert unknown["error"]["param"] == "type"
        socket.send(json.dumps({"type": "chat", "model": live.model, "messages": []}))
        assert receive(socket)["error"]["param"] == "id"


def test_plain_get_needs_upgrade(live):
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(ws_url(live).replace("ws://", "http://"), timeout=TIMEOUT)
    assert caught.value.code == 426


def sign_in(live, name, password):
    """Return the weir_session cookie value from POST /auth/login."""
    import urllib.request

    request = urllib.request.Request(
        live.base_url + "/auth/login", method="POST",
        data=json.dumps({"username": name, "password": password}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    return cookie.split(";")[0].split("=", 1)[1]


def test_session_cookie_from_same_origin(live, admin):
    user = admin.admin.users.create(name=f"web-{uuid.uuid4().hex[:8]}", role="user", password="correct-horse-7")
    token = sign_in(live, user.name, "correct-horse-7")
    with connect(ws_url(live), additional_headers={"Cookie": f"weir_session={token}"}, origin=live.base_url) as socket:
        ready = receive(socket)
    assert ready["type"] == "ready"
    assert ready["user"]["name"] == user.name


def test_session_cookie_from_other_origin_is_rejected(live, admin):
    from websockets.exceptions import InvalidStatus

    user = admin.admin.users.create(name=f"web-{uuid.uuid4().hex[:8]}", role="user", password="correct-horse-7")
    token = sign_in(live, user.name, "correct-horse-7")
    with pytest.raises(InvalidStatus) as rejected:
        connect(ws_url(live), additional_headers={"Cookie": f"weir_session={token}"}, origin="http://evil.example")
    assert rejected.value.response.status_code == 403
