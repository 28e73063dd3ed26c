// Gateway: the request path from a parsed HTTP request to its response.
//
// For every request: match a route, authenticate (API key or web session),
// check the route's Permission against the caller's role, admit by quota
// (model calls only), run the handler, then record metrics, one log line and
// one audit event. Rejections (401, 403, 404, 429, ...) are audited too; the
// health, readiness and metrics probes are not.
//
// Threading: Handle() runs on io threads, many requests at once. Handlers
// never block: store and audit queries go through RunBlocking().
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "audit/audit_log.h"
#include "audit/audit_sink.h"
#include "auth/identity_cache.h"
#include "auth/permissions.h"
#include "common/json.h"
#include "config/config.h"
#include "gateway/abuse_detector.h"
#include "gateway/model_registry.h"
#include "gateway/usage.h"
#include "http/server.h"
#include "metrics/metrics.h"
#include "quota/quota_manager.h"
#include "store/store.h"

namespace weir {

struct GatewayServices {
  Config config;
  Store* store = nullptr;
  IdentityCache* identity = nullptr;
  QuotaManager* quota = nullptr;
  AuditLog* audit = nullptr;
  AuditSink* audit_sink = nullptr;
  ModelRegistry* models = nullptr;
  GatewayMetrics* metrics = nullptr;
  boost::asio::thread_pool* blocking = nullptr;
  AbuseDetector* abuse = nullptr;
  // Resolves a web session cookie value to a user id; unset when web sign-in is off.
  std::function<std::optional<int64_t>(std::string_view session_token)> session_lookup;
};

// State of one request as it moves through the gateway.
struct RequestContext {
  explicit RequestContext(HttpRequest& request) : http(request) {}

  HttpRequest& http;
  std::string request_id;
  std::string route;  // The matched route template, e.g. "/v1/conversations/{id}".
  std::map<std::string, std::string> path_params;
  std::map<std::string, std::string> query;
  std::optional<Principal> principal;
  AuditEvent audit;
  // Time spent waiting on upstreams and on the client's socket; the rest is
  // gateway overhead.
  std::chrono::steady_clock::duration waited{0};
  bool audited = true;

  std::chrono::microseconds OverheadSoFar() const;
  const std::string& PathParam(const std::string& name) const { return path_params.at(name); }
};

// Reply: a handler's result, a body to send, or `sent` when it already wrote the
// response itself (a stream).
struct Reply {
  Reply() = default;
  Reply(int status_code, std::string response_body, std::string type = "application/json")
      : status(status_code), body(std::move(response_body)), content_type(std::move(type)) {}

  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  bool sent = false;
};

using RouteHandler = std::function<boost::asio::awaitable<Result<Reply>>(RequestContext&, ResponseWriter&)>;

struct Route {
  http::verb method;
  std::string pattern;    // Segments in braces capture, e.g. "/admin/v1/keys/{id}".
  Permission permission;
  bool metered = false;   // Counted against the caller's quota.
  RouteHandler handler;
  bool prefix = false;    // Matches every path under `pattern` (static files).
};

// A model call prepared by a handler, forwarded by ProxyModelCall().
struct ProxyCall {
  std::string model;
  std::string path;                 // Relative to the upstream base URL, e.g. "/chat/completions".
  std::string body;                 // Rewritten request body.
  bool stream = false;
  bool client_wants_usage = false;  // Keep the usage-only chunk in the stream.
  bool collect_content = false;     // Keep the whole response text (for conversations).
  int64_t prompt_chars = 0;         // For the token estimate when the upstream reports no usage.
};

struct ProxyResult {
  Usage usage;
  bool estimated = false;
  std::string content;    // Whole answer when collect_content, else the audit summary.
  int upstream_status = 0;
};

class Gateway {
 public:
  explicit Gateway(GatewayServices services);

  boost::asio::awaitable<void> Handle(HttpRequest& request, ResponseWriter& writer);

  // Adds a route; later routes do not shadow earlier ones with the same pattern.
  void AddRoute(Route route);
  const std::vector<Route>& routes() const { return routes_; }

  // Marks the gateway as draining: /readyz answers 503 from now on.
  void SetDraining() { draining_ = true; }

  // Forwards a model call to an upstream with retries and streams or returns
  // the answer. Used by the OpenAI routes, conversations and WebSocket chat.
  boost::asio::awaitable<Result<ProxyResult>> ProxyModelCall(RequestContext& context, ResponseWriter& writer,
                                                             const ProxyCall& call, Reply& reply);

  const GatewayServices& services() const { return services_; }

 private:
  void AddModelRoutes();
  void AddAdminRoutes();
  void AddConversationRoutes();
  void AddProbeRoutes();
  void AddAuditRoutes();
  void AddModelAdminRoutes();
  void AddAnomalyRoutes();

  const Route* Match(RequestContext& context, bool& method_mismatch) const;
  Status Authenticate(RequestContext& context);
  void Finish(RequestContext& context, int status, const std::string& error_code);
  // Records a model call's tokens in the audit event, metrics and quota.
  void Account(RequestContext& context, const ProxyCall& call, const ProxyResult& result);

  boost::asio::awaitable<Result<Reply>> ChatCompletions(RequestContext& context, ResponseWriter& writer);
  boost::asio::awaitable<Result<Reply>> Completions(RequestContext& context, ResponseWriter& writer);
  boost::asio::awaitable<Result<Reply>> Embeddings(RequestContext& context, ResponseWriter& writer);
  Result<Reply> ListModels(RequestContext& context);
  boost::asio::awaitable<Result<Reply>> AppendConversationMessage(RequestContext& context, ResponseWriter& writer);

  GatewayServices services_;
  std::vector<Route> routes_;
  std::atomic<bool> draining_{false};
};

// Builds the HTTP response for a Reply, with the request id and overhead headers.
http::response<http::string_body> MakeResponse(const RequestContext& context, const Reply& reply);
// Builds the OpenAI-style error response for an Error.
http::response<http::string_body> MakeErrorResponse(const RequestContext& context, const Error& error);

// Applies a model change kept in the store (parameters, weights, or a model
// registered at run time) to the registry; called at start-up.
Status ApplyModelOverride(ModelRegistry& registry, const ModelOverrideRecord& record);

// Applies a model's parameter policy to a chat or completion request body:
// default and maximum max_tokens, the temperature range and the system prompt.
Status ApplyModelParams(const ModelParams& params, json::Document& body, bool is_chat);

}  // namespace weir
