// `weir deploy --apply`: runs rendered systemd or Ansible files and reports
// progress per host and step on `progress`. Blocking; for the command line.
#pragma once

#include <ostream>
#include <string>

#include "common/result.h"
#include "deploy/renderer.h"
#include "plan/planner.h"

namespace weir::deploy {

struct ApplyOptions {
  std::string out_dir;                             // Directory of the rendered files.
  std::string systemd_dir = "/etc/systemd/system";  // systemd target: unit directory.
  std::string config_dir = "/etc/weir";             // systemd target: config directory.
  std::string ansible_playbook = "ansible-playbook";
};

// Runs `ansible-playbook` on the rendered inventory and playbook, printing one
// line per host and task as results arrive.
Status ApplyAnsible(const ApplyOptions& options, std::ostream& progress);

// Installs and starts the rendered units of hosts with a local connection.
// Hosts reached over SSH are rejected: use the ansible target for them.
Status ApplySystemd(const plan::Plan& plan, const ApplyOptions& options, std::ostream& progress);

}  // namespace weir::deploy
