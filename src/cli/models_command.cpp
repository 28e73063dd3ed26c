// `weir models pull PATH|URL`: copies or downloads a GGUF file into the model
// directory, showing progress and the SHA-256 of what was written.
#include <cctype>
#include <cstdlib>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/exit_code.h"
#include "engine/model_pull.h"

namespace weir::cli {
namespace {

struct PullCommandOptions {
  std::string source;
  std::string model_dir;
  std::string sha256;
};

int RunPull(const PullCommandOptions& options) {
  engine::PullOptions pull;
  pull.source = options.source;
  pull.model_dir = options.model_dir;
  pull.expected_sha256 = options.sha256;
  for (char& c : pull.expected_sha256) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  int last_percent = -1;
  uint64_t last_mib = 0;
  pull.progress = [&](uint64_t done, uint64_t total) {
    // Progress goes to stderr, one line per 10% (or per 100 MiB when the
    // size is unknown), so logs stay short.
    if (total > 0) {
      const int percent = static_cast<int>(done * 100 / total);
      if (percent / 10 != last_percent / 10) {
        last_percent = percent;
        std::cerr << fmt::format("pull: {}% ({} of {} MiB)\n", percent, done >> 20, total >> 20);
      }
    } else if ((done >> 20) >= last_mib + 100) {
      last_mib = done >> 20;
      std::cerr << fmt::format("pull: {} MiB\n", last_mib);
    }
  };
  auto result = engine::PullModel(pull);
  if (!result.ok()) {
    std::cerr << "error: " << result.error().message << "\n";
    return 1;
  }
  std::cout << fmt::format("{}  {}\n", result->sha256, result->path);
  std::cerr << fmt::format("pull: wrote {} ({} bytes)\n", result->path, result->bytes);
  return 0;
}

}  // namespace

void AddModelCommands(CLI::App& app) {
  CLI::App* models = app.add_subcommand("models", "Manage the model files of the built-in engine");
  models->require_subcommand(1);
  auto options = std::make_shared<PullCommandOptions>();
  const char* env_dir = std::getenv("WEIR_MODEL_DIR");
  options->model_dir = env_dir != nullptr ? env_dir : "models";
  CLI::App* pull = models->add_subcommand("pull", "Copy or download a GGUF file into the model directory");
  pull->add_option("source", options->source, "Local path or http(s) URL of a .gguf file")->required();
  pull->add_option("--model-dir", options->model_dir,
                   "Model directory (default: $WEIR_MODEL_DIR, else ./models)");
  pull->add_option("--sha256", options->sha256, "Expected SHA-256 in hex; the pull fails on a mismatch");
  pull->callback([options] { SetExitCode(RunPull(*options)); });
}

}  // namespace weir::cli
