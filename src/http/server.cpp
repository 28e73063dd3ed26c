#include "http/server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace weir {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;

Result<std::pair<std::string, unsigned short>> SplitHostPort(const std::string& host_port) {
  size_t colon = host_port.rfind(':');
  if (colon == std::string::npos || colon + 1 == host_port.size()) {
    return Error::InvalidRequest(
        fmt::format("listen address \"{}\" has no port; use HOST:PORT, e.g. 127.0.0.1:8080", host_port));
  }
  std::string host = host_port.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  int port = 0;
  try {
    size_t used = 0;
    port = std::stoi(host_port.substr(colon + 1), &used);
    if (used != host_port.size() - colon - 1) port = -1;
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) {
    return Error::InvalidRequest(fmt::format("port in \"{}\" is not a number from 0 to 65535", host_port));
  }
  return std::make_pair(host, static_cast<unsigned short>(port));
}

struct HttpServer::Connection {
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  std::atomic<bool> busy{false};  // A request is being handled.
};

namespace {

class ConnectionWriter final : public ResponseWriter {
 public:
  ConnectionWriter(beast::tcp_stream& stream, bool keep_alive) : stream_(stream), keep_alive_(keep_alive) {}

  asio::awaitable<bool> Send(http::response<http::string_body> response) override {
    started_ = true;
    response.keep_alive(keep_alive_);
    response.prepare_payload();
    beast::error_code ec;
    stream_.expires_after(std::chrono::seconds(60));
    co_await http::async_write(stream_, response, asio::redirect_error(asio::use_awaitable, ec));
    failed_ = static_cast<bool>(ec);
    co_return !ec;
  }

  asio::awaitable<bool> StartStream(http::response<http::empty_body> header) override {
    started_ = true;
    header.keep_alive(keep_alive_);
    header.chunked(true);
    http::response_serializer<http::empty_body> serializer(header);
    beast::error_code ec;
    stream_.expires_after(std::chrono::seconds(60));
    co_await http::async_write_header(stream_, serializer, asio::redirect_error(asio::use_awaitable, ec));
    failed_ = static_cast<bool>(ec);
    co_return !ec;
  }

  asio::awaitable<bool> WriteChunk(std::string_view data) override {
    if (failed_) co_return false;
    if (data.empty()) co_return true;
    beast::error_code ec;
    stream_.expires_after(std::chrono::seconds(60));
    co_await asio::async_write(stream_, http::make_chunk(asio::const_buffer(data.data(), data.size())),
                               asio::redirect_error(asio::use_awaitable, ec));
    failed_ = static_cast<bool>(ec);
    co_return !ec;
  }

  asio::awaitable<bool> EndStream() override {
    if (failed_) co_return false;
    beast::error_code ec;
    stream_.expires_after(std::chrono::seconds(60));
    co_await asio::async_write(stream_, http::make_chunk_last(), asio::redirect_error(asio::use_awaitable, ec));
    failed_ = static_cast<bool>(ec);
    co_return !ec;
  }

  bool started() const override { return started_; }
  bool failed() const { return failed_; }
  beast::tcp_stream* stream() override {
    taken_over_ = true;
    return &stream_;
  }
  bool taken_over() const { return taken_over_; }

 private:
  beast::tcp_stream& stream_;
  bool keep_alive_;
  bool started_ = false;
  bool failed_ = false;
  bool taken_over_ = false;
};

http::response<http::string_body> ErrorResponse(const Error& error, unsigned version) {
  http::response<http::string_body> response{static_cast<http::status>(error.http_status), version};
  response.set(http::field::content_type, "application/json");
  response.body() = error.ToJson();
  return response;
}

}  // namespace

HttpServer::HttpServer(asio::io_context& io, HttpServerOptions options, Handler handler)
    : io_(io), options_(options), handler_(std::move(handler)), acceptor_(io) {}

Status HttpServer::Listen(const std::string& host_port) {
  auto split = SplitHostPort(host_port);
  if (!split.ok()) return split.error();
  beast::error_code ec;
  auto address = asio::ip::make_address(split->first, ec);
  if (ec) return Error::InvalidRequest(fmt::format("listen host \"{}\" is not an IP address", split->first));
  tcp::endpoint endpoint(address, split->second);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error::Internal(
        fmt::format("cannot listen on {}: {}; pick another address with --listen", host_port, ec.message()));
  }
  return Status::Ok();
}

unsigned short HttpServer::port() const {
  beast::error_code ec;
  return acceptor_.local_endpoint(ec).port();
}

void HttpServer::Start() { asio::co_spawn(acceptor_.get_executor(), AcceptLoop(), asio::detached); }

void HttpServer::StopAccepting() {
  stopping_ = true;
  asio::post(acceptor_.get_executor(), [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
  std::lock_guard lock(connections_mutex_);
  for (const auto& connection : connections_) {
    if (!connection->busy.load()) {
      // An idle keep-alive connection has no request to finish; close it now.
      asio::post(connection->stream.get_executor(), [connection] { connection->stream.socket().close(); });
    }
  }
}

asio::awaitable<void> HttpServer::AcceptLoop() {
  while (!stopping_) {
    beast::error_code ec;
    tcp::socket socket(asio::make_strand(io_));
    co_await acceptor_.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (stopping_ || ec == asio::error::operation_aborted) break;
      spdlog::warn("event=accept_failed error=\"{}\"", ec.message());
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto connection = std::make_shared<Connection>(std::move(socket));
    {
      std::lock_guard lock(connections_mutex_);
      connections_.insert(connection);
    }
    asio::co_spawn(connection->stream.get_executor(), Serve(connection), asio::detached);
  }
}

asio::awaitable<void> HttpServer::Serve(std::shared_ptr<Connection> connection) {
  beast::flat_buffer buffer;
  bool writer_took_over = false;
  std::string client_ip;
  {
    beast::error_code ec;
    auto remote = connection->stream.socket().remote_endpoint(ec);
    if (!ec) client_ip = remote.address().to_string();
  }

  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(options_.max_body_bytes);
    parser.header_limit(64 * 1024);
    beast::error_code ec;

    connection->stream.expires_after(options_.keep_alive_timeout);
    co_await http::async_read_header(connection->stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec && ec != http::error::body_limit) break;
    connection->busy = true;
    if (options_.max_active_requests > 0 && active_.load() >= options_.max_active_requests) {
      // Shed load before reading the body: the connection closes after the 503 response.
      ++active_;
      Error overloaded = Error::Upstream(
          503, fmt::format("server is overloaded ({} requests in progress); retry later", active_.load() - 1),
          "server_overloaded");
      overloaded.retry_after_seconds = 1;
      auto response = ErrorResponse(overloaded, parser.get().version());
      response.set(http::field::retry_after, "1");
      ConnectionWriter writer(connection->stream, false);
      co_await writer.Send(std::move(response));
      --active_;
      break;
    }
    ++active_;
    connection->stream.expires_after(options_.header_timeout);
    if (!ec && !parser.is_done()) {
      co_await http::async_read(connection->stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    }
    bool keep_alive = !stopping_ && !ec && parser.get().keep_alive();
    ConnectionWriter writer(connection->stream, keep_alive);

    if (ec == http::error::body_limit) {
      auto error = Error::PayloadTooLarge(fmt::format(
          "request body is over the limit of {} bytes; send a smaller request or raise max_body_bytes",
          options_.max_body_bytes));
      co_await writer.Send(ErrorResponse(error, parser.get().version()));
      --active_;
      break;
    }
    if (ec) {
      if (ec != http::error::end_of_stream && ec != beast::error::timeout) {
        co_await writer.Send(ErrorResponse(
            Error::InvalidRequest(fmt::format("malformed HTTP request: {}", ec.message())), 11));
      }
      --active_;
      break;
    }

    HttpRequest request{parser.release(), client_ip, SteadyClock::now()};
    connection->stream.expires_never();
    co_await handler_(request, writer);
    --active_;
    connection->busy = false;
    writer_took_over = writer.taken_over();
    if (writer_took_over || writer.failed() || !keep_alive) break;
  }

  if (!writer_took_over) {
    beast::error_code ec;
    connection->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }
  std::lock_guard lock(connections_mutex_);
  connections_.erase(connection);
}

}  // namespace weir
