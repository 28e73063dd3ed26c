// GPU detection through `nvidia-smi`, for containers and hosts where NVML
// cannot be loaded but the tool runs (for example a container that mounts the
// driver's binaries but not libnvidia-ml.so.1 on the loader path).
//
// Three calls: `--query-gpu … --format=csv,noheader,nounits` for the devices,
// `-L` for MIG instances, and the plain report for "CUDA Version".
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "detect/command_runner.h"
#include "detect/detector.h"

namespace weir::detect {
namespace {

constexpr const char* kQueryFields =
    "index,uuid,name,pci.bus_id,memory.total,memory.free,compute_cap,driver_version,mig.mode.current";
constexpr std::uint64_t kMiB = 1024ULL * 1024ULL;

std::string Trim(std::string text) {
  const char* space = " \t\r\n";
  text.erase(0, text.find_first_not_of(space));
  const auto end = text.find_last_not_of(space);
  text.erase(end == std::string::npos ? 0 : end + 1);
  return text;
}

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream stream(line);
  std::string field;
  while (std::getline(stream, field, ',')) fields.push_back(Trim(field));
  return fields;
}

std::uint64_t ParseMiB(const std::string& field) {
  try {
    return static_cast<std::uint64_t>(std::stoull(field)) * kMiB;
  } catch (const std::exception&) {
    return 0;  // "[N/A]" and similar.
  }
}

// Parses one CSV row; returns an empty string or why the row is invalid.
std::string ParseQueryRow(const std::string& line, GpuDevice& gpu, std::string& driver) {
  const auto fields = SplitCsvLine(line);
  if (fields.size() != 9) {
    return fmt::format("nvidia-smi row has {} fields, expected 9: \"{}\"", fields.size(), line);
  }
  try {
    gpu.index = std::stoi(fields[0]);
  } catch (const std::exception&) {
    return fmt::format("nvidia-smi row has an invalid index \"{}\"", fields[0]);
  }
  gpu.uuid = fields[1];
  gpu.name = fields[2];
  gpu.pci_bus_id = fields[3];
  gpu.memory_total_bytes = ParseMiB(fields[4]);
  gpu.memory_free_bytes = ParseMiB(fields[5]);
  if (std::sscanf(fields[6].c_str(), "%d.%d", &gpu.compute_capability_major,
                  &gpu.compute_capability_minor) != 2) {
    gpu.compute_capability_major = 0;
    gpu.compute_capability_minor = 0;
  }
  driver = fields[7];
  gpu.mig_enabled = fields[8] == "Enabled";
  return {};
}

// Adds MIG instances from `nvidia-smi -L`, whose MIG lines follow their GPU:
//   GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-…)
//     MIG 3g.40gb     Device  0: (UUID: MIG-…)
// nvidia-smi -L gives no memory per instance, so the size comes from the
// profile name ("40gb" is 40 GiB nominal) and free memory is unknown.
void AddMigInstances(const std::string& listing, std::vector<GpuDevice>& devices) {
  static const std::regex gpu_line(R"(^GPU (\d+): .*\(UUID: ([^)]+)\))");
  static const std::regex mig_line(R"(^\s+MIG (\d+g\.(\d+)gb)\s+Device\s+\d+: \(UUID: ([^)]+)\))");
  std::stringstream stream(listing);
  std::string line;
  GpuDevice* current = nullptr;
  std::smatch match;
  while (std::getline(stream, line)) {
    if (std::regex_search(line, match, gpu_line)) {
      current = nullptr;
      for (GpuDevice& device : devices) {
        if (device.uuid == match[2].str()) current = &device;
      }
    } else if (current != nullptr && std::regex_search(line, match, mig_line)) {
      MigInstance instance;
      instance.profile = match[1].str();
      instance.uuid = match[3].str();
      instance.name = current->name + " MIG " + instance.profile;
      instance.memory_total_bytes = std::stoull(match[2].str()) * 1024 * kMiB;
      instance.memory_free_bytes = instance.memory_total_bytes;
      current->mig_instances.push_back(std::move(instance));
    }
  }
}

int ParseCudaVersion(const std::string& report) {
  static const std::regex cuda(R"(CUDA Version:\s*(\d+)\.(\d+))");
  std::smatch match;
  if (!std::regex_search(report, match, cuda)) return 0;
  return std::stoi(match[1].str()) * 1000 + std::stoi(match[2].str()) * 10;
}

}  // namespace

GpuInventory DetectGpusWithNvidiaSmi(const std::string& program) {
  GpuInventory inventory;
  inventory.source = "none";
  const CommandResult query =
      RunCommand({program, std::string("--query-gpu=") + kQueryFields, "--format=csv,noheader,nounits"});
  if (!query.started) {
    inventory.note = fmt::format("{} could not be run (not installed or not on PATH)", program);
    return inventory;
  }
  if (query.exit_code != 0) {
    inventory.note = fmt::format("{} exited with {}: {}", program, query.exit_code, Trim(query.output));
    return inventory;
  }

  std::stringstream rows(query.output);
  std::string line;
  while (std::getline(rows, line)) {
    if (Trim(line).empty()) continue;
    GpuDevice gpu;
    if (std::string reason = ParseQueryRow(line, gpu, inventory.driver_version); !reason.empty()) {
      inventory.note = reason;
      return inventory;
    }
    inventory.devices.push_back(std::move(gpu));
  }

  bool any_mig = false;
  for (const GpuDevice& gpu : inventory.devices) any_mig = any_mig || gpu.mig_enabled;
  if (any_mig) AddMigInstances(RunCommand({program, "-L"}).output, inventory.devices);
  inventory.cuda_driver_version = ParseCudaVersion(RunCommand({program}).output);
  inventory.source = "nvidia-smi";
  if (inventory.devices.empty()) inventory.note = "nvidia-smi reports 0 GPUs";
  return inventory;
}

GpuInventory DetectGpus(const DetectOptions& options) {
  GpuInventory nvml = DetectGpusWithNvml(ResolveNvmlLibrary(options));
  if (nvml.source == "nvml") return nvml;
  GpuInventory smi = DetectGpusWithNvidiaSmi(options.nvidia_smi);
  if (smi.source == "nvidia-smi") {
    smi.note = "NVML unavailable, used nvidia-smi: " + nvml.note;
    return smi;
  }
  GpuInventory none;
  none.source = "none";
  none.note = fmt::format("no GPU: {}; {}", nvml.note, smi.note);
  return none;
}

HostInventory DetectHost(const DetectOptions& options) {
  HostInventory host;
  DetectSystem(options, host);
  host.gpu = DetectGpus(options);
  return host;
}

std::string FormatComputeCapability(int capability) {
  return fmt::format("{}.{}", capability / 10, capability % 10);
}

std::string FormatCudaVersion(int version) {
  if (version <= 0) return "unknown";
  return fmt::format("{}.{}", version / 1000, (version % 1000) / 10);
}

std::string FormatGiB(std::uint64_t bytes) {
  return fmt::format("{:.1f} GiB", double(bytes) / double(1ULL << 30));
}

}  // namespace weir::detect
