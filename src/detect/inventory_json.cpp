#include "detect/inventory_json.h"

#include <rapidjson/error/en.h>

#include <fmt/format.h>

namespace weir::detect {
namespace {

void WriteMig(const MigInstance& instance, JsonWriter& writer) {
  writer.StartObject();
  writer.Key("uuid");
  writer.String(instance.uuid);
  writer.Key("name");
  writer.String(instance.name);
  writer.Key("profile");
  writer.String(instance.profile);
  writer.Key("memory_total_bytes");
  writer.Uint64(instance.memory_total_bytes);
  writer.Key("memory_free_bytes");
  writer.Uint64(instance.memory_free_bytes);
  writer.EndObject();
}

void WriteGpu(const GpuDevice& gpu, JsonWriter& writer) {
  writer.StartObject();
  writer.Key("index");
  writer.Int(gpu.index);
  writer.Key("uuid");
  writer.String(gpu.uuid);
  writer.Key("name");
  writer.String(gpu.name);
  writer.Key("pci_bus_id");
  writer.String(gpu.pci_bus_id);
  writer.Key("memory_total_bytes");
  writer.Uint64(gpu.memory_total_bytes);
  writer.Key("memory_free_bytes");
  writer.Uint64(gpu.memory_free_bytes);
  writer.Key("compute_capability");
  writer.String(FormatComputeCapability(gpu.ComputeCapability()));
  writer.Key("mig_enabled");
  writer.Bool(gpu.mig_enabled);
  writer.Key("mig_instances");
  writer.StartArray();
  for (const MigInstance& instance : gpu.mig_instances) WriteMig(instance, writer);
  writer.EndArray();
  writer.EndObject();
}

const rapidjson::Value* Member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  const auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::string GetString(const rapidjson::Value& object, const char* name) {
  const auto* value = Member(object, name);
  return value != nullptr && value->IsString() ? value->GetString() : std::string();
}

std::uint64_t GetUint64(const rapidjson::Value& object, const char* name) {
  const auto* value = Member(object, name);
  return value != nullptr && value->IsUint64() ? value->GetUint64() : 0;
}

int GetInt(const rapidjson::Value& object, const char* name, int fallback = 0) {
  const auto* value = Member(object, name);
  return value != nullptr && value->IsInt() ? value->GetInt() : fallback;
}

double GetDouble(const rapidjson::Value& object, const char* name) {
  const auto* value = Member(object, name);
  return value != nullptr && value->IsNumber() ? value->GetDouble() : 0.0;
}

GpuDevice ReadGpu(const rapidjson::Value& value) {
  GpuDevice gpu;
  gpu.index = GetInt(value, "index", -1);
  gpu.uuid = GetString(value, "uuid");
  gpu.name = GetString(value, "name");
  gpu.pci_bus_id = GetString(value, "pci_bus_id");
  gpu.memory_total_bytes = GetUint64(value, "memory_total_bytes");
  gpu.memory_free_bytes = GetUint64(value, "memory_free_bytes");
  std::sscanf(GetString(value, "compute_capability").c_str(), "%d.%d", &gpu.compute_capability_major,
              &gpu.compute_capability_minor);
  const auto* mig_enabled = Member(value, "mig_enabled");
  gpu.mig_enabled = mig_enabled != nullptr && mig_enabled->IsBool() && mig_enabled->GetBool();
  if (const auto* instances = Member(value, "mig_instances"); instances && instances->IsArray()) {
    for (const auto& item : instances->GetArray()) {
      MigInstance instance;
      instance.uuid = GetString(item, "uuid");
      instance.name = GetString(item, "name");
      instance.profile = GetString(item, "profile");
      instance.memory_total_bytes = GetUint64(item, "memory_total_bytes");
      instance.memory_free_bytes = GetUint64(item, "memory_free_bytes");
      gpu.mig_instances.push_back(std::move(instance));
    }
  }
  return gpu;
}

}  // namespace

void WriteHostJson(const HostInventory& host, JsonWriter& writer) {
  writer.StartObject();
  writer.Key("hostname");
  writer.String(host.hostname);
  writer.Key("address");
  writer.String(host.address);
  writer.Key("group");
  writer.String(host.group);
  writer.Key("os");
  writer.String(host.os);
  writer.Key("kernel");
  writer.String(host.kernel);

  writer.Key("cpu");
  writer.StartObject();
  writer.Key("model");
  writer.String(host.cpu.model);
  writer.Key("online_cpus");
  writer.Int(host.cpu.online_cpus);
  writer.Key("cpuset_cpus");
  writer.Int(host.cpu.cpuset_cpus);
  writer.Key("cgroup_quota_cpus");
  writer.Double(host.cpu.cgroup_quota_cpus);
  writer.Key("usable_cpus");
  writer.Int(host.cpu.usable_cpus);
  writer.EndObject();

  writer.Key("memory");
  writer.StartObject();
  writer.Key("total_bytes");
  writer.Uint64(host.memory.total_bytes);
  writer.Key("available_bytes");
  writer.Uint64(host.memory.available_bytes);
  writer.Key("cgroup_limit_bytes");
  writer.Uint64(host.memory.cgroup_limit_bytes);
  writer.Key("cgroup_usage_bytes");
  writer.Uint64(host.memory.cgroup_usage_bytes);
  writer.Key("usable_bytes");
  writer.Uint64(host.memory.usable_bytes);
  writer.EndObject();

  writer.Key("disk");
  writer.StartObject();
  writer.Key("path");
  writer.String(host.disk.path);
  writer.Key("free_bytes");
  writer.Uint64(host.disk.free_bytes);
  writer.Key("total_bytes");
  writer.Uint64(host.disk.total_bytes);
  writer.EndObject();

  writer.Key("gpu");
  writer.StartObject();
  writer.Key("source");
  writer.String(host.gpu.source);
  writer.Key("note");
  writer.String(host.gpu.note);
  writer.Key("driver_version");
  writer.String(host.gpu.driver_version);
  writer.Key("cuda_driver_version");
  writer.String(host.gpu.cuda_driver_version > 0 ? FormatCudaVersion(host.gpu.cuda_driver_version) : "");
  writer.Key("devices");
  writer.StartArray();
  for (const GpuDevice& gpu : host.gpu.devices) WriteGpu(gpu, writer);
  writer.EndArray();
  writer.EndObject();
  writer.EndObject();
}

std::string HostToJson(const HostInventory& host) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.SetIndent(' ', 2);
  WriteHostJson(host, writer);
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

Result<HostInventory> HostFromJson(const rapidjson::Value& value, const std::string& origin) {
  if (!value.IsObject()) return Error::InvalidRequest(origin + ": a host must be a JSON object");
  HostInventory host;
  host.hostname = GetString(value, "hostname");
  host.address = GetString(value, "address");
  host.group = GetString(value, "group");
  host.os = GetString(value, "os");
  host.kernel = GetString(value, "kernel");
  if (const auto* cpu = Member(value, "cpu")) {
    host.cpu.model = GetString(*cpu, "model");
    host.cpu.online_cpus = GetInt(*cpu, "online_cpus");
    host.cpu.cpuset_cpus = GetInt(*cpu, "cpuset_cpus");
    host.cpu.cgroup_quota_cpus = GetDouble(*cpu, "cgroup_quota_cpus");
    host.cpu.usable_cpus = GetInt(*cpu, "usable_cpus");
  }
  if (const auto* memory = Member(value, "memory")) {
    host.memory.total_bytes = GetUint64(*memory, "total_bytes");
    host.memory.available_bytes = GetUint64(*memory, "available_bytes");
    host.memory.cgroup_limit_bytes = GetUint64(*memory, "cgroup_limit_bytes");
    host.memory.cgroup_usage_bytes = GetUint64(*memory, "cgroup_usage_bytes");
    host.memory.usable_bytes = GetUint64(*memory, "usable_bytes");
  }
  if (const auto* disk = Member(value, "disk")) {
    host.disk.path = GetString(*disk, "path");
    host.disk.free_bytes = GetUint64(*disk, "free_bytes");
    host.disk.total_bytes = GetUint64(*disk, "total_bytes");
  }
  const auto* gpu = Member(value, "gpu");
  if (gpu == nullptr) return Error::InvalidRequest(origin + ": the host has no \"gpu\" object");
  host.gpu.source = GetString(*gpu, "source");
  host.gpu.note = GetString(*gpu, "note");
  host.gpu.driver_version = GetString(*gpu, "driver_version");
  int major = 0;
  int minor = 0;
  if (std::sscanf(GetString(*gpu, "cuda_driver_version").c_str(), "%d.%d", &major, &minor) == 2) {
    host.gpu.cuda_driver_version = major * 1000 + minor * 10;
  }
  if (const auto* devices = Member(*gpu, "devices"); devices && devices->IsArray()) {
    for (const auto& item : devices->GetArray()) host.gpu.devices.push_back(ReadGpu(item));
  }
  return host;
}

Result<HostInventory> ParseHostJson(const std::string& text, const std::string& origin) {
  rapidjson::Document document;
  document.Parse(text.c_str(), text.size());
  if (document.HasParseError()) {
    return Error::InvalidRequest(fmt::format("{}: invalid JSON at offset {}: {}", origin,
                                             document.GetErrorOffset(),
                                             rapidjson::GetParseError_En(document.GetParseError())));
  }
  return HostFromJson(document, origin);
}

std::string HostToTable(const HostInventory& host) {
  std::string out;
  out += fmt::format("{:<10} {}\n", "host", host.hostname);
  out += fmt::format("{:<10} {} (kernel {})\n", "os", host.os.empty() ? "unknown" : host.os, host.kernel);
  out += fmt::format("{:<10} {}: {} usable of {} online", "cpu", host.cpu.model.empty() ? "unknown" : host.cpu.model,
                     host.cpu.usable_cpus, host.cpu.online_cpus);
  if (host.cpu.cpuset_cpus > 0) out += fmt::format(", cpuset {}", host.cpu.cpuset_cpus);
  if (host.cpu.cgroup_quota_cpus > 0) out += fmt::format(", cgroup quota {:.2f} CPUs", host.cpu.cgroup_quota_cpus);
  out += "\n";
  out += fmt::format("{:<10} {} usable, MemAvailable {} of {}", "memory", FormatGiB(host.memory.usable_bytes),
                     FormatGiB(host.memory.available_bytes), FormatGiB(host.memory.total_bytes));
  if (host.memory.cgroup_limit_bytes > 0) {
    out += fmt::format(", cgroup limit {} ({} used)", FormatGiB(host.memory.cgroup_limit_bytes),
                       FormatGiB(host.memory.cgroup_usage_bytes));
  }
  out += "\n";
  out += fmt::format("{:<10} {} free of {} at {}\n", "disk", FormatGiB(host.disk.free_bytes),
                     FormatGiB(host.disk.total_bytes), host.disk.path);
  out += fmt::format("{:<10} source {}, driver {}, CUDA {}\n", "gpu", host.gpu.source,
                     host.gpu.driver_version.empty() ? "none" : host.gpu.driver_version,
                     FormatCudaVersion(host.gpu.cuda_driver_version));
  if (!host.gpu.note.empty()) out += fmt::format("{:<10} {}\n", "", host.gpu.note);
  if (host.gpu.devices.empty()) return out;

  out += fmt::format("\n{:<5} {:<28} {:<44} {:<14} {:>10} {:>10} {:>4} {}\n", "index", "name", "uuid",
                     "pci bus id", "total", "free", "cc", "mig");
  for (const GpuDevice& gpu : host.gpu.devices) {
    out += fmt::format("{:<5} {:<28} {:<44} {:<14} {:>10} {:>10} {:>4} {}\n", gpu.index, gpu.name, gpu.uuid,
                       gpu.pci_bus_id, FormatGiB(gpu.memory_total_bytes), FormatGiB(gpu.memory_free_bytes),
                       FormatComputeCapability(gpu.ComputeCapability()), gpu.mig_enabled ? "enabled" : "-");
    for (const MigInstance& instance : gpu.mig_instances) {
      out += fmt::format("{:<5} {:<28} {:<44} {:<14} {:>10} {:>10}\n", "", "  MIG " + instance.profile, instance.uuid,
                         "", FormatGiB(instance.memory_total_bytes), FormatGiB(instance.memory_free_bytes));
    }
  }
  return out;
}

}  // namespace weir::detect
