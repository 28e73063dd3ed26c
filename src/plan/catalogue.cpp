#include "plan/catalogue.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "plan/byte_size.h"

namespace weir::plan {
namespace {

namespace fs = std::filesystem;

// Reads a typed scalar, or `fallback` when the key is absent. yaml-cpp throws
// on a value of the wrong type; ParseCatalogue turns that into an Error.
template <typename T>
T Get(const YAML::Node& node, const char* key, T fallback) {
  const YAML::Node value = node[key];
  return value ? value.as<T>() : fallback;
}

std::uint64_t GetBytes(const YAML::Node& node, const char* key, std::uint64_t fallback) {
  const YAML::Node value = node[key];
  if (!value) return fallback;
  auto bytes = ParseByteSize(value.as<std::string>());
  if (!bytes.ok()) throw YAML::Exception(value.Mark(), bytes.error().message);
  return *bytes;
}

Precision ReadPrecision(const std::string& name, const YAML::Node& node) {
  Precision precision;
  precision.name = name;
  precision.bits_per_weight = Get<double>(node, "bits_per_weight", 16);
  precision.tier = Get<int>(node, "tier", 0);
  precision.min_compute_capability = ParseComputeCapability(Get<std::string>(node, "min_compute_capability", "0.0"));
  precision.min_cuda = ParseCudaVersion(Get<std::string>(node, "min_cuda", "0.0"));
  precision.min_cuda_at_9_0 = ParseCudaVersion(Get<std::string>(node, "min_cuda_at_9_0", "0.0"));
  precision.dtype = Get<std::string>(node, "dtype", "");
  precision.quantization = Get<std::string>(node, "quantization", "");
  precision.gguf = Get<bool>(node, "gguf", false);
  return precision;
}

Engine ReadEngine(const std::string& name, const YAML::Node& node) {
  Engine engine;
  engine.name = name;
  engine.title = Get<std::string>(node, "title", name);
  engine.image = Get<std::string>(node, "image", "");
  engine.program = Get<std::string>(node, "program", "");
  engine.port = Get<int>(node, "port", 8000);
  engine.gpu = Get<bool>(node, "gpu", false);
  engine.cpu = Get<bool>(node, "cpu", false);
  if (node["architectures"]) engine.architectures = node["architectures"].as<std::vector<std::string>>();
  return engine;
}

Result<Model> ReadModel(const YAML::Node& node, const Catalogue& catalogue, const std::string& origin) {
  Model model;
  model.name = Get<std::string>(node, "name", "");
  model.title = Get<std::string>(node, "title", model.name);
  model.architecture = Get<std::string>(node, "architecture", "");
  model.parameters = Get<double>(node, "parameters", 0);
  model.layers = Get<int>(node, "layers", 0);
  model.attention_heads = Get<int>(node, "attention_heads", 0);
  model.kv_heads = Get<int>(node, "kv_heads", model.attention_heads);
  model.head_dim = Get<int>(node, "head_dim", 0);
  model.mla = Get<std::string>(node, "attention", "standard") == "mla";
  model.kv_lora_rank = Get<int>(node, "kv_lora_rank", 0);
  model.qk_rope_head_dim = Get<int>(node, "qk_rope_head_dim", 0);
  model.max_context = Get<int>(node, "max_context", 4096);
  model.fp16_overflow_risk = Get<bool>(node, "fp16_overflow_risk", false);

  const bool attention_known = model.mla ? model.kv_lora_rank > 0 : model.kv_heads > 0 && model.head_dim > 0;
  if (model.name.empty() || model.parameters <= 0 || model.layers <= 0 || model.attention_heads <= 0 ||
      !attention_known) {
    return Error::InvalidRequest(fmt::format(
        "{}: model \"{}\" needs name, parameters, layers, attention_heads and either kv_heads + head_dim or "
        "attention: mla with kv_lora_rank",
        origin, model.name));
  }
  for (const YAML::Node& item : node["variants"]) {
    Variant variant;
    variant.precision = Get<std::string>(item, "precision", "");
    variant.native = Get<bool>(item, "native", false);
    variant.source = Get<std::string>(item, "source", "");
    variant.file = Get<std::string>(item, "file", "");
    if (item["engines"]) variant.engines = item["engines"].as<std::vector<std::string>>();
    if (!catalogue.precisions.count(variant.precision)) {
      return Error::InvalidRequest(fmt::format("{}: model \"{}\" has a variant with unknown precision \"{}\"",
                                               origin, model.name, variant.precision));
    }
    for (const std::string& engine : variant.engines) {
      if (!catalogue.engines.count(engine)) {
        return Error::InvalidRequest(
            fmt::format("{}: model \"{}\" names unknown engine \"{}\"", origin, model.name, engine));
      }
    }
    model.variants.push_back(std::move(variant));
  }
  return model;
}

Result<Catalogue> ReadCatalogue(const YAML::Node& root, const std::string& origin) {
  Catalogue catalogue;
  if (const YAML::Node reserve = root["runtime_reserve"]) {
    catalogue.reserve.gpu_fixed_bytes = GetBytes(reserve, "gpu_fixed", catalogue.reserve.gpu_fixed_bytes);
    catalogue.reserve.gpu_fraction = Get<double>(reserve, "gpu_fraction", catalogue.reserve.gpu_fraction);
    catalogue.reserve.cpu_fixed_bytes = GetBytes(reserve, "cpu_fixed", catalogue.reserve.cpu_fixed_bytes);
    catalogue.reserve.cpu_fraction = Get<double>(reserve, "cpu_fraction", catalogue.reserve.cpu_fraction);
  }
  catalogue.fits_ratio = Get<double>(root, "fits_ratio", catalogue.fits_ratio);
  for (const auto& item : root["precisions"]) {
    const std::string name = item.first.as<std::string>();
    catalogue.precisions[name] = ReadPrecision(name, item.second);
  }
  for (const auto& item : root["engines"]) {
    const std::string name = item.first.as<std::string>();
    catalogue.engines[name] = ReadEngine(name, item.second);
  }
  for (const auto& item : root["gpus"]) {
    GpuType gpu;
    gpu.key = item.first.as<std::string>();
    gpu.name = Get<std::string>(item.second, "name", gpu.key);
    gpu.memory_bytes = GetBytes(item.second, "memory", 0);
    gpu.compute_capability = ParseComputeCapability(Get<std::string>(item.second, "compute_capability", "0.0"));
    catalogue.gpus[gpu.key] = gpu;
  }
  for (const YAML::Node& node : root["models"]) {
    auto model = ReadModel(node, catalogue, origin);
    if (!model.ok()) return model.error();
    catalogue.models.push_back(std::move(*model));
  }
  if (catalogue.models.empty()) return Error::InvalidRequest(origin + ": the catalogue lists no models");
  return catalogue;
}

std::string ExecutableDirectory() {
  std::error_code error;
  const fs::path exe = fs::read_symlink("/proc/self/exe", error);
  return error ? std::string() : exe.parent_path().string();
}

}  // namespace

const Model* Catalogue::FindModel(const std::string& name) const {
  for (const Model& model : models) {
    if (model.name == name) return &model;
  }
  return nullptr;
}

const GpuType* Catalogue::FindGpu(const std::string& key) const {
  const auto it = gpus.find(key);
  return it == gpus.end() ? nullptr : &it->second;
}

std::string Catalogue::ModelNames() const {
  std::string names;
  for (const Model& model : models) names += (names.empty() ? "" : ", ") + model.name;
  return names;
}

int ParseComputeCapability(const std::string& text) {
  int major = 0;
  int minor = 0;
  if (std::sscanf(text.c_str(), "%d.%d", &major, &minor) < 1) return 0;
  return major * 10 + minor;
}

int ParseCudaVersion(const std::string& text) {
  int major = 0;
  int minor = 0;
  if (std::sscanf(text.c_str(), "%d.%d", &major, &minor) < 1) return 0;
  return major * 1000 + minor * 10;
}

Result<Catalogue> ParseCatalogue(const std::string& yaml, const std::string& origin) {
  try {
    return ReadCatalogue(YAML::Load(yaml), origin);
  } catch (const YAML::Exception& e) {
    return Error::InvalidRequest(fmt::format("{}: invalid catalogue: {}", origin, e.what()));
  }
}

Result<Catalogue> LoadCatalogue(const std::string& path) {
  std::vector<std::string> candidates;
  if (!path.empty()) {
    candidates.push_back(path);
  } else if (const char* env = std::getenv("WEIR_CATALOGUE"); env != nullptr && *env != '\0') {
    candidates.push_back(env);
  } else {
    const std::string exe_dir = ExecutableDirectory();
    candidates.push_back(exe_dir + "/../share/weir/catalogue.yaml");
    candidates.push_back(exe_dir + "/share/weir/catalogue.yaml");
  }
  for (const std::string& candidate : candidates) {
    std::ifstream in(candidate);
    if (!in) continue;
    std::stringstream text;
    text << in.rdbuf();
    return ParseCatalogue(text.str(), candidate);
  }
  std::string tried;
  for (const std::string& candidate : candidates) tried += (tried.empty() ? "" : ", ") + candidate;
  return Error::NotFound(fmt::format(
      "model catalogue not found (tried {}); pass --catalogue PATH or set WEIR_CATALOGUE", tried));
}

}  // namespace weir::plan
