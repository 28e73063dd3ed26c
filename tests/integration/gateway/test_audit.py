"""Audit records: one per request, searchable, never holding key material."""

import subprocess
import time

import requests

from weir_harness import WEIR_BIN

CHAT = {"model": "demo", "messages": [{"role": "user", "content": "hi"}]}


def test_every_request_is_audited_with_fields(weir):
    user, key = weir.user_with_key("auditee", "user", team="research")
    body = {"model": "demo", "temperature": 0.3, "max_tokens": 5,
            "messages": [{"role": "user", "content": "Where is the river weir?"}]}
    response = weir.request("POST", "/v1/chat/completions", key=key, json=body)
    request_id = response.headers["x-request-id"]
    record = next(r for r in weir.audit(user="auditee") if r["request_id"] == request_id)
    assert record["team"] == "research"
    assert record["role"] == "user"
    assert record["key_prefix"] == key[:10]
    assert record["client_ip"] == "127.0.0.1"
    assert record["route"] == "/v1/chat/completions"
    assert record["model"] == "demo"
    assert record["upstream"].startswith("http://127.0.0.1:")
    assert record["status"] == 200
    assert record["latency_ms"] >= 0
    assert record["params"]["temperature"] == 0.3
    assert record["params"]["max_tokens"] == 5
    assert record["request_summary"] == "Where is the river weir?"
    assert record["response_summary"]
    assert record["completion_tokens"] == 5


def test_search_by_user_status_time_and_text(weir):
    _, alice = weir.user_with_key("alice", "viewer")
    _, bob = weir.user_with_key("bob", "viewer")
    start = int(time.time() * 1000)
    weir.request("POST", "/v1/chat/completions", key=alice,
                 json={"model": "demo", "messages": [{"role": "user", "content": "水坝的设计原理是什么"}]})
    weir.request("POST", "/v1/chat/completions", key=bob,
                 json={"model": "demo", "messages": [{"role": "user", "content": "salmon ladders"}]})
    weir.request("POST", "/v1/chat/completions", key=bob, json={"model": "missing-model", "messages": [{"role": "user", "content": "x"}]})

    assert {r["user"] for r in weir.audit(user="alice")} == {"alice"}
    not_found = weir.audit(user="bob", status=404)
    assert len(not_found) == 1
    assert not_found[0]["model"] == "missing-model"
    assert all(400 <= r["status"] < 500 for r in weir.audit(status=4))
    assert [r["user"] for r in weir.audit(q="设计原理")] == ["alice"]
    assert [r["user"] for r in weir.audit(q="水坝")] == ["alice"]  # Two characters: the LIKE path.
    assert [r["user"] for r in weir.audit(q="salmon")] == ["bob"]
    assert weir.audit(since=start, user="bob")
    empty = weir.admin("GET", "/admin/v1/audit", params={"until": start - 60000, "user": "bob"}).json()["data"]
    assert empty == []


def test_keyset_pagination(weir):
    for _ in range(5):
        weir.admin("GET", "/v1/models")
    time.sleep(0.3)
    first = weir.admin("GET", "/admin/v1/audit", params={"limit": 2, "q": "/v1/models"}).json()
    second = weir.admin("GET", "/admin/v1/audit",
                        params={"limit": 2, "q": "/v1/models", "cursor": first["next_cursor"]}).json()
    assert len(first["data"]) == 2
    assert len(second["data"]) == 2
    assert first["data"][-1]["id"] > second["data"][0]["id"]


def test_bad_audit_query(weir):
    response = weir.admin("GET", "/admin/v1/audit", params={"since": "yesterday"})
    assert response.status_code == 400
    assert "ISO 8601" in response.json()["error"]["message"]


def test_rejected_requests_are_audited(weir):
    weir.request("POST", "/v1/chat/completions", json=CHAT)
    weir.request("POST", "/v1/chat/completions", key="wr-" + "A" * 40, json=CHAT)
    _, viewer = weir.user_with_key("auditviewer", "viewer")
    weir.request("GET", "/admin/v1/users", key=viewer)
    time.sleep(0.3)
    codes = {r["error_code"] for r in weir.audit(status=401, limit=10)}
    assert {"missing_api_key", "invalid_api_key"} <= codes
    denied = weir.audit(user="auditviewer", status=403)
    assert denied and denied[0]["route"] == "/admin/v1/users"


def test_no_key_material_in_audit_db_or_log(weir):
    _, key = weir.user_with_key("secretive", "viewer")
    weir.request("POST", "/v1/chat/completions", key=key, json=CHAT)
    weir.request("POST", "/v1/chat/completions", key=key[:-1] + "Z", json=CHAT)
    created = weir.admin("POST", "/admin/v1/keys", json={"name": "another"}).json()["key"]
    time.sleep(0.5)
    weir.stop()
    for path in list(weir.data_dir.glob("*.db*")) + [weir.proc.log_path]:
        content = path.read_bytes()
        for secret in (key, created, weir.admin_key):
            assert secret.encode() not in content, f"key found in {path.name}"


def test_cli_audit_search(weir):
    weir.admin("GET", "/v1/models")
    time.sleep(0.4)
    output = subprocess.run([WEIR_BIN, "audit", "search", "--data-dir", str(weir.data_dir), "--user", "admin"],
                            check=True, capture_output=True, text=True).stdout
    assert "/v1/models" in output


def test_usage_report(weir):
    weir.admin("POST", "/v1/chat/completions", json=CHAT)
    time.sleep(0.3)
    for group in ("day", "user", "model"):
        rows = weir.admin("GET", "/admin/v1/usage", params={"group_by": group}).json()["data"]
        assert rows, group
    by_model = {r["key"]: r for r in weir.admin("GET", "/admin/v1/usage", params={"group_by": "model"}).json()["data"]}
    assert by_model["demo"]["completion_tokens"] >= 16
