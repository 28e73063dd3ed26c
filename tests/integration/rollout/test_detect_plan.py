"""`weir detect` and `weir plan` on fixture machines, through the CLI."""
import json
import os

import pytest

from conftest import CPU_ONLY_ARGS, FIXTURES

GIB = 1 << 30


def test_detect_json_reads_fake_nvml(weir):
    result = weir.run("detect", "--json", "--nvidia-smi", "/nonexistent", nvml_fixture="h200x8.txt")
    host = json.loads(result.stdout)
    assert host["gpu"]["source"] == "nvml"
    assert host["gpu"]["cuda_driver_version"] == "12.4"
    assert len(host["gpu"]["devices"]) == 8
    assert {d["compute_capability"] for d in host["gpu"]["devices"]} == {"9.0"}
    assert len({d["uuid"] for d in host["gpu"]["devices"]}) == 8


def test_detect_table_shows_mig_instances(weir):
    result = weir.run("detect", nvml_fixture="a100_mig.txt")
    assert "MIG 3g.40gb" in result.stdout
    assert "MIG-5c0e3d6e-0002" in result.stdout


def test_detect_cgroup_v2_container(weir):
    result = weir.run("detect", "--json", "--proc-root", FIXTURES / "proc-v2", "--cgroup-root",
                      FIXTURES / "cgroup-v2", "--nvidia-smi", "/nonexistent")
    host = json.loads(result.stdout)
    assert host["cpu"]["usable_cpus"] == 3
    assert host["memory"]["cgroup_limit_bytes"] == 8 * GIB
    assert host["memory"]["usable_bytes"] == 7 * GIB
    assert host["gpu"]["source"] == "none"
    assert "/nonexistent could not be run" in host["gpu"]["note"]


def test_container_without_nvml_finds_gpus_with_nvidia_smi(weir):
    env = {"PATH": f"{FIXTURES / 'bin'}:{os.environ['PATH']}", "WEIR_FAKE_SMI_DATA": str(FIXTURES / "smi-l40s")}
    host = json.loads(weir.run("detect", "--json", env=env).stdout)
    assert host["gpu"]["source"] == "nvidia-smi"
    assert [d["uuid"] for d in host["gpu"]["devices"]] == ["GPU-l40s-smi-0", "GPU-l40s-smi-1"]
    plan = weir.plan("deepseek-r1-distill-qwen-32b", env=env)
    assert plan["deployments"][0]["devices"][0]["uuid"] == "GPU-l40s-smi-0"


@pytest.mark.parametrize("fixture,model,precision,tensor_parallel", [
    ("h200x8.txt", "deepseek-v3", "FP8", 8),
    ("h200x8.txt", "deepseek-r1", "FP8", 8),
    ("a100_80g.txt", "deepseek-r1-distill-qwen-32b", "BF16", 1),
    ("l40s.txt", "deepseek-r1-distill-qwen-32b", "FP8", 1),
    ("v100.txt", "deepseek-r1-distill-qwen-7b", "FP16", 1),
    ("t4.txt", "deepseek-r1-distill-qwen-7b", "AWQ", 1),
    ("rtx3090_3070.txt", "deepseek-r1-distill-qwen-14b", "AWQ", 1),
])
def test_plan_fixture_machine(weir, fixture, model, precision, tensor_parallel):
    plan = weir.plan(model, nvml_fixture=fixture)
    deployment = plan["deployments"][0]
    assert deployment["precision"] == precision
    assert deployment["tensor_parallel"] == tensor_parallel
    assert deployment["verdict"] in ("fits", "tight")
    assert deployment["arithmetic"]["weight_bytes"] > 0
    assert deployment["arithmetic"]["kv_formula"]


def test_plan_two_h100_nodes_spans_both(weir):
    plan = weir.plan("deepseek-v3", "--inventory", FIXTURES / "inventory" / "two_h100_nodes.yaml")
    (deployment,) = plan["deployments"]
    assert deployment["precision"] == "FP8"
    assert deployment["hosts"] == ["h100-a", "h100-b"]
    assert (deployment["tensor_parallel"], deployment["pipeline_parallel"]) == (8, 2)


def test_plan_inventory_reads_saved_detection(weir, tmp_path):
    detected = weir.run("detect", "--json", "--model-dir", "/tmp", nvml_fixture="l40s.txt").stdout
    (tmp_path / "gpu-a.json").write_text(detected)
    (tmp_path / "hosts.yaml").write_text(
        "hosts:\n  - name: gpu-a\n    address: 10.0.0.21\n    detect_json: gpu-a.json\n")
    plan = weir.plan("deepseek-r1-distill-qwen-32b", "--inventory", tmp_path / "hosts.yaml")
    (deployment,) = plan["deployments"]
    assert deployment["hosts"] == ["gpu-a"]
    assert deployment["precision"] == "FP8"
    assert deployment["devices"][0]["uuid"] == "GPU-l40s-77c2"
    assert plan["hosts"][0]["address"] == "10.0.0.21"


def test_plan_uneven_gpus_leaves_the_small_one(weir):
    plan = weir.plan("deepseek-r1-distill-qwen-14b", nvml_fixture="rtx3090_3070.txt")
    used = [d["uuid"] for dep in plan["deployments"] for d in dep["devices"]]
    assert used == ["GPU-3090-aa01"]
    assert "GPU-3070-bb02" in plan["hosts"][0]["unused_devices"][0]


def test_plan_mig_gives_two_forty_gigabyte_devices(weir):
    plan = weir.plan("deepseek-r1-distill-qwen-14b", nvml_fixture="a100_mig.txt")
    devices = [dep["devices"][0] for dep in plan["deployments"]]
    assert [d["uuid"] for d in devices] == ["MIG-5c0e3d6e-0001", "MIG-5c0e3d6e-0002"]
    assert all(d["memory_total_bytes"] == 40192 << 20 for d in devices)


def test_plan_cpu_only_uses_builtin_gguf(weir):
    plan = weir.plan("deepseek-r1-distill-qwen-14b", *CPU_ONLY_ARGS)
    (deployment,) = plan["deployments"]
    assert deployment["engine"] == "builtin"
    assert deployment["precision"] == "Q4_K_M"
    assert deployment["file"].endswith(".gguf")
    assert deployment["arithmetic"]["needed_bytes_per_device"] <= plan["hosts"][0]["memory_usable_bytes"]


def test_plan_busy_gpu_says_it_used_free_memory(weir):
    table = weir.run("plan", "--model", "deepseek-r1-distill-qwen-14b", nvml_fixture="busy_a6000.txt").stdout
    assert "planned from free memory" in table
    assert "31.0 GiB free of 47.0 GiB" in table
    plan = weir.plan("deepseek-r1-distill-qwen-14b", nvml_fixture="busy_a6000.txt")
    assert plan["deployments"][0]["arithmetic"]["free_bytes_per_device"] == 31 * GIB
    assert plan["deployments"][0]["precision"] != "BF16"


def test_plan_long_context_counts_kv(weir):
    short = weir.plan("deepseek-r1-distill-llama-8b", "--context", "4096", nvml_fixture="rtx4090.txt")
    long = weir.plan("deepseek-r1-distill-llama-8b", "--context", "131072", nvml_fixture="rtx4090.txt")
    assert short["deployments"][0]["precision"] == "BF16"
    assert long["deployments"][0]["precision"] != "BF16"
    assert long["deployments"][0]["arithmetic"]["kv_bytes_per_device"] == 131072 * 131072


def test_plan_table_shows_the_arithmetic(weir):
    table = weir.run("plan", "--model", "deepseek-v3", nvml_fixture="h200x8.txt").stdout
    for label in ("weights", "KV per token", "61 layers x (512 kv_lora_rank + 64 rope dim) x 2 bytes", "reserve",
                  "free memory", "verdict"):
        assert label in table


def test_unknown_model_lists_catalogue(weir):
    result = weir.run("plan", "--model", "deepseek-v9", *CPU_ONLY_ARGS, check=False)
    assert result.returncode == 1
    assert 'unknown model "deepseek-v9"' in result.stderr
    assert "deepseek-r1-distill-qwen-7b" in result.stderr


def test_inventory_yaml_error_names_the_line(weir):
    result = weir.run("plan", "--model", "deepseek-v3", "--inventory", FIXTURES / "inventory" / "broken.yaml",
                      check=False)
    assert result.returncode == 1
    assert "broken.yaml: invalid YAML at line 4" in result.stderr


def test_model_that_fits_nowhere_says_what_would(weir):
    result = weir.run("plan", "--model", "deepseek-v3", nvml_fixture="a100_80g.txt", check=False)
    assert result.returncode == 1
    assert "fits on no host" in result.stderr
    assert "what would fit:" in result.stderr
    assert "deepseek-r1-distill-qwen-32b BF16" in result.stderr.split("what would fit:")[1].splitlines()[1]
