// `weir plan`: places one model of the catalogue on an inventory of hosts.
//
// For each host the planner tries the model's variants in catalogue order
// (the preferred precision first) and, for each, tensor-parallel sizes that
// divide the attention heads, on sets of equal GPUs only. It sizes from free
// memory, not total, and shows its arithmetic:
//   weights per GPU   = parameters x bits per weight / 8 / (TP x PP)
//   KV bytes/token    = 2 x layers x KV heads x head dim x 2 bytes   (standard)
//                     = layers x (kv_lora_rank + rope dim) x 2 bytes (MLA)
//   reserve per GPU   = fixed + fraction x free memory   (catalogue estimate)
//   verdict           = (weights + KV at context x concurrency) / (free - reserve):
//                       fits up to fits_ratio, tight up to 1, else does not fit.
// A model that fits on no single host may span the hosts of one inventory
// group with pipeline parallelism. Hosts without GPUs get a GGUF variant on
// Weir's built-in engine (llama.cpp server for architectures it lacks).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "plan/catalogue.h"
#include "plan/inventory.h"

namespace weir::plan {

struct PlanRequest {
  std::string model;
  int context = 4096;     // Tokens per sequence.
  int concurrency = 1;    // Sequences served at once.
  std::string engine;     // Empty: the catalogue's first engine for the hardware.
  std::string precision;  // Empty: the first precision that fits.
};

struct PlacedDevice {
  std::string host;
  std::string uuid;
  std::string name;
  int index = -1;
  std::uint64_t memory_total_bytes = 0;
  std::uint64_t memory_free_bytes = 0;
};

// Arithmetic per device: one GPU, or the host's memory for CPU inference.
struct Arithmetic {
  std::uint64_t weight_bytes = 0;             // Whole model.
  std::uint64_t weight_bytes_per_device = 0;
  std::uint64_t kv_bytes_per_token = 0;       // Whole model, one token.
  std::string kv_formula;
  std::uint64_t kv_bytes_per_device = 0;      // At context x concurrency.
  std::uint64_t reserve_bytes_per_device = 0;
  std::uint64_t free_bytes_per_device = 0;    // The smallest free memory among the devices.
  std::uint64_t total_bytes_per_device = 0;
  std::uint64_t needed_bytes_per_device = 0;  // Weights + KV + reserve.
  double usage_ratio = 0;                     // (weights + KV) / (free - reserve).
};

struct Deployment {
  std::string version;  // Model version served, e.g. "deepseek-r1-distill-qwen-7b-bf16".
  std::vector<std::string> hosts;  // The first host is the head node.
  std::string precision;
  bool native = false;  // The precision the model was released in (no conversion flags).
  std::string engine;
  std::string image;   // Engine container image; empty for Weir's built-in engine.
  std::string source;  // Hugging Face repository.
  std::string file;    // GGUF file, for GGUF variants.
  int tensor_parallel = 1;
  int pipeline_parallel = 1;
  bool gpu = false;
  std::vector<PlacedDevice> devices;
  int context = 0;
  int concurrency = 0;
  int max_concurrency = 0;  // Sequences that fit at `context`.
  int max_context = 0;      // Context that fits at `concurrency`, at most the model's maximum.
  int threads = 0;          // CPU threads for CPU inference.
  int port = 0;
  double gpu_memory_fraction = 0;  // Of total GPU memory, for vLLM and SGLang.
  Arithmetic arithmetic;
  std::string verdict;  // "fits", "tight" or "does not fit".
  std::string reason;
  std::vector<std::string> warnings;
  std::vector<std::string> notes;
};

struct PlanHost {
  std::string name;
  std::string address;
  std::string group;
  std::string connection;
  std::string ssh_user;
  int cpus = 0;
  std::uint64_t memory_usable_bytes = 0;
  std::string gpu_source;
  std::string verdict;                // Of the best placement on this host.
  std::vector<std::string> rejected;  // Reasons other variants or sizes were not chosen.
  std::vector<std::string> unused_devices;
};

struct Alternative {
  std::string model;
  std::string precision;
  std::string engine;
  std::string host;
  int tensor_parallel = 1;
  std::string verdict;
};

struct Plan {
  std::string model;
  std::string title;
  int context = 0;
  int concurrency = 0;
  std::vector<Deployment> deployments;
  std::vector<PlanHost> hosts;
  std::vector<Alternative> alternatives;  // Filled when some host got no deployment.
};

// Places request.model on the hosts. Returns an error for an unknown model
// or an invalid request. When the model fits nowhere, the plan comes back
// with no deployments but with alternatives, and PlanError explains it.
Result<Plan> MakePlan(const Catalogue& catalogue, const std::vector<InventoryHost>& hosts,
                      const PlanRequest& request);

// The error for a plan without deployments: why, and what would fit.
Error PlanError(const Plan& plan);

}  // namespace weir::plan
