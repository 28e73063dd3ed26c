// Memory sizes as people write them in inventories and catalogues.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace weir::plan {

// Parses "8G", "8GiB", "8Gi", "8192MiB", "512M", "2T", "1.5GiB" or a plain
// byte count. Binary units (Ki/Mi/Gi/Ti, with or without "B") and the bare
// letters K/M/G/T are powers of 1024, as in `docker run --memory 8g`; the
// decimal units KB/MB/GB/TB are powers of 1000.
Result<std::uint64_t> ParseByteSize(const std::string& text);

}  // namespace weir::plan
