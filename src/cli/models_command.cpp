#include "cli/commands.h"

namespace weir::cli {
void AddModelCommands(CLI::App& app) { (void)app; }
}  // namespace weir::cli
