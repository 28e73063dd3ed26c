"""Load balancing, passive health (ejection, half-open recovery) and retries."""

import time

import openai
import pytest
import requests

from weir_harness import Sim

CHAT = {"model": "demo", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def two_sims(tmp_path):
    first, second = Sim(tmp_path, "sim-a"), Sim(tmp_path, "sim-b")
    yield first, second
    first.proc.stop()
    second.proc.stop()


def start(weir_factory, sims, **upstream_config):
    return weir_factory(
        [{"name": "demo", "upstreams": [{"url": s.url, "weight": 1} for s in sims]}],
        upstream={"eject_after_failures": 3, "eject_cooldown_ms": 1000, **upstream_config},
        quota={"defaults": {"superadmin": {"requests_per_second": 10000, "burst": 10000}}},
    )


def upstream_state(weir, url):
    model = weir.admin("GET", "/admin/v1/models").json()["data"][0]
    return next(u for u in model["upstreams"] if u["id"] == url)


def test_load_spread_over_upstreams(two_sims, weir_factory):
    weir = start(weir_factory, two_sims)
    for _ in range(40):
        assert weir.admin("POST", "/v1/chat/completions", json=CHAT).status_code == 200
    a, b = (s.requests_seen() for s in two_sims)
    assert a + b == 40
    # Equally fast upstreams share sequential traffic; latency noise may tilt it.
    assert a >= 8
    assert b >= 8


def test_one_500_does_not_eject(two_sims, weir_factory):
    a, _ = two_sims
    weir = start(weir_factory, two_sims)
    a.configure(fail_next=1, failure_status=500)
    statuses = [weir.admin("POST", "/v1/chat/completions", json=CHAT).status_code for _ in range(4)]
    assert statuses.count(500) <= 1
    assert upstream_state(weir, a.url)["state"] == "healthy"


def test_retry_on_503_goes_to_second_upstream(two_sims, weir_factory):
    a, b = two_sims
    weir = start(weir_factory, two_sims)
    a.configure(failure_rate=1.0, failure_status=503)
    for _ in range(6):
        response = weir.admin("POST", "/v1/chat/completions", json=CHAT)
        assert response.status_code == 200, response.text
    metrics = requests.get(weir.url("/metrics"), timeout=5).text
    assert 'weir_retries_total{model="demo"}' in metrics


def test_ejection_after_n_failures_and_zero_attempts(two_sims, weir_factory):
    a, b = two_sims
    weir = start(weir_factory, two_sims, eject_cooldown_ms=60000)
    a.configure(failure_rate=1.0, failure_status=502)
    for _ in range(8):
        assert weir.admin("POST", "/v1/chat/completions", json=CHAT).status_code == 200
    state = upstream_state(weir, a.url)
    assert state["state"] == "ejected"
    seen = a.requests_seen()
    assert seen == 3  # Exactly eject_after_failures attempts reached it.
    for _ in range(10):
        assert weir.admin("POST", "/v1/chat/completions", json=CHAT).status_code == 200
    assert a.requests_seen() == seen  # An ejected upstream gets no requests.
    log = weir.proc.output()
    assert "event=upstream_ejected" in log
    assert "event=upstream_retry" in log


def test_half_open_recovery(two_sims, weir_factory):
    a, b = two_sims
    weir = start(weir_factory, two_sims, eject_cooldown_ms=500)
    a.configure(failure_rate=1.0, failure_status=500)
    for _ in range(8):
        weir.admin("POST", "/v1/chat/completions", json=CHAT)
    assert upstream_state(weir, a.url)["state"] == "ejected"
    a.configure(failure_rate=0.0)
    time.sleep(0.7)
    before = a.requests_seen()
    for _ in range(6):
        assert weir.admin("POST", "/v1/chat/completions", json=CHAT).status_code == 200
    assert a.requests_seen() > before
    assert upstream_state(weir, a.url)["state"] == "healthy"
    assert "event=upstream_restored" in weir.proc.output()


def test_connect_error_retried(sim, weir_factory, tmp_path):
    from weir_harness import free_port
    dead = f"http://127.0.0.1:{free_port()}/v1"
    weir = weir_factory([{"name": "demo", "upstreams": [{"url": dead}, {"url": sim.url}]}])
    for _ in range(4):
        assert weir.admin("POST", "/v1/chat/completions", json=CHAT).status_code == 200


def test_all_upstreams_down_gives_clear_error(weir_factory):
    from weir_harness import free_port
    weir = weir_factory([{"name": "demo", "upstreams": [{"url": f"http://127.0.0.1:{free_port()}/v1"}]}])
    response = weir.admin("POST", "/v1/chat/completions", json=CHAT)
    assert response.status_code == 502
    assert "cannot connect" in response.json()["error"]["message"]


def test_first_byte_timeout(sim, weir_factory):
    weir = weir_factory([{"name": "demo", "upstreams": [{"url": sim.url}]}],
                        upstream={"first_byte_timeout_ms": 200})
    sim.configure(latency_ms=1000)
    response = weir.admin("POST", "/v1/chat/completions", json=CHAT)
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "upstream_timeout"


def test_stream_idle_timeout(sim, weir_factory):
    weir = weir_factory([{"name": "demo", "upstreams": [{"url": sim.url}]}],
                        upstream={"idle_timeout_ms": 150})
    sim.configure(tokens_per_second=2)
    response = weir.admin("POST", "/v1/chat/completions", json={**CHAT, "stream": True}, stream=True)
    body = response.content.decode()
    assert response.status_code == 200
    assert "upstream_timeout" in body


def test_stream_arrives_incrementally(sim, weir_factory):
    weir = weir_factory([{"name": "demo", "upstreams": [{"url": sim.url}]}])
    sim.configure(tokens_per_second=20, completion_tokens=10)
    api = openai.OpenAI(base_url=weir.url("/v1"), api_key=weir.admin_key, max_retries=0)
    arrival = []
    for chunk in api.chat.completions.create(**CHAT, stream=True):
        arrival.append(time.monotonic())
    # Ten tokens at 20/s span about 450 ms; a buffered proxy would deliver them at once.
    assert arrival[-1] - arrival[0] > 0.3


def test_upstream_restart_does_not_fail_requests(tmp_path, weir_factory):
    import subprocess
    from weir_harness import WEIR_BIN, Process, wait_for_port, free_port
    port = free_port()
    args = [WEIR_BIN, "sim", "--listen", f"127.0.0.1:{port}"]
    from concurrent.futures import ThreadPoolExecutor
    first = Process(args + ["--latency-ms", "200"], tmp_path / "sim-first.log")
    wait_for_port(port, first.process)
    weir = weir_factory([{"name": "demo", "upstreams": [{"url": f"http://127.0.0.1:{port}/v1"}]}])
    # Eight overlapping requests leave eight pooled connections to this process.
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: weir.admin("POST", "/v1/chat/completions", json=CHAT).status_code,
                                 range(8)))
    assert statuses == [200] * 8
    first.stop()
    second = Process(args, tmp_path / "sim-second.log")
    try:
        wait_for_port(port, second.process)
        # The pooled connections to the old process are dead; none of them may fail a request.
        for _ in range(5):
            response = weir.admin("POST", "/v1/chat/completions", json=CHAT)
            assert response.status_code == 200, response.text
    finally:
        second.stop()
