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
#include "engine/builtin_upstream.h"
#include "engine/chat_template.h"
#include "engine/openai_request.h"
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <array>
#include <chrono>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
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

struct ChatOptions {
  BuiltinUpstreamOptions upstream;
  std::string request_file;
  std::string path = "/chat/completions";
  int concurrent = 1;
  int cancel_after = 0;
};

// Sends the request in `request_file` `concurrent` times at once through the
// builtin upstream on one io_context thread, as the gateway does, and prints
// one JSON line per request: {"index", "status", "pieces": [...]}. With
// `cancel_after` > 0 each response is dropped after that many pieces, and the
// line also reports the slots in use afterwards.
int RunChat(const ChatOptions& options) {
  std::ifstream stream(options.request_file, std::ios::binary);
  if (!stream) return Fail(Error::InvalidRequest("cannot read request file " + options.request_file));
  const std::string body((std::istreambuf_iterator<char>(stream)), std::istreambuf_iterator<char>());
  // Logs go to stderr so that stdout holds only the JSON lines.
  spdlog::set_default_logger(spdlog::stderr_color_mt("engine"));
  auto upstream = CreateBuiltinUpstream(options.upstream);
  if (!upstream.ok()) return Fail(upstream.error());

  boost::asio::io_context io;
  std::vector<std::string> lines(static_cast<size_t>(options.concurrent));
  int failures = 0;
  for (int i = 0; i < options.concurrent; ++i) {
    boost::asio::co_spawn(io, [&, i]() -> boost::asio::awaitable<void> {
      UpstreamRequest request{options.path, body, body.find("\"stream\": true") != std::string::npos ||
                                                  body.find("\"stream\":true") != std::string::npos,
                              fmt::format("test{}", i)};
      UpstreamOpenResult opened = co_await (*upstream)->Open(request, UpstreamTimeouts{});
      rapidjson::StringBuffer buffer;
      rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
      writer.StartObject();
      writer.Key("index");
      writer.Int(i);
      writer.Key("status");
      writer.Int(opened.response->status());
      writer.Key("content_type");
      writer.String(opened.response->content_type());
      writer.Key("pieces");
      writer.StartArray();
      int pieces = 0;
      for (;;) {
        auto piece = co_await opened.response->Read();
        if (!piece.ok()) {
          ++failures;
          writer.String("ERROR: " + piece.error().message);
          break;
        }
        if (!piece->has_value()) break;
        writer.String(**piece);
        if (options.cancel_after > 0 && ++pieces >= options.cancel_after) break;
      }
      writer.EndArray();
      opened.response.reset();
      writer.EndObject();
      lines[static_cast<size_t>(i)] = std::string(buffer.GetString(), buffer.GetSize());
    }, boost::asio::detached);
  }
  io.run();
  for (const std::string& line : lines) std::cout << line << "\n";
  return failures == 0 ? 0 : 1;
}

// Prints {"prompt": "..."}: the chat request's messages rendered with the
// model's chat template, for comparison with a Jinja rendering.
int RunRenderChat(const std::string& model_path, const std::string& request_file,
                  const std::string& template_override) {
  std::ifstream stream(request_file, std::ios::binary);
  if (!stream) return Fail(Error::InvalidRequest("cannot read request file " + request_file));
  const std::string body((std::istreambuf_iterator<char>(stream)), std::istreambuf_iterator<char>());
  auto file = engine::GgufFile::Open(model_path);
  if (!file.ok()) return Fail(file.error());
  auto chat_template = engine::ChatTemplate::Select((*file)->GetString("tokenizer.chat_template"),
                                                    template_override);
  if (!chat_template.ok()) return Fail(chat_template.error());
  auto request = engine::ParseOpenAiRequest("/chat/completions", body);
  if (!request.ok()) return Fail(request.error());
  auto tokenizer = engine::Tokenizer::FromGguf(**file);
  if (!tokenizer.ok()) return Fail(tokenizer.error());
  const int bos = (*tokenizer)->bos();
  auto prompt = chat_template->Render(request->messages, bos >= 0 ? (*tokenizer)->TokenBytes(bos) : "");
  if (!prompt.ok()) return Fail(prompt.error());
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("template");
  writer.String(chat_template->name());
  writer.Key("prompt");
  writer.String(*prompt);
  writer.EndObject();
  std::cout << buffer.GetString() << "\n";
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

  auto chat_options = std::make_shared<ChatOptions>();
  chat_options->upstream.model_name = "test-model";
  CLI::App* chat = engine->add_subcommand("chat", "Send a request body through the builtin upstream");
  chat->add_option("--model", chat_options->upstream.model_path, "GGUF file")->required();
  chat->add_option("--request", chat_options->request_file, "File with the JSON request body")->required();
  chat->add_option("--path", chat_options->path, "/chat/completions or /completions");
  chat->add_option("--threads", chat_options->upstream.threads, "Compute threads (0: all available CPUs)");
  chat->add_option("--context-size", chat_options->upstream.context_size, "Tokens per sequence");
  chat->add_option("--parallel", chat_options->upstream.parallel, "Sequences generated at once");
  chat->add_option("--chat-template", chat_options->upstream.chat_template, "chatml, deepseek-r1 or llama3");
  chat->add_option("--concurrent", chat_options->concurrent, "Copies of the request sent at once");
  chat->add_option("--cancel-after", chat_options->cancel_after, "Drop each response after this many pieces");
  chat->callback([chat_options] { SetExitCode(RunChat(*chat_options)); });

  auto render_options = std::make_shared<std::array<std::string, 3>>();
  CLI::App* render = engine->add_subcommand("render-chat", "Print a chat request rendered with the model's template");
  render->add_option("--model", (*render_options)[0], "GGUF file")->required();
  render->add_option("--request", (*render_options)[1], "File with the JSON request body")->required();
  render->add_option("--chat-template", (*render_options)[2], "chatml, deepseek-r1 or llama3");
  render->callback([render_options] {
    SetExitCode(RunRenderChat((*render_options)[0], (*render_options)[1], (*render_options)[2]));
  });
}

}  // namespace weir::cli
