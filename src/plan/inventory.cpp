#include "plan/inventory.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "detect/inventory_json.h"
#include "plan/byte_size.h"

namespace weir::plan {
namespace {

namespace fs = std::filesystem;

std::string Scalar(const YAML::Node& node, const char* key) {
  const YAML::Node value = node[key];
  return value && value.IsScalar() ? value.as<std::string>() : std::string();
}

Result<std::uint64_t> Bytes(const YAML::Node& node, const char* key, const std::string& where) {
  const std::string text = Scalar(node, key);
  if (text.empty()) return std::uint64_t{0};
  auto bytes = ParseByteSize(text);
  if (!bytes.ok()) return Error::InvalidRequest(fmt::format("{}: {}: {}", where, key, bytes.error().message));
  return bytes;
}

// Expands one `gpus:` entry into `count` devices with generated UUIDs, since
// a described host has none to key them by.
Status AddDescribedGpus(const YAML::Node& entry, const Catalogue& catalogue, const std::string& where,
                        detect::HostInventory& host) {
  detect::GpuDevice gpu;
  const std::string type = Scalar(entry, "type");
  if (!type.empty()) {
    const GpuType* known = catalogue.FindGpu(type);
    if (known == nullptr) {
      std::string keys;
      for (const auto& [key, unused] : catalogue.gpus) keys += (keys.empty() ? "" : ", ") + key;
      return Error::InvalidRequest(
          fmt::format("{}: unknown GPU type \"{}\"; use one of {} or give name, memory and compute_capability",
                      where, type, keys));
    }
    gpu.name = known->name;
    gpu.memory_total_bytes = known->memory_bytes;
    gpu.compute_capability_major = known->compute_capability / 10;
    gpu.compute_capability_minor = known->compute_capability % 10;
  }
  if (const std::string name = Scalar(entry, "name"); !name.empty()) gpu.name = name;
  auto memory = Bytes(entry, "memory", where);
  if (!memory.ok()) return memory.error();
  if (*memory > 0) gpu.memory_total_bytes = *memory;
  if (const std::string cc = Scalar(entry, "compute_capability"); !cc.empty()) {
    const int capability = ParseComputeCapability(cc);
    gpu.compute_capability_major = capability / 10;
    gpu.compute_capability_minor = capability % 10;
  }
  auto free = Bytes(entry, "free", where);
  if (!free.ok()) return free.error();
  gpu.memory_free_bytes = *free > 0 ? *free : gpu.memory_total_bytes;
  if (gpu.memory_total_bytes == 0 || gpu.ComputeCapability() == 0) {
    return Error::InvalidRequest(fmt::format("{}: a GPU needs a known type or memory and compute_capability", where));
  }

  const int count = entry["count"] ? entry["count"].as<int>() : 1;
  for (int i = 0; i < count; ++i) {
    detect::GpuDevice device = gpu;
    device.index = static_cast<int>(host.gpu.devices.size());
    device.uuid = fmt::format("{}-gpu{}", host.hostname, device.index);
    host.gpu.devices.push_back(device);
  }
  return Status::Ok();
}

Result<detect::HostInventory> DescribedHost(const YAML::Node& node, const Catalogue& catalogue,
                                            const std::string& where) {
  detect::HostInventory host;
  host.hostname = Scalar(node, "name");
  host.cpu.usable_cpus = node["cpus"] ? node["cpus"].as<int>() : 0;
  host.cpu.online_cpus = host.cpu.usable_cpus;
  auto memory = Bytes(node, "memory", where);
  if (!memory.ok()) return memory.error();
  host.memory.usable_bytes = host.memory.available_bytes = host.memory.total_bytes = *memory;
  auto disk = Bytes(node, "disk_free", where);
  if (!disk.ok()) return disk.error();
  host.disk.free_bytes = *disk;
  host.gpu.source = "inventory";
  host.gpu.cuda_driver_version = ParseCudaVersion(Scalar(node, "cuda"));
  for (const YAML::Node& entry : node["gpus"]) {
    if (Status status = AddDescribedGpus(entry, catalogue, where, host); !status.ok()) return status.error();
  }
  if (!host.gpu.devices.empty() && host.gpu.cuda_driver_version == 0) {
    return Error::InvalidRequest(
        fmt::format("{}: a host with GPUs needs cuda: the highest CUDA version its driver supports, e.g. \"12.4\"",
                    where));
  }
  return host;
}

Result<detect::HostInventory> SavedHost(const std::string& path, const std::string& where) {
  std::ifstream in(path);
  if (!in) return Error::NotFound(fmt::format("{}: detect_json file {} cannot be read", where, path));
  std::stringstream text;
  text << in.rdbuf();
  return detect::ParseHostJson(text.str(), path);
}

Result<InventoryHost> ReadHost(const YAML::Node& node, std::size_t position, const std::string& base_dir,
                               const std::string& origin, const Catalogue& catalogue,
                               const detect::DetectOptions& detect_options) {
  InventoryHost host;
  host.name = Scalar(node, "name");
  const std::string where = fmt::format("{}: hosts[{}] ({})", origin, position, host.name);
  if (host.name.empty()) return Error::InvalidRequest(where + ": every host needs a name");

  Result<detect::HostInventory> hardware = detect::HostInventory{};
  if (const std::string saved = Scalar(node, "detect_json"); !saved.empty()) {
    hardware = SavedHost(fs::path(saved).is_absolute() ? saved : (fs::path(base_dir) / saved).string(), where);
  } else if (Scalar(node, "detect") == "local") {
    hardware = detect::DetectHost(detect_options);
  } else {
    hardware = DescribedHost(node, catalogue, where);
  }
  if (!hardware.ok()) return hardware.error();
  host.hardware = std::move(*hardware);
  host.hardware.hostname = host.name;
  host.hardware.address = Scalar(node, "address");
  host.hardware.group = Scalar(node, "group");
  host.connection = Scalar(node, "connection");
  if (host.connection.empty()) host.connection = Scalar(node, "detect") == "local" ? "local" : "ssh";
  host.ssh_user = Scalar(node, "ssh_user");
  if (host.hardware.address.empty()) host.hardware.address = host.connection == "local" ? "127.0.0.1" : host.name;
  return host;
}

}  // namespace

Result<std::vector<InventoryHost>> ParseInventory(const std::string& yaml, const std::string& base_dir,
                                                  const std::string& origin, const Catalogue& catalogue,
                                                  const detect::DetectOptions& detect_options) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return Error::InvalidRequest(fmt::format("{}: invalid YAML at line {}, column {}: {}", origin, e.mark.line + 1,
                                             e.mark.column + 1, e.msg));
  }
  if (!root.IsMap() || !root["hosts"] || !root["hosts"].IsSequence() || root["hosts"].size() == 0) {
    return Error::InvalidRequest(origin + ": an inventory needs a non-empty `hosts:` list");
  }
  std::vector<InventoryHost> hosts;
  std::set<std::string> names;
  try {
    for (std::size_t i = 0; i < root["hosts"].size(); ++i) {
      auto host = ReadHost(root["hosts"][i], i, base_dir, origin, catalogue, detect_options);
      if (!host.ok()) return host.error();
      if (!names.insert(host->name).second) {
        return Error::InvalidRequest(fmt::format("{}: host name \"{}\" appears twice", origin, host->name));
      }
      hosts.push_back(std::move(*host));
    }
  } catch (const YAML::Exception& e) {
    return Error::InvalidRequest(fmt::format("{}: invalid value at line {}, column {}: {}", origin, e.mark.line + 1,
                                             e.mark.column + 1, e.msg));
  }
  return hosts;
}

Result<std::vector<InventoryHost>> LoadInventory(const std::string& path, const Catalogue& catalogue,
                                                 const detect::DetectOptions& detect_options) {
  std::ifstream in(path);
  if (!in) return Error::NotFound(fmt::format("inventory file {} cannot be read", path));
  std::stringstream text;
  text << in.rdbuf();
  return ParseInventory(text.str(), fs::path(path).parent_path().string(), path, catalogue, detect_options);
}

InventoryHost LocalHost(const detect::DetectOptions& detect_options) {
  InventoryHost host;
  host.hardware = detect::DetectHost(detect_options);
  host.name = host.hardware.hostname.empty() ? "localhost" : host.hardware.hostname;
  host.connection = "local";
  host.hardware.address = "127.0.0.1";
  return host;
}

}  // namespace weir::plan
