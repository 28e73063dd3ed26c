// Memory available to this process, for refusing a model load that would not
// fit. Reads MemAvailable from /proc/meminfo and the cgroup v2 limit
// (memory.max minus memory.current), and returns the smaller.
#pragma once

#include <cstdint>
#include <optional>

namespace weir::engine {

std::optional<uint64_t> AvailableMemoryBytes();

}  // namespace weir::engine
