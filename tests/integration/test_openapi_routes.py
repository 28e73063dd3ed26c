"""docs/openapi.json and the gateway's route table name the same API routes.

The route table comes from `weir serve --print-routes` (one "METHOD /path" per
line). Static files of the web UI are not API routes and are left out. Every
other route must be in the spec with the same method, and every operation of
the spec must be a route.
"""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = json.loads((ROOT / "docs" / "openapi.json").read_text())
HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}
API_PREFIXES = ("/v1/", "/admin/", "/auth/")
API_PATHS = {"/healthz", "/readyz", "/metrics", "/openapi.json"}


def is_api_route(path):
    return path.startswith(API_PREFIXES) or path in API_PATHS


def normalize(path):
    """Return the path with every {parameter} named alike, so /keys/{id} matches /keys/{key_id}."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def spec_operations():
    return {
        (method.upper(), normalize(path))
        for path, item in SPEC["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


@pytest.fixture(scope="module")
def route_table():
    binary = os.environ.get("WEIR_BIN") or str(ROOT / "build" / "weir")
    if not os.access(binary, os.X_OK):
        pytest.skip(f"{binary} is missing; run `make build`")
    output = subprocess.run([binary, "serve", "--print-routes"], check=True, capture_output=True, text=True,
                            timeout=60).stdout
    routes = set()
    for line in output.splitlines():
        method, _, path = line.strip().partition(" ")
        if path and is_api_route(path):
            routes.add((method.upper(), normalize(path)))
    assert routes, f"weir serve --print-routes printed no API route:\n{output}"
    return routes


def test_every_route_is_in_spec(route_table):
    missing = sorted(route_table - spec_operations())
    assert missing == [], f"routes missing from docs/openapi.json: {missing}"


def test_every_spec_operation_is_a_route(route_table):
    unknown = sorted(spec_operations() - route_table)
    assert unknown == [], f"docs/openapi.json names routes the gateway does not have: {unknown}"


def test_spec_paths_are_api_paths():
    outside = sorted(path for path in SPEC["paths"] if not is_api_route(path))
    assert outside == [], f"spec paths outside the API prefixes {API_PREFIXES}: {outside}"


# Responses of a live gateway match the spec's schemas.

@pytest.fixture(scope="module")
def live():
    import sys

    binary = os.environ.get("WEIR_BIN") or str(ROOT / "build" / "weir")
    if not os.access(binary, os.X_OK):
        pytest.skip(f"{binary} is missing; run `make build`")
    sys.path.insert(0, str(ROOT / "sdk" / "python" / "tests"))
    from live_gateway import start_gateway

    gateway = start_gateway(binary)
    yield gateway
    gateway.stop()


def call(live, method, path, body=None, key=None):
    import urllib.request

    request = urllib.request.Request(
        live.base_url + path, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key or live.admin_key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


def check_against_spec(path_template, method, status, body):
    from jsonschema import Draft202012Validator

    response = SPEC["paths"][path_template][method.lower()]["responses"][str(status)]
    schema = response["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": SPEC["components"]})
    errors = [f"{'/'.join(map(str, error.path))}: {error.message}" for error in validator.iter_errors(body)]
    assert errors == [], f"{method} {path_template} -> {status} does not match the spec: {errors}"


def test_responses_match_spec(live):
    suffix = os.urandom(4).hex()
    status, user = call(live, "POST", "/admin/v1/users", {"name": f"spec-{suffix}", "role": "user", "password": "long-enough-1"})
    check_against_spec("/admin/v1/users", "POST", status, user)
    status, key = call(live, "POST", "/admin/v1/keys", {"user_id": user["id"], "name": "spec"})
    check_against_spec("/admin/v1/keys", "POST", status, key)
    status, team = call(live, "POST", "/admin/v1/teams", {"name": f"team-{suffix}"})
    check_against_spec("/admin/v1/teams", "POST", status, team)
    status, conversation = call(live, "POST", "/v1/conversations", {"title": "spec", "model": live.model}, key["key"])
    check_against_spec("/v1/conversations", "POST", status, conversation)
    status, reply = call(live, "POST", f"/v1/conversations/{conversation['id']}/messages", {"content": "hi"}, key["key"])
    check_against_spec("/v1/conversations/{id}/messages", "POST", status, reply)
    status, completion = call(live, "POST", "/v1/chat/completions",
                              {"model": live.model, "messages": [{"role": "user", "content": "hi"}]}, key["key"])
    check_against_spec("/v1/chat/completions", "POST", status, completion)

    reads = [
        ("/v1/models", "/v1/models"),
        ("/v1/conversations", "/v1/conversations"),
        (f"/v1/conversations/{conversation['id']}", "/v1/conversations/{id}"),
        ("/admin/v1/me", "/admin/v1/me"),
        ("/admin/v1/users", "/admin/v1/users"),
        (f"/admin/v1/users/{user['id']}", "/admin/v1/users/{id}"),
        ("/admin/v1/teams", "/admin/v1/teams"),
        (f"/admin/v1/keys?user_id={user['id']}", "/admin/v1/keys"),
        ("/admin/v1/audit?limit=5", "/admin/v1/audit"),
        ("/admin/v1/models", "/admin/v1/models"),
        ("/admin/v1/usage?group_by=model", "/admin/v1/usage"),
        ("/healthz", "/healthz"),
    ]
    for path, template in reads:
        status, body = call(live, "GET", path, key=None if not path.startswith("/v1/conversations") else key["key"])
        check_against_spec(template, "GET", status, body)

    status, deleted = call(live, "DELETE", f"/v1/conversations/{conversation['id']}", key=key["key"])
    check_against_spec("/v1/conversations/{id}", "DELETE", status, deleted)
    status, revoked = call(live, "DELETE", f"/admin/v1/keys/{key['id']}")
    check_against_spec("/admin/v1/keys/{id}", "DELETE", status, revoked)
