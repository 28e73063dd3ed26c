#include "plan/planner.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "detect/host_inventory.h"

namespace weir::plan {
namespace {

using detect::FormatGiB;

constexpr int kKvCacheBytes = 2;  // FP16/BF16 KV cache, the default of every engine here.

// One device a model can be placed on: a GPU, or a MIG instance in its place.
struct ComputeDevice {
  std::string uuid;
  std::string name;
  int index = -1;
  std::uint64_t total = 0;
  std::uint64_t free = 0;
  int compute_capability = 0;
  bool mig = false;
};

// Equal devices of one host: same name, total memory and compute capability.
struct DeviceGroup {
  std::vector<ComputeDevice> devices;  // Most free memory first.
};

// Candidate placement of one variant on a set of devices (or on CPU).
struct Candidate {
  const Variant* variant = nullptr;
  const Precision* precision = nullptr;
  const Engine* engine = nullptr;
  int tensor_parallel = 1;
  int pipeline_parallel = 1;
  std::vector<std::pair<std::string, ComputeDevice>> devices;  // host, device.
  Arithmetic arithmetic;
  std::string verdict;
};

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::replace(text.begin(), text.end(), '_', '-');
  return text;
}

std::vector<ComputeDevice> ComputeDevices(const detect::HostInventory& host) {
  std::vector<ComputeDevice> devices;
  for (const detect::GpuDevice& gpu : host.gpu.devices) {
    if (gpu.mig_enabled && !gpu.mig_instances.empty()) {
      for (const detect::MigInstance& instance : gpu.mig_instances) {
        devices.push_back({instance.uuid, instance.name, gpu.index, instance.memory_total_bytes,
                           instance.memory_free_bytes, gpu.ComputeCapability(), true});
      }
      continue;
    }
    devices.push_back({gpu.uuid, gpu.name, gpu.index, gpu.memory_total_bytes, gpu.memory_free_bytes,
                       gpu.ComputeCapability(), false});
  }
  return devices;
}

// Groups equal devices, the largest group first. Tensor parallelism shards a
// model evenly, so it only ever spans one group and uneven GPUs are never
// split evenly.
std::vector<DeviceGroup> GroupEqualDevices(const std::vector<ComputeDevice>& devices) {
  std::map<std::tuple<std::string, std::uint64_t, int>, DeviceGroup> groups;
  for (const ComputeDevice& device : devices) {
    groups[{device.name, device.total, device.compute_capability}].devices.push_back(device);
  }
  std::vector<DeviceGroup> ordered;
  for (auto& [key, group] : groups) {
    std::stable_sort(group.devices.begin(), group.devices.end(),
                     [](const ComputeDevice& a, const ComputeDevice& b) { return a.free > b.free; });
    ordered.push_back(std::move(group));
  }
  std::stable_sort(ordered.begin(), ordered.end(), [](const DeviceGroup& a, const DeviceGroup& b) {
    return a.devices.front().total * a.devices.size() > b.devices.front().total * b.devices.size();
  });
  return ordered;
}

// Returns why `precision` cannot run on this GPU, or nothing when it can.
std::optional<std::string> PrecisionBlocked(const Precision& precision, int compute_capability, int cuda,
                                            const std::string& gpu_name) {
  if (compute_capability < precision.min_compute_capability) {
    return fmt::format("{} needs compute capability {} or higher; {} has {}", precision.name,
                       detect::FormatComputeCapability(precision.min_compute_capability), gpu_name,
                       detect::FormatComputeCapability(compute_capability));
  }
  int min_cuda = precision.min_cuda;
  if (compute_capability >= 90 && precision.min_cuda_at_9_0 > 0) min_cuda = precision.min_cuda_at_9_0;
  if (min_cuda > 0 && cuda < min_cuda) {
    return fmt::format("{} on compute capability {} needs a driver that supports CUDA {} or newer; this one supports {}",
                       precision.name, detect::FormatComputeCapability(compute_capability),
                       detect::FormatCudaVersion(min_cuda), detect::FormatCudaVersion(cuda));
  }
  return std::nullopt;
}

const Engine* ChooseEngine(const Catalogue& catalogue, const Model& model, const Variant& variant, bool gpu,
                           const std::string& requested) {
  std::vector<std::string> order = variant.engines;
  // Without a GPU the built-in engine comes first, because it needs no other software.
  if (!gpu) std::stable_partition(order.begin(), order.end(), [](const auto& e) { return e == "builtin"; });
  for (const std::string& name : order) {
    const Engine& engine = catalogue.engines.at(name);
    if (!requested.empty() && name != requested) continue;
    if (gpu ? !engine.gpu : !engine.cpu) continue;
    if (!engine.architectures.empty() &&
        std::find(engine.architectures.begin(), engine.architectures.end(), model.architecture) ==
            engine.architectures.end()) {
      continue;
    }
    return &engine;
  }
  return nullptr;
}

std::uint64_t KvBytesPerToken(const Model& model, std::string* formula) {
  if (model.mla) {
    if (formula != nullptr) {
      *formula = fmt::format("{} layers x ({} kv_lora_rank + {} rope dim) x {} bytes", model.layers,
                             model.kv_lora_rank, model.qk_rope_head_dim, kKvCacheBytes);
    }
    return std::uint64_t(model.layers) * (model.kv_lora_rank + model.qk_rope_head_dim) * kKvCacheBytes;
  }
  if (formula != nullptr) {
    *formula = fmt::format("2 x {} layers x {} KV heads x {} head dim x {} bytes", model.layers, model.kv_heads,
                           model.head_dim, kKvCacheBytes);
  }
  return 2ULL * model.layers * model.kv_heads * model.head_dim * kKvCacheBytes;
}

// Divisor from whole-model KV bytes to one device's share. Tensor parallelism
// splits the KV heads, and a device keeps at least one. MLA's latent cache is
// replicated on every tensor-parallel rank. Pipeline parallelism splits layers.
double KvShareDivisor(const Model& model, int tensor_parallel, int pipeline_parallel) {
  const int tp_split = model.mla ? 1 : std::min(tensor_parallel, model.kv_heads);
  return double(tp_split) * pipeline_parallel;
}

Arithmetic Compute(const Catalogue& catalogue, const Model& model, const Precision& precision, bool gpu,
                   int tensor_parallel, int pipeline_parallel, std::uint64_t free, std::uint64_t total,
                   const PlanRequest& request) {
  Arithmetic a;
  a.weight_bytes = std::uint64_t(std::llround(model.parameters * precision.bits_per_weight / 8.0));
  a.weight_bytes_per_device = a.weight_bytes / std::uint64_t(tensor_parallel * pipeline_parallel);
  a.kv_bytes_per_token = KvBytesPerToken(model, &a.kv_formula);
  const double divisor = KvShareDivisor(model, tensor_parallel, pipeline_parallel);
  a.kv_bytes_per_device = std::uint64_t(double(a.kv_bytes_per_token) / divisor * request.context * request.concurrency);
  const std::uint64_t fixed = gpu ? catalogue.reserve.gpu_fixed_bytes : catalogue.reserve.cpu_fixed_bytes;
  const double fraction = gpu ? catalogue.reserve.gpu_fraction : catalogue.reserve.cpu_fraction;
  a.reserve_bytes_per_device = fixed + std::uint64_t(fraction * double(free));
  a.free_bytes_per_device = free;
  a.total_bytes_per_device = total;
  a.needed_bytes_per_device = a.weight_bytes_per_device + a.kv_bytes_per_device + a.reserve_bytes_per_device;
  const double budget = double(free) - double(a.reserve_bytes_per_device);
  a.usage_ratio = budget <= 0 ? 1e9 : double(a.weight_bytes_per_device + a.kv_bytes_per_device) / budget;
  return a;
}

std::string Verdict(const Catalogue& catalogue, double ratio) {
  if (ratio <= catalogue.fits_ratio) return "fits";
  if (ratio <= 1.0) return "tight";
  return "does not fit";
}

std::string DescribeShortfall(const Candidate& candidate, const std::string& where) {
  const Arithmetic& a = candidate.arithmetic;
  return fmt::format(
      "{} on {} (TP {}, PP {}): needs {} per device (weights {} + KV {} + reserve {}) but {} is free",
      candidate.precision->name, where, candidate.tensor_parallel, candidate.pipeline_parallel,
      FormatGiB(a.needed_bytes_per_device), FormatGiB(a.weight_bytes_per_device), FormatGiB(a.kv_bytes_per_device),
      FormatGiB(a.reserve_bytes_per_device), FormatGiB(a.free_bytes_per_device));
}

// Tensor-parallel sizes for a group of `available` devices, smallest first.
// A size must divide the attention heads, and the KV heads must split evenly
// or be replicated evenly, as vLLM and SGLang require. MIG instances cannot
// be combined.
std::vector<int> TensorParallelSizes(const Model& model, int available, bool mig) {
  std::vector<int> sizes;
  const int limit = mig ? 1 : available;
  for (int size = 1; size <= limit; ++size) {
    const bool kv_even = model.mla || model.kv_heads % size == 0 || size % model.kv_heads == 0;
    if (model.attention_heads % size == 0 && kv_even) sizes.push_back(size);
  }
  return sizes;
}

struct HostSearch {
  const InventoryHost* host = nullptr;
  std::vector<DeviceGroup> groups;
  std::vector<std::string> rejected;
};

Candidate Evaluate(const Catalogue& catalogue, const Model& model, const Variant& variant, const Engine& engine,
                   const std::string& host, const std::vector<ComputeDevice>& devices, int tensor_parallel,
                   const PlanRequest& request) {
  Candidate candidate;
  candidate.variant = &variant;
  candidate.precision = &catalogue.precisions.at(variant.precision);
  candidate.engine = &engine;
  candidate.tensor_parallel = tensor_parallel;
  std::uint64_t free = devices.front().free;
  for (int i = 0; i < tensor_parallel; ++i) {
    candidate.devices.emplace_back(host, devices[i]);
    free = std::min(free, devices[i].free);
  }
  candidate.arithmetic = Compute(catalogue, model, *candidate.precision, true, tensor_parallel, 1, free,
                                 devices.front().total, request);
  candidate.verdict = Verdict(catalogue, candidate.arithmetic.usage_ratio);
  return candidate;
}

// The best GPU placement of one variant on a host: the smallest
// tensor-parallel size that fits, else the smallest that is tight.
std::optional<Candidate> PlaceVariantOnGpus(const Catalogue& catalogue, const Model& model, const Variant& variant,
                                            const PlanRequest& request, HostSearch& search) {
  const Precision& precision = catalogue.precisions.at(variant.precision);
  const Engine* engine = ChooseEngine(catalogue, model, variant, true, request.engine);
  if (engine == nullptr) {
    search.rejected.push_back(fmt::format("{}: no GPU engine{} runs this variant", variant.precision,
                                          request.engine.empty() ? "" : " named " + request.engine));
    return std::nullopt;
  }
  std::optional<Candidate> tight;
  for (const DeviceGroup& group : search.groups) {
    const ComputeDevice& first = group.devices.front();
    if (auto blocked = PrecisionBlocked(precision, first.compute_capability,
                                        search.host->hardware.gpu.cuda_driver_version, first.name)) {
      search.rejected.push_back(*blocked);
      continue;
    }
    std::optional<Candidate> largest;
    for (int size : TensorParallelSizes(model, static_cast<int>(group.devices.size()), first.mig)) {
      Candidate candidate = Evaluate(catalogue, model, variant, *engine, search.host->name, group.devices, size, request);
      if (candidate.verdict == "fits") return candidate;
      if (candidate.verdict == "tight" && !tight) tight = candidate;
      largest = candidate;
    }
    if (largest && largest->verdict == "does not fit") {
      search.rejected.push_back(DescribeShortfall(*largest, fmt::format("{} x {}", largest->tensor_parallel, first.name)));
    }
  }
  return tight;
}

std::optional<Candidate> PlaceOnCpu(const Catalogue& catalogue, const Model& model, const Variant& variant,
                                    const PlanRequest& request, HostSearch& search) {
  const Precision& precision = catalogue.precisions.at(variant.precision);
  if (!precision.gguf) {
    search.rejected.push_back(fmt::format("{}: needs a GPU; CPU inference uses GGUF quantizations", variant.precision));
    return std::nullopt;
  }
  const Engine* engine = ChooseEngine(catalogue, model, variant, false, request.engine);
  if (engine == nullptr) {
    search.rejected.push_back(fmt::format("{}: no CPU engine runs this variant", variant.precision));
    return std::nullopt;
  }
  const auto& memory = search.host->hardware.memory;
  Candidate candidate;
  candidate.variant = &variant;
  candidate.precision = &precision;
  candidate.engine = engine;
  candidate.arithmetic =
      Compute(catalogue, model, precision, false, 1, 1, memory.usable_bytes, memory.total_bytes, request);
  candidate.verdict = Verdict(catalogue, candidate.arithmetic.usage_ratio);
  if (candidate.verdict == "does not fit") {
    search.rejected.push_back(DescribeShortfall(candidate, "CPU memory"));
    return std::nullopt;
  }
  return candidate;
}

std::vector<const Variant*> VariantsToTry(const Model& model, const PlanRequest& request) {
  std::vector<const Variant*> variants;
  for (const Variant& variant : model.variants) {
    if (request.precision.empty() || variant.precision == request.precision) variants.push_back(&variant);
  }
  return variants;
}

// The best placement on one host: the first variant that fits, else the
// first that is tight.
std::optional<Candidate> PlaceOnHost(const Catalogue& catalogue, const Model& model, const PlanRequest& request,
                                     HostSearch& search) {
  const bool has_gpu = !search.groups.empty();
  std::optional<Candidate> tight;
  for (const Variant* variant : VariantsToTry(model, request)) {
    auto candidate = has_gpu ? PlaceVariantOnGpus(catalogue, model, *variant, request, search)
                             : PlaceOnCpu(catalogue, model, *variant, request, search);
    if (!candidate) continue;
    if (candidate->verdict == "fits") return candidate;
    search.rejected.push_back(fmt::format(
        "{} with TP {} is tight ({:.0f}% of the memory left after the reserve); a later variant that fits with "
        "room is preferred",
        candidate->precision->name, candidate->tensor_parallel, candidate->arithmetic.usage_ratio * 100));
    if (!tight) tight = candidate;
  }
  return tight;
}

int MaxConcurrency(const Arithmetic& a, double kv_per_token_per_device, int context) {
  const double budget = double(a.free_bytes_per_device) - double(a.reserve_bytes_per_device) -
                        double(a.weight_bytes_per_device);
  if (budget <= 0 || kv_per_token_per_device <= 0) return 0;
  return static_cast<int>(budget / (kv_per_token_per_device * context));
}

int MaxContext(const Arithmetic& a, double kv_per_token_per_device, int concurrency, int model_max) {
  const double budget = double(a.free_bytes_per_device) - double(a.reserve_bytes_per_device) -
                        double(a.weight_bytes_per_device);
  if (budget <= 0 || kv_per_token_per_device <= 0) return 0;
  return static_cast<int>(std::min<double>(model_max, budget / (kv_per_token_per_device * concurrency)));
}

std::string Reason(const Candidate& candidate) {
  const Arithmetic& a = candidate.arithmetic;
  return fmt::format("{} of the {} left after the reserve is needed ({} weights + {} KV per device)",
                     fmt::format("{:.0f}%", a.usage_ratio * 100),
                     FormatGiB(a.free_bytes_per_device - std::min(a.free_bytes_per_device, a.reserve_bytes_per_device)),
                     FormatGiB(a.weight_bytes_per_device), FormatGiB(a.kv_bytes_per_device));
}

Deployment MakeDeployment(const Model& model, const Candidate& candidate,
                          const PlanRequest& request, const std::vector<const InventoryHost*>& hosts, int port) {
  Deployment deployment;
  deployment.version = model.name + "-" + Lower(candidate.precision->name);
  for (const InventoryHost* host : hosts) deployment.hosts.push_back(host->name);
  deployment.precision = candidate.precision->name;
  deployment.native = candidate.variant->native;
  deployment.engine = candidate.engine->name;
  deployment.image = candidate.engine->image;
  deployment.source = candidate.variant->source;
  deployment.file = candidate.variant->file;
  deployment.tensor_parallel = candidate.tensor_parallel;
  deployment.pipeline_parallel = candidate.pipeline_parallel;
  deployment.gpu = !candidate.devices.empty();
  deployment.context = request.context;
  deployment.concurrency = request.concurrency;
  deployment.arithmetic = candidate.arithmetic;
  deployment.verdict = candidate.verdict;
  deployment.reason = Reason(candidate);
  deployment.port = port;
  deployment.threads = hosts.front()->hardware.cpu.usable_cpus;

  const double kv_per_device =
      double(candidate.arithmetic.kv_bytes_per_token) /
      KvShareDivisor(model, candidate.tensor_parallel, candidate.pipeline_parallel);
  deployment.max_concurrency = MaxConcurrency(candidate.arithmetic, kv_per_device, request.context);
  deployment.max_context = MaxContext(candidate.arithmetic, kv_per_device, request.concurrency, model.max_context);

  for (const auto& [host, device] : candidate.devices) {
    deployment.devices.push_back({host, device.uuid, device.name, device.index, device.total, device.free});
    if (device.total > 0 && double(device.free) < 0.95 * double(device.total)) {
      deployment.notes.push_back(fmt::format(
          "planned from free memory: {} on {} has {} free of {} ({} in use by other processes)", device.uuid, host,
          FormatGiB(device.free), FormatGiB(device.total), FormatGiB(device.total - device.free)));
    }
  }
  if (deployment.gpu) {
    const Arithmetic& a = candidate.arithmetic;
    const double usable = double(a.free_bytes_per_device) - double(a.reserve_bytes_per_device);
    deployment.gpu_memory_fraction = std::floor(100.0 * usable / double(a.total_bytes_per_device)) / 100.0;
  }
  if (candidate.precision->name == "FP16" && model.fp16_overflow_risk) {
    deployment.warnings.push_back(fmt::format(
        "{} runs in FP16 because the GPU lacks BF16 (compute capability below 8.0); Qwen and DeepSeek models "
        "can overflow FP16 activations and produce NaN or garbage output; prefer a quantized variant if outputs "
        "look wrong",
        model.title));
  }
  const std::uint64_t disk_free = hosts.front()->hardware.disk.free_bytes;
  if (disk_free > 0 && disk_free < candidate.arithmetic.weight_bytes) {
    deployment.warnings.push_back(fmt::format("{} has {} free disk at {} but the weights take {}", hosts.front()->name,
                                              FormatGiB(disk_free), hosts.front()->hardware.disk.path,
                                              FormatGiB(candidate.arithmetic.weight_bytes)));
  }
  return deployment;
}

PlanHost MakePlanHost(const InventoryHost& host) {
  PlanHost plan_host;
  plan_host.name = host.name;
  plan_host.address = host.hardware.address;
  plan_host.group = host.hardware.group;
  plan_host.connection = host.connection;
  plan_host.ssh_user = host.ssh_user;
  plan_host.cpus = host.hardware.cpu.usable_cpus;
  plan_host.memory_usable_bytes = host.hardware.memory.usable_bytes;
  plan_host.gpu_source = host.hardware.gpu.source;
  plan_host.verdict = "does not fit";
  return plan_host;
}

// Removes the devices of `candidate` from the search's groups.
void TakeDevices(const Candidate& candidate, HostSearch& search) {
  std::set<std::string> used;
  for (const auto& [host, device] : candidate.devices) used.insert(device.uuid);
  for (DeviceGroup& group : search.groups) {
    std::erase_if(group.devices, [&used](const ComputeDevice& d) { return used.count(d.uuid) > 0; });
  }
  std::erase_if(search.groups, [](const DeviceGroup& group) { return group.devices.empty(); });
}

// Places replicas of the chosen variant on the host's remaining devices, so
// eight GPUs serving a one-GPU model run eight replicas.
void PlaceReplicas(const Catalogue& catalogue, const Model& model, const PlanRequest& request, Candidate first,
                   HostSearch& search, Plan& plan) {
  const Engine* engine = first.engine;
  int port = engine->port;
  std::optional<Candidate> next = std::move(first);
  while (next) {
    plan.deployments.push_back(MakeDeployment(model, *next, request, {search.host}, port++));
    if (next->devices.empty()) return;  // CPU inference: one per host.
    TakeDevices(*next, search);
    const Variant* variant = next->variant;
    const int size = next->tensor_parallel;
    next.reset();
    for (const DeviceGroup& group : search.groups) {
      if (static_cast<int>(group.devices.size()) < size) continue;
      const ComputeDevice& device = group.devices.front();
      if (PrecisionBlocked(catalogue.precisions.at(variant->precision), device.compute_capability,
                           search.host->hardware.gpu.cuda_driver_version, device.name)) {
        continue;
      }
      Candidate candidate = Evaluate(catalogue, model, *variant, *engine, search.host->name, group.devices,
                                     size, request);
      if (candidate.verdict != "does not fit") {
        next = std::move(candidate);
        break;
      }
    }
  }
}

void RecordUnused(const HostSearch& search, PlanHost& plan_host) {
  for (const DeviceGroup& group : search.groups) {
    for (const ComputeDevice& device : group.devices) {
      plan_host.unused_devices.push_back(fmt::format(
          "{} ({}, {} free): unused, because another replica does not fit on it and tensor parallelism only "
          "spans equal GPUs",
          device.uuid, device.name, FormatGiB(device.free)));
    }
  }
}

// Places the model across the hosts of one inventory group with pipeline
// parallelism: each node runs tensor-parallel over all its GPUs, and nodes
// must have equal GPUs.
std::optional<Candidate> PlaceAcrossNodes(const Catalogue& catalogue, const Model& model, const PlanRequest& request,
                                          const std::vector<const InventoryHost*>& nodes,
                                          std::vector<std::string>& rejected) {
  const std::vector<ComputeDevice> head_devices = ComputeDevices(nodes.front()->hardware);
  if (head_devices.empty() || head_devices.front().mig) return std::nullopt;
  const auto groups = GroupEqualDevices(head_devices);
  if (groups.size() != 1) return std::nullopt;
  const ComputeDevice& gpu = head_devices.front();
  const int per_node = static_cast<int>(head_devices.size());
  if (model.attention_heads % per_node != 0) return std::nullopt;

  int cuda = nodes.front()->hardware.gpu.cuda_driver_version;
  std::uint64_t free = gpu.free;
  for (const InventoryHost* node : nodes) {
    cuda = std::min(cuda, node->hardware.gpu.cuda_driver_version);
    for (const ComputeDevice& device : ComputeDevices(node->hardware)) free = std::min(free, device.free);
  }
  for (const Variant* variant : VariantsToTry(model, request)) {
    const Precision& precision = catalogue.precisions.at(variant->precision);
    const Engine* engine = ChooseEngine(catalogue, model, *variant, true, request.engine);
    if (engine == nullptr || precision.gguf || PrecisionBlocked(precision, gpu.compute_capability, cuda, gpu.name)) {
      continue;
    }
    for (int stages = 2; stages <= static_cast<int>(nodes.size()); ++stages) {
      Candidate candidate;
      candidate.variant = variant;
      candidate.precision = &precision;
      candidate.engine = engine;
      candidate.tensor_parallel = per_node;
      candidate.pipeline_parallel = stages;
      for (int n = 0; n < stages; ++n) {
        for (const ComputeDevice& device : ComputeDevices(nodes[n]->hardware)) {
          candidate.devices.emplace_back(nodes[n]->name, device);
        }
      }
      candidate.arithmetic = Compute(catalogue, model, precision, true, per_node, stages, free, gpu.total, request);
      candidate.verdict = Verdict(catalogue, candidate.arithmetic.usage_ratio);
      if (candidate.verdict != "does not fit") return candidate;
      if (stages == static_cast<int>(nodes.size())) {
        rejected.push_back(DescribeShortfall(candidate, fmt::format("{} nodes x {} x {}", stages, per_node, gpu.name)));
      }
    }
  }
  return std::nullopt;
}

// Finds, for hosts that got nothing, the catalogue models that would fit:
// unquantized first, then larger models first.
void FindAlternatives(const Catalogue& catalogue, const std::vector<InventoryHost>& hosts, const PlanRequest& request,
                      Plan& plan) {
  std::vector<std::pair<std::pair<int, double>, Alternative>> found;
  for (const InventoryHost& host : hosts) {
    const auto& plan_host = *std::find_if(plan.hosts.begin(), plan.hosts.end(),
                                          [&host](const PlanHost& h) { return h.name == host.name; });
    if (plan_host.verdict != "does not fit") continue;
    for (const Model& model : catalogue.models) {
      if (model.name == request.model || request.context > model.max_context) continue;
      HostSearch search{&host, GroupEqualDevices(ComputeDevices(host.hardware)), {}};
      PlanRequest other = request;
      other.model = model.name;
      other.precision.clear();
      const auto candidate = PlaceOnHost(catalogue, model, other, search);
      if (!candidate) continue;
      Alternative alternative{model.name, candidate->precision->name, candidate->engine->name, host.name,
                              candidate->tensor_parallel, candidate->verdict};
      const int tier = candidate->variant->native ? 0 : candidate->precision->tier;
      found.push_back({{tier, -model.parameters}, alternative});
    }
  }
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::set<std::string> seen;
  for (const auto& [rank, alternative] : found) {
    if (seen.insert(alternative.model + "/" + alternative.host).second) plan.alternatives.push_back(alternative);
  }
}

Status ValidateRequest(const Catalogue& catalogue, const Model* model, const PlanRequest& request) {
  if (model == nullptr) {
    return Error::NotFound(fmt::format("unknown model \"{}\"; the catalogue has: {}", request.model,
                                       catalogue.ModelNames()));
  }
  if (request.context <= 0 || request.context > model->max_context) {
    return Error::InvalidRequest(fmt::format("--context {} is out of range for {}: use 1 to {} tokens",
                                             request.context, model->name, model->max_context));
  }
  if (request.concurrency <= 0) {
    return Error::InvalidRequest(fmt::format("--concurrency {} is invalid: use 1 or more", request.concurrency));
  }
  if (!request.engine.empty() && !catalogue.engines.count(request.engine)) {
    return Error::InvalidRequest(fmt::format("unknown engine \"{}\": use vllm, sglang, llama-cpp or builtin",
                                             request.engine));
  }
  if (!request.precision.empty() && !catalogue.precisions.count(request.precision)) {
    return Error::InvalidRequest(fmt::format("unknown precision \"{}\": use BF16, FP16, FP8, AWQ, Q8_0 or Q4_K_M",
                                             request.precision));
  }
  return Status::Ok();
}

int VariantRank(const Model& model, const Candidate& candidate) {
  return static_cast<int>(candidate.variant - model.variants.data());
}

void MarkHosts(const std::vector<const InventoryHost*>& nodes, const std::string& verdict, Plan& plan) {
  for (PlanHost& plan_host : plan.hosts) {
    for (const InventoryHost* node : nodes) {
      if (plan_host.name == node->name) plan_host.verdict = verdict;
    }
  }
}

// Places the model across the nodes of each inventory group where that gives
// a better variant than one node alone (for example DeepSeek-V3 in FP8 over
// two 8 x H100 nodes rather than AWQ on each). Returns the hosts it used.
std::set<std::string> PlaceGroups(const Catalogue& catalogue, const Model& model, const PlanRequest& request,
                                  const std::vector<InventoryHost>& hosts, Plan& plan) {
  std::map<std::string, std::vector<const InventoryHost*>> groups;
  for (const InventoryHost& host : hosts) {
    if (!host.hardware.group.empty()) groups[host.hardware.group].push_back(&host);
  }
  std::set<std::string> used_hosts;
  for (auto& [group, nodes] : groups) {
    while (nodes.size() >= 2) {
      HostSearch search{nodes.front(), GroupEqualDevices(ComputeDevices(nodes.front()->hardware)), {}};
      const auto single = PlaceOnHost(catalogue, model, request, search);
      std::vector<std::string> rejected;
      auto across = PlaceAcrossNodes(catalogue, model, request, nodes, rejected);
      const bool better = across && (!single || VariantRank(model, *across) < VariantRank(model, *single));
      if (!better) {
        for (PlanHost& plan_host : plan.hosts) {
          if (plan_host.group == group) plan_host.rejected.insert(plan_host.rejected.end(), rejected.begin(), rejected.end());
        }
        break;
      }
      const std::vector<const InventoryHost*> used(nodes.begin(), nodes.begin() + across->pipeline_parallel);
      plan.deployments.push_back(MakeDeployment(model, *across, request, used, across->engine->port));
      MarkHosts(used, across->verdict, plan);
      for (PlanHost& plan_host : plan.hosts) {
        if (plan_host.name == nodes.front()->name) {
          plan_host.rejected.insert(plan_host.rejected.end(), search.rejected.begin(), search.rejected.end());
        }
      }
      for (const InventoryHost* node : used) used_hosts.insert(node->name);
      nodes.erase(nodes.begin(), nodes.begin() + across->pipeline_parallel);
    }
  }
  return used_hosts;
}

}  // namespace

Result<Plan> MakePlan(const Catalogue& catalogue, const std::vector<InventoryHost>& hosts,
                      const PlanRequest& request) {
  const Model* model = catalogue.FindModel(request.model);
  if (Status status = ValidateRequest(catalogue, model, request); !status.ok()) return status.error();

  Plan plan;
  plan.model = model->name;
  plan.title = model->title;
  plan.context = request.context;
  plan.concurrency = request.concurrency;
  for (const InventoryHost& host : hosts) plan.hosts.push_back(MakePlanHost(host));
  const std::set<std::string> grouped = PlaceGroups(catalogue, *model, request, hosts, plan);

  for (std::size_t i = 0; i < hosts.size(); ++i) {
    const InventoryHost& host = hosts[i];
    PlanHost& plan_host = plan.hosts[i];
    if (grouped.count(host.name)) continue;
    HostSearch search{&host, GroupEqualDevices(ComputeDevices(host.hardware)), {}};
    if (auto candidate = PlaceOnHost(catalogue, *model, request, search)) {
      plan_host.verdict = candidate->verdict;
      PlaceReplicas(catalogue, *model, request, *candidate, search, plan);
      RecordUnused(search, plan_host);
    }
    plan_host.rejected.insert(plan_host.rejected.end(), search.rejected.begin(), search.rejected.end());
  }

  for (PlanHost& plan_host : plan.hosts) {
    if (plan_host.verdict == "does not fit" && plan_host.group.empty() && hosts.size() > 1) {
      plan_host.rejected.push_back(
          "hosts without a `group:` in the inventory are never combined; put equal hosts in one group to allow "
          "pipeline parallelism across them");
    }
  }
  FindAlternatives(catalogue, hosts, request, plan);
  return plan;
}

Error PlanError(const Plan& plan) {
  std::string why;
  for (const PlanHost& host : plan.hosts) {
    why += fmt::format("\n  {}:", host.name);
    for (const std::string& reason : host.rejected) why += "\n    - " + reason;
  }
  std::string fits;
  for (const Alternative& alternative : plan.alternatives) {
    fits += fmt::format("\n  - {} {} on {} with {} (TP {}, {})", alternative.model, alternative.precision,
                        alternative.host, alternative.engine, alternative.tensor_parallel, alternative.verdict);
  }
  if (fits.empty()) fits = "\n  nothing in the catalogue fits these hosts at this context and concurrency";
  return Error::InvalidRequest(fmt::format("{} at context {} x {} sequences fits on no host:{}\nwhat would fit:{}",
                                           plan.model, plan.context, plan.concurrency, why, fits));
}

}  // namespace weir::plan
