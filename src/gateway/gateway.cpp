#include "gateway/gateway.h"

#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace weir {

namespace asio = boost::asio;

namespace {

int64_t UnixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string NewRequestId() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return fmt::format("req_{:016x}{:08x}", generator(), static_cast<uint32_t>(generator()));
}

// A client-supplied request id is kept when it is short and plain, so callers
// can correlate; anything else is replaced.
bool IsUsableRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t position = 0;
  while (position <= path.size()) {
    size_t slash = path.find('/', position);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > position) parts.push_back(path.substr(position, slash - position));
    position = slash + 1;
  }
  return parts;
}

std::string PercentDecode(std::string_view text) {
  std::string decoded;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      decoded += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      decoded += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      decoded += text[i];
    }
  }
  return decoded;
}

std::map<std::string, std::string> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> values;
  size_t position = 0;
  while (position < query.size()) {
    size_t amp = query.find('&', position);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view pair = query.substr(position, amp - position);
    size_t eq = pair.find('=');
    if (!pair.empty()) {
      values[PercentDecode(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1));
    }
    position = amp + 1;
  }
  return values;
}

std::string_view CookieValue(std::string_view header, std::string_view name) {
  size_t position = 0;
  while (position < header.size()) {
    size_t end = header.find(';', position);
    if (end == std::string_view::npos) end = header.size();
    std::string_view pair = header.substr(position, end - position);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=') {
      return pair.substr(name.size() + 1);
    }
    position = end + 1;
  }
  return {};
}

}  // namespace

std::chrono::microseconds RequestContext::OverheadSoFar() const {
  auto total = std::chrono::steady_clock::now() - http.received;
  return std::chrono::duration_cast<std::chrono::microseconds>(total - waited);
}

http::response<http::string_body> MakeResponse(const RequestContext& context, const Reply& reply) {
  http::response<http::string_body> response{static_cast<http::status>(reply.status), context.http.message.version()};
  response.set(http::field::content_type, reply.content_type);
  response.set("x-request-id", context.request_id);
  for (const auto& [name, value] : reply.headers) response.set(name, value);
  response.set("x-weir-overhead-us", std::to_string(context.OverheadSoFar().count()));
  response.body() = reply.body;
  return response;
}

http::response<http::string_body> MakeErrorResponse(const RequestContext& context, const Error& error) {
  Reply reply;
  reply.status = error.http_status;
  reply.body = error.ToJson();
  if (error.retry_after_seconds > 0) reply.headers.emplace_back("retry-after", std::to_string(error.retry_after_seconds));
  return MakeResponse(context, reply);
}

Gateway::Gateway(GatewayServices services) : services_(std::move(services)) {
  AddProbeRoutes();
  AddModelRoutes();
  AddConversationRoutes();
  AddAdminRoutes();
}

void Gateway::AddRoute(Route route) { routes_.push_back(std::move(route)); }

const Route* Gateway::Match(RequestContext& context, bool& method_mismatch) const {
  std::string_view target = context.http.message.target();
  std::string_view path = target.substr(0, target.find('?'));
  auto parts = SplitPath(path);
  method_mismatch = false;
  for (const auto& route : routes_) {
    auto pattern = SplitPath(route.pattern);
    if (route.prefix) {
      if (path.substr(0, route.pattern.size()) != route.pattern) continue;
    } else {
      if (pattern.size() != parts.size()) continue;
      std::map<std::string, std::string> params;
      bool matched = true;
      for (size_t i = 0; i < parts.size() && matched; ++i) {
        if (pattern[i].size() > 2 && pattern[i].front() == '{' && pattern[i].back() == '}') {
          params[std::string(pattern[i].substr(1, pattern[i].size() - 2))] = PercentDecode(parts[i]);
        } else {
          matched = pattern[i] == parts[i];
        }
      }
      if (!matched) continue;
      if (route.method != context.http.message.method()) {
        method_mismatch = true;
        continue;
      }
      context.path_params = std::move(params);
      return &route;
    }
    if (route.method != context.http.message.method()) {
      method_mismatch = true;
      continue;
    }
    return &route;
  }
  return nullptr;
}

Status Gateway::Authenticate(RequestContext& context) {
  const auto& message = context.http.message;
  std::string_view authorization = message[http::field::authorization];
  int64_t now = UnixMillis() / 1000;
  Result<Principal> principal = Error::Unauthenticated("unauthenticated");

  std::string_view session = CookieValue(message[http::field::cookie], "weir_session");
  if (authorization.empty() && !session.empty() && services_.session_lookup) {
    auto user_id = services_.session_lookup(session);
    if (!user_id) {
      return Error::Unauthenticated("web session expired or unknown; sign in again", "invalid_session");
    }
    principal = services_.identity->PrincipalForUser(*user_id);
  } else {
    principal = services_.identity->Authenticate(authorization, now);
  }
  if (!principal.ok()) return principal.error();

  context.principal = std::move(*principal);
  context.audit.user_id = context.principal->user_id;
  context.audit.user = context.principal->user_name;
  context.audit.team = context.principal->team_name;
  context.audit.key_prefix = context.principal->key_prefix;
  context.audit.role = std::string(RoleName(context.principal->role));
  return Status::Ok();
}

asio::awaitable<void> Gateway::Handle(HttpRequest& request, ResponseWriter& writer) {
  RequestContext context(request);
  std::string_view supplied_id = request.message["x-request-id"];
  context.request_id = IsUsableRequestId(supplied_id) ? std::string(supplied_id) : NewRequestId();
  std::string_view target = request.message.target();
  size_t question = target.find('?');
  if (question != std::string_view::npos) context.query = ParseQuery(target.substr(question + 1));

  context.audit.time_ms = UnixMillis();
  context.audit.request_id = context.request_id;
  context.audit.client_ip = request.client_ip;
  context.audit.method = std::string(request.message.method_string());
  context.audit.route = std::string(target.substr(0, question));

  bool method_mismatch = false;
  const Route* route = Match(context, method_mismatch);
  Result<Reply> reply = Error::Internal("no reply");
  if (route == nullptr) {
    reply = method_mismatch
                ? Error{405, "invalid_request_error", "method_not_allowed",
                        fmt::format("method {} is not allowed on {}", request.message.method_string(),
                                    context.audit.route),
                        {}, 0}
                : Error::NotFound(fmt::format("no route for {} {}; see /openapi.json for the API",
                                              request.message.method_string(), context.audit.route),
                                  "unknown_route");
  } else {
    context.route = route->pattern;
    context.audited = route->permission != Permission::kPublic;
    reply = Reply{};
    if (route->permission != Permission::kPublic) {
      Status status = Authenticate(context);
      if (!status.ok()) {
        reply = status.error();
      } else if (!Allows(context.principal->role, route->permission)) {
        reply = Error::PermissionDenied(fmt::format(
            "role {} may not use {} {} (permission {} needs role {} or above)", RoleName(context.principal->role),
            request.message.method_string(), route->pattern, PermissionName(route->permission),
            RoleName(MinimumRole(route->permission))));
      } else if (route->metered) {
        status = services_.quota->Admit(*context.principal, std::chrono::steady_clock::now(), UnixMillis() / 1000);
        if (!status.ok()) reply = status.error();
      }
    }
    if (reply.ok()) reply = co_await route->handler(context, writer);
  }

  int status = 0;
  std::string error_code;
  if (!reply.ok()) {
    status = reply.error().http_status;
    error_code = reply.error().code;
    if (!writer.started()) {
      auto before = std::chrono::steady_clock::now();
      co_await writer.Send(MakeErrorResponse(context, reply.error()));
      context.waited += std::chrono::steady_clock::now() - before;
    }
  } else {
    status = reply->status;
    if (!reply->sent) {
      auto before = std::chrono::steady_clock::now();
      co_await writer.Send(MakeResponse(context, *reply));
      context.waited += std::chrono::steady_clock::now() - before;
    }
  }
  Finish(context, status, error_code);
}

void Gateway::Finish(RequestContext& context, int status, const std::string& error_code) {
  auto now = std::chrono::steady_clock::now();
  auto latency = now - context.http.received;
  AuditEvent& audit = context.audit;
  audit.status = status;
  if (!error_code.empty()) audit.error_code = error_code;
  audit.latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(latency).count();
  std::string route = context.route.empty() ? "unmatched" : context.route;

  GatewayMetrics& metrics = *services_.metrics;
  metrics.requests.Add({route, audit.model, audit.upstream, std::to_string(status)});
  if (status >= 400) metrics.errors.Add({route, audit.model, audit.error_code});
  if (!context.audited) return;

  metrics.latency.Observe({route, audit.model}, std::chrono::duration<double>(latency).count());
  metrics.overhead.Observe({route}, std::chrono::duration<double>(latency - context.waited).count());
  spdlog::info("event=request request_id={} user={} method={} route={} model={} upstream={} status={} latency_ms={}",
               context.request_id, audit.user.empty() ? "-" : audit.user, audit.method, audit.route,
               audit.model.empty() ? "-" : audit.model, audit.upstream.empty() ? "-" : audit.upstream, status,
               audit.latency_ms);
  services_.audit->Record(std::move(audit));
}

void Gateway::AddProbeRoutes() {
  AddRoute(Route{http::verb::get, "/healthz", Permission::kPublic, false,
                 [](RequestContext&, ResponseWriter&) -> asio::awaitable<Result<Reply>> {
                   co_return Reply{200, R"({"status":"ok"})"};
                 }});
  AddRoute(Route{http::verb::get, "/readyz", Permission::kPublic, false,
                 [this](RequestContext&, ResponseWriter&) -> asio::awaitable<Result<Reply>> {
                   if (draining_) co_return Reply{503, R"({"status":"draining"})"};
                   // Ready when every model has at least one upstream that is not ejected.
                   for (const auto& model : services_.models->List()) {
                     bool any = false;
                     for (const auto& upstream : model->pool->Status()) any |= upstream.state != UpstreamState::kEjected;
                     if (!any) co_return Reply{503, fmt::format(R"({{"status":"no_upstream","model":"{}"}})", model->name)};
                   }
                   co_return Reply{200, R"({"status":"ready"})"};
                 }});
  AddRoute(Route{http::verb::get, "/metrics", Permission::kPublic, false,
                 [this](RequestContext&, ResponseWriter&) -> asio::awaitable<Result<Reply>> {
                   co_return Reply{200, services_.metrics->Render(), "text/plain; version=0.0.4"};
                 }});
}

}  // namespace weir
