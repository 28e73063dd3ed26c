"""Shared helpers for the rollout tests: run `weir` with fixture hardware."""
import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "rollout"


@pytest.fixture(scope="session")
def weir_bin() -> Path:
    path = os.environ.get("WEIR_BIN")
    if not path:
        pytest.fail("WEIR_BIN is not set; run through `make integration-test`")
    return Path(path)


@pytest.fixture(scope="session")
def fake_nvml(weir_bin: Path) -> Path:
    library = weir_bin.parent / "libweir_fake_nvml.so"
    assert library.exists(), f"{library} is missing; build the weir_fake_nvml target"
    return library


class Weir:
    """Runs the weir binary with fake NVML and fixture /proc trees."""

    def __init__(self, binary: Path, nvml: Path):
        self.binary = binary
        self.nvml = nvml

    def run(self, *args, nvml_fixture=None, env=None, check=True, timeout=120):
        environment = dict(os.environ)
        environment["WEIR_NVML_LIBRARY"] = str(self.nvml) if nvml_fixture else "/nonexistent/libnvidia-ml.so.1"
        if nvml_fixture:
            environment["WEIR_FAKE_NVML_FIXTURE"] = str(FIXTURES / "nvml" / nvml_fixture)
        environment.update(env or {})
        result = subprocess.run([str(self.binary), *map(str, args)], capture_output=True, text=True,
                                env=environment, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"weir {' '.join(map(str, args))} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def plan(self, model, *args, nvml_fixture=None, env=None):
        result = self.run("plan", "--model", model, "--json", "--model-dir", "/tmp", *args,
                          nvml_fixture=nvml_fixture, env=env)
        return json.loads(result.stdout)


@pytest.fixture(scope="session")
def weir(weir_bin: Path, fake_nvml: Path) -> Weir:
    return Weir(weir_bin, fake_nvml)


CPU_ONLY_ARGS = ("--proc-root", FIXTURES / "proc-cpu16g", "--cgroup-root", FIXTURES / "empty-cgroup",
                 "--nvidia-smi", "/nonexistent/nvidia-smi")
