"""Fixtures for the integration tests; the helpers live in weir_harness.py."""

import pytest

from weir_harness import Sim, Weir


@pytest.fixture
def sim(tmp_path):
    server = Sim(tmp_path, "sim")
    yield server
    server.proc.stop()


@pytest.fixture
def weir_factory(tmp_path):
    started = []

    def start(models, **config):
        config = {"models": models, **config}
        server = Weir(tmp_path, config)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def weir(sim, weir_factory):
    """Weir in front of one simulator, as model "demo"."""
    return weir_factory([{"name": "demo", "upstreams": [{"url": sim.url, "weight": 1}]}])
