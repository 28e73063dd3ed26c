// ServerApp: assembles and runs `weir serve`: store, identity cache, quotas,
// audit, model registry, gateway and HTTP listener, then drains on SIGTERM.
#pragma once

#include <string>

#include "config/config.h"

namespace weir {

struct ServeOptions {
  Config config;
  // Printed once when the first start creates the superadmin.
  bool print_admin_key = true;
  // Print "METHOD /path" for every route and exit without serving or touching the data folder.
  bool print_routes = false;
};

// Runs the server until SIGTERM or SIGINT; returns the process exit code.
int RunServer(const ServeOptions& options);

}  // namespace weir
