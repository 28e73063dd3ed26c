#include "cli/commands.h"

namespace weir::cli {

// TODO: replaced by the real command as the gateway lands.
void AddSimCommand(CLI::App& app) { app.add_subcommand("sim", "not built yet"); }

}  // namespace weir::cli
