// The exit code a subcommand callback chose. CLI11 callbacks return void, so a
// subcommand records its code here and main() returns it.
#pragma once

namespace weir::cli {

void SetExitCode(int code);
int ExitCode();

}  // namespace weir::cli
