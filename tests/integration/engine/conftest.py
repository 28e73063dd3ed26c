"""Fixtures of the built-in engine tests: the weir binary, the default model."""

import os
import pathlib
import subprocess
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))

REPO = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def weir_bin():
    path = os.environ.get("WEIR_BIN", str(REPO / "build" / "weir"))
    if not os.path.exists(path):
        pytest.fail(f"WEIR_BIN={path} does not exist; build first with `make build`")
    return path


@pytest.fixture(scope="session")
def smollm2_path():
    """Path of SmolLM2-135M-Instruct.Q4_1.gguf, fetched by scripts/fetch-default-model."""
    subprocess.run([str(REPO / "scripts" / "fetch-default-model")], check=True, cwd=REPO)
    return str(REPO / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf")
