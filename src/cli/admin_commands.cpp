#include "cli/commands.h"

namespace weir::cli {

// TODO: replaced by the real commands as the gateway lands.
void AddAdminCommands(CLI::App&) {}

}  // namespace weir::cli
