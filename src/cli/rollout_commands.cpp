// `weir detect`, `weir plan` and `weir deploy`: from "these are our machines"
// to rendered deployment files, and optionally to a running deployment.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/exit_code.h"
#include "deploy/apply.h"
#include "deploy/renderer.h"
#include "detect/detector.h"
#include "detect/inventory_json.h"
#include "plan/catalogue.h"
#include "plan/inventory.h"
#include "plan/plan_json.h"
#include "plan/planner.h"

namespace weir::cli {
namespace {

struct DetectFlags {
  detect::DetectOptions options;
};

// Prints an error to stderr and records exit code 1.
void Fail(const Error& error) {
  std::cerr << "error: " << error.message << "\n";
  SetExitCode(1);
}

void AddDetectOptions(CLI::App& command, detect::DetectOptions& options) {
  command.add_option("--model-dir", options.model_dir, "Directory for model files; its free disk space is reported")
      ->capture_default_str();
  command.add_option("--nvml-library", options.nvml_library,
                     "NVML library to dlopen instead of libnvidia-ml.so.1 (also $WEIR_NVML_LIBRARY)");
  command.add_option("--nvidia-smi", options.nvidia_smi, "nvidia-smi program used when NVML cannot be loaded")
      ->capture_default_str();
  command.add_option("--proc-root", options.proc_root, "Root of the /proc tree to read")->capture_default_str();
  command.add_option("--cgroup-root", options.cgroup_root, "Root of the cgroup tree to read")
      ->capture_default_str();
  command.add_option("--os-release", options.os_release_path, "os-release file to read")->capture_default_str();
}

void RunDetect(const detect::DetectOptions& options, bool json) {
  const detect::HostInventory host = detect::DetectHost(options);
  std::cout << (json ? detect::HostToJson(host) : detect::HostToTable(host));
  SetExitCode(0);
}

void AddDetectCommand(CLI::App& app) {
  auto flags = std::make_shared<DetectFlags>();
  auto json = std::make_shared<bool>(false);
  CLI::App* command = app.add_subcommand("detect", "Detect CPU, memory, disk, OS and GPUs of this host");
  AddDetectOptions(*command, flags->options);
  command->add_flag("--json", *json, "Print JSON instead of a table");
  command->callback([flags, json] { RunDetect(flags->options, *json); });
}

struct PlanFlags {
  detect::DetectOptions detect;
  plan::PlanRequest request;
  std::string inventory;
  std::string catalogue;
  bool json = false;
};

void RunPlan(const PlanFlags& flags) {
  auto catalogue = plan::LoadCatalogue(flags.catalogue);
  if (!catalogue.ok()) return Fail(catalogue.error());
  Result<std::vector<plan::InventoryHost>> hosts = std::vector<plan::InventoryHost>{};
  if (flags.inventory.empty()) {
    hosts->push_back(plan::LocalHost(flags.detect));
  } else {
    hosts = plan::LoadInventory(flags.inventory, *catalogue, flags.detect);
    if (!hosts.ok()) return Fail(hosts.error());
  }
  auto result = plan::MakePlan(*catalogue, *hosts, flags.request);
  if (!result.ok()) return Fail(result.error());
  std::cout << (flags.json ? plan::PlanToJson(*result) : plan::PlanToTable(*result));
  if (result->deployments.empty()) return Fail(plan::PlanError(*result));
  SetExitCode(0);
}

void AddPlanCommand(CLI::App& app) {
  auto flags = std::make_shared<PlanFlags>();
  CLI::App* command = app.add_subcommand("plan", "Plan which model variant, precision and engine fit each host");
  command->add_option("--model", flags->request.model, "Model name from the catalogue, e.g. deepseek-r1")->required();
  command->add_option("--inventory", flags->inventory, "Inventory YAML file of hosts (default: this host)");
  command->add_option("--context", flags->request.context, "Context length in tokens per sequence")
      ->capture_default_str();
  command->add_option("--concurrency", flags->request.concurrency, "Sequences served at the same time")
      ->capture_default_str();
  command->add_option("--engine", flags->request.engine, "Force an engine: vllm, sglang, llama-cpp or builtin");
  command->add_option("--precision", flags->request.precision, "Force a precision: BF16, FP16, FP8, AWQ, Q8_0, Q4_K_M");
  command->add_option("--catalogue", flags->catalogue, "Model catalogue YAML (default: share/weir/catalogue.yaml)");
  command->add_flag("--json", flags->json, "Print the plan as JSON for `weir deploy --plan`");
  AddDetectOptions(*command, flags->detect);
  command->callback([flags] { RunPlan(*flags); });
}

struct DeployFlags {
  std::string plan_path;
  std::string out_dir;
  bool apply = false;
  deploy::DeployOptions options;
  deploy::ApplyOptions apply_options;
};

std::string ThisBinary() {
  std::error_code error;
  const auto path = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::string("weir") : path.string();
}

void RunDeploy(DeployFlags& flags) {
  std::ifstream in(flags.plan_path);
  if (!in) return Fail(Error::NotFound(fmt::format("plan file {} cannot be read; write one with `weir plan --json`",
                                                   flags.plan_path)));
  std::stringstream text;
  text << in.rdbuf();
  auto plan = plan::ParsePlanJson(text.str(), flags.plan_path);
  if (!plan.ok()) return Fail(plan.error());

  if (flags.options.weir_binary.empty()) flags.options.weir_binary = ThisBinary();
  if (flags.options.catalogue_path.empty()) {
    const auto catalogue = std::filesystem::path(flags.options.weir_binary).parent_path().parent_path() /
                           "share/weir/catalogue.yaml";
    if (std::filesystem::exists(catalogue)) flags.options.catalogue_path = catalogue.lexically_normal().string();
  }
  auto files = deploy::Render(*plan, flags.options);
  if (!files.ok()) return Fail(files.error());
  if (Status status = deploy::WriteFiles(*files, flags.out_dir); !status.ok()) return Fail(status.error());
  for (const auto& [path, content] : *files) std::cout << "wrote " << flags.out_dir << "/" << path << "\n";
  if (!flags.apply) return SetExitCode(0);

  const auto start = std::chrono::steady_clock::now();
  flags.apply_options.out_dir = flags.out_dir;
  Status status;
  if (flags.options.target == "ansible") {
    status = deploy::ApplyAnsible(flags.apply_options, std::cout);
  } else if (flags.options.target == "systemd") {
    status = deploy::ApplySystemd(*plan, flags.apply_options, std::cout);
  } else {
    status = Error::InvalidRequest(fmt::format(
        "--apply runs the systemd and ansible targets only; run the {} files with their own tool", flags.options.target));
  }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << fmt::format("elapsed {:.1f} s\n", elapsed);
  if (!status.ok()) return Fail(status.error());
  SetExitCode(0);
}

void AddDeployCommand(CLI::App& app) {
  auto flags = std::make_shared<DeployFlags>();
  CLI::App* command = app.add_subcommand("deploy", "Render (and with --apply, run) the files that deploy a plan");
  command->add_option("--plan", flags->plan_path, "Plan JSON written by `weir plan --json`")->required();
  command->add_option("--target", flags->options.target, "compose, systemd, ansible, terraform or helm")->required();
  command->add_option("--out", flags->out_dir, "Directory for the rendered files")->required();
  command->add_flag("--apply", flags->apply, "Run the systemd or ansible files after rendering them");
  command->add_option("--listen", flags->options.listen, "Gateway listen address")->capture_default_str();
  command->add_option("--data-dir", flags->options.data_dir, "Gateway data directory")->capture_default_str();
  command->add_option("--model-dir", flags->options.model_dir, "Directory of GGUF model files (default: DATA_DIR/models)");
  command->add_option("--prefix", flags->options.prefix, "Ansible install prefix")->capture_default_str();
  command->add_option("--weir-binary", flags->options.weir_binary, "weir binary that Ansible installs (default: this one)");
  command->add_option("--service-manager", flags->options.service_manager,
                      "How Ansible runs Weir: systemd, or process where there is no systemd")
      ->check(CLI::IsMember({"systemd", "process"}))
      ->capture_default_str();
  command->add_option("--gateway-host", flags->options.gateway_host, "Plan host that runs the gateway (default: the first)");
  command->add_option("--ready-retries", flags->options.ready_retries,
                      "Ansible: seconds to wait for the gateway's /readyz")
      ->capture_default_str();
  command->add_option("--weir-path", flags->options.weir_path, "weir path in systemd units")->capture_default_str();
  command->add_option("--docker-path", flags->options.docker_path, "docker path in systemd units")->capture_default_str();
  command->add_option("--systemd-dir", flags->apply_options.systemd_dir, "Unit directory for --apply")->capture_default_str();
  command->add_option("--config-dir", flags->apply_options.config_dir, "Config directory for --apply")->capture_default_str();
  command->callback([flags] { RunDeploy(*flags); });
}

}  // namespace

void AddRolloutCommands(CLI::App& app) {
  AddDetectCommand(app);
  AddPlanCommand(app);
  AddDeployCommand(app);
}

}  // namespace weir::cli
