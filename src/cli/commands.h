// Registration of the `weir` subcommands. Each area adds its commands to the
// CLI11 application; main() only parses and dispatches.
#pragma once

#include <CLI/CLI.hpp>

namespace weir::cli {

void AddServeCommand(CLI::App& app);   // weir serve
void AddSimCommand(CLI::App& app);     // weir sim
void AddAdminCommands(CLI::App& app);  // weir users, weir keys, weir audit
void AddRolloutCommands(CLI::App& app);  // weir detect, weir plan, weir deploy

}  // namespace weir::cli
