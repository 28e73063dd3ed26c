// Routes of the browser clients: web sign-in (POST /auth/login, POST
// /auth/logout) and the static files of the web UI, Swagger UI and
// /openapi.json.
//
// A successful sign-in creates a SessionStore session and sets the HttpOnly,
// SameSite=Strict `weir_session` cookie; Gateway::Authenticate resolves that
// cookie through GatewayServices::session_lookup on later requests.
#pragma once

#include <utility>  // Boost 1.74 awaitable.hpp uses std::exchange without it.

#include "auth/session_store.h"
#include "gateway/gateway.h"
#include "gateway/static_files.h"

namespace weir {

struct WebRouteOptions {
  const StaticFiles* files = nullptr;  // Served by GET at their paths; may be empty.
  SessionStore* sessions = nullptr;    // Required for /auth/login and /auth/logout.
  bool secure_cookies = false;         // Set when clients reach the gateway over HTTPS.
};

// Adds the sign-in routes and one GET route per static file (plus "/" and a
// redirect from "/docs" to "/docs/"). The options' objects must outlive the gateway.
void AddWebRoutes(Gateway& gateway, WebRouteOptions options);

}  // namespace weir
