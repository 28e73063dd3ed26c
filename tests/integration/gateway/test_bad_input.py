"""Malformed requests get a clear 4xx in OpenAI's error shape."""

import pytest


def post(weir, body, **kwargs):
    return weir.admin("POST", "/v1/chat/completions", data=body, headers={"content-type": "application/json"}, **kwargs)


def error_of(response):
    body = response.json()
    assert set(body["error"]) >= {"message", "type", "code"}
    return body["error"]


def test_malformed_json(weir):
    response = post(weir, '{"model": "demo", "messages": [')
    assert response.status_code == 400
    assert "not valid JSON" in error_of(response)["message"]


@pytest.mark.parametrize("body,param", [
    ('{"model": 7, "messages": []}', "model"),
    ('{"model": "demo", "messages": "hello"}', "messages"),
    ('{"model": "demo", "messages": [{"role": "wizard", "content": "hi"}]}', "messages[0].role"),
    ('{"model": "demo", "messages": [{"role": "user", "content": 5}]}', "messages[0].content"),
    ('{"model": "demo", "messages": [{"role": "user", "content": "hi"}], "max_tokens": "ten"}', "max_tokens"),
    ('{"model": "demo", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 0}', "max_tokens"),
    ('{"model": "demo", "messages": [{"role": "user", "content": "hi"}], "stream": "yes"}', "stream"),
    ('{"model": "demo", "messages": [{"role": "user", "content": "hi"}], "top_p": 3}', "top_p"),
    ('{"messages": [{"role": "user", "content": "hi"}]}', "model"),
])
def test_wrong_types_name_the_field(weir, body, param):
    response = post(weir, body)
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"


def test_body_over_limit(sim, weir_factory):
    weir = weir_factory([{"name": "demo", "upstreams": [{"url": sim.url}]}], max_body_bytes=4096)
    big = '{"model": "demo", "messages": [{"role": "user", "content": "' + "a" * 8000 + '"}]}'
    response = post(weir, big)
    assert response.status_code == 413
    assert "4096 bytes" in error_of(response)["message"]


def test_unknown_model(weir):
    response = post(weir, '{"model": "nope", "messages": [{"role": "user", "content": "hi"}]}')
    assert response.status_code == 404
    error = error_of(response)
    assert error["code"] == "model_not_found"
    assert '"nope"' in error["message"]


def test_unknown_route_and_method(weir):
    assert weir.admin("GET", "/v1/nothing").status_code == 404
    response = weir.admin("GET", "/v1/chat/completions")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_overload_answers_503_before_reading_body(sim, weir_factory):
    import threading
    weir = weir_factory([{"name": "demo", "upstreams": [{"url": sim.url}]}], max_concurrent_requests=1)
    sim.configure(latency_ms=1500)
    slow = {}
    thread = threading.Thread(target=lambda: slow.update(response=post(
        weir, '{"model": "demo", "messages": [{"role": "user", "content": "hi"}]}')))
    thread.start()
    import time
    time.sleep(0.5)
    shed = post(weir, '{"model": "demo", "messages": [{"role": "user", "content": "hi"}]}')
    thread.join()
    assert shed.status_code == 503
    assert shed.headers["retry-after"] == "1"
    assert error_of(shed)["code"] == "server_overloaded"
    assert slow["response"].status_code == 200
