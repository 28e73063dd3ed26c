// `weir detect`, `weir plan` and `weir deploy`: from "these are our machines"
// to rendered deployment files, and optionally to a running deployment.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/exit_code.h"
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

// Prints an error to stderr and records exit code 1.
void Fail(const Error& error) {
  std::cerr << "error: " << error.message << "\n";
  SetExitCode(1);
}

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

}  // namespace

void AddRolloutCommands(CLI::App& app) {
  AddDetectCommand(app);
  AddPlanCommand(app);
}

}  // namespace weir::cli
