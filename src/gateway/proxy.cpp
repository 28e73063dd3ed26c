// ProxyModelCall: forwards one model call to an upstream, with retry, and
// streams or returns the response while counting tokens.
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "gateway/gateway.h"

namespace weir {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kSummaryChars = 200;
// Status recorded for a request whose client went away mid-answer (as nginx does).
constexpr int kClientClosedRequest = 499;

struct StreamState {
  ProxyResult result;
  int64_t content_chunks = 0;
  int64_t content_chars = 0;
  bool first_token_seen = false;
};

bool IsRetryableStatus(int status) { return status == 502 || status == 503 || status == 504; }

Error FailureError(const UpstreamOpenResult& opened, const std::string& upstream) {
  if (opened.failure == UpstreamFailure::kTimeout) {
    return Error::Upstream(504, fmt::format("upstream {} timed out: {}", upstream, opened.failure_message),
                           "upstream_timeout");
  }
  return Error::Upstream(502, fmt::format("upstream {} failed: {}", upstream, opened.failure_message));
}

const char* FailureName(UpstreamFailure failure) {
  switch (failure) {
    case UpstreamFailure::kConnect: return "connect_error";
    case UpstreamFailure::kTimeout: return "timeout";
    case UpstreamFailure::kProtocol: return "protocol_error";
    case UpstreamFailure::kNone: return "ok";
  }
  return "error";
}

// Appends response text to the collected content, keeping only the summary
// unless the caller requested the whole text.
void Collect(std::string& content, std::string_view text, bool whole) {
  if (whole) {
    content.append(text);
  } else if (content.size() < kSummaryChars * 4) {
    content.append(text.substr(0, kSummaryChars * 4 - content.size()));
  }
}

// Reads the response text and usage out of a non-streamed body.
void InspectBody(const std::string& body, ProxyResult& result, bool whole) {
  json::Document document;
  document.Parse(body.data(), body.size());
  if (document.HasParseError() || !document.IsObject()) return;
  auto usage = document.FindMember("usage");
  if (usage != document.MemberEnd()) result.usage = ParseUsage(usage->value);
  auto choices = document.FindMember("choices");
  if (choices == document.MemberEnd() || !choices->value.IsArray() || choices->value.Empty()) return;
  const auto& choice = choices->value[0];
  if (!choice.IsObject()) return;
  auto message = choice.FindMember("message");
  if (message != choice.MemberEnd() && message->value.IsObject()) {
    auto content = message->value.FindMember("content");
    if (content != message->value.MemberEnd() && content->value.IsString()) {
      Collect(result.content, content->value.GetString(), whole);
    }
    return;
  }
  auto text = choice.FindMember("text");
  if (text != choice.MemberEnd() && text->value.IsString()) Collect(result.content, text->value.GetString(), whole);
}

std::string ErrorCodeOf(const std::string& body) {
  json::Document document;
  document.Parse(body.data(), body.size());
  if (document.HasParseError() || !document.IsObject()) return "upstream_error";
  auto error = document.FindMember("error");
  if (error == document.MemberEnd() || !error->value.IsObject()) return "upstream_error";
  auto code = error->value.FindMember("code");
  if (code != error->value.MemberEnd() && code->value.IsString()) return code->value.GetString();
  auto type = error->value.FindMember("type");
  if (type != error->value.MemberEnd() && type->value.IsString()) return type->value.GetString();
  return "upstream_error";
}

// Inspects one streamed chunk. Returns false when the chunk must not reach the
// client: the usage-only chunk the gateway asked for on the client's behalf.
bool InspectChunk(const std::string& data, StreamState& state, bool client_wants_usage, bool whole) {
  json::Document chunk;
  chunk.Parse(data.data(), data.size());
  if (chunk.HasParseError() || !chunk.IsObject()) return true;

  bool has_choices = false;
  auto choices = chunk.FindMember("choices");
  if (choices != chunk.MemberEnd() && choices->value.IsArray() && !choices->value.Empty()) {
    has_choices = true;
    const auto& choice = choices->value[0];
    auto delta = choice.FindMember("delta");
    const json::Value* source = nullptr;
    const char* field = "content";
    if (delta != choice.MemberEnd() && delta->value.IsObject()) {
      source = &delta->value;
    } else {
      source = &choice;  // Completions stream "text" on the choice itself.
      field = "text";
    }
    for (const char* name : {field, "reasoning_content"}) {
      auto text = source->FindMember(name);
      if (text == source->MemberEnd() || !text->value.IsString() || text->value.GetStringLength() == 0) continue;
      state.first_token_seen = true;
      ++state.content_chunks;
      state.content_chars += text->value.GetStringLength();
      if (std::string_view(name) != "reasoning_content") Collect(state.result.content, text->value.GetString(), whole);
    }
  }

  auto usage = chunk.FindMember("usage");
  if (usage != chunk.MemberEnd() && usage->value.IsObject()) {
    state.result.usage = ParseUsage(usage->value);
    if (!has_choices && !client_wants_usage) return false;
  }
  return true;
}

}  // namespace

asio::awaitable<Result<ProxyResult>> Gateway::ProxyModelCall(RequestContext& context, ResponseWriter& writer,
                                                            const ProxyCall& call, Reply& reply) {
  auto model = services_.models->Find(call.model);
  if (!model) co_return Error::NotFound(fmt::format("model \"{}\" does not exist", call.model), "model_not_found");
  UpstreamPool& pool = *model->pool;
  GatewayMetrics& metrics = *services_.metrics;
  const UpstreamTimeouts& timeouts = services_.config.upstream.timeouts;
  bool whole = call.collect_content || services_.config.audit.content == "full";
  UpstreamRequest request{call.path, call.body, call.stream, context.request_id};

  std::set<size_t> tried;
  Error last_error = Error::Upstream(
      503, fmt::format("no healthy upstream for model {}; every upstream is ejected, retry later", call.model),
      "no_upstream_available");
  last_error.retry_after_seconds = 1;

  for (int attempt = 0; attempt < 2; ++attempt) {
    auto pick = pool.Choose(context.principal->user_id, tried, Clock::now());
    if (!pick) break;
    tried.insert(pick->index);
    const std::string& upstream_id = pick->upstream->id();
    if (attempt > 0) {
      metrics.retries.Add({call.model});
      spdlog::warn("event=upstream_retry request_id={} model={} upstream={} previous_error=\"{}\"", context.request_id,
                   call.model, upstream_id, last_error.message);
    }
    context.audit.upstream = upstream_id;

    auto started = Clock::now();
    UpstreamOpenResult opened = co_await pick->upstream->Open(request, timeouts);
    context.waited += Clock::now() - started;
    if (!opened.response) {
      if (pool.Report(*pick, true, Clock::now() - started, Clock::now())) metrics.upstream_ejections.Add({call.model, upstream_id});
      metrics.upstream_attempts.Add({call.model, upstream_id, FailureName(opened.failure)});
      last_error = FailureError(opened, upstream_id);
      continue;
    }
    int status = opened.response->status();

    if (!call.stream || status != 200) {
      std::string body;
      Result<std::optional<std::string>> piece = std::optional<std::string>();
      auto read_started = Clock::now();
      for (;;) {
        piece = co_await opened.response->Read();
        if (!piece.ok() || !*piece) break;
        body += **piece;
      }
      context.waited += Clock::now() - read_started;
      bool failed = !piece.ok() || status >= 500;
      if (pool.Report(*pick, failed, Clock::now() - started, Clock::now())) metrics.upstream_ejections.Add({call.model, upstream_id});
      metrics.upstream_attempts.Add({call.model, upstream_id, failed ? "error" : "ok"});
      if (!piece.ok()) {
        last_error = piece.error();
        continue;
      }
      if (IsRetryableStatus(status) && attempt == 0) {
        last_error = Error::Upstream(status, fmt::format("upstream {} returned status {}", upstream_id, status));
        continue;
      }

      ProxyResult result;
      result.upstream_status = status;
      if (status == 200) {
        InspectBody(body, result, whole);
      } else {
        context.audit.error_code = ErrorCodeOf(body);
      }
      reply.status = status;
      reply.body = std::move(body);
      reply.content_type = opened.response->content_type().empty() ? "application/json" : opened.response->content_type();
      if (!result.usage.reported && status == 200) {
        result.estimated = true;
        result.usage.prompt_tokens = (call.prompt_chars + 3) / 4;
        result.usage.completion_tokens = static_cast<int64_t>((result.content.size() + 3) / 4);
      }
      Account(context, call, result);
      co_return result;
    }

    // A 200 stream: from the first byte sent on, no retry is possible.
    http::response<http::empty_body> header{http::status::ok, context.http.message.version()};
    header.set(http::field::content_type, "text/event-stream");
    header.set(http::field::cache_control, "no-cache");
    header.set("x-request-id", context.request_id);
    header.set("x-weir-overhead-us", std::to_string(context.OverheadSoFar().count()));
    auto write_started = Clock::now();
    bool client_alive = co_await writer.StartStream(std::move(header));
    context.waited += Clock::now() - write_started;
    reply.status = 200;
    reply.sent = true;

    StreamState state;
    state.result.upstream_status = 200;
    SseSplitter splitter;
    std::vector<std::string> events;
    bool upstream_failed = false;
    while (client_alive) {
      auto read_started = Clock::now();
      auto piece = co_await opened.response->Read();
      context.waited += Clock::now() - read_started;
      if (!piece.ok()) {
        upstream_failed = true;
        context.audit.error_code = piece.error().code;
        reply.status = piece.error().http_status;
        std::string event = "data: " + piece.error().ToJson() + "\n\n";
        client_alive = co_await writer.WriteChunk(event);
        spdlog::warn("event=upstream_stream_failed request_id={} model={} upstream={} error=\"{}\"",
                     context.request_id, call.model, upstream_id, piece.error().message);
        break;
      }
      if (!*piece) break;

      events.clear();
      splitter.Feed(**piece, events);
      std::string out;
      for (auto& event : events) {
        std::string data = SseData(event);
        bool forward = data.empty() || data == "[DONE]" || InspectChunk(data, state, call.client_wants_usage, whole);
        if (forward) out += event;
      }
      if (state.first_token_seen && context.audit.ttft_ms < 0) {
        auto ttft = Clock::now() - context.http.received;
        context.audit.ttft_ms = std::chrono::duration_cast<std::chrono::milliseconds>(ttft).count();
        metrics.time_to_first_token.Observe({call.model, upstream_id}, std::chrono::duration<double>(ttft).count());
      }
      if (out.empty()) continue;
      write_started = Clock::now();
      client_alive = co_await writer.WriteChunk(out);
      context.waited += Clock::now() - write_started;
    }
    if (client_alive) {
      write_started = Clock::now();
      client_alive = co_await writer.EndStream();
      context.waited += Clock::now() - write_started;
    }
    if (!client_alive) {
      reply.status = kClientClosedRequest;
      context.audit.error_code = "client_disconnected";
      spdlog::info("event=client_disconnected request_id={} model={} upstream={}", context.request_id, call.model,
                   upstream_id);
    }
    if (pool.Report(*pick, upstream_failed, Clock::now() - started, Clock::now())) metrics.upstream_ejections.Add({call.model, upstream_id});
    metrics.upstream_attempts.Add({call.model, upstream_id, upstream_failed ? "error" : "ok"});

    if (!state.result.usage.reported) {
      state.result.estimated = true;
      state.result.usage.prompt_tokens = (call.prompt_chars + 3) / 4;
      state.result.usage.completion_tokens = state.content_chunks;
    }
    Account(context, call, state.result);
    co_return state.result;
  }
  co_return last_error;
}

void Gateway::Account(RequestContext& context, const ProxyCall& call, const ProxyResult& result) {
  AuditEvent& audit = context.audit;
  audit.prompt_tokens = result.usage.prompt_tokens;
  audit.completion_tokens = result.usage.completion_tokens;
  audit.cached_tokens = result.usage.cached_tokens;
  audit.reasoning_tokens = result.usage.reasoning_tokens;
  audit.tokens_estimated = result.estimated;
  const std::string& mode = services_.config.audit.content;
  if (mode == "summary") audit.response_summary = json::TruncateUtf8(result.content, kSummaryChars);
  if (mode == "full") audit.response_summary = result.content;

  GatewayMetrics& metrics = *services_.metrics;
  metrics.tokens.Add({call.model, audit.upstream, "in"}, static_cast<double>(result.usage.prompt_tokens));
  metrics.tokens.Add({call.model, audit.upstream, "out"}, static_cast<double>(result.usage.completion_tokens));
  int64_t now_unix = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
  services_.quota->Charge(*context.principal, result.usage.prompt_tokens + result.usage.completion_tokens, Clock::now(),
                          now_unix);
}

}  // namespace weir
