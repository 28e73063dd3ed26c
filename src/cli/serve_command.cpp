#include "cli/commands.h"

namespace weir::cli {

// TODO: replaced by the real command as the gateway lands.
void AddServeCommand(CLI::App& app) { app.add_subcommand("serve", "not built yet"); }

}  // namespace weir::cli
