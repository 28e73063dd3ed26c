// Copies or downloads a GGUF model file into the model directory, with
// progress and a SHA-256 checksum. Used by `weir models pull`.
//
// The file is written under a temporary name and renamed only after the
// checksum matches (when one is expected) and the file parses as GGUF, so a
// failed pull never leaves a partial model behind.
#pragma once

#include <functional>
#include <string>

#include "common/result.h"

namespace weir::engine {

struct PullOptions {
  std::string source;     // A local path, or an http:// or https:// URL.
  std::string model_dir;  // Created when missing.
  std::string expected_sha256;  // Lower-case hex; empty: do not check.
  // Called with bytes done and bytes total (0 when unknown).
  std::function<void(uint64_t, uint64_t)> progress;
};

struct PullResult {
  std::string path;    // Final path of the model file.
  std::string sha256;  // Lower-case hex of the file's contents.
  uint64_t bytes = 0;
};

Result<PullResult> PullModel(const PullOptions& options);

}  // namespace weir::engine
