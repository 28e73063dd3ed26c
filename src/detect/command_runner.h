// Runs a program without a shell and collects or streams its output.
//
// Used for nvidia-smi during detection and for ansible-playbook and
// systemctl during `weir deploy --apply`. Blocking; call it from a command
// line tool, never from the gateway's event loop.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace weir::detect {

struct CommandResult {
  bool started = false;  // False when the program could not be executed.
  int exit_code = -1;    // Exit status, or 128 + signal number.
  std::string output;    // Standard output and standard error, interleaved.
};

// Runs argv[0] (looked up on PATH) with argv and returns its output. Each
// complete output line is also passed to `on_line` when one is given.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::function<void(const std::string&)>& on_line = {});

}  // namespace weir::detect
