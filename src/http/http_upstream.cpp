#include "http/http_upstream.h"

#include <mutex>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

namespace weir {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct PooledConnection {
  explicit PooledConnection(asio::any_io_executor executor) : stream(executor) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
};

class HttpUpstream;

class HttpUpstreamResponse final : public UpstreamResponse {
 public:
  HttpUpstreamResponse(std::shared_ptr<HttpUpstream> owner, std::unique_ptr<PooledConnection> connection,
                       std::unique_ptr<http::response_parser<http::buffer_body>> parser, UpstreamTimeouts timeouts,
                       Clock::time_point deadline)
      : owner_(std::move(owner)),
        connection_(std::move(connection)),
        parser_(std::move(parser)),
        timeouts_(timeouts),
        deadline_(deadline) {
    content_type_ = std::string(parser_->get()[http::field::content_type]);
  }
  ~HttpUpstreamResponse() override;

  int status() const override { return static_cast<int>(parser_->get().result_int()); }
  const std::string& content_type() const override { return content_type_; }

  asio::awaitable<Result<std::optional<std::string>>> Read() override {
    if (parser_->is_done()) co_return std::optional<std::string>();
    char chunk[16384];
    for (;;) {
      parser_->get().body().data = chunk;
      parser_->get().body().size = sizeof(chunk);
      auto now = Clock::now();
      if (now >= deadline_) co_return Error::Upstream(504, "upstream total timeout expired mid-body", "upstream_timeout");
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - now);
      if (timeouts_.idle.count() > 0) wait = std::min(wait, timeouts_.idle);
      connection_->stream.expires_after(wait);
      beast::error_code ec;
      co_await http::async_read_some(connection_->stream, connection_->buffer, *parser_,
                                     asio::redirect_error(asio::use_awaitable, ec));
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        broken_ = true;
        if (ec == beast::error::timeout) {
          co_return Error::Upstream(504, "upstream idle timeout expired between body chunks", "upstream_timeout");
        }
        co_return Error::Upstream(502, fmt::format("upstream connection failed mid-body: {}", ec.message()));
      }
      size_t used = sizeof(chunk) - parser_->get().body().size;
      if (used > 0) co_return std::optional<std::string>(std::string(chunk, used));
      if (parser_->is_done()) co_return std::optional<std::string>();
    }
  }

 private:
  std::shared_ptr<HttpUpstream> owner_;
  std::unique_ptr<PooledConnection> connection_;
  std::unique_ptr<http::response_parser<http::buffer_body>> parser_;
  UpstreamTimeouts timeouts_;
  Clock::time_point deadline_;
  std::string content_type_;
  bool broken_ = false;
  friend class HttpUpstream;
};

class HttpUpstream final : public Upstream, public std::enable_shared_from_this<HttpUpstream> {
 public:
  HttpUpstream(asio::io_context& io, std::string id, ParsedUrl url, std::string api_key)
      : io_(io), id_(std::move(id)), url_(std::move(url)), api_key_(std::move(api_key)) {}

  const std::string& id() const override { return id_; }

  asio::awaitable<UpstreamOpenResult> Open(const UpstreamRequest& request, const UpstreamTimeouts& timeouts) override {
    auto deadline = timeouts.total.count() > 0 ? Clock::now() + timeouts.total : Clock::time_point::max();
    // A pooled connection may have been closed by the upstream since its last
    // use; such a failure before any response byte is retried once on a new one.
    for (int attempt = 0; attempt < 2; ++attempt) {
      bool pooled = false;
      auto connection = TakeIdle();
      if (connection) {
        pooled = true;
      } else {
        auto connected = co_await Connect(timeouts);
        if (!connected.ok()) co_return UpstreamOpenResult{nullptr, UpstreamFailure::kConnect, connected.error().message};
        connection = std::move(*connected);
      }
      auto result = co_await Exchange(std::move(connection), request, timeouts, deadline);
      if (result.response || !pooled || result.failure == UpstreamFailure::kTimeout) co_return result;
    }
    co_return UpstreamOpenResult{nullptr, UpstreamFailure::kConnect, "upstream closed the connection"};
  }

  void ReturnConnection(std::unique_ptr<PooledConnection> connection) {
    std::lock_guard lock(mutex_);
    if (idle_.size() < 64) idle_.push_back(std::move(connection));
  }

 private:
  std::unique_ptr<PooledConnection> TakeIdle() {
    std::lock_guard lock(mutex_);
    if (idle_.empty()) return nullptr;
    auto connection = std::move(idle_.back());
    idle_.pop_back();
    return connection;
  }

  asio::awaitable<Result<std::unique_ptr<PooledConnection>>> Connect(const UpstreamTimeouts& timeouts) {
    auto executor = co_await asio::this_coro::executor;
    tcp::resolver resolver(executor);
    beast::error_code ec;
    auto endpoints = co_await resolver.async_resolve(url_.host, url_.port, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return Error::Upstream(502, fmt::format("cannot resolve upstream host {}: {}", url_.host, ec.message()));
    auto connection = std::make_unique<PooledConnection>(executor);
    if (timeouts.connect.count() > 0) connection->stream.expires_after(timeouts.connect);
    co_await connection->stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      co_return Error::Upstream(502, fmt::format("cannot connect to upstream {}: {}", id_,
                                                 ec == beast::error::timeout ? "connect timeout" : ec.message()));
    }
    connection->stream.socket().set_option(tcp::no_delay(true), ec);
    co_return connection;
  }

  asio::awaitable<UpstreamOpenResult> Exchange(std::unique_ptr<PooledConnection> connection,
                                               const UpstreamRequest& request, const UpstreamTimeouts& timeouts,
                                               Clock::time_point deadline) {
    http::request<http::string_body> message{http::verb::post, url_.path_prefix + request.path, 11};
    message.set(http::field::host, url_.host + ":" + url_.port);
    message.set(http::field::content_type, "application/json");
    message.set(http::field::accept, request.stream ? "text/event-stream" : "application/json");
    message.set("x-request-id", request.request_id);
    if (!api_key_.empty()) message.set(http::field::authorization, "Bearer " + api_key_);
    message.keep_alive(true);
    message.body() = request.body;
    message.prepare_payload();

    beast::error_code ec;
    connection->stream.expires_after(std::chrono::seconds(30));
    co_await http::async_write(connection->stream, message, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return UpstreamOpenResult{nullptr, UpstreamFailure::kConnect, "write to upstream failed: " + ec.message()};

    auto parser = std::make_unique<http::response_parser<http::buffer_body>>();
    // Boost 1.74 treats a body_limit of boost::none as exceeded (it compares len_ > none), so use the maximum.
    parser->body_limit(std::numeric_limits<std::uint64_t>::max());
    auto wait = timeouts.first_byte.count() > 0 ? timeouts.first_byte : std::chrono::milliseconds(24 * 3600 * 1000);
    auto until_deadline = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    connection->stream.expires_after(std::min(wait, until_deadline));
    co_await http::async_read_header(connection->stream, connection->buffer, *parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec == beast::error::timeout) {
      co_return UpstreamOpenResult{nullptr, UpstreamFailure::kTimeout, "upstream first-byte timeout expired"};
    }
    if (ec == http::error::end_of_stream || ec == asio::error::connection_reset || ec == asio::error::eof) {
      co_return UpstreamOpenResult{nullptr, UpstreamFailure::kConnect, "upstream closed the connection: " + ec.message()};
    }
    if (ec) co_return UpstreamOpenResult{nullptr, UpstreamFailure::kProtocol, "invalid upstream response: " + ec.message()};

    auto response = std::make_unique<HttpUpstreamResponse>(shared_from_this(), std::move(connection), std::move(parser),
                                                           timeouts, deadline);
    co_return UpstreamOpenResult{std::move(response), UpstreamFailure::kNone, {}};
  }

  asio::io_context& io_;
  std::string id_;
  ParsedUrl url_;
  std::string api_key_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<PooledConnection>> idle_;
};

HttpUpstreamResponse::~HttpUpstreamResponse() {
  // Only a connection whose response was read to the end can carry another
  // request; anything else (a cancelled stream) is closed.
  if (!broken_ && parser_->is_done() && parser_->keep_alive()) {
    connection_->stream.expires_never();
    owner_->ReturnConnection(std::move(connection_));
  }
}

}  // namespace

Result<ParsedUrl> ParseHttpUrl(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) {
    return Error::InvalidRequest(fmt::format("upstream URL \"{}\" must start with http://", url));
  }
  std::string rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  ParsedUrl parsed;
  parsed.path_prefix = slash == std::string::npos ? "" : rest.substr(slash);
  while (!parsed.path_prefix.empty() && parsed.path_prefix.back() == '/') parsed.path_prefix.pop_back();
  size_t at = authority.rfind('@');
  if (at != std::string::npos) authority = authority.substr(at + 1);
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') == std::string::npos) {
    parsed.host = authority.substr(0, colon);
    parsed.port = authority.substr(colon + 1);
  } else {
    parsed.host = authority;
    parsed.port = "80";
  }
  if (parsed.host.empty() || parsed.port.empty()) {
    return Error::InvalidRequest(fmt::format("upstream URL \"{}\" has no host or port", url));
  }
  return parsed;
}

Result<std::shared_ptr<Upstream>> MakeHttpUpstream(asio::io_context& io, const std::string& url,
                                                   const std::string& api_key) {
  auto parsed = ParseHttpUrl(url);
  if (!parsed.ok()) return parsed.error();
  return std::shared_ptr<Upstream>(std::make_shared<HttpUpstream>(io, url, *parsed, api_key));
}

}  // namespace weir
