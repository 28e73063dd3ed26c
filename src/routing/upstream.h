// Upstream: one backend that serves OpenAI-compatible requests.
//
// The gateway speaks to every backend through this interface: an HTTP
// server (vLLM, SGLang, llama.cpp server, Ollama, any OpenAI-compatible API)
// or Weir's built-in engine. Code above this seam never names an
// implementation.
//
// Threading: Open() and UpstreamResponse::Read() are coroutines that run on
// the gateway's io_context threads and must never block that thread. One
// UpstreamResponse is read by one coroutine at a time. Destroying an
// UpstreamResponse before its body ends cancels the request upstream (an HTTP
// upstream closes the connection; the built-in engine frees the sequence).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "common/result.h"

namespace weir {

// UpstreamRequest is what the gateway sends after authentication, quota and
// parameter policy are applied. `path` is relative to the upstream base URL,
// e.g. "/chat/completions" for a base URL of "http://host:8000/v1".
struct UpstreamRequest {
  std::string path;
  std::string body;  // JSON, already rewritten by the gateway.
  bool stream = false;
  std::string request_id;
};

// Timeouts that apply to one request. Zero means "no limit".
struct UpstreamTimeouts {
  std::chrono::milliseconds connect{5000};
  std::chrono::milliseconds first_byte{60000};
  std::chrono::milliseconds idle{30000};   // Maximum gap between body chunks.
  std::chrono::milliseconds total{600000};
};

// The cause of a failed upstream attempt, so the router can decide on a retry and on
// the upstream's health.
enum class UpstreamFailure {
  kNone,
  kConnect,    // Could not connect or the connection broke before any response.
  kTimeout,    // A connect, first-byte, idle or total timeout expired.
  kProtocol,   // The upstream sent something that is not valid HTTP.
};

// UpstreamResponse is an open response: the status line arrived, and the body
// is read piece by piece. For `stream: true` the body is Server-Sent Events
// exactly as an OpenAI-compatible server sends them.
class UpstreamResponse {
 public:
  virtual ~UpstreamResponse() = default;

  virtual int status() const = 0;
  virtual const std::string& content_type() const = 0;

  // Reads the next piece of the body. Returns an empty optional at the end of
  // the body, or an Error (http_status 502 or 504) when the upstream fails or
  // a timeout expires in mid-body.
  virtual boost::asio::awaitable<Result<std::optional<std::string>>> Read() = 0;
};

// Outcome of Upstream::Open: a response, or a failure before any response.
struct UpstreamOpenResult {
  std::unique_ptr<UpstreamResponse> response;  // Null when `failure` is set.
  UpstreamFailure failure = UpstreamFailure::kNone;
  std::string failure_message;
};

class Upstream {
 public:
  virtual ~Upstream() = default;

  // Stable identifier used in metrics, logs and audit, e.g. "http://127.0.0.1:9000/v1".
  virtual const std::string& id() const = 0;

  // Sends the request and waits for the response status line (and, for an
  // HTTP upstream, the headers). Never throws.
  virtual boost::asio::awaitable<UpstreamOpenResult> Open(const UpstreamRequest& request,
                                                          const UpstreamTimeouts& timeouts) = 0;
};

}  // namespace weir
