// `weir engine`: hidden developer commands that run the built-in engine
// directly, for tests against reference implementations and for benchmarks.
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/exit_code.h"
#include "engine/gguf.h"
#include "engine/model.h"
#include "engine/quant.h"
#include "engine/thread_pool.h"
#include "engine/tokenizer.h"
#include <fstream>

namespace weir::cli {
namespace {

std::vector<int> ParseIds(const std::string& text) {
  std::vector<int> ids;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    if (!item.empty()) ids.push_back(std::stoi(item));
  }
  return ids;
}

int Fail(const Error& error) {
  std::cerr << "error: " << error.message << "\n";
  return 1;
}

struct LogitsOptions {
  std::string model_path;
  std::string prompt_ids;
  int threads = 0;
  bool portable = false;
  int batch = 0;
};

// Prints {"kernel": ..., "logits": [[...], ...]}: one row per prompt
// position. `batch` > 0 feeds the prompt in chunks of that many tokens, so
// tests cover the KV cache across Evaluate() calls.
int RunLogits(const LogitsOptions& options) {
  engine::ForcePortableKernels(options.portable);
  auto file = engine::GgufFile::Open(options.model_path);
  if (!file.ok()) return Fail(file.error());
  auto model = engine::Model::Load(*file);
  if (!model.ok()) return Fail(model.error());
  const std::vector<int> ids = ParseIds(options.prompt_ids);
  const engine::ModelConfig& config = (*model)->config();
  engine::KvCache cache(config, static_cast<int>(ids.size()) + 1);
  engine::ThreadPool pool(options.threads);
  std::vector<float> logits;
  const size_t chunk = options.batch > 0 ? static_cast<size_t>(options.batch) : ids.size();
  for (size_t begin = 0; begin < ids.size(); begin += chunk) {
    std::vector<engine::BatchToken> batch;
    for (size_t i = begin; i < std::min(ids.size(), begin + chunk); ++i) {
      batch.push_back({ids[i], static_cast<int>(i), &cache, true});
    }
    Status status = (*model)->Evaluate(batch, pool, &logits);
    if (!status.ok()) return Fail(status.error());
  }
  std::string out = fmt::format("{{\"kernel\":\"{}\",\"logits\":[", engine::KernelName());
  for (size_t t = 0; t < ids.size(); ++t) {
    out += t ? ",[" : "[";
    for (int i = 0; i < config.vocab; ++i) {
      if (i) out += ',';
      out += fmt::format("{:.6g}", logits[t * config.vocab + static_cast<size_t>(i)]);
    }
    out += ']';
  }
  out += "]}\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

struct TokenizeOptions {
  std::string model_path;
  std::string tokenizer_json;
  std::string text_file;
  bool plain = false;
};

// Prints {"ids": [...], "decoded": "..."} for the text in a file, so tests can
// compare ids with a reference tokenizer and check the round trip.
int RunTokenize(const TokenizeOptions& options) {
  Result<std::shared_ptr<engine::Tokenizer>> tokenizer = Error::Internal("no tokenizer source");
  if (!options.tokenizer_json.empty()) {
    tokenizer = engine::Tokenizer::FromHuggingFaceJson(options.tokenizer_json);
  } else {
    auto file = engine::GgufFile::Open(options.model_path);
    if (!file.ok()) return Fail(file.error());
    tokenizer = engine::Tokenizer::FromGguf(**file);
  }
  if (!tokenizer.ok()) return Fail(tokenizer.error());
  std::ifstream stream(options.text_file, std::ios::binary);
  if (!stream) return Fail(Error::InvalidRequest("cannot read text file " + options.text_file));
  const std::string text((std::istreambuf_iterator<char>(stream)), std::istreambuf_iterator<char>());
  const std::vector<int> ids = (*tokenizer)->Encode(text, !options.plain);
  const std::string decoded = (*tokenizer)->Decode(ids);
  std::string out = "{\"ids\":[";
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
  out += fmt::format("],\"round_trip\":{},\"bos\":{},\"eos\":{}}}\n", decoded == text ? "true" : "false",
                     (*tokenizer)->bos(), (*tokenizer)->eos());
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace

void AddEngineCommands(CLI::App& app) {
  CLI::App* engine = app.add_subcommand("engine", "Developer commands of the built-in engine");
  engine->group("");  // Hidden from `weir --help`.
  engine->require_subcommand(1);

  auto logits_options = std::make_shared<LogitsOptions>();
  CLI::App* logits = engine->add_subcommand("logits", "Print the logits of every prompt position as JSON");
  logits->add_option("--model", logits_options->model_path, "GGUF file")->required();
  logits->add_option("--prompt-ids", logits_options->prompt_ids, "Comma-separated token ids")->required();
  logits->add_option("--threads", logits_options->threads, "Worker threads (0: all available CPUs)");
  logits->add_option("--batch", logits_options->batch, "Tokens per forward pass (0: all at once)");
  logits->add_flag("--portable", logits_options->portable, "Use the portable kernels, not AVX2");
  logits->callback([logits_options] { SetExitCode(RunLogits(*logits_options)); });

  auto tokenize_options = std::make_shared<TokenizeOptions>();
  CLI::App* tokenize = engine->add_subcommand("tokenize", "Print the token ids of a text file as JSON");
  auto* model_option = tokenize->add_option("--model", tokenize_options->model_path, "GGUF file");
  tokenize->add_option("--tokenizer-json", tokenize_options->tokenizer_json, "Hugging Face tokenizer.json")
      ->excludes(model_option);
  tokenize->add_option("--text-file", tokenize_options->text_file, "UTF-8 text to tokenize")->required();
  tokenize->add_flag("--plain", tokenize_options->plain, "Treat special-token text as ordinary text");
  tokenize->callback([tokenize_options] { SetExitCode(RunTokenize(*tokenize_options)); });
}

}  // namespace weir::cli
