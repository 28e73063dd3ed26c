#include "engine/builtin_upstream.h"

#include <sys/mman.h>

#include <chrono>
#include <deque>
#include <mutex>
#include <random>

#include <boost/asio/async_result.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "engine/chat_template.h"
#include "engine/gguf.h"
#include "engine/memory_check.h"
#include "engine/model.h"
#include "engine/openai_request.h"
#include "engine/scheduler.h"
#include "engine/tokenizer.h"

namespace weir {
namespace {

using engine::GenerationEvent;
using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr double kMiB = 1024.0 * 1024.0;

// The loaded model and its scheduler, shared by the upstream and by every
// open response, so a response outlives a reload of the upstream.
struct EngineInstance {
  BuiltinUpstreamOptions options;
  std::shared_ptr<engine::GgufFile> file;
  std::shared_ptr<const engine::Model> model;
  std::shared_ptr<const engine::Tokenizer> tokenizer;
  engine::ChatTemplate chat_template;
  std::unique_ptr<engine::Scheduler> scheduler;
};

// Type-erased completion handler of one pending Read().
class Waiter {
 public:
  virtual ~Waiter() = default;
  virtual void Post() = 0;
};

template <typename Handler>
class WaiterImpl : public Waiter {
 public:
  explicit WaiterImpl(Handler handler) : handler_(std::move(handler)) {}
  void Post() override {
    auto executor = boost::asio::get_associated_executor(handler_);
    boost::asio::post(executor, std::move(handler_));
  }

 private:
  Handler handler_;
};

// Events from the scheduler thread to the reading coroutine. Push() never
// blocks. It resumes a waiting reader by posting the stored handler to the
// reader's own executor, and because the handler is stored under the same
// mutex as the queue, a wake-up cannot be lost between check and wait.
class EventQueue : public engine::GenerationSink {
 public:
  void Push(GenerationEvent event) override {
    std::unique_ptr<Waiter> waiter;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      events_.push_back(std::move(event));
      waiter = std::move(waiter_);
    }
    if (waiter) waiter->Post();
  }

  std::optional<GenerationEvent> TryPop() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (events_.empty()) return std::nullopt;
    GenerationEvent event = std::move(events_.front());
    events_.pop_front();
    return event;
  }

  // Completes when at least one event is queued.
  template <typename CompletionToken>
  auto AsyncWait(CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, void()>(
        [this](auto handler) {
          std::unique_lock<std::mutex> lock(mutex_);
          if (!events_.empty()) {
            lock.unlock();
            auto executor = boost::asio::get_associated_executor(handler);
            boost::asio::post(executor, std::move(handler));
            return;
          }
          waiter_ = std::make_unique<WaiterImpl<decltype(handler)>>(std::move(handler));
        },
        token);
  }

 private:
  std::mutex mutex_;
  std::deque<GenerationEvent> events_;
  std::unique_ptr<Waiter> waiter_;
};

std::string NewCompletionId(const std::string& prefix, const std::string& request_id) {
  if (!request_id.empty()) return prefix + request_id;
  static thread_local std::mt19937_64 random(std::random_device{}());
  return fmt::format("{}{:016x}", prefix, random());
}

void WriteUsage(JsonWriter& writer, int prompt_tokens, int completion_tokens) {
  writer.Key("usage");
  writer.StartObject();
  writer.Key("prompt_tokens");
  writer.Int(prompt_tokens);
  writer.Key("completion_tokens");
  writer.Int(completion_tokens);
  writer.Key("total_tokens");
  writer.Int(prompt_tokens + completion_tokens);
  writer.EndObject();
}

// A response with a fixed body: errors found before generation starts.
class FixedResponse : public UpstreamResponse {
 public:
  FixedResponse(int status, std::string body) : status_(status), body_(std::move(body)) {}
  int status() const override { return status_; }
  const std::string& content_type() const override { return content_type_; }
  boost::asio::awaitable<Result<std::optional<std::string>>> Read() override {
    if (sent_) co_return std::optional<std::string>();
    sent_ = true;
    co_return std::optional<std::string>(body_);
  }

 private:
  int status_;
  std::string body_;
  std::string content_type_ = "application/json";
  bool sent_ = false;
};

// An open generation: formats scheduler events as an OpenAI response body.
class GenerationResponse : public UpstreamResponse {
 public:
  GenerationResponse(std::shared_ptr<EngineInstance> instance, engine::OpenAiRequest request,
                     std::string id)
      : instance_(std::move(instance)), request_(std::move(request)), id_(std::move(id)),
        created_(std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch()).count()),
        content_type_(request_.stream ? "text/event-stream" : "application/json"),
        queue_(std::make_shared<EventQueue>()) {}

  ~GenerationResponse() override {
    if (cancelled_) {
      cancelled_->store(true);
      instance_->scheduler->Wake();
    }
  }

  void Start(engine::GenerationRequest generation) {
    cancelled_ = instance_->scheduler->Submit(std::move(generation), queue_);
  }

  int status() const override { return 200; }
  const std::string& content_type() const override { return content_type_; }

  boost::asio::awaitable<Result<std::optional<std::string>>> Read() override {
    if (!queued_pieces_.empty()) {
      std::string piece = std::move(queued_pieces_.front());
      queued_pieces_.pop_front();
      co_return std::optional<std::string>(std::move(piece));
    }
    if (finished_) co_return std::optional<std::string>();
    if (request_.stream && !sent_first_chunk_) {
      sent_first_chunk_ = true;
      if (request_.chat) co_return std::optional<std::string>(SseEvent(Chunk(nullptr, true, "")));
    }
    for (;;) {
      GenerationEvent event = co_await NextEvent();
      if (event.error) {
        finished_ = true;
        if (event.error->http_status < 500) co_return *event.error;
        co_return Error::Upstream(502, event.error->message);
      }
      if (!request_.stream) {
        content_ += event.delta.content;
        reasoning_ += event.delta.reasoning;
        if (!event.done) continue;
        finished_ = true;
        co_return std::optional<std::string>(FullBody(event));
      }
      if (event.done) {
        finished_ = true;
        if (!event.delta.empty()) queued_pieces_.push_back(SseEvent(Chunk(&event.delta, false, "")));
        queued_pieces_.push_back(SseEvent(Chunk(nullptr, false, event.finish_reason)));
        if (request_.include_usage) queued_pieces_.push_back(SseEvent(UsageChunk(event)));
        queued_pieces_.push_back("data: [DONE]\n\n");
        std::string piece = std::move(queued_pieces_.front());
        queued_pieces_.pop_front();
        co_return std::optional<std::string>(std::move(piece));
      }
      if (!event.delta.empty()) co_return std::optional<std::string>(SseEvent(Chunk(&event.delta, false, "")));
    }
  }

 private:
  boost::asio::awaitable<GenerationEvent> NextEvent() {
    for (;;) {
      if (auto event = queue_->TryPop()) co_return std::move(*event);
      co_await queue_->AsyncWait(boost::asio::use_awaitable);
    }
  }

  static std::string SseEvent(const std::string& json) { return "data: " + json + "\n\n"; }

  void WriteHeader(JsonWriter& writer, const char* object) {
    writer.Key("id");
    writer.String(id_);
    writer.Key("object");
    writer.String(object);
    writer.Key("created");
    writer.Int64(created_);
    writer.Key("model");
    writer.String(instance_->options.model_name);
  }

  // One streaming chunk: a text delta, the role announcement, or the
  // closing chunk with its finish reason.
  std::string Chunk(const engine::TextDelta* delta, bool role, const std::string& finish_reason) {
    rapidjson::StringBuffer buffer;
    JsonWriter writer(buffer);
    writer.StartObject();
    WriteHeader(writer, request_.chat ? "chat.completion.chunk" : "text_completion");
    writer.Key("choices");
    writer.StartArray();
    writer.StartObject();
    writer.Key("index");
    writer.Int(0);
    if (request_.chat) {
      writer.Key("delta");
      writer.StartObject();
      if (role) {
        writer.Key("role");
        writer.String("assistant");
        writer.Key("content");
        writer.String("");
      }
      if (delta != nullptr && !delta->content.empty()) {
        writer.Key("content");
        writer.String(delta->content);
      }
      if (delta != nullptr && !delta->reasoning.empty()) {
        writer.Key("reasoning_content");
        writer.String(delta->reasoning);
      }
      writer.EndObject();
    } else {
      writer.Key("text");
      writer.String(delta != nullptr ? delta->content : std::string());
    }
    writer.Key("logprobs");
    writer.Null();
    writer.Key("finish_reason");
    if (finish_reason.empty()) {
      writer.Null();
    } else {
      writer.String(finish_reason);
    }
    writer.EndObject();
    writer.EndArray();
    writer.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
  }

  std::string UsageChunk(const GenerationEvent& event) {
    rapidjson::StringBuffer buffer;
    JsonWriter writer(buffer);
    writer.StartObject();
    WriteHeader(writer, request_.chat ? "chat.completion.chunk" : "text_completion");
    writer.Key("choices");
    writer.StartArray();
    writer.EndArray();
    WriteUsage(writer, event.prompt_tokens, event.completion_tokens);
    writer.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
  }

  std::string FullBody(const GenerationEvent& event) {
    rapidjson::StringBuffer buffer;
    JsonWriter writer(buffer);
    writer.StartObject();
    WriteHeader(writer, request_.chat ? "chat.completion" : "text_completion");
    writer.Key("choices");
    writer.StartArray();
    writer.StartObject();
    writer.Key("index");
    writer.Int(0);
    if (request_.chat) {
      writer.Key("message");
      writer.StartObject();
      writer.Key("role");
      writer.String("assistant");
      writer.Key("content");
      writer.String(content_);
      if (!reasoning_.empty()) {
        writer.Key("reasoning_content");
        writer.String(reasoning_);
      }
      writer.EndObject();
    } else {
      writer.Key("text");
      writer.String(content_);
    }
    writer.Key("logprobs");
    writer.Null();
    writer.Key("finish_reason");
    writer.String(event.finish_reason);
    writer.EndObject();
    writer.EndArray();
    WriteUsage(writer, event.prompt_tokens, event.completion_tokens);
    writer.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
  }

  std::shared_ptr<EngineInstance> instance_;
  engine::OpenAiRequest request_;
  std::string id_;
  int64_t created_;
  std::string content_type_;
  std::shared_ptr<EventQueue> queue_;
  std::shared_ptr<std::atomic<bool>> cancelled_;
  std::deque<std::string> queued_pieces_;
  std::string content_;
  std::string reasoning_;
  bool sent_first_chunk_ = false;
  bool finished_ = false;
};

class BuiltinUpstream : public Upstream {
 public:
  explicit BuiltinUpstream(std::shared_ptr<EngineInstance> instance)
      : instance_(std::move(instance)), id_("builtin:" + instance_->options.model_name) {}

  const std::string& id() const override { return id_; }

  boost::asio::awaitable<UpstreamOpenResult> Open(const UpstreamRequest& request,
                                                  const UpstreamTimeouts&) override {
    UpstreamOpenResult result;
    auto prepared = Prepare(request);
    if (!prepared.ok()) {
      const Error& error = prepared.error();
      result.response = std::make_unique<FixedResponse>(error.http_status, error.ToJson());
      co_return result;
    }
    auto& [openai_request, generation] = *prepared;
    const std::string id = NewCompletionId(openai_request.chat ? "chatcmpl-" : "cmpl-", request.request_id);
    auto response = std::make_unique<GenerationResponse>(instance_, std::move(openai_request), id);
    response->Start(std::move(generation));
    result.response = std::move(response);
    co_return result;
  }

 private:
  // Parses and tokenizes the request. This runs on the caller's thread; it
  // costs about a microsecond per prompt byte.
  Result<std::pair<engine::OpenAiRequest, engine::GenerationRequest>> Prepare(const UpstreamRequest& request) {
    auto parsed = engine::ParseOpenAiRequest(request.path, request.body);
    if (!parsed.ok()) return parsed.error();
    engine::OpenAiRequest& openai_request = *parsed;
    const engine::Tokenizer& tokenizer = *instance_->tokenizer;

    std::vector<int> prompt;
    if (openai_request.chat) {
      const std::string bos = tokenizer.bos() >= 0 ? tokenizer.TokenBytes(tokenizer.bos()) : "";
      auto text = instance_->chat_template.Render(openai_request.messages, bos);
      if (!text.ok()) return text.error();
      if (instance_->chat_template.kind() == engine::ChatTemplate::Kind::kChatMl && tokenizer.add_bos() &&
          tokenizer.bos() >= 0) {
        prompt.push_back(tokenizer.bos());
      }
      // NOTE: special-token text inside message content is parsed as those
      // tokens, as llama.cpp's server does; the template markers need it.
      const std::vector<int> ids = tokenizer.Encode(*text, true);
      prompt.insert(prompt.end(), ids.begin(), ids.end());
    } else {
      if (tokenizer.add_bos() && tokenizer.bos() >= 0) prompt.push_back(tokenizer.bos());
      const std::vector<int> ids = tokenizer.Encode(openai_request.prompt, true);
      prompt.insert(prompt.end(), ids.begin(), ids.end());
      if (prompt.empty()) {
        return Error::InvalidRequest("prompt is empty; send at least one character", "prompt");
      }
    }

    const int context = instance_->options.context_size;
    const int prompt_tokens = static_cast<int>(prompt.size());
    if (prompt_tokens >= context) {
      return Error::InvalidRequest(
          fmt::format("the prompt has {} tokens, but model {} has a context of {} tokens "
                      "(prompt plus completion); shorten the messages", prompt_tokens,
                      instance_->options.model_name, context),
          openai_request.chat ? "messages" : "prompt", "context_length_exceeded");
    }
    int max_tokens = context - prompt_tokens;
    if (openai_request.max_tokens > 0) {
      if (openai_request.max_tokens > max_tokens) {
        return Error::InvalidRequest(
            fmt::format("max_tokens is {}, but the prompt has {} tokens and model {} has a "
                        "context of {} tokens, leaving room for at most {}; lower max_tokens",
                        openai_request.max_tokens, prompt_tokens, instance_->options.model_name,
                        context, max_tokens),
            "max_tokens", "context_length_exceeded");
      }
      max_tokens = openai_request.max_tokens;
    }

    engine::GenerationRequest generation;
    generation.prompt = std::move(prompt);
    generation.sampling = openai_request.sampling;
    generation.max_tokens = max_tokens;
    generation.stop = openai_request.stop;
    generation.opens_reasoning = openai_request.chat && instance_->chat_template.opens_reasoning();
    return std::make_pair(std::move(openai_request), std::move(generation));
  }

  std::shared_ptr<EngineInstance> instance_;
  std::string id_;
};

// Reads every page of the mapped weights once, so the first requests do not
// pay for page faults, and logs progress in quarters.
void PrefaultWeights(const engine::GgufFile& file, const std::string& model_name) {
  const std::vector<engine::GgufTensor>& tensors = file.tensors();
  size_t total = 0;
  for (const auto& tensor : tensors) total += tensor.size_bytes;
  size_t done = 0;
  int reported_quarter = 0;
  volatile uint8_t sink = 0;
  for (const auto& tensor : tensors) {
    for (size_t offset = 0; offset < tensor.size_bytes; offset += 4096) sink = sink + tensor.data[offset];
    done += tensor.size_bytes;
    const int quarter = total ? static_cast<int>(done * 4 / total) : 4;
    if (quarter > reported_quarter) {
      reported_quarter = quarter;
      spdlog::info("event=engine_load_progress model={} percent={} bytes={}", model_name,
                   quarter * 25, done);
    }
  }
}

}  // namespace

Result<std::shared_ptr<Upstream>> CreateBuiltinUpstream(const BuiltinUpstreamOptions& options) {
  if (options.context_size < 16 || options.parallel < 1 || options.threads < 0) {
    return Error::InvalidRequest(
        fmt::format("builtin upstream {}: context_size={} parallel={} threads={} are invalid; "
                    "use context_size >= 16, parallel >= 1, threads >= 0", options.model_name,
                    options.context_size, options.parallel, options.threads));
  }
  const auto started = std::chrono::steady_clock::now();
  spdlog::info("event=engine_load_start model={} path={}", options.model_name, options.model_path);
  auto file = engine::GgufFile::Open(options.model_path);
  if (!file.ok()) return file.error();
  auto model = engine::Model::Load(*file);
  if (!model.ok()) return model.error();
  const engine::ModelConfig& config = (*model)->config();
  // A context beyond the trained one would only produce garbage.
  const int context_size = std::min(options.context_size, std::max(config.trained_context, 16));

  // Memory: the mapped weights stay resident, plus one KV cache per slot.
  const uint64_t weights = (*file)->file_size();
  const uint64_t kv = static_cast<uint64_t>(engine::KvCache::BytesPerToken(config)) *
                      static_cast<uint64_t>(context_size) * static_cast<uint64_t>(options.parallel);
  const uint64_t needed = weights + kv;
  if (auto available = engine::AvailableMemoryBytes(); available && needed > *available) {
    return Error::InvalidRequest(
        fmt::format("model {} needs {:.0f} MiB (weights {:.0f} MiB + KV cache {:.0f} MiB for "
                    "parallel={} x context_size={}), but only {:.0f} MiB are available; lower "
                    "context_size or parallel, or free {:.0f} MiB", options.model_name,
                    needed / kMiB, weights / kMiB, kv / kMiB, options.parallel,
                    context_size, *available / kMiB, (needed - *available) / kMiB),
        "model_path", "insufficient_memory");
  }

  auto tokenizer = engine::Tokenizer::FromGguf(**file);
  if (!tokenizer.ok()) return tokenizer.error();
  auto chat_template = engine::ChatTemplate::Select((*file)->GetString("tokenizer.chat_template"),
                                                    options.chat_template);
  if (!chat_template.ok()) {
    Error error = chat_template.error();
    error.message = fmt::format("builtin upstream {}: {}", options.model_name, error.message);
    return error;
  }

  spdlog::info("event=engine_load_model model={} architecture={} layers={} embedding={} "
               "vocab={} weights_mib={:.0f} kv_cache_mib={:.0f} chat_template={}",
               options.model_name, config.architecture, config.layers, config.embedding,
               config.vocab, weights / kMiB, kv / kMiB, chat_template->name());
  PrefaultWeights(**file, options.model_name);

  auto instance = std::make_shared<EngineInstance>();
  instance->options = options;
  instance->file = *file;
  instance->model = std::shared_ptr<const engine::Model>(std::move(*model));
  instance->tokenizer = *tokenizer;
  instance->chat_template = *chat_template;
  engine::SchedulerOptions scheduler_options;
  scheduler_options.threads = options.threads;
  scheduler_options.context_size = context_size;
  scheduler_options.parallel = options.parallel;
  instance->options.context_size = scheduler_options.context_size;
  instance->scheduler = std::make_unique<engine::Scheduler>(instance->model, instance->tokenizer,
                                                            scheduler_options);
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  spdlog::info("event=engine_ready model={} threads={} parallel={} context_size={} kernel={} "
               "load_ms={}", options.model_name, instance->scheduler->threads(), options.parallel,
               scheduler_options.context_size, engine::KernelName(), elapsed.count());
  return std::shared_ptr<Upstream>(std::make_shared<BuiltinUpstream>(std::move(instance)));
}

}  // namespace weir
