"""Authentication (401) and the role x route permission matrix (403)."""

import subprocess
import time

import openai
import pytest

from conftest import WEIR_BIN, new_key

CHAT = {"model": "demo", "messages": [{"role": "user", "content": "hi"}]}


def chat(weir, key):
    return weir.request("POST", "/v1/chat/completions", key=key, json=CHAT)


def test_missing_malformed_unknown_keys(weir):
    missing = weir.request("POST", "/v1/chat/completions", json=CHAT)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "missing_api_key"

    for malformed in ["sk-123", "wr-short", "wr-" + "!" * 40]:
        response = chat(weir, malformed)
        assert response.status_code == 401
        assert "malformed" in response.json()["error"]["message"]

    no_bearer = weir.request("POST", "/v1/chat/completions", json=CHAT, headers={"Authorization": weir.admin_key})
    assert no_bearer.status_code == 401

    unknown = chat(weir, new_key())
    assert unknown.status_code == 401
    assert unknown.json()["error"]["code"] == "invalid_api_key"


def test_revoked_key_rejected_on_next_request(weir):
    user = weir.create_user("revokee", "viewer")
    created = weir.admin("POST", "/admin/v1/keys", json={"user_id": user["id"]}).json()
    assert chat(weir, created["key"]).status_code == 200
    assert weir.admin("DELETE", f"/admin/v1/keys/{created['id']}").json() == {"id": created["id"], "revoked": True}
    response = chat(weir, created["key"])
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "revoked_api_key"


def test_expired_key_rejected(weir):
    user = weir.create_user("expiring", "viewer")
    soon = int(time.time()) + 2
    created = weir.admin("POST", "/admin/v1/keys", json={"user_id": user["id"], "expires_at": soon})
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    assert chat(weir, key).status_code == 200
    time.sleep(max(0, soon - time.time()) + 0.5)
    response = chat(weir, key)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "expired_api_key"


def test_disabled_user_rejected(weir):
    user, key = weir.user_with_key("leaver", "user")
    assert weir.admin("PATCH", f"/admin/v1/users/{user['id']}", json={"disabled": True}).status_code == 200
    assert chat(weir, key).status_code == 401


def test_openai_client_maps_401(weir):
    api = openai.OpenAI(base_url=weir.url("/v1"), api_key=new_key(), max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        api.models.list()


# (method, path, body, lowest role allowed). Paths use "{self_key}" and
# "{conversation}" placeholders resolved per test.
ROUTES = [
    ("POST", "/v1/chat/completions", CHAT, "viewer"),
    ("POST", "/v1/completions", {"model": "demo", "prompt": "hi"}, "viewer"),
    ("POST", "/v1/embeddings", {"model": "demo", "input": "hi"}, "viewer"),
    ("GET", "/v1/models", None, "viewer"),
    ("GET", "/admin/v1/me", None, "viewer"),
    ("GET", "/admin/v1/keys", None, "viewer"),
    ("POST", "/v1/conversations", {"model": "demo"}, "user"),
    ("GET", "/v1/conversations", None, "user"),
    ("GET", "/admin/v1/users", None, "admin"),
    ("POST", "/admin/v1/teams", {"name": "team-{role}"}, "admin"),
    ("GET", "/admin/v1/teams", None, "admin"),
    ("GET", "/admin/v1/audit", None, "admin"),
    ("GET", "/admin/v1/usage", None, "admin"),
    ("GET", "/admin/v1/models", None, "admin"),
    ("PATCH", "/admin/v1/models/demo", {"params": {"default_max_tokens": 8}}, "admin"),
    ("POST", "/admin/v1/models", {"name": "new-{role}", "upstreams": [{"url": "http://127.0.0.1:9/v1"}]}, "superadmin"),
]
ROLES = ["viewer", "user", "admin", "superadmin"]


@pytest.fixture
def keys_by_role(weir):
    keys = {"superadmin": weir.admin_key}
    for role in ROLES[:-1]:
        _, keys[role] = weir.user_with_key(f"matrix-{role}", role)
    return keys


def test_role_route_matrix(weir, keys_by_role):
    for method, path, body, minimum in ROUTES:
        for role in ROLES:
            payload = None
            if body is not None:
                payload = {k: (v.replace("{role}", role) if isinstance(v, str) else v) for k, v in body.items()}
            response = weir.request(method, path, key=keys_by_role[role], json=payload)
            allowed = ROLES.index(role) >= ROLES.index(minimum)
            if allowed:
                assert response.status_code < 400, f"{role} {method} {path}: {response.status_code} {response.text}"
            else:
                assert response.status_code == 403, f"{role} {method} {path}: {response.status_code} {response.text}"
                error = response.json()["error"]
                assert error["type"] == "permission_error"
                assert minimum in error["message"]


def test_viewer_cannot_open_conversation(weir, keys_by_role):
    response = weir.request("POST", "/v1/conversations", key=keys_by_role["viewer"], json={"model": "demo"})
    assert response.status_code == 403


def test_role_escalation_attempts(weir, keys_by_role):
    admin_key = keys_by_role["admin"]
    # An admin may not create an admin or a superadmin.
    for role in ["admin", "superadmin"]:
        response = weir.request("POST", "/admin/v1/users", key=admin_key, json={"name": f"esc-{role}", "role": role})
        assert response.status_code == 403, response.text
    # An admin may not promote a user to admin, nor change an admin.
    user = weir.request("POST", "/admin/v1/users", key=admin_key, json={"name": "esc-user", "role": "user"}).json()
    assert weir.request("PATCH", f"/admin/v1/users/{user['id']}", key=admin_key, json={"role": "admin"}).status_code == 403
    me = weir.request("GET", "/admin/v1/me", key=admin_key).json()["user"]
    assert weir.request("PATCH", f"/admin/v1/users/{me['id']}", key=admin_key,
                        json={"role": "superadmin"}).status_code == 403
    # An admin may not issue a key for a superadmin.
    super_id = weir.admin("GET", "/admin/v1/me").json()["user"]["id"]
    assert weir.request("POST", "/admin/v1/keys", key=admin_key, json={"user_id": super_id}).status_code == 403
    # A user may not create a key for someone else, only for themselves.
    user_key = keys_by_role["user"]
    assert weir.request("POST", "/admin/v1/keys", key=user_key, json={"user_id": user["id"]}).status_code == 403
    own = weir.request("POST", "/admin/v1/keys", key=user_key, json={"name": "mine"})
    assert own.status_code == 201
    assert own.json()["key"].startswith("wr-")
    # A viewer may not revoke another user's key: it does not exist for them.
    viewer_key = keys_by_role["viewer"]
    assert weir.request("DELETE", f"/admin/v1/keys/{own.json()['id']}", key=viewer_key).status_code == 404
    # A superadmin may grant admin.
    assert weir.admin("PATCH", f"/admin/v1/users/{user['id']}", json={"role": "admin"}).json()["role"] == "admin"


def test_cli_key_works_with_openai_client(weir):
    subprocess.run([WEIR_BIN, "users", "create", "--name", "cli-user", "--role", "user", "--data-dir",
                    str(weir.data_dir)], check=True, capture_output=True)
    created = subprocess.run([WEIR_BIN, "keys", "create", "--user", "cli-user", "--data-dir", str(weir.data_dir)],
                             check=True, capture_output=True, text=True)
    key = created.stdout.strip()
    assert key.startswith("wr-")
    api = openai.OpenAI(base_url=weir.url("/v1"), api_key=key, max_retries=0)
    # The server notices keys written by another process within 250 ms.
    deadline = time.monotonic() + 5
    while True:
        try:
            answer = api.chat.completions.create(model="demo", messages=[{"role": "user", "content": "hi"}])
            break
        except openai.AuthenticationError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    assert answer.choices[0].message.content
    listed = subprocess.run([WEIR_BIN, "keys", "list", "--user", "cli-user", "--data-dir", str(weir.data_dir)],
                            check=True, capture_output=True, text=True).stdout
    assert key[:10] in listed
    assert key not in listed
