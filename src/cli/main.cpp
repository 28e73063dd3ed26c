// Entry point of the `weir` binary: parses the command line and runs one
// subcommand. Each subcommand sets its own callback and exit code.
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/exit_code.h"

int main(int argc, char** argv) {
  CLI::App app{"Weir: an LLM gateway and model service"};
  app.set_version_flag("--version", std::string("weir ") + WEIR_VERSION);
  app.require_subcommand(1);

  weir::cli::AddServeCommand(app);
  weir::cli::AddSimCommand(app);
  weir::cli::AddAdminCommands(app);
  weir::cli::AddRolloutCommands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return EXIT_FAILURE;
  }
  return weir::cli::ExitCode();
}
