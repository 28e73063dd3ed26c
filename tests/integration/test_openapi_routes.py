"""docs/openapi.json and the gateway's route table name the same API routes.

The route table comes from `weir serve --print-routes` (one "METHOD /path" per
line). Static files of the web UI are not API routes and are left out; every
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
