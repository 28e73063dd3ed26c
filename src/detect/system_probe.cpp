// CPU, memory, disk and OS detection from /proc, the cgroup tree and statvfs.
//
// Order of the CPU limits, each of which can only lower the count: CPUs
// online, the cgroup cpuset, then the CFS quota rounded up. Memory for a model
// is MemAvailable, lowered to what the cgroup limit leaves.
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "detect/detector.h"

namespace weir::detect {
namespace {

namespace fs = std::filesystem;

// Values at or above this are the "no limit" sentinels of cgroup v1
// (PAGE_COUNTER_MAX rounded to pages, e.g. 9223372036854771712).
constexpr std::uint64_t kCgroupUnlimited = 1ULL << 62;

std::optional<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string Trim(std::string text) {
  const char* space = " \t\r\n";
  text.erase(0, text.find_first_not_of(space));
  const auto end = text.find_last_not_of(space);
  text.erase(end == std::string::npos ? 0 : end + 1);
  return text;
}

std::optional<std::uint64_t> ParseUnsigned(const std::string& text) {
  const std::string trimmed = Trim(text);
  if (trimmed.empty() || trimmed == "max") return std::nullopt;
  try {
    std::size_t used = 0;
    const unsigned long long value = std::stoull(trimmed, &used);
    if (used != trimmed.size()) return std::nullopt;
    return value;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<std::uint64_t> ReadUnsigned(const fs::path& path) {
  const auto text = ReadFile(path);
  if (!text) return std::nullopt;
  return ParseUnsigned(*text);
}

}  // namespace

// Counts the CPUs in a kernel CPU list such as "0-3,8,10-11". Returns 0 for
// an empty or malformed list.
int CountCpuList(const std::string& list) {
  int count = 0;
  std::stringstream stream(Trim(list));
  std::string range;
  while (std::getline(stream, range, ',')) {
    range = Trim(range);
    if (range.empty()) continue;
    const auto dash = range.find('-');
    const auto first = ParseUnsigned(range.substr(0, dash));
    const auto last = dash == std::string::npos ? first : ParseUnsigned(range.substr(dash + 1));
    if (!first || !last || *last < *first) return 0;
    count += static_cast<int>(*last - *first + 1);
  }
  return count;
}

namespace {

struct CgroupPaths {
  bool v2 = false;
  std::string unified_path;  // v2: the path from the "0::" line.
  std::vector<std::pair<std::string, std::string>> v1;  // controllers -> path.
};

CgroupPaths ReadProcessCgroups(const DetectOptions& options) {
  CgroupPaths paths;
  paths.v2 = fs::exists(fs::path(options.cgroup_root) / "cgroup.controllers");
  const auto text = ReadFile(fs::path(options.proc_root) / "self" / "cgroup");
  if (!text) return paths;
  std::stringstream stream(*text);
  std::string line;
  while (std::getline(stream, line)) {
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (controllers.empty()) {
      paths.unified_path = path;
    } else {
      paths.v1.emplace_back(controllers, path);
    }
  }
  return paths;
}

// Directories from the process's own cgroup up to the hierarchy root. A
// container often sees its cgroup mounted at the root while /proc/self/cgroup
// still names the host path, so paths that do not exist are skipped.
std::vector<fs::path> CgroupChain(const fs::path& mount, const std::string& process_path) {
  std::vector<fs::path> chain;
  fs::path relative = fs::path(process_path).relative_path();
  while (true) {
    const fs::path directory = mount / relative;
    if (fs::is_directory(directory)) chain.push_back(directory);
    if (relative.empty()) break;
    relative = relative.parent_path();
  }
  return chain;
}

// The v1 mount point for a controller ("cpu", "memory", "cpuset") and the
// process's path in that hierarchy.
std::optional<std::pair<fs::path, std::string>> FindV1Hierarchy(const DetectOptions& options,
                                                                const CgroupPaths& paths,
                                                                const std::string& controller) {
  for (const auto& [controllers, path] : paths.v1) {
    std::stringstream list(controllers);
    std::string name;
    while (std::getline(list, name, ',')) {
      if (name != controller) continue;
      for (const std::string& mount_name : {controllers, controller}) {
        const fs::path mount = fs::path(options.cgroup_root) / mount_name;
        if (fs::is_directory(mount)) return std::make_pair(mount, path);
      }
    }
  }
  return std::nullopt;
}

std::vector<fs::path> ControllerChain(const DetectOptions& options, const CgroupPaths& paths,
                                      const std::string& controller) {
  if (paths.v2) return CgroupChain(options.cgroup_root, paths.unified_path);
  const auto hierarchy = FindV1Hierarchy(options, paths, controller);
  if (!hierarchy) return {};
  return CgroupChain(hierarchy->first, hierarchy->second);
}

// The tightest CFS quota along the chain, in CPUs; 0 when none is set.
double ReadCpuQuota(const std::vector<fs::path>& chain, bool v2) {
  double quota_cpus = 0;
  for (const fs::path& directory : chain) {
    double cpus = 0;
    if (v2) {
      const auto text = ReadFile(directory / "cpu.max");
      if (!text) continue;
      std::stringstream fields(*text);
      std::string quota;
      std::string period;
      fields >> quota >> period;
      const auto quota_us = ParseUnsigned(quota);
      const auto period_us = ParseUnsigned(period);
      if (quota_us && period_us && *period_us > 0) cpus = double(*quota_us) / double(*period_us);
    } else {
      const auto text = ReadFile(directory / "cpu.cfs_quota_us");
      const auto period_us = ReadUnsigned(directory / "cpu.cfs_period_us");
      if (!text || !period_us || *period_us == 0) continue;
      const long long quota_us = std::atoll(Trim(*text).c_str());  // -1 means no quota.
      if (quota_us > 0) cpus = double(quota_us) / double(*period_us);
    }
    if (cpus > 0 && (quota_cpus == 0 || cpus < quota_cpus)) quota_cpus = cpus;
  }
  return quota_cpus;
}

int ReadCpusetCount(const std::vector<fs::path>& chain, bool v2) {
  const char* file = v2 ? "cpuset.cpus.effective" : "cpuset.cpus";
  for (const fs::path& directory : chain) {
    const auto text = ReadFile(directory / file);
    if (text && !Trim(*text).empty()) return CountCpuList(*text);
  }
  return 0;
}

void DetectCpu(const DetectOptions& options, const CgroupPaths& paths, CpuInfo& cpu) {
  const fs::path proc(options.proc_root);
  if (const auto cpuinfo = ReadFile(proc / "cpuinfo")) {
    std::stringstream stream(*cpuinfo);
    std::string line;
    int processors = 0;
    while (std::getline(stream, line)) {
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      const std::string key = Trim(line.substr(0, colon));
      if (key == "processor") ++processors;
      if (key == "model name" && cpu.model.empty()) cpu.model = Trim(line.substr(colon + 1));
    }
    cpu.online_cpus = processors;
  }
  if (cpu.online_cpus == 0) cpu.online_cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));

  cpu.cpuset_cpus = ReadCpusetCount(ControllerChain(options, paths, "cpuset"), paths.v2);
  cpu.cgroup_quota_cpus = ReadCpuQuota(ControllerChain(options, paths, "cpu"), paths.v2);

  int usable = cpu.online_cpus;
  if (cpu.cpuset_cpus > 0) usable = std::min(usable, cpu.cpuset_cpus);
  if (cpu.cgroup_quota_cpus > 0) {
    usable = std::min(usable, static_cast<int>(std::ceil(cpu.cgroup_quota_cpus)));
  }
  cpu.usable_cpus = std::max(usable, 1);
}

std::optional<std::uint64_t> ReadMeminfoField(const std::string& meminfo, const std::string& key) {
  std::stringstream stream(meminfo);
  std::string line;
  while (std::getline(stream, line)) {
    if (line.rfind(key + ":", 0) != 0) continue;
    std::stringstream fields(line.substr(key.size() + 1));
    std::uint64_t kib = 0;
    fields >> kib;
    return kib * 1024;
  }
  return std::nullopt;
}

void DetectMemory(const DetectOptions& options, const CgroupPaths& paths, MemoryInfo& memory) {
  if (const auto meminfo = ReadFile(fs::path(options.proc_root) / "meminfo")) {
    memory.total_bytes = ReadMeminfoField(*meminfo, "MemTotal").value_or(0);
    memory.available_bytes = ReadMeminfoField(*meminfo, "MemAvailable").value_or(0);
  }

  const char* limit_file = paths.v2 ? "memory.max" : "memory.limit_in_bytes";
  const char* usage_file = paths.v2 ? "memory.current" : "memory.usage_in_bytes";
  const auto chain = ControllerChain(options, paths, "memory");
  for (const fs::path& directory : chain) {
    const auto limit = ReadUnsigned(directory / limit_file);
    if (!limit || *limit >= kCgroupUnlimited) continue;
    if (memory.cgroup_limit_bytes == 0 || *limit < memory.cgroup_limit_bytes) {
      memory.cgroup_limit_bytes = *limit;
      memory.cgroup_usage_bytes = ReadUnsigned(directory / usage_file).value_or(0);
    }
  }

  memory.usable_bytes = memory.available_bytes;
  if (memory.cgroup_limit_bytes > 0) {
    const std::uint64_t left = memory.cgroup_limit_bytes > memory.cgroup_usage_bytes
                                   ? memory.cgroup_limit_bytes - memory.cgroup_usage_bytes
                                   : 0;
    memory.usable_bytes = std::min(memory.usable_bytes == 0 ? left : memory.usable_bytes, left);
  }
}

void DetectDisk(const DetectOptions& options, DiskInfo& disk) {
  std::error_code error;
  fs::path path = fs::absolute(options.model_dir, error);
  while (!path.empty() && !fs::exists(path, error) && path != path.root_path()) {
    path = path.parent_path();
  }
  struct statvfs stats {};
  if (path.empty() || statvfs(path.c_str(), &stats) != 0) return;
  disk.path = path.string();
  disk.free_bytes = std::uint64_t(stats.f_bavail) * stats.f_frsize;
  disk.total_bytes = std::uint64_t(stats.f_blocks) * stats.f_frsize;
}

void DetectOs(const DetectOptions& options, HostInventory& host) {
  if (const auto text = ReadFile(options.os_release_path)) {
    std::stringstream stream(*text);
    std::string line;
    while (std::getline(stream, line)) {
      if (line.rfind("PRETTY_NAME=", 0) != 0) continue;
      std::string value = line.substr(12);
      value.erase(std::remove(value.begin(), value.end(), '"'), value.end());
      host.os = value;
    }
  }
  struct utsname names {};
  if (uname(&names) == 0) host.kernel = names.release;
  char hostname[256] = {};
  if (gethostname(hostname, sizeof(hostname) - 1) == 0) host.hostname = hostname;
}

}  // namespace

void DetectSystem(const DetectOptions& options, HostInventory& host) {
  const CgroupPaths paths = ReadProcessCgroups(options);
  DetectCpu(options, paths, host.cpu);
  DetectMemory(options, paths, host.memory);
  DetectDisk(options, host.disk);
  DetectOs(options, host);
}

}  // namespace weir::detect
