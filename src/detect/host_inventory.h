// The hardware of one host as `weir detect` finds it and `weir plan` reads it.
//
// Sizes are bytes. GPUs are keyed by UUID: the index is NVML's enumeration
// order (PCI bus order, the same as nvidia-smi), which differs from CUDA's
// default "fastest first" order, so nothing downstream may rely on it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace weir::detect {

// MigInstance is one MIG GPU instance carved out of a physical GPU.
struct MigInstance {
  std::string uuid;     // "MIG-…", accepted by CUDA_VISIBLE_DEVICES.
  std::string name;
  std::string profile;  // e.g. "3g.40gb"; empty when the driver does not name it.
  std::uint64_t memory_total_bytes = 0;
  std::uint64_t memory_free_bytes = 0;
};

// GpuDevice is one physical GPU.
struct GpuDevice {
  int index = -1;  // NVML / nvidia-smi order, not CUDA's default order.
  std::string uuid;
  std::string name;
  std::string pci_bus_id;
  std::uint64_t memory_total_bytes = 0;
  std::uint64_t memory_free_bytes = 0;
  int compute_capability_major = 0;
  int compute_capability_minor = 0;
  bool mig_enabled = false;
  std::vector<MigInstance> mig_instances;

  // Compute capability as 10 * major + minor, e.g. 89 for 8.9.
  int ComputeCapability() const { return compute_capability_major * 10 + compute_capability_minor; }
};

// GpuInventory is the GPU part of a host and where it came from.
struct GpuInventory {
  std::string source;  // "nvml", "nvidia-smi", "inventory" or "none".
  std::string note;    // Why no GPU was found, or what a fallback could not read.
  std::string driver_version;
  int cuda_driver_version = 0;  // Highest CUDA version the driver supports, 1000 * major + 10 * minor.
  std::vector<GpuDevice> devices;
};

struct CpuInfo {
  std::string model;
  int online_cpus = 0;       // Logical CPUs the kernel has online.
  int cpuset_cpus = 0;       // CPUs in the cgroup cpuset; 0 when there is no cpuset.
  double cgroup_quota_cpus = 0;  // CFS quota divided by period; 0 when unlimited.
  int usable_cpus = 0;       // min(online, cpuset, ceil(quota)).
};

struct MemoryInfo {
  std::uint64_t total_bytes = 0;         // MemTotal.
  std::uint64_t available_bytes = 0;     // MemAvailable.
  std::uint64_t cgroup_limit_bytes = 0;  // 0 when the cgroup sets no limit.
  std::uint64_t cgroup_usage_bytes = 0;
  std::uint64_t usable_bytes = 0;        // min(MemAvailable, cgroup limit - cgroup usage).
};

struct DiskInfo {
  std::string path;  // The model directory, or its nearest existing parent.
  std::uint64_t free_bytes = 0;
  std::uint64_t total_bytes = 0;
};

struct HostInventory {
  std::string hostname;
  std::string address;  // How other hosts reach it; empty for the local host.
  std::string group;    // Hosts in one group may share a model across nodes.
  std::string os;
  std::string kernel;
  CpuInfo cpu;
  MemoryInfo memory;
  DiskInfo disk;
  GpuInventory gpu;
};

// Formats a compute capability such as 89 as "8.9".
std::string FormatComputeCapability(int capability);
// Formats a CUDA driver version such as 12040 as "12.4".
std::string FormatCudaVersion(int version);
// Formats bytes as GiB with one decimal, e.g. "31.0 GiB".
std::string FormatGiB(std::uint64_t bytes);

}  // namespace weir::detect
