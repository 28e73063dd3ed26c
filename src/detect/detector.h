// Hardware detection for `weir detect` and for `weir plan` on the local host.
//
// Everything is read from the kernel's own files (/proc, /sys/fs/cgroup) and
// from NVML, which is loaded at run time with dlopen and never linked, so one
// binary runs on hosts with and without an NVIDIA driver. The roots of /proc
// and the cgroup tree are options so that tests can point them at fixtures.
// Functions here are not thread-safe with respect to each other only in that
// NVML initialisation is process-wide; call them from one thread.
#pragma once

#include <string>

#include "detect/host_inventory.h"

namespace weir::detect {

struct DetectOptions {
  std::string proc_root = "/proc";
  std::string cgroup_root = "/sys/fs/cgroup";
  std::string os_release_path = "/etc/os-release";
  std::string model_dir = "/var/lib/weir/models";
  // NVML library passed to dlopen. Empty means $WEIR_NVML_LIBRARY when set,
  // else "libnvidia-ml.so.1" from the dynamic loader's search path.
  std::string nvml_library;
  // nvidia-smi program, looked up on PATH unless it contains a slash.
  std::string nvidia_smi = "nvidia-smi";
};

// Returns the NVML library DetectGpus will load for these options.
std::string ResolveNvmlLibrary(const DetectOptions& options);

// Reads CPU, cgroup quotas and cpusets, memory, disk and OS of this host.
// Missing files leave the matching fields at zero; nothing here fails.
void DetectSystem(const DetectOptions& options, HostInventory& host);

// Finds GPUs through NVML, then nvidia-smi; when both fail, returns no
// devices, source "none" and a note that says why each failed.
GpuInventory DetectGpus(const DetectOptions& options);

// Counts the CPUs in a kernel CPU list such as "0-3,8,10-11"; 0 when malformed.
int CountCpuList(const std::string& list);

// Finds GPUs through NVML only; on failure returns source "none" and the reason.
GpuInventory DetectGpusWithNvml(const std::string& library);

// Finds GPUs through `nvidia-smi` CSV output only.
GpuInventory DetectGpusWithNvidiaSmi(const std::string& program);

// Runs DetectSystem and DetectGpus for the local host.
HostInventory DetectHost(const DetectOptions& options);

}  // namespace weir::detect
