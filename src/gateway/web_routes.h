// Routes of the browser clients: web sign-in (POST /auth/login, POST
// /auth/logout) and the static files of the web UI, Swagger UI and
// /openapi.json.
//
// A successful sign-in creates a SessionStore session and sets the HttpOnly,
// SameSite=Strict `weir_session` cookie; Gateway::Authenticate resolves that
// cookie through GatewayServices::session_lookup on later requests.
#pragma once

#include <utility>  // Boost 1.74 awaitable.hpp uses std::exchange without it.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string_view>

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

// Returns the folder of the built web UI: $WEIR_WEB_DIR when set, else
// web/dist beside the build folder of the running binary (build/weir ->
// web/dist), else ./web/dist. The folder may not exist; StaticFiles::Load
// then loads nothing and the gateway serves the API alone.
std::filesystem::path FindWebDirectory();

// Returns the GatewayServices::session_lookup that resolves cookies through `sessions`.
std::function<std::optional<int64_t>(std::string_view)> SessionLookup(SessionStore& sessions);

// Adds every route of the browser clients to `gateway`: /v1/ws, web sign-in
// and the web UI's files. `files` and `sessions` must outlive the gateway, and
// the gateway's session_lookup should come from SessionLookup(sessions).
void AddClientRoutes(Gateway& gateway, const StaticFiles& files, SessionStore& sessions);

}  // namespace weir
