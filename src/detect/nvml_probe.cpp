// GPU detection through NVML, loaded with dlopen so that Weir never links
// against the driver. Only the NVML entry points and structures below are
// used; their layouts are those of nvml.h from CUDA 12 (NVML API version 12).
#include <dlfcn.h>

#include <cstdlib>
#include <regex>
#include <string>

#include <fmt/format.h>

#include "detect/detector.h"

namespace weir::detect {
namespace {

using NvmlReturn = int;  // nvmlReturn_t; 0 is NVML_SUCCESS.
using NvmlDevice = struct NvmlDeviceOpaque*;

constexpr NvmlReturn kNvmlSuccess = 0;
constexpr unsigned kNvmlBufferSize = 96;  // NVML_DEVICE_NAME_V2_BUFFER_SIZE and UUID size.
constexpr unsigned kNvmlMigEnabled = 1;   // NVML_DEVICE_MIG_ENABLE.

struct NvmlMemory {  // nvmlMemory_t
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};

struct NvmlPciInfo {  // nvmlPciInfo_t
  char bus_id_legacy[16];
  unsigned int domain;
  unsigned int bus;
  unsigned int device;
  unsigned int pci_device_id;
  unsigned int pci_subsystem_id;
  char bus_id[32];
};

// The NVML entry points Weir calls, resolved by name from the library.
struct NvmlApi {
  void* handle = nullptr;
  NvmlReturn (*init)() = nullptr;
  NvmlReturn (*shutdown)() = nullptr;
  const char* (*error_string)(NvmlReturn) = nullptr;
  NvmlReturn (*driver_version)(char*, unsigned) = nullptr;
  NvmlReturn (*cuda_driver_version)(int*) = nullptr;
  NvmlReturn (*device_count)(unsigned*) = nullptr;
  NvmlReturn (*device_by_index)(unsigned, NvmlDevice*) = nullptr;
  NvmlReturn (*device_name)(NvmlDevice, char*, unsigned) = nullptr;
  NvmlReturn (*device_uuid)(NvmlDevice, char*, unsigned) = nullptr;
  NvmlReturn (*device_pci_info)(NvmlDevice, NvmlPciInfo*) = nullptr;
  NvmlReturn (*device_memory)(NvmlDevice, NvmlMemory*) = nullptr;
  NvmlReturn (*device_compute_capability)(NvmlDevice, int*, int*) = nullptr;
  NvmlReturn (*device_mig_mode)(NvmlDevice, unsigned*, unsigned*) = nullptr;
  NvmlReturn (*device_max_mig_count)(NvmlDevice, unsigned*) = nullptr;
  NvmlReturn (*device_mig_by_index)(NvmlDevice, unsigned, NvmlDevice*) = nullptr;

  ~NvmlApi() {
    if (handle != nullptr) dlclose(handle);
  }
};

template <typename Function>
bool Resolve(void* handle, Function& function, const char* name, const char* fallback = nullptr) {
  void* symbol = dlsym(handle, name);
  if (symbol == nullptr && fallback != nullptr) symbol = dlsym(handle, fallback);
  function = reinterpret_cast<Function>(symbol);
  return symbol != nullptr;
}

// Loads the library and resolves every entry point. Returns an empty string
// on success, else the reason. MIG entry points are optional (older drivers).
std::string LoadNvml(const std::string& library, NvmlApi& api) {
  api.handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (api.handle == nullptr) {
    const char* reason = dlerror();
    return fmt::format("NVML library {} could not be loaded ({})", library,
                       reason != nullptr ? reason : "unknown dlopen error");
  }
  const bool required =
      Resolve(api.handle, api.init, "nvmlInit_v2", "nvmlInit") &&
      Resolve(api.handle, api.shutdown, "nvmlShutdown") &&
      Resolve(api.handle, api.error_string, "nvmlErrorString") &&
      Resolve(api.handle, api.driver_version, "nvmlSystemGetDriverVersion") &&
      Resolve(api.handle, api.cuda_driver_version, "nvmlSystemGetCudaDriverVersion_v2",
              "nvmlSystemGetCudaDriverVersion") &&
      Resolve(api.handle, api.device_count, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount") &&
      Resolve(api.handle, api.device_by_index, "nvmlDeviceGetHandleByIndex_v2",
              "nvmlDeviceGetHandleByIndex") &&
      Resolve(api.handle, api.device_name, "nvmlDeviceGetName") &&
      Resolve(api.handle, api.device_uuid, "nvmlDeviceGetUUID") &&
      Resolve(api.handle, api.device_pci_info, "nvmlDeviceGetPciInfo_v3",
              "nvmlDeviceGetPciInfo_v2") &&
      Resolve(api.handle, api.device_memory, "nvmlDeviceGetMemoryInfo") &&
      Resolve(api.handle, api.device_compute_capability, "nvmlDeviceGetCudaComputeCapability");
  if (!required) return fmt::format("NVML library {} lacks a required function ({})", library, dlerror());
  Resolve(api.handle, api.device_mig_mode, "nvmlDeviceGetMigMode");
  Resolve(api.handle, api.device_max_mig_count, "nvmlDeviceGetMaxMigDeviceCount");
  Resolve(api.handle, api.device_mig_by_index, "nvmlDeviceGetMigDeviceHandleByIndex");
  return {};
}

std::string MigProfileFromName(const std::string& name) {
  static const std::regex profile(R"((\d+g\.\d+gb))");
  std::smatch match;
  return std::regex_search(name, match, profile) ? match[1].str() : std::string();
}

void ReadMigInstances(const NvmlApi& api, NvmlDevice device, GpuDevice& gpu) {
  if (api.device_mig_mode == nullptr || api.device_max_mig_count == nullptr ||
      api.device_mig_by_index == nullptr) {
    return;
  }
  unsigned current = 0;
  unsigned pending = 0;
  if (api.device_mig_mode(device, &current, &pending) != kNvmlSuccess) return;  // No MIG support.
  gpu.mig_enabled = current == kNvmlMigEnabled;
  if (!gpu.mig_enabled) return;

  unsigned max_count = 0;
  if (api.device_max_mig_count(device, &max_count) != kNvmlSuccess) return;
  for (unsigned i = 0; i < max_count; ++i) {
    NvmlDevice mig = nullptr;
    if (api.device_mig_by_index(device, i, &mig) != kNvmlSuccess) continue;  // Empty slot.
    MigInstance instance;
    char buffer[kNvmlBufferSize] = {};
    if (api.device_uuid(mig, buffer, kNvmlBufferSize) == kNvmlSuccess) instance.uuid = buffer;
    char name[kNvmlBufferSize] = {};
    if (api.device_name(mig, name, kNvmlBufferSize) == kNvmlSuccess) instance.name = name;
    instance.profile = MigProfileFromName(instance.name);
    NvmlMemory memory{};
    if (api.device_memory(mig, &memory) == kNvmlSuccess) {
      instance.memory_total_bytes = memory.total;
      instance.memory_free_bytes = memory.free;
    }
    gpu.mig_instances.push_back(std::move(instance));
  }
}

// Reads one physical GPU; returns an empty string or what could not be read.
std::string ReadDevice(const NvmlApi& api, unsigned index, GpuDevice& gpu) {
  NvmlDevice device = nullptr;
  NvmlReturn status = api.device_by_index(index, &device);
  if (status != kNvmlSuccess) {
    return fmt::format("GPU {}: nvmlDeviceGetHandleByIndex failed: {}", index, api.error_string(status));
  }
  gpu.index = static_cast<int>(index);
  char name[kNvmlBufferSize] = {};
  char uuid[kNvmlBufferSize] = {};
  api.device_name(device, name, kNvmlBufferSize);
  status = api.device_uuid(device, uuid, kNvmlBufferSize);
  if (status != kNvmlSuccess) {
    return fmt::format("GPU {}: nvmlDeviceGetUUID failed: {}", index, api.error_string(status));
  }
  gpu.name = name;
  gpu.uuid = uuid;

  NvmlPciInfo pci{};
  if (api.device_pci_info(device, &pci) == kNvmlSuccess) gpu.pci_bus_id = pci.bus_id;
  NvmlMemory memory{};
  status = api.device_memory(device, &memory);
  if (status != kNvmlSuccess) {
    return fmt::format("GPU {}: nvmlDeviceGetMemoryInfo failed: {}", index, api.error_string(status));
  }
  gpu.memory_total_bytes = memory.total;
  gpu.memory_free_bytes = memory.free;
  api.device_compute_capability(device, &gpu.compute_capability_major, &gpu.compute_capability_minor);
  ReadMigInstances(api, device, gpu);
  return {};
}

}  // namespace

std::string ResolveNvmlLibrary(const DetectOptions& options) {
  if (!options.nvml_library.empty()) return options.nvml_library;
  const char* override_path = std::getenv("WEIR_NVML_LIBRARY");
  if (override_path != nullptr && *override_path != '\0') return override_path;
  return "libnvidia-ml.so.1";
}

GpuInventory DetectGpusWithNvml(const std::string& library) {
  GpuInventory inventory;
  inventory.source = "none";
  NvmlApi api;
  if (std::string reason = LoadNvml(library, api); !reason.empty()) {
    inventory.note = reason;
    return inventory;
  }
  NvmlReturn status = api.init();
  if (status != kNvmlSuccess) {
    inventory.note = fmt::format("nvmlInit failed: {}", api.error_string(status));
    return inventory;
  }

  char driver[kNvmlBufferSize] = {};
  if (api.driver_version(driver, kNvmlBufferSize) == kNvmlSuccess) inventory.driver_version = driver;
  api.cuda_driver_version(&inventory.cuda_driver_version);

  unsigned count = 0;
  status = api.device_count(&count);
  if (status != kNvmlSuccess) {
    inventory.note = fmt::format("nvmlDeviceGetCount failed: {}", api.error_string(status));
    api.shutdown();
    return inventory;
  }
  for (unsigned i = 0; i < count; ++i) {
    GpuDevice gpu;
    if (std::string reason = ReadDevice(api, i, gpu); !reason.empty()) {
      inventory.note += (inventory.note.empty() ? "" : "; ") + reason;
      continue;
    }
    inventory.devices.push_back(std::move(gpu));
  }
  api.shutdown();
  inventory.source = "nvml";
  if (count == 0) inventory.note = "NVML loaded and reports 0 GPUs";
  return inventory;
}

}  // namespace weir::detect
