import sys
from pathlib import Path

import pytest

# Test the source tree without installing the wheel first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from stub_server import StubServer  # noqa: E402


@pytest.fixture
def stub():
    server = StubServer().start()
    yield server
    server.stop()


def _weir_binary():
    import os

    path = os.environ.get("WEIR_BIN") or str(Path(__file__).resolve().parents[3] / "build" / "weir")
    return path if os.access(path, os.X_OK) else None


@pytest.fixture(scope="session")
def live():
    """A running gateway in front of the simulator, or a skip when build/weir is missing."""
    binary = _weir_binary()
    if binary is None:
        pytest.skip("build/weir is missing; run `make build` for the live gateway tests")
    from live_gateway import start_gateway

    gateway = start_gateway(binary)
    yield gateway
    gateway.stop()


@pytest.fixture
def admin(live):
    import weir

    with weir.Weir(base_url=live.base_url, api_key=live.admin_key) as client:
        yield client
