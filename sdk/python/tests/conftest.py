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
