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

}  // namespace

void AddRolloutCommands(CLI::App& app) {
  AddDetectCommand(app);
}

}  // namespace weir::cli
