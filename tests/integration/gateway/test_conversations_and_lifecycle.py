"""Server-kept conversations, and shutdown that finishes streams and flushes audit."""

import signal
import threading
import time

import requests


def test_conversation_keeps_history(sim, weir):
    _, key = weir.user_with_key("talker", "user")
    created = weir.request("POST", "/v1/conversations", key=key, json={"title": "Dams", "model": "demo"})
    assert created.status_code == 201, created.text
    conversation = created.json()
    cid = conversation["id"]

    first = weir.request("POST", f"/v1/conversations/{cid}/messages", key=key, json={"content": "first question"})
    assert first.status_code == 200, first.text
    answer = first.json()["choices"][0]["message"]["content"]
    streamed = weir.request("POST", f"/v1/conversations/{cid}/messages", key=key,
                            json={"content": "second question", "stream": True})
    assert "data: [DONE]" in streamed.text

    full = weir.request("GET", f"/v1/conversations/{cid}", key=key).json()
    assert [m["role"] for m in full["messages"]] == ["user", "assistant", "user", "assistant"]
    assert full["messages"][1]["content"] == answer
    assert full["messages"][3]["content"]
    # The second call carried the whole history: its prompt counted all three earlier messages.
    records = {r["request_summary"]: r for r in weir.audit(user="talker")}
    assert records["second question"]["prompt_tokens"] > records["first question"]["prompt_tokens"]

    listed = weir.request("GET", "/v1/conversations", key=key).json()["data"]
    assert [c["id"] for c in listed] == [cid]

    _, other = weir.user_with_key("stranger", "user")
    assert weir.request("GET", f"/v1/conversations/{cid}", key=other).status_code == 404
    assert weir.request("DELETE", f"/v1/conversations/{cid}", key=key).json() == {"id": cid, "deleted": True}
    assert weir.request("GET", f"/v1/conversations/{cid}", key=key).status_code == 404


def test_sigterm_finishes_stream_and_flushes_audit(sim, weir):
    sim.configure(tokens_per_second=20, completion_tokens=20)
    result = {}

    def stream():
        response = requests.post(weir.url("/v1/chat/completions"), stream=True, timeout=30,
                                 headers={"Authorization": f"Bearer {weir.admin_key}", "x-request-id": "drain-1"},
                                 json={"model": "demo", "stream": True,
                                       "messages": [{"role": "user", "content": "long answer"}]})
        result["body"] = response.content.decode()

    thread = threading.Thread(target=stream)
    thread.start()
    time.sleep(0.3)
    weir.proc.process.send_signal(signal.SIGTERM)
    thread.join(timeout=20)
    assert weir.proc.process.wait(timeout=20) == 0
    assert result["body"].rstrip().endswith("data: [DONE]")
    log = weir.proc.output()
    assert "event=shutdown_started" in log
    assert "event=stopped" in log

    import sqlite3
    rows = sqlite3.connect(weir.data_dir / "audit.db").execute(
        "SELECT status, completion_tokens FROM audit_events WHERE request_id = 'drain-1'").fetchall()
    assert rows == [(200, 20)]


def test_client_disconnect_mid_stream_is_audited(sim, weir):
    sim.configure(tokens_per_second=10, completion_tokens=50)
    response = requests.post(weir.url("/v1/chat/completions"), stream=True, timeout=30,
                             headers={"Authorization": f"Bearer {weir.admin_key}", "x-request-id": "gone-1"},
                             json={"model": "demo", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    next(response.iter_content(64))
    response.close()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        records = [r for r in weir.audit(limit=20) if r["request_id"] == "gone-1"]
        if records:
            break
        time.sleep(0.2)
    assert records[0]["status"] == 499
    assert records[0]["error_code"] == "client_disconnected"


def test_starts_without_config_file(tmp_path):
    import subprocess
    from conftest import WEIR_BIN, free_port, wait_for_port
    port = free_port()
    process = subprocess.Popen([WEIR_BIN, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(tmp_path / "d")],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_port(port, process)
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=15)[0]
    assert "Superadmin API key (shown once" in output
    assert process.returncode == 0


def test_env_overrides_config(tmp_path, sim):
    import os
    import subprocess
    from conftest import WEIR_BIN, free_port, new_key, wait_for_port
    port = free_port()
    key = new_key()
    env = dict(os.environ, WEIR_LISTEN=f"127.0.0.1:{port}", WEIR_DATA_DIR=str(tmp_path / "envdata"),
               WEIR_ADMIN_KEY=key, WEIR_MODELS=f'[{{"name": "envmodel", "upstreams": [{{"url": "{sim.url}"}}]}}]')
    process = subprocess.Popen([WEIR_BIN, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        models = requests.get(f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": f"Bearer {key}"},
                              timeout=5).json()
        assert [m["id"] for m in models["data"]] == ["envmodel"]
        assert (tmp_path / "envdata" / "weir.db").exists()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


def test_bad_config_is_a_clear_error(tmp_path):
    import subprocess
    from conftest import WEIR_BIN
    config = tmp_path / "bad.yaml"
    config.write_text("models:\n  - name: x\n    upstreams:\n      - url: ftp://nowhere\n")
    result = subprocess.run([WEIR_BIN, "serve", "--config", str(config)], capture_output=True, text=True, timeout=10)
    assert result.returncode == 2
    assert "must start with http://" in result.stderr
