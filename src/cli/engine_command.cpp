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
#include "engine/scheduler.h"
#include <condition_variable>
#include <mutex>
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
  bool f32_activations = false;
  int batch = 0;
};

// Prints {"kernel": ..., "logits": [[...], ...]}: one row per prompt
// position. `batch` > 0 feeds the prompt in chunks of that many tokens, so
// tests cover the KV cache across Evaluate() calls.
int RunLogits(const LogitsOptions& options) {
  engine::ForcePortableKernels(options.portable);
  engine::SetQuantizedActivations(!options.f32_activations);
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

struct BenchOptions {
  std::string model_path;
  int threads = 0;
  int streams = 1;
  int prompt_tokens = 128;
  int generate_tokens = 64;
  std::string prompt_ids;  // When set: greedy ids for this prompt, one stream.
};

// Collects token events of one sequence with their arrival times.
class RecordingSink : public engine::GenerationSink {
 public:
  void Push(engine::GenerationEvent event) override {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (event.token >= 0) {
      if (tokens.empty()) first_token_at = now;
      tokens.push_back(event.token);
    }
    if (event.done) {
      done = true;
      done_at = now;
      if (event.error) error = event.error->message;
      changed_.notify_all();
    }
  }
  void WaitDone() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return done; });
  }
  std::vector<int> tokens;
  std::chrono::steady_clock::time_point first_token_at, done_at;
  bool done = false;
  std::string error;

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
};

// Measures prefill and decode speed through the scheduler, the path the
// gateway uses: `streams` sequences of `prompt_tokens` prompt tokens each
// start together and generate `generate_tokens` tokens ignoring EOS.
// Prefill tokens/s: all prompt tokens over the time until every sequence
// has its first token. Decode tokens/s: the tokens after each sequence's
// first, over the time from the last first token to the last finish.
int RunBench(const BenchOptions& options) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("engine"));
  auto file = engine::GgufFile::Open(options.model_path);
  if (!file.ok()) return Fail(file.error());
  auto model = engine::Model::Load(*file);
  if (!model.ok()) return Fail(model.error());
  auto tokenizer = engine::Tokenizer::FromGguf(**file);
  if (!tokenizer.ok()) return Fail(tokenizer.error());
  std::shared_ptr<const engine::Model> shared_model(std::move(*model));
  const int vocab = shared_model->config().vocab;

  std::vector<std::vector<int>> prompts;
  if (!options.prompt_ids.empty()) {
    prompts.push_back(ParseIds(options.prompt_ids));
  } else {
    for (int s = 0; s < options.streams; ++s) {
      std::vector<int> prompt;
      for (int i = 0; i < options.prompt_tokens; ++i) prompt.push_back((s * 7919 + i * 104729 + 1000) % vocab);
      prompts.push_back(std::move(prompt));
    }
  }
  engine::SchedulerOptions scheduler_options;
  scheduler_options.threads = options.threads;
  scheduler_options.parallel = static_cast<int>(prompts.size());
  scheduler_options.context_size = static_cast<int>(prompts[0].size()) + options.generate_tokens + 8;
  scheduler_options.prefill_chunk = 512;
  engine::Scheduler scheduler(shared_model, *tokenizer, scheduler_options);

  std::vector<std::shared_ptr<RecordingSink>> sinks;
  const auto started = std::chrono::steady_clock::now();
  for (const auto& prompt : prompts) {
    engine::GenerationRequest request;
    request.prompt = prompt;
    request.sampling.temperature = 0;
    request.max_tokens = options.generate_tokens;
    request.ignore_eos = options.prompt_ids.empty();
    request.report_tokens = true;
    sinks.push_back(std::make_shared<RecordingSink>());
    scheduler.Submit(std::move(request), sinks.back());
  }
  for (auto& sink : sinks) sink->WaitDone();

  auto seconds = [](auto from, auto to) { return std::chrono::duration<double>(to - from).count(); };
  auto last_first = started;
  auto last_done = started;
  int64_t prompt_total = 0, decode_total = 0;
  for (size_t i = 0; i < sinks.size(); ++i) {
    if (!sinks[i]->error.empty()) return Fail(Error::Internal(sinks[i]->error));
    last_first = std::max(last_first, sinks[i]->first_token_at);
    last_done = std::max(last_done, sinks[i]->done_at);
    prompt_total += static_cast<int64_t>(prompts[i].size());
    decode_total += static_cast<int64_t>(sinks[i]->tokens.size()) - 1;
  }
  std::string ids;
  for (size_t i = 0; i < sinks[0]->tokens.size(); ++i) ids += (i ? "," : "") + std::to_string(sinks[0]->tokens[i]);
  std::cout << fmt::format(
      "{{\"threads\":{},\"streams\":{},\"kernel\":\"{}\",\"prompt_tokens\":{},\"generated_tokens\":{},"
      "\"prefill_tokens_per_second\":{:.2f},\"decode_tokens_per_second\":{:.2f},\"tokens\":[{}]}}\n",
      scheduler.threads(), prompts.size(), engine::KernelName(), prompt_total, decode_total + static_cast<int64_t>(sinks.size()),
      prompt_total / seconds(started, last_first), decode_total / seconds(last_first, last_done), ids);
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
  logits->add_flag("--f32-activations", logits_options->f32_activations,
                   "Multiply in f32 only, without the 8-bit activation path");
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

  auto bench_options = std::make_shared<BenchOptions>();
  CLI::App* bench = engine->add_subcommand("bench", "Measure prefill and decode tokens/s through the scheduler");
  bench->add_option("--model", bench_options->model_path, "GGUF file")->required();
  bench->add_option("--threads", bench_options->threads, "Compute threads (0: all available CPUs)");
  bench->add_option("--streams", bench_options->streams, "Sequences generated at once");
  bench->add_option("--prompt-tokens", bench_options->prompt_tokens, "Prompt tokens per sequence");
  bench->add_option("--generate-tokens", bench_options->generate_tokens, "Tokens generated per sequence");
  bench->add_option("--prompt-ids", bench_options->prompt_ids,
                    "Greedy generation for this prompt (comma-separated ids), stopping at EOS");
  bench->callback([bench_options] { SetExitCode(RunBench(*bench_options)); });

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
