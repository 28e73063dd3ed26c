#include "sim/simulator.h"

#include <cmath>
#include <iostream>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/json.h"

namespace weir {

namespace asio = boost::asio;

namespace {

const char* const kWords[] = {"The", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog", "and",
                              "keeps", "running", "through", "the", "green", "field", "under", "a", "bright", "sky"};
constexpr int kWordCount = sizeof(kWords) / sizeof(kWords[0]);

struct Answer {
  std::vector<std::string> reasoning;  // One token per entry.
  std::vector<std::string> content;
  int64_t prompt_tokens = 0;
};

asio::awaitable<void> Sleep(std::chrono::milliseconds delay) {
  if (delay.count() <= 0) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(delay);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

// Counts prompt characters over messages (chat) or the prompt (completions).
int64_t PromptChars(const json::Document& body) {
  int64_t chars = 0;
  auto messages = body.FindMember("messages");
  if (messages != body.MemberEnd() && messages->value.IsArray()) {
    for (const auto& message : messages->value.GetArray()) {
      if (message.IsObject() && message.HasMember("content") && message["content"].IsString()) {
        chars += message["content"].GetStringLength();
      }
    }
  }
  auto prompt = body.FindMember("prompt");
  if (prompt != body.MemberEnd() && prompt->value.IsString()) chars += prompt->value.GetStringLength();
  auto input = body.FindMember("input");
  if (input != body.MemberEnd() && input->value.IsString()) chars += input->value.GetStringLength();
  return chars;
}

Answer MakeAnswer(const json::Document& body, const SimOptions& options) {
  Answer answer;
  int64_t chars = PromptChars(body);
  answer.prompt_tokens = std::max<int64_t>(1, (chars + 3) / 4);
  int64_t tokens = options.completion_tokens;
  for (const char* field : {"max_tokens", "max_completion_tokens"}) {
    if (body.HasMember(field) && body[field].IsInt64()) tokens = std::min<int64_t>(tokens, body[field].GetInt64());
  }
  if (options.reasoning) {
    for (int i = 0; i < 4; ++i) answer.reasoning.push_back(i == 0 ? "Let" : (i == 1 ? " me" : (i == 2 ? " think" : ".")));
  }
  for (int64_t i = 0; i < tokens; ++i) {
    std::string word = kWords[(chars + i) % kWordCount];
    answer.content.push_back(i == 0 ? word : " " + word);
  }
  return answer;
}

void WriteUsage(json::Writer& writer, const Answer& answer, const SimOptions& options) {
  int64_t completion = static_cast<int64_t>(answer.content.size() + answer.reasoning.size());
  writer.Key("usage");
  writer.StartObject();
  json::Field(writer, "prompt_tokens", answer.prompt_tokens);
  json::Field(writer, "completion_tokens", completion);
  json::Field(writer, "total_tokens", answer.prompt_tokens + completion);
  if (options.usage_shape == "deepseek") {
    int64_t hit = answer.prompt_tokens / 2;
    json::Field(writer, "prompt_cache_hit_tokens", hit);
    json::Field(writer, "prompt_cache_miss_tokens", answer.prompt_tokens - hit);
  } else {
    writer.Key("prompt_tokens_details");
    writer.StartObject();
    json::Field(writer, "cached_tokens", int64_t{0});
    writer.EndObject();
  }
  writer.Key("completion_tokens_details");
  writer.StartObject();
  json::Field(writer, "reasoning_tokens", static_cast<int64_t>(answer.reasoning.size()));
  writer.EndObject();
  writer.EndObject();
}

std::string Join(const std::vector<std::string>& parts) {
  std::string joined;
  for (const auto& part : parts) joined += part;
  return joined;
}

std::string NonStreamBody(const Answer& answer, const SimOptions& options, const std::string& model, bool chat,
                          const std::string& id) {
  rapidjson::StringBuffer buffer;
  json::Writer writer(buffer);
  writer.StartObject();
  json::Field(writer, "id", id);
  json::Field(writer, "object", chat ? "chat.completion" : "text_completion");
  json::Field(writer, "created", static_cast<int64_t>(std::time(nullptr)));
  json::Field(writer, "model", model);
  writer.Key("choices");
  writer.StartArray();
  writer.StartObject();
  json::Field(writer, "index", int64_t{0});
  if (chat) {
    writer.Key("message");
    writer.StartObject();
    json::Field(writer, "role", "assistant");
    json::Field(writer, "content", Join(answer.content));
    if (!answer.reasoning.empty()) json::Field(writer, "reasoning_content", Join(answer.reasoning));
    writer.EndObject();
  } else {
    json::Field(writer, "text", Join(answer.content));
  }
  json::Field(writer, "finish_reason", "stop");
  writer.EndObject();
  writer.EndArray();
  if (options.usage_shape != "none") WriteUsage(writer, answer, options);
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// One chunk of a streamed answer. `field` is "content", "reasoning_content",
// or empty for the closing chunk; `usage` adds the usage object to it.
std::string Chunk(const std::string& id, const std::string& model, bool chat, const char* field, const std::string& text,
                  bool finish, bool with_choice, const Answer* usage, const SimOptions& options) {
  rapidjson::StringBuffer buffer;
  json::Writer writer(buffer);
  writer.StartObject();
  json::Field(writer, "id", id);
  json::Field(writer, "object", chat ? "chat.completion.chunk" : "text_completion");
  json::Field(writer, "created", static_cast<int64_t>(std::time(nullptr)));
  json::Field(writer, "model", model);
  writer.Key("choices");
  writer.StartArray();
  if (with_choice) {
    writer.StartObject();
    json::Field(writer, "index", int64_t{0});
    if (chat) {
      writer.Key("delta");
      writer.StartObject();
      if (field != nullptr && *field) json::Field(writer, field, text);
      if (options.usage_shape == "deepseek" && finish) json::Field(writer, "content", "");
      writer.EndObject();
    } else {
      json::Field(writer, "text", field != nullptr && *field ? text : "");
    }
    writer.Key("finish_reason");
    finish ? writer.String("stop") : writer.Null();
    writer.EndObject();
  }
  writer.EndArray();
  if (usage != nullptr) WriteUsage(writer, *usage, options);
  writer.EndObject();
  return "data: " + std::string(buffer.GetString(), buffer.GetSize()) + "\n\n";
}

http::response<http::string_body> JsonResponse(int status, std::string body) {
  http::response<http::string_body> response{static_cast<http::status>(status), 11};
  response.set(http::field::content_type, "application/json");
  response.body() = std::move(body);
  return response;
}

}  // namespace

Simulator::Simulator(SimOptions options) : options_(std::move(options)) {}

SimOptions Simulator::Snapshot() {
  std::lock_guard lock(mutex_);
  return options_;
}

bool Simulator::ShouldFail(SimOptions& options) {
  std::lock_guard lock(mutex_);
  if (options_.fail_next > 0) {
    --options_.fail_next;
    return true;
  }
  if (options.failure_rate <= 0) return false;
  // xorshift64: a cheap, seedless generator is enough for fault injection.
  random_state_ ^= random_state_ << 13;
  random_state_ ^= random_state_ >> 7;
  random_state_ ^= random_state_ << 17;
  return static_cast<double>(random_state_ % 1000000) / 1e6 < options.failure_rate;
}

asio::awaitable<void> Simulator::Handle(HttpRequest& request, ResponseWriter& writer) {
  std::string target(request.message.target());
  if (target == "/sim/stats") {
    co_await writer.Send(JsonResponse(200, fmt::format(R"({{"requests":{}}})", requests_.load())));
    co_return;
  }
  if (target == "/sim/config" && request.message.method() == http::verb::post) {
    auto body = json::ParseObject(request.message.body());
    if (!body.ok()) {
      co_await writer.Send(JsonResponse(400, body.error().ToJson()));
      co_return;
    }
    std::lock_guard lock(mutex_);
    const auto& b = *body;
    if (b.HasMember("latency_ms") && b["latency_ms"].IsInt()) options_.latency_ms = b["latency_ms"].GetInt();
    if (b.HasMember("ttft_ms") && b["ttft_ms"].IsInt()) options_.ttft_ms = b["ttft_ms"].GetInt();
    if (b.HasMember("tokens_per_second") && b["tokens_per_second"].IsNumber()) options_.tokens_per_second = b["tokens_per_second"].GetDouble();
    if (b.HasMember("completion_tokens") && b["completion_tokens"].IsInt()) options_.completion_tokens = b["completion_tokens"].GetInt();
    if (b.HasMember("failure_rate") && b["failure_rate"].IsNumber()) options_.failure_rate = b["failure_rate"].GetDouble();
    if (b.HasMember("failure_status") && b["failure_status"].IsInt()) options_.failure_status = b["failure_status"].GetInt();
    if (b.HasMember("fail_next") && b["fail_next"].IsInt()) options_.fail_next = b["fail_next"].GetInt();
    if (b.HasMember("usage_shape") && b["usage_shape"].IsString()) options_.usage_shape = b["usage_shape"].GetString();
    if (b.HasMember("reasoning") && b["reasoning"].IsBool()) options_.reasoning = b["reasoning"].GetBool();
    co_await writer.Send(JsonResponse(200, R"({"status":"ok"})"));
    co_return;
  }

  ++requests_;
  std::string path = target.substr(0, target.find('?'));
  if (path.size() > 3 && path.compare(0, 3, "/v1") == 0) path = path.substr(3);
  if (path == "/models") {
    co_await writer.Send(JsonResponse(200, fmt::format(R"({{"object":"list","data":[{{"id":"{}","object":"model","owned_by":"weir-sim"}}]}})", Snapshot().model)));
    co_return;
  }
  bool chat = path == "/chat/completions";
  bool completion = path == "/completions";
  bool embeddings = path == "/embeddings";
  if (!chat && !completion && !embeddings) {
    co_await writer.Send(JsonResponse(404, Error::NotFound("no such route on the simulator: " + path).ToJson()));
    co_return;
  }
  auto body = json::ParseObject(request.message.body());
  if (!body.ok()) {
    co_await writer.Send(JsonResponse(400, body.error().ToJson()));
    co_return;
  }

  SimOptions options = Snapshot();
  auto sim = body->FindMember("sim");
  if (sim != body->MemberEnd() && sim->value.IsObject()) {
    if (sim->value.HasMember("usage_shape") && sim->value["usage_shape"].IsString()) options.usage_shape = sim->value["usage_shape"].GetString();
    if (sim->value.HasMember("reasoning") && sim->value["reasoning"].IsBool()) options.reasoning = sim->value["reasoning"].GetBool();
  }
  std::string model = body->HasMember("model") && (*body)["model"].IsString() ? (*body)["model"].GetString() : options.model;

  if (ShouldFail(options)) {
    co_await Sleep(std::chrono::milliseconds(options.latency_ms));
    co_await writer.Send(JsonResponse(options.failure_status,
                                      Error::Upstream(options.failure_status, "simulated failure", "sim_failure").ToJson()));
    co_return;
  }

  if (embeddings) {
    Answer answer = MakeAnswer(*body, options);
    int64_t seed = PromptChars(*body);
    std::string vector;
    for (int i = 0; i < 8; ++i) vector += fmt::format("{}{:.4f}", i ? "," : "", std::sin(static_cast<double>(seed + i)));
    co_await Sleep(std::chrono::milliseconds(options.latency_ms));
    co_await writer.Send(JsonResponse(200, fmt::format(
        R"({{"object":"list","model":"{}","data":[{{"object":"embedding","index":0,"embedding":[{}]}}],"usage":{{"prompt_tokens":{},"total_tokens":{}}}}})",
        model, vector, answer.prompt_tokens, answer.prompt_tokens)));
    co_return;
  }

  Answer answer = MakeAnswer(*body, options);
  std::string id = fmt::format("simcmpl-{}", requests_.load());
  bool stream = body->HasMember("stream") && (*body)["stream"].IsTrue();
  if (!stream) {
    co_await Sleep(std::chrono::milliseconds(options.latency_ms));
    co_await writer.Send(JsonResponse(200, NonStreamBody(answer, options, model, chat, id)));
    co_return;
  }

  bool include_usage = false;
  auto stream_options = body->FindMember("stream_options");
  if (stream_options != body->MemberEnd() && stream_options->value.IsObject() &&
      stream_options->value.HasMember("include_usage")) {
    include_usage = stream_options->value["include_usage"].IsTrue();
  }
  bool send_usage = include_usage && options.usage_shape != "none";

  http::response<http::empty_body> header{http::status::ok, 11};
  header.set(http::field::content_type, "text/event-stream");
  co_await Sleep(std::chrono::milliseconds(options.ttft_ms));
  if (!co_await writer.StartStream(std::move(header))) co_return;
  auto gap = options.tokens_per_second > 0 ? std::chrono::milliseconds(static_cast<int>(1000 / options.tokens_per_second))
                                           : std::chrono::milliseconds(0);
  bool first = true;
  for (const auto& [field, tokens] : {std::pair{"reasoning_content", &answer.reasoning}, std::pair{"content", &answer.content}}) {
    for (const auto& token : *tokens) {
      if (!first) co_await Sleep(gap);
      first = false;
      if (!co_await writer.WriteChunk(Chunk(id, model, chat, chat ? field : "text", token, false, true, nullptr, options))) co_return;
    }
  }
  bool usage_in_final = send_usage && options.usage_shape != "final_empty";
  if (!co_await writer.WriteChunk(Chunk(id, model, chat, nullptr, "", true, true, usage_in_final ? &answer : nullptr, options))) co_return;
  if (send_usage && options.usage_shape == "final_empty") {
    if (!co_await writer.WriteChunk(Chunk(id, model, chat, nullptr, "", false, false, &answer, options))) co_return;
  }
  if (!co_await writer.WriteChunk("data: [DONE]\n\n")) co_return;
  co_await writer.EndStream();
}

int RunSimulator(const std::string& listen, const SimOptions& options, int threads) {
  asio::io_context io(threads);
  Simulator simulator(options);
  HttpServer server(io, HttpServerOptions{}, [&simulator](HttpRequest& request, ResponseWriter& writer) {
    return simulator.Handle(request, writer);
  });
  Status status = server.Listen(listen);
  if (!status.ok()) {
    std::cerr << "error: " << status.error().message << "\n";
    return 1;
  }
  server.Start();
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
  spdlog::info("event=sim_started listen={} port={} usage_shape={}", listen, server.port(), options.usage_shape);
  std::cout << "weir sim is serving on port " << server.port() << std::endl;
  std::vector<std::thread> workers;
  for (int i = 1; i < threads; ++i) workers.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& worker : workers) worker.join();
  return 0;
}

}  // namespace weir
