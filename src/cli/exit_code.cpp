#include "cli/exit_code.h"

namespace weir::cli {
namespace {
int exit_code = 0;
}  // namespace

void SetExitCode(int code) { exit_code = code; }
int ExitCode() { return exit_code; }

}  // namespace weir::cli
