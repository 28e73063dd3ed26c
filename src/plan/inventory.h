// The hosts `weir plan` places a model on: read from an inventory YAML file,
// or the local host detected on the spot.
//
// Inventory file:
//   hosts:
//     - name: gpu-a              # required, unique
//       address: 10.0.0.5        # how the gateway and Ansible reach it
//       group: rack1             # hosts of one group may share a model (pipeline-parallel)
//       connection: ssh          # Ansible connection: ssh (default) or local
//       ssh_user: ubuntu
//       detect_json: gpu-a.json  # a saved `weir detect --json`, relative to this file
//     - name: gpu-b
//       cpus: 64
//       memory: 512GiB           # memory available for a model
//       disk_free: 2TiB
//       cuda: "12.4"             # highest CUDA version the driver supports
//       gpus:
//         - type: H100           # a GPU from the catalogue, or name + memory + compute_capability
//           count: 8
//           free: 79GiB          # optional; default: all of its memory
//     - name: this-host
//       detect: local            # detect this machine when planning
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "detect/detector.h"
#include "detect/host_inventory.h"
#include "plan/catalogue.h"

namespace weir::plan {

struct InventoryHost {
  detect::HostInventory hardware;
  std::string name;        // Unique name used in the plan and in Ansible.
  std::string connection;  // "local" or "ssh".
  std::string ssh_user;
};

// Parses an inventory document. `base_dir` resolves relative detect_json
// paths; `origin` names the document in errors.
Result<std::vector<InventoryHost>> ParseInventory(const std::string& yaml, const std::string& base_dir,
                                                  const std::string& origin, const Catalogue& catalogue,
                                                  const detect::DetectOptions& detect_options);

// Reads and parses an inventory file.
Result<std::vector<InventoryHost>> LoadInventory(const std::string& path, const Catalogue& catalogue,
                                                 const detect::DetectOptions& detect_options);

// The default inventory: this host, detected now, with a local connection.
InventoryHost LocalHost(const detect::DetectOptions& detect_options);

}  // namespace weir::plan
