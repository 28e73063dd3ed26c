"""Paths and arguments shared by the rollout tests."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "rollout"

CPU_ONLY_ARGS = ("--proc-root", FIXTURES / "proc-cpu16g", "--cgroup-root", FIXTURES / "empty-cgroup",
                 "--nvidia-smi", "/nonexistent/nvidia-smi")
