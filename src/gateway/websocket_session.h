// The WebSocket endpoint GET /v1/ws: chat with streamed deltas, cancel,
// errors and heartbeats, in the JSON message protocol of docs/websocket.md.
//
// Each `chat` frame becomes an HTTP request (POST /v1/chat/completions, or
// POST /v1/conversations/{id}/messages for a conversation) that carries the
// connection's credential and goes through Gateway::Handle. So every chat over
// the socket gets exactly the HTTP path's authentication, role check, quota
// admission, routing and audit record. A WebSocketResponseWriter turns the
// streamed response into `delta` and `done` frames. A disconnect or a `cancel`
// makes the writer report the client gone, so the proxy stops the upstream
// request and audits it with status 499.
//
// Threading: all of a connection's coroutines (reader, writer, heartbeat,
// chat) run on the connection's strand, so the session needs no locks.
#pragma once

#include <utility>  // Boost 1.74 awaitable.hpp uses std::exchange without it.

#include <chrono>

#include "gateway/gateway.h"

namespace weir {

struct WebSocketOptions {
  std::chrono::seconds heartbeat{20};      // Interval of the server's `ping` frames.
  std::chrono::seconds auth_timeout{10};   // Time to send `auth` when the upgrade had no credential.
  std::chrono::seconds idle_timeout{60};   // Close when the client returns no WebSocket pong for this long.
  size_t max_frame_bytes = 1024 * 1024;
};

// Adds GET /v1/ws to `gateway`.
void AddWebSocketRoute(Gateway& gateway, WebSocketOptions options = {});

}  // namespace weir
