#include "gateway/websocket_session.h"

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "auth/session_store.h"
#include "common/json.h"

namespace weir {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

namespace {

using WebSocketStream = websocket::stream<beast::tcp_stream&>;

// Outgoing frames beyond this many make a streaming chat wait for the client.
constexpr size_t kMaxQueuedFrames = 64;
constexpr size_t kMaxChatIdLength = 64;

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string_view StringView(const json::Value& value) { return {value.GetString(), value.GetStringLength()}; }

// The request header that proves who the client is; copied onto every chat request.
struct Credential {
  std::string header;  // "authorization" or "cookie".
  std::string value;
};

// Builds one outgoing frame: {"type": type, "id": id, ...}; `fill` adds the other fields.
template <typename Fill>
std::string Frame(std::string_view type, const std::optional<std::string>& id, Fill fill) {
  rapidjson::StringBuffer buffer;
  json::Writer writer(buffer);
  writer.StartObject();
  json::Field(writer, "type", type);
  if (id) json::Field(writer, "id", *id);
  fill(writer);
  writer.EndObject();
  return buffer.GetString();
}

std::string ErrorFrame(const std::optional<std::string>& id, const Error& error) {
  json::Document body;
  body.Parse(error.ToJson().c_str());
  return Frame("error", id, [&](json::Writer& writer) {
    json::Field(writer, "status", static_cast<int64_t>(error.http_status));
    writer.Key("error");
    body["error"].Accept(writer);
    if (error.retry_after_seconds > 0) json::Field(writer, "retry_after", static_cast<int64_t>(error.retry_after_seconds));
  });
}

// Turns an HTTP error response of the gateway into an error frame, keeping its error object.
std::string ErrorFrameFromResponse(const std::string& id, int status, const std::string& body,
                                   std::string_view retry_after) {
  json::Document parsed;
  parsed.Parse(body.c_str(), body.size());
  bool has_error = !parsed.HasParseError() && parsed.IsObject() && parsed.HasMember("error") &&
                   parsed["error"].IsObject();
  return Frame("error", id, [&](json::Writer& writer) {
    json::Field(writer, "status", static_cast<int64_t>(status));
    writer.Key("error");
    if (has_error) {
      parsed["error"].Accept(writer);
    } else {
      writer.StartObject();
      json::Field(writer, "message", fmt::format("request failed with HTTP {}", status));
      json::Field(writer, "type", "api_error");
      writer.EndObject();
    }
    if (!retry_after.empty()) {
      try {
        json::Field(writer, "retry_after", static_cast<int64_t>(std::stoll(std::string(retry_after))));
      } catch (const std::exception&) {
        // A Retry-After that is not a number of seconds is left out.
      }
    }
  });
}

class Session;

// Carries one chat's response from Gateway::Handle to the socket as frames.
class WebSocketResponseWriter : public ResponseWriter {
 public:
  WebSocketResponseWriter(Session& session, std::string id) : session_(session), id_(std::move(id)) {}

  asio::awaitable<bool> Send(http::response<http::string_body> response) override;
  asio::awaitable<bool> StartStream(http::response<http::empty_body> header) override;
  asio::awaitable<bool> WriteChunk(std::string_view data) override;
  asio::awaitable<bool> EndStream() override;
  bool started() const override { return started_; }
  beast::tcp_stream* stream() override { return nullptr; }

  // The usage of the chat so far, as a JSON object, or empty.
  const std::string& usage_json() const { return usage_json_; }

 private:
  void HandleChunk(std::string_view data);
  std::string DoneFrame(std::string_view type) const;

  Session& session_;
  std::string id_;
  bool started_ = false;
  std::string pending_;  // Bytes of an SSE event not complete yet.
  std::string finish_reason_;
  std::string usage_json_;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Gateway& gateway, const HttpRequest& upgrade, beast::tcp_stream& stream, WebSocketOptions options,
          std::optional<Credential> credential, std::optional<Principal> principal, asio::any_io_executor executor)
      : gateway_(gateway),
        upgrade_(upgrade),
        socket_(stream),
        options_(options),
        credential_(std::move(credential)),
        principal_(std::move(principal)),
        executor_(executor),
        write_signal_(executor),
        heartbeat_timer_(executor),
        auth_timer_(executor) {}

  asio::awaitable<void> Run();

  void Send(std::string frame) {
    if (!open_) return;
    outgoing_.push_back({std::move(frame), std::nullopt});
    write_signal_.cancel();
  }
  void Close(websocket::close_code code, std::string reason) {
    if (!open_) return;
    outgoing_.push_back({std::move(reason), code});
    write_signal_.cancel();
  }
  // Waits while the outgoing queue is full, so a slow client slows the stream down.
  asio::awaitable<void> WaitForRoom();
  // False once the client cancelled the current chat or the socket closed.
  bool chat_alive() const { return open_ && !cancelled_; }
  bool open() const { return open_; }

 private:
  struct Outgoing {
    std::string text;  // The frame, or the close reason.
    std::optional<websocket::close_code> close;
  };

  asio::awaitable<void> ReadLoop();
  asio::awaitable<void> WriteLoop();
  asio::awaitable<void> HeartbeatLoop();
  asio::awaitable<void> AuthDeadline();
  void HandleFrame(const std::string& text);
  void HandleAuth(const json::Document& frame);
  void HandleChat(json::Document& frame, const std::string& id);
  asio::awaitable<void> RunChat(std::string id, std::string target, std::string body);
  void SendReady();
  asio::awaitable<void> Sleep(std::chrono::milliseconds duration);

  Gateway& gateway_;
  const HttpRequest& upgrade_;
  WebSocketStream socket_;
  WebSocketOptions options_;
  std::optional<Credential> credential_;
  std::optional<Principal> principal_;
  asio::any_io_executor executor_;
  asio::steady_timer write_signal_;
  asio::steady_timer heartbeat_timer_;
  asio::steady_timer auth_timer_;
  std::deque<Outgoing> outgoing_;
  bool open_ = true;
  int running_tasks_ = 0;  // Writer, heartbeat, auth deadline and chat coroutines still running.
  std::optional<std::string> active_chat_;
  bool cancelled_ = false;
};

asio::awaitable<void> Session::Sleep(std::chrono::milliseconds duration) {
  asio::steady_timer timer(executor_);
  timer.expires_after(duration);
  beast::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> Session::Run() {
  socket_.set_option(websocket::stream_base::timeout{std::chrono::seconds(30), options_.idle_timeout, true});
  socket_.read_message_max(options_.max_frame_bytes);
  socket_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& response) { response.set(http::field::server, "weir"); }));

  beast::error_code ec;
  co_await socket_.async_accept(upgrade_.message, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    spdlog::info("event=websocket_handshake_failed client_ip={} error=\"{}\"", upgrade_.client_ip, ec.message());
    co_return;
  }
  auto self = shared_from_this();
  running_tasks_ += 2;
  asio::co_spawn(executor_, [self]() { return self->WriteLoop(); }, asio::detached);
  asio::co_spawn(executor_, [self]() { return self->HeartbeatLoop(); }, asio::detached);
  if (principal_) {
    SendReady();
  } else {
    ++running_tasks_;
    asio::co_spawn(executor_, [self]() { return self->AuthDeadline(); }, asio::detached);
  }

  co_await ReadLoop();

  // The client is gone or closed: a streaming chat gets chat_alive() false at
  // its next chunk, stops the upstream request and is audited with status 499.
  open_ = false;
  write_signal_.cancel();
  heartbeat_timer_.cancel();
  auth_timer_.cancel();
  while (running_tasks_ > 0) co_await Sleep(std::chrono::milliseconds(5));
}

asio::awaitable<void> Session::ReadLoop() {
  for (;;) {
    beast::flat_buffer buffer;
    beast::error_code ec;
    co_await socket_.async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec != websocket::error::closed) {
        spdlog::info("event=websocket_closed client_ip={} user={} error=\"{}\"", upgrade_.client_ip,
                     principal_ ? principal_->user_name : "-", ec.message());
      }
      co_return;
    }
    if (!socket_.got_text()) {
      Send(ErrorFrame(std::nullopt, Error::InvalidRequest("binary frames are not supported; send JSON text frames")));
      continue;
    }
    HandleFrame(beast::buffers_to_string(buffer.data()));
  }
}

asio::awaitable<void> Session::WriteLoop() {
  auto self = shared_from_this();
  while (open_) {
    if (outgoing_.empty()) {
      write_signal_.expires_at(asio::steady_timer::time_point::max());
      beast::error_code ignored;
      co_await write_signal_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
      continue;
    }
    Outgoing next = std::move(outgoing_.front());
    outgoing_.pop_front();
    beast::error_code ec;
    if (next.close) {
      co_await socket_.async_close(websocket::close_reason(*next.close, next.text),
                                   asio::redirect_error(asio::use_awaitable, ec));
      break;
    }
    socket_.text(true);
    co_await socket_.async_write(asio::buffer(next.text), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
  }
  --running_tasks_;
}

asio::awaitable<void> Session::HeartbeatLoop() {
  auto self = shared_from_this();
  while (open_) {
    heartbeat_timer_.expires_after(options_.heartbeat);
    beast::error_code ec;
    co_await heartbeat_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !open_) break;
    Send(Frame("ping", std::nullopt, [](json::Writer& writer) { json::Field(writer, "time", UnixNow()); }));
  }
  --running_tasks_;
}

asio::awaitable<void> Session::AuthDeadline() {
  auto self = shared_from_this();
  auth_timer_.expires_after(options_.auth_timeout);
  beast::error_code ec;
  co_await auth_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (!ec && open_ && !principal_) {
    Send(ErrorFrame(std::nullopt, Error::Unauthenticated(fmt::format(
                                      "no auth frame within {} s; send {{\"type\":\"auth\",\"api_key\":\"wr-...\"}} first",
                                      options_.auth_timeout.count()))));
    Close(websocket::close_code::policy_error, "authentication timed out");
  }
  --running_tasks_;
}

void Session::SendReady() {
  const Principal& principal = *principal_;
  Send(Frame("ready", std::nullopt, [&](json::Writer& writer) {
    writer.Key("user");
    writer.StartObject();
    json::Field(writer, "id", principal.user_id);
    json::Field(writer, "name", principal.user_name);
    json::Field(writer, "role", RoleName(principal.role));
    writer.EndObject();
    writer.Key("models");
    writer.StartArray();
    for (const auto& model : gateway_.services().models->List()) {
      if (principal.MayUseModel(model->name)) writer.String(model->name.c_str());
    }
    writer.EndArray();
    json::Field(writer, "heartbeat_seconds", static_cast<int64_t>(options_.heartbeat.count()));
  }));
}

void Session::HandleFrame(const std::string& text) {
  auto frame = json::ParseObject(text);
  if (!frame.ok()) {
    Send(ErrorFrame(std::nullopt, frame.error()));
    return;
  }
  auto type = json::OptionalString(*frame, "type");
  if (!type.ok() || !*type) {
    Send(ErrorFrame(std::nullopt, Error::InvalidRequest("type is missing; use auth, chat, cancel, ping or pong", "type")));
    return;
  }
  const std::string& name = **type;

  if (name == "auth") {
    HandleAuth(*frame);
    return;
  }
  if (!principal_) {
    Send(ErrorFrame(std::nullopt, Error::Unauthenticated(fmt::format(
                                      "{} before auth; send {{\"type\":\"auth\",\"api_key\":\"wr-...\"}} first", name))));
    Close(websocket::close_code::policy_error, "not authenticated");
    return;
  }
  if (name == "ping") {
    Send(Frame("pong", std::nullopt, [](json::Writer&) {}));
    return;
  }
  if (name == "pong") return;

  auto id = json::OptionalString(*frame, "id");
  if (!id.ok() || !*id || (*id)->empty() || (*id)->size() > kMaxChatIdLength) {
    Send(ErrorFrame(std::nullopt, Error::InvalidRequest(
                                      fmt::format("id is missing or invalid; send a string of 1 to {} characters",
                                                  kMaxChatIdLength),
                                      "id")));
    return;
  }
  if (name == "cancel") {
    if (active_chat_ == **id) cancelled_ = true;
    return;
  }
  if (name == "chat") {
    HandleChat(*frame, **id);
    return;
  }
  Send(ErrorFrame(**id, Error::InvalidRequest(
                            fmt::format("type \"{}\" is unknown; use auth, chat, cancel, ping or pong", name), "type")));
}

void Session::HandleAuth(const json::Document& frame) {
  if (principal_) {
    Send(ErrorFrame(std::nullopt, Error::InvalidRequest("this connection is already authenticated", "type")));
    return;
  }
  auto key = json::OptionalString(frame, "api_key");
  std::string authorization = key.ok() && *key ? "Bearer " + **key : "";
  Result<Principal> principal = gateway_.services().identity->Authenticate(authorization, UnixNow());
  if (!principal.ok()) {
    spdlog::info("event=websocket_auth_failed client_ip={} code={}", upgrade_.client_ip, principal.error().code);
    Send(ErrorFrame(std::nullopt, principal.error()));
    Close(websocket::close_code::policy_error, "authentication failed");
    return;
  }
  principal_ = std::move(*principal);
  credential_ = Credential{"authorization", authorization};
  auth_timer_.cancel();
  SendReady();
}

void Session::HandleChat(json::Document& frame, const std::string& id) {
  if (active_chat_) {
    Send(ErrorFrame(id, Error::Conflict(fmt::format("chat {} is still streaming; wait for its done frame or open "
                                                    "another connection", *active_chat_),
                                        "chat_in_progress")));
    return;
  }

  std::string target = "/v1/chat/completions";
  auto conversation = frame.FindMember("conversation_id");
  if (conversation != frame.MemberEnd()) {
    std::string conversation_id;
    if (conversation->value.IsString()) conversation_id = std::string(StringView(conversation->value));
    if (conversation->value.IsInt64()) conversation_id = std::to_string(conversation->value.GetInt64());
    bool plain = !conversation_id.empty();
    for (char c : conversation_id) plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
    if (!plain) {
      Send(ErrorFrame(id, Error::InvalidRequest("conversation_id must be a conversation id from GET /v1/conversations",
                                                "conversation_id")));
      return;
    }
    target = "/v1/conversations/" + conversation_id + "/messages";
    frame.RemoveMember("conversation_id");
  } else {
    // Usage arrives in the last chunk only when the client asks for it.
    json::Value options(rapidjson::kObjectType);
    options.AddMember("include_usage", true, frame.GetAllocator());
    frame.RemoveMember("stream_options");
    frame.AddMember("stream_options", options, frame.GetAllocator());
  }
  frame.RemoveMember("type");
  frame.RemoveMember("id");
  frame.RemoveMember("stream");
  frame.AddMember("stream", true, frame.GetAllocator());

  active_chat_ = id;
  cancelled_ = false;
  ++running_tasks_;
  auto self = shared_from_this();
  asio::co_spawn(executor_, [self, id, target, body = json::Serialize(frame)]() {
    return self->RunChat(id, target, body);
  }, asio::detached);
}

asio::awaitable<void> Session::RunChat(std::string id, std::string target, std::string body) {
  auto self = shared_from_this();
  HttpRequest request;
  request.message.method(http::verb::post);
  request.message.target(target);
  request.message.version(11);
  request.message.set(credential_->header, credential_->value);
  request.message.set(http::field::content_type, "application/json");
  std::string_view user_agent = upgrade_.message[http::field::user_agent];
  if (!user_agent.empty()) request.message.set(http::field::user_agent, user_agent);
  request.message.body() = std::move(body);
  request.message.prepare_payload();
  request.client_ip = upgrade_.client_ip;
  request.received = SteadyClock::now();

  WebSocketResponseWriter writer(*this, id);
  co_await gateway_.Handle(request, writer);
  if (cancelled_ && open_) {
    Send(Frame("cancelled", id, [&](json::Writer& out) {
      if (writer.usage_json().empty()) return;
      json::Document usage;
      usage.Parse(writer.usage_json().c_str());
      out.Key("usage");
      usage.Accept(out);
    }));
  }
  active_chat_.reset();
  cancelled_ = false;
  --running_tasks_;
}

asio::awaitable<void> Session::WaitForRoom() {
  while (open_ && outgoing_.size() > kMaxQueuedFrames) co_await Sleep(std::chrono::milliseconds(5));
}

// WebSocketResponseWriter

asio::awaitable<bool> WebSocketResponseWriter::Send(http::response<http::string_body> response) {
  started_ = true;
  int status = response.result_int();
  if (status >= 400) {
    session_.Send(ErrorFrameFromResponse(id_, status, response.body(), response[http::field::retry_after]));
    co_return session_.open();
  }

  // A whole (non-streamed) chat.completion: one delta with all of the content, then done.
  json::Document completion;
  completion.Parse(response.body().c_str(), response.body().size());
  if (!completion.HasParseError() && completion.IsObject()) {
    auto choices = completion.FindMember("choices");
    if (choices != completion.MemberEnd() && choices->value.IsArray() && !choices->value.Empty()) {
      const auto& choice = choices->value[0];
      auto message = choice.FindMember("message");
      if (message != choice.MemberEnd() && message->value.IsObject() && message->value.HasMember("content") &&
          message->value["content"].IsString()) {
        std::string_view content = StringView(message->value["content"]);
        session_.Send(Frame("delta", id_, [&](json::Writer& writer) { json::Field(writer, "content", content); }));
      }
      auto finish = choice.FindMember("finish_reason");
      if (finish != choice.MemberEnd() && finish->value.IsString()) finish_reason_ = StringView(finish->value);
    }
    auto usage = completion.FindMember("usage");
    if (usage != completion.MemberEnd() && usage->value.IsObject()) usage_json_ = json::Serialize(usage->value);
  }
  session_.Send(DoneFrame("done"));
  co_return session_.open();
}

asio::awaitable<bool> WebSocketResponseWriter::StartStream(http::response<http::empty_body>) {
  started_ = true;
  co_return session_.chat_alive();
}

asio::awaitable<bool> WebSocketResponseWriter::WriteChunk(std::string_view data) {
  pending_.append(data);
  for (;;) {
    size_t end = pending_.find("\n\n");
    if (end == std::string::npos) break;
    std::string event = pending_.substr(0, end);
    pending_.erase(0, end + 2);

    size_t position = 0;
    while (position < event.size()) {
      size_t line_end = event.find('\n', position);
      if (line_end == std::string::npos) line_end = event.size();
      std::string_view line(event.data() + position, line_end - position);
      if (line.starts_with("data:")) {
        line.remove_prefix(5);
        if (line.starts_with(' ')) line.remove_prefix(1);
        HandleChunk(line);
      }
      position = line_end + 1;
    }
  }
  co_await session_.WaitForRoom();
  co_return session_.chat_alive();
}

void WebSocketResponseWriter::HandleChunk(std::string_view data) {
  if (data == "[DONE]") return;
  json::Document chunk;
  chunk.Parse(data.data(), data.size());
  if (chunk.HasParseError() || !chunk.IsObject()) return;

  if (chunk.HasMember("error")) {
    session_.Send(ErrorFrameFromResponse(id_, 502, std::string(data), ""));
    return;
  }
  auto usage = chunk.FindMember("usage");
  if (usage != chunk.MemberEnd() && usage->value.IsObject()) usage_json_ = json::Serialize(usage->value);

  auto choices = chunk.FindMember("choices");
  if (choices == chunk.MemberEnd() || !choices->value.IsArray() || choices->value.Empty()) return;
  const auto& choice = choices->value[0];
  auto finish = choice.FindMember("finish_reason");
  if (finish != choice.MemberEnd() && finish->value.IsString()) finish_reason_ = StringView(finish->value);
  auto delta = choice.FindMember("delta");
  if (delta == choice.MemberEnd() || !delta->value.IsObject()) return;
  auto content = delta->value.FindMember("content");
  if (content == delta->value.MemberEnd() || !content->value.IsString() || content->value.GetStringLength() == 0) return;
  std::string_view text = StringView(content->value);
  session_.Send(Frame("delta", id_, [&](json::Writer& writer) { json::Field(writer, "content", text); }));
}

asio::awaitable<bool> WebSocketResponseWriter::EndStream() {
  session_.Send(DoneFrame("done"));
  co_return session_.chat_alive();
}

std::string WebSocketResponseWriter::DoneFrame(std::string_view type) const {
  return Frame(type, id_, [&](json::Writer& writer) {
    writer.Key("finish_reason");
    if (finish_reason_.empty()) writer.Null();
    else writer.String(finish_reason_.c_str());
    writer.Key("usage");
    json::Document usage;
    if (!usage_json_.empty()) usage.Parse(usage_json_.c_str());
    if (usage_json_.empty() || usage.HasParseError()) writer.Null();
    else usage.Accept(writer);
  });
}

// Returns the host[:port] of an Origin header value ("http://host:port").
std::string_view OriginAuthority(std::string_view origin) {
  size_t scheme = origin.find("://");
  return scheme == std::string_view::npos ? origin : origin.substr(scheme + 3);
}

// Authenticates the upgrade request by its Authorization header or session
// cookie. nullopt (no error) when it carries neither: the client then sends
// an auth frame.
Result<std::optional<std::pair<Credential, Principal>>> AuthenticateUpgrade(Gateway& gateway,
                                                                            const HttpRequest& upgrade) {
  const auto& message = upgrade.message;
  std::string_view authorization = message[http::field::authorization];
  if (!authorization.empty()) {
    auto principal = gateway.services().identity->Authenticate(authorization, UnixNow());
    if (!principal.ok()) return principal.error();
    return std::optional(std::pair(Credential{"authorization", std::string(authorization)}, std::move(*principal)));
  }

  std::string_view token = FindCookie(message[http::field::cookie], kSessionCookieName);
  if (token.empty() || !gateway.services().session_lookup) return std::optional<std::pair<Credential, Principal>>();

  // A cookie is sent by the browser whatever page opened the socket, so only
  // a page of this gateway's own origin may use it.
  std::string_view origin = message[http::field::origin];
  if (!origin.empty() && OriginAuthority(origin) != message[http::field::host]) {
    return Error::PermissionDenied(fmt::format("a WebSocket from origin {} may not use the session cookie of {}; "
                                               "send an auth frame with an API key instead",
                                               origin, std::string(message[http::field::host])),
                                   "origin_not_allowed");
  }
  auto user_id = gateway.services().session_lookup(token);
  if (!user_id) return Error::Unauthenticated("web session expired or unknown; sign in again", "invalid_session");
  auto principal = gateway.services().identity->PrincipalForUser(*user_id);
  if (!principal.ok()) return principal.error();
  std::string cookie = fmt::format("{}={}", kSessionCookieName, token);
  return std::optional(std::pair(Credential{"cookie", cookie}, std::move(*principal)));
}

asio::awaitable<Result<Reply>> ServeWebSocket(Gateway& gateway, WebSocketOptions options, RequestContext& context,
                                              ResponseWriter& writer) {
  if (!websocket::is_upgrade(context.http.message)) {
    co_return Error{426, "invalid_request_error", "upgrade_required",
                    "GET /v1/ws needs a WebSocket upgrade (Connection: Upgrade, Upgrade: websocket); see docs/websocket.md",
                    {}, 0};
  }
  auto authenticated = AuthenticateUpgrade(gateway, context.http);
  if (!authenticated.ok()) co_return authenticated.error();

  std::optional<Credential> credential;
  std::optional<Principal> principal;
  if (*authenticated) {
    credential = std::move((*authenticated)->first);
    principal = std::move((*authenticated)->second);
  }
  beast::tcp_stream* stream = writer.stream();
  if (stream == nullptr) co_return Error::Internal("the connection cannot be taken over for a WebSocket");

  auto executor = co_await asio::this_coro::executor;
  auto session = std::make_shared<Session>(gateway, context.http, *stream, options, std::move(credential),
                                           std::move(principal), executor);
  co_await session->Run();

  Reply reply;
  reply.status = 101;
  reply.sent = true;
  co_return reply;
}

}  // namespace

void AddWebSocketRoute(Gateway& gateway, WebSocketOptions options) {
  gateway.AddRoute(Route{http::verb::get, "/v1/ws", Permission::kPublic, false,
                         [&gateway, options](RequestContext& context, ResponseWriter& writer) {
                           return ServeWebSocket(gateway, options, context, writer);
                         }});
}

}  // namespace weir
