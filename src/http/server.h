// HttpServer: HTTP/1.1 listener on Boost.Beast with C++20 coroutines.
//
// One coroutine per connection reads requests (keep-alive) and hands each to
// the Handler, which responds through a ResponseWriter: a whole response, or a
// chunked stream written piece by piece (Server-Sent Events). Bodies over
// `max_body_bytes` are answered with 413 before the handler runs.
//
// Shutdown: StopAccepting() closes the listener and closes idle keep-alive
// connections; requests and streams in flight run on. Active() counts them so
// the caller can wait for zero, up to its deadline.
//
// Threading: the server runs on the io_context it is given, from any number of
// threads. Each connection's coroutine runs on its own strand.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "common/result.h"

namespace weir {

namespace http = boost::beast::http;
using SteadyClock = std::chrono::steady_clock;

struct HttpRequest {
  http::request<http::string_body> message;
  std::string client_ip;
  SteadyClock::time_point received;
};

// ResponseWriter sends the response to one request. Either Send() once, or
// StartStream(), any number of WriteChunk(), then EndStream(). Each returns
// false when the client is gone; the handler should then stop and clean up.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  virtual boost::asio::awaitable<bool> Send(http::response<http::string_body> response) = 0;
  virtual boost::asio::awaitable<bool> StartStream(http::response<http::empty_body> header) = 0;
  virtual boost::asio::awaitable<bool> WriteChunk(std::string_view data) = 0;
  virtual boost::asio::awaitable<bool> EndStream() = 0;
  // True once a Send() or StartStream() has put bytes on the wire.
  virtual bool started() const = 0;
  // The connection's stream, for handlers that take it over (WebSocket upgrade).
  virtual boost::beast::tcp_stream* stream() = 0;
};

using Handler = std::function<boost::asio::awaitable<void>(HttpRequest&, ResponseWriter&)>;

struct HttpServerOptions {
  size_t max_body_bytes = 8 * 1024 * 1024;
  std::chrono::seconds header_timeout{30};   // To read one request's header and body.
  std::chrono::seconds keep_alive_timeout{75};
  // Requests handled at once; more get 503 with Retry-After before
  // their body is read, which bounds memory under overload. 0 = no limit.
  int max_active_requests = 0;
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpServerOptions options, Handler handler);

  // Binds and listens; returns an Error naming the address when it cannot.
  Status Listen(const std::string& host_port);
  // The bound port (useful after listening on port 0).
  unsigned short port() const;
  void Start();
  void StopAccepting();
  // Requests (including open streams) being handled now.
  int Active() const { return active_.load(); }

 private:
  struct Connection;
  boost::asio::awaitable<void> AcceptLoop();
  boost::asio::awaitable<void> Serve(std::shared_ptr<Connection> connection);

  boost::asio::io_context& io_;
  HttpServerOptions options_;
  Handler handler_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::atomic<int> active_{0};
  std::atomic<bool> stopping_{false};
  std::mutex connections_mutex_;
  std::set<std::shared_ptr<Connection>> connections_;
};

// Splits "host:port" ("[::1]:8080" for IPv6). Returns an Error on bad input.
Result<std::pair<std::string, unsigned short>> SplitHostPort(const std::string& host_port);

}  // namespace weir
