#include "engine/memory_check.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

namespace weir::engine {
namespace {

std::optional<uint64_t> ReadNumber(const std::string& path) {
  std::ifstream stream(path);
  std::string text;
  if (!(stream >> text) || text == "max") return std::nullopt;
  try {
    return std::stoull(text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<uint64_t> MemAvailable() {
  std::ifstream stream("/proc/meminfo");
  std::string line;
  while (std::getline(stream, line)) {
    if (line.rfind("MemAvailable:", 0) == 0) {
      std::istringstream fields(line.substr(13));
      uint64_t kib = 0;
      if (fields >> kib) return kib * 1024;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<uint64_t> AvailableMemoryBytes() {
  std::optional<uint64_t> available = MemAvailable();
  const auto limit = ReadNumber("/sys/fs/cgroup/memory.max");
  const auto used = ReadNumber("/sys/fs/cgroup/memory.current");
  if (limit && used) {
    const uint64_t cgroup_free = *limit > *used ? *limit - *used : 0;
    available = available ? std::min(*available, cgroup_free) : cgroup_free;
  }
  return available;
}

}  // namespace weir::engine
