"""`weir deploy`: rendered files checked by the real tools, and --apply with Ansible.

Tools: ansible-playbook (pip ansible-core), docker compose or docker-compose
(Debian docker-compose), systemd-analyze (Debian systemd), python-hcl2 and,
when installed, terraform; Helm charts are rendered by a small substitute
for `helm template` (see render_helm_template) unless helm is on PATH.
"""
import filecmp
import os
import re
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import hcl2
import pytest
import yaml

from conftest import CPU_ONLY_ARGS, FIXTURES

TARGETS = ["compose", "systemd", "ansible", "terraform", "helm"]

PLANS = {
    "h200-v3": ("deepseek-v3", (), "h200x8.txt"),
    "two-node-v3": ("deepseek-v3", ("--inventory", FIXTURES / "inventory" / "two_h100_nodes.yaml"), None),
    "cpu-builtin": ("deepseek-r1-distill-qwen-1.5b", CPU_ONLY_ARGS, None),
    "mig-14b": ("deepseek-r1-distill-qwen-14b", (), "a100_mig.txt"),
    "uneven-14b": ("deepseek-r1-distill-qwen-14b", (), "rtx3090_3070.txt"),
    "t4-awq": ("deepseek-r1-distill-qwen-7b", (), "t4.txt"),
}


@pytest.fixture(scope="module")
def plans(weir, tmp_path_factory):
    directory = tmp_path_factory.mktemp("plans")
    paths = {}
    for name, (model, args, fixture) in PLANS.items():
        result = weir.run("plan", "--model", model, "--json", "--model-dir", "/tmp", *args, nvml_fixture=fixture)
        paths[name] = directory / f"{name}.json"
        paths[name].write_text(result.stdout)
    return paths


def docker_path() -> str:
    return shutil.which("docker") or "/usr/bin/env"  # systemd-analyze only checks the file is executable.


def render(weir, plan: Path, target: str, out: Path, *extra, weir_binary=None):
    return weir.run("deploy", "--plan", plan, "--target", target, "--out", out, "--weir-path", weir.binary,
                    "--docker-path", docker_path(), "--weir-binary", weir_binary or weir.binary, *extra,
                    check=False)


def rendered(weir, plans, tmp_path, plan_name, target) -> Path:
    out = tmp_path / f"{plan_name}-{target}"
    result = render(weir, plans[plan_name], target, out)
    assert result.returncode == 0, result.stderr
    return out


def compose_command():
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


@pytest.mark.parametrize("plan_name", PLANS)
@pytest.mark.parametrize("target", TARGETS)
def test_rendering_is_deterministic(weir, plans, tmp_path, plan_name, target):
    first = rendered(weir, plans, tmp_path, plan_name, target)
    second = tmp_path / "again"
    assert render(weir, plans[plan_name], target, second).returncode == 0
    comparison = filecmp.dircmp(first, second)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for relative in files:
        assert (first / relative).read_bytes() == (second / relative).read_bytes(), relative
    assert not comparison.diff_files


@pytest.mark.parametrize("plan_name", PLANS)
def test_compose_files_pass_compose_config(weir, plans, tmp_path, plan_name):
    command = compose_command()
    if command is None:
        pytest.skip("neither `docker compose` nor docker-compose is installed (scripts/install-deps installs it)")
    out = rendered(weir, plans, tmp_path, plan_name, "compose")
    compose_files = sorted(out.glob("*/compose.yaml"))
    assert compose_files
    for compose_file in compose_files:
        result = subprocess.run([*command, "-f", compose_file.name, "config"], cwd=compose_file.parent,
                                capture_output=True, text=True)
        assert result.returncode == 0, f"{compose_file}: {result.stderr}"


@pytest.mark.parametrize("plan_name", PLANS)
def test_gateway_config_has_the_serve_shape(weir, plans, tmp_path, plan_name):
    out = rendered(weir, plans, tmp_path, plan_name, "compose")
    (config_file,) = [p for p in out.glob("*/weir.yaml")]
    config = yaml.safe_load(config_file.read_text())
    assert set(config) == {"listen", "data_dir", "models"}
    (model,) = config["models"]
    assert model["upstreams"]
    assert sum(u["canary_weight"] for u in model["upstreams"]
               if u["version"] == model["upstreams"][0]["version"]) >= 100
    for upstream in model["upstreams"]:
        if upstream.get("kind") == "builtin":
            assert {"model_path", "threads", "context_size", "parallel"} <= set(upstream)
        else:
            assert re.fullmatch(r"http://[\w.-]+:\d+/v1", upstream["url"])
            assert upstream["weight"] == 1


@pytest.mark.parametrize("plan_name", PLANS)
def test_systemd_units_pass_systemd_analyze_verify(weir, plans, tmp_path, plan_name):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    out = rendered(weir, plans, tmp_path, plan_name, "systemd")
    units = sorted(out.glob("*/*.service"))
    assert units
    result = subprocess.run(["systemd-analyze", "verify", *map(str, units)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for unit in units:
        assert unit.name not in result.stderr, result.stderr


@pytest.mark.parametrize("plan_name", PLANS)
def test_ansible_playbook_passes_syntax_check(weir, plans, tmp_path, plan_name):
    out = rendered(weir, plans, tmp_path, plan_name, "ansible")
    result = subprocess.run(["ansible-playbook", "--syntax-check", "-i", "inventory.ini", "playbook.yml"],
                            cwd=out, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    inventory = (out / "inventory.ini").read_text()
    assert "[weir_gateway]" in inventory


@pytest.mark.parametrize("plan_name", PLANS)
def test_terraform_parses_as_hcl(weir, plans, tmp_path, plan_name):
    out = rendered(weir, plans, tmp_path, plan_name, "terraform")
    tf_files = sorted(out.rglob("*.tf"))
    assert {p.name for p in tf_files} >= {"main.tf", "variables.tf", "outputs.tf"}
    for tf_file in tf_files:
        with tf_file.open() as handle:
            hcl2.load(handle)
    example = hcl2.loads((out / "terraform/examples/aws/main.tf").read_text())
    # python-hcl2 8.x keeps the quotes of labels and strings.
    modules = {name.strip('"'): body for name, body in example["module"][0].items()}
    assert modules["weir"]["source"].strip('"') == "../../modules/weir-gpu-nodes"
    if shutil.which("terraform"):
        module_dir = out / "terraform/modules/weir-gpu-nodes"
        env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
        for command in (["fmt", "-check", "-recursive", str(out / "terraform")],
                        ["-chdir=" + str(module_dir), "init", "-backend=false", "-input=false"],
                        ["-chdir=" + str(module_dir), "validate"]):
            result = subprocess.run(["terraform", *command], capture_output=True, text=True, env=env)
            assert result.returncode == 0, f"terraform {command}: {result.stdout}{result.stderr}"


def lookup(values: dict, path: str):
    node = values
    for key in path.split("."):
        node = node[key]
    return node


def render_helm_template(text: str, values: dict, release: str) -> str:
    """Renders the template forms the chart uses: {{ .Values.a.b }} and {{ .Release.Name }}.

    Any other template action fails the test, so the chart cannot grow a form
    this substitute does not render.
    """
    def replace(match):
        expression = match.group(1).strip()
        if expression == ".Release.Name":
            return release
        if expression.startswith(".Values."):
            return str(lookup(values, expression[len(".Values."):]))
        raise AssertionError(f"template action this test cannot render: {{{{ {expression} }}}}")
    return re.sub(r"\{\{(.*?)\}\}", replace, text)


@pytest.mark.parametrize("plan_name", PLANS)
def test_helm_chart_renders_to_kubernetes_objects(weir, plans, tmp_path, plan_name):
    out = rendered(weir, plans, tmp_path, plan_name, "helm")
    chart = out / "helm" / "weir"
    assert yaml.safe_load((chart / "Chart.yaml").read_text())["apiVersion"] == "v2"
    values = yaml.safe_load((chart / "values.yaml").read_text())
    kinds = []
    for template in sorted((chart / "templates").glob("*.yaml")):
        for document in yaml.safe_load_all(render_helm_template(template.read_text(), values, "test")):
            assert document["apiVersion"] and document["metadata"]["name"]
            kinds.append(document["kind"])
    assert kinds.count("ConfigMap") == 1
    assert "Service" in kinds
    assert "Deployment" in kinds
    if plan_name == "two-node-v3":
        assert "LeaderWorkerSet" in kinds
    if shutil.which("helm"):
        for command in (["lint", str(chart)], ["template", "test", str(chart)]):
            result = subprocess.run(["helm", *command], capture_output=True, text=True)
            assert result.returncode == 0, result.stdout + result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(prefix: Path):
    pid_file = prefix / "run" / "weir.pid"
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        except (ProcessLookupError, ValueError):
            pass


def apply_locally(weir, plans, tmp_path, model_file: Path, ready_retries: int, weir_binary=None):
    plan = yaml.safe_load(plans["cpu-builtin"].read_text())
    prefix = tmp_path / "prefix"
    (prefix / "models").mkdir(parents=True)
    target = prefix / "models" / plan["deployments"][0]["file"]
    if model_file.exists():
        target.symlink_to(model_file)
    else:
        target.write_bytes(b"")  # Present, so the playbook downloads nothing.
    port = free_port()
    result = render(weir, plans["cpu-builtin"], "ansible", tmp_path / "ansible", "--apply", "--prefix", prefix,
                    "--listen", f"127.0.0.1:{port}", "--service-manager", "process",
                    "--ready-retries", str(ready_retries), weir_binary=weir_binary)
    return result, prefix, port


def test_ansible_apply_installs_into_prefix(weir, plans, tmp_path):
    result, prefix, port = apply_locally(weir, plans, tmp_path, Path("/nonexistent"), ready_retries=2)
    try:
        assert (prefix / "bin" / "weir").read_bytes() == weir.binary.read_bytes()
        config = yaml.safe_load((prefix / "etc" / "weir.yaml").read_text())
        assert config["listen"] == f"127.0.0.1:{port}"
        assert config["data_dir"] == f"{prefix}/data"
        assert config["models"][0]["upstreams"][0]["model_path"].startswith(f"{prefix}/models/")
        assert (prefix / "share" / "weir" / "catalogue.yaml").exists()
        assert re.search(r'host=\S+ step=\d+ task="Install the weir binary" status=changed', result.stdout)
        assert re.search(r'host=\S+ step=\d+ task="Write the Weir configuration" status=changed', result.stdout)
        assert re.search(r"elapsed \d+\.\d s", result.stdout)
        if result.returncode != 0:
            # Without a model the gateway cannot become ready; the error names the step.
            assert "ansible-playbook failed" in result.stderr
    finally:
        stop_process(prefix)


def test_ansible_apply_checks_readyz_and_chat(weir, plans, tmp_path):
    stand_in = FIXTURES / "bin" / "stand-in-weir"
    result, prefix, port = apply_locally(weir, plans, tmp_path, Path("/nonexistent"), ready_retries=30,
                                         weir_binary=stand_in)
    try:
        assert result.returncode == 0, result.stdout + result.stderr
        for task in ("Start Weir as a background process", "Wait for /readyz",
                     "Send a chat completion through the gateway", "Check the chat completion has a choice"):
            assert re.search(rf'task="{re.escape(task)}" status=(ok|changed)', result.stdout), task
        assert (prefix / "bin" / "weir").read_bytes() == stand_in.read_bytes()
        assert re.search(r"elapsed \d+\.\d s", result.stdout)
    finally:
        stop_process(prefix)


def serve_reads_config(weir) -> bool:
    result = weir.run("serve", "--help", check=False)
    return "--config" in result.stdout


def test_ansible_apply_serves_a_chat_completion(weir, plans, tmp_path):
    model = os.environ.get("WEIR_E2E_GGUF")
    if not model:
        pytest.skip("set WEIR_E2E_GGUF to a Qwen2/Llama GGUF file to run the end-to-end deployment")
    if not serve_reads_config(weir):
        pytest.skip("this weir binary's `serve` does not take --config yet")
    result, prefix, _ = apply_locally(weir, plans, tmp_path, Path(model), ready_retries=120)
    try:
        assert result.returncode == 0, result.stdout + result.stderr
        assert re.search(r'task="Check the chat completion has a choice" status=ok', result.stdout)
        elapsed = float(re.search(r"elapsed (\d+\.\d) s", result.stdout).group(1))
        print(f"ansible deployment on localhost took {elapsed:.1f} s (goal: 60 s)")
    finally:
        stop_process(prefix)


def test_systemd_apply_installs_and_starts_units(weir, plans, tmp_path):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    calls = tmp_path / "systemctl.log"
    systemctl = fake_bin / "systemctl"
    systemctl.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    systemctl.chmod(0o755)
    units, configs = tmp_path / "units", tmp_path / "etc"
    result = weir.run("deploy", "--plan", plans["cpu-builtin"], "--target", "systemd", "--out", tmp_path / "out",
                      "--apply", "--systemd-dir", units, "--config-dir", configs, "--weir-path", weir.binary,
                      env={"PATH": f"{fake_bin}:{os.environ['PATH']}"})
    assert (units / "weir.service").exists()
    assert yaml.safe_load((configs / "weir.yaml").read_text())["models"][0]["upstreams"][0]["kind"] == "builtin"
    assert calls.read_text().splitlines() == ["daemon-reload", "enable --now weir.service"]
    assert re.search(r'host=\S+ step="start weir.service" status=ok', result.stdout)


def test_systemd_apply_rejects_remote_hosts(weir, plans, tmp_path):
    result = render(weir, plans["two-node-v3"], "systemd", tmp_path / "out", "--apply", "--systemd-dir",
                    tmp_path / "units", "--config-dir", tmp_path / "etc")
    assert result.returncode == 1
    assert "use --target ansible" in result.stderr
