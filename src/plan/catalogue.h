// The model catalogue: models, their variants (precision or quantization and
// the engines that run them), engines, precisions and known GPUs, read from
// share/weir/catalogue.yaml. Immutable once loaded.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace weir::plan {

struct Precision {
  std::string name;          // "BF16", "FP16", "FP8", "AWQ", "Q8_0", "Q4_K_M".
  double bits_per_weight = 16;
  int tier = 0;              // 0 unquantized, 1 eight-bit, 2 four-bit.
  int min_compute_capability = 0;  // 10 * major + minor.
  int min_cuda = 0;                // 1000 * major + 10 * minor; 0 when any.
  int min_cuda_at_9_0 = 0;         // Replaces min_cuda at compute capability >= 9.0.
  std::string dtype;         // vLLM/SGLang --dtype, e.g. "bfloat16".
  std::string quantization;  // vLLM/SGLang --quantization, e.g. "awq".
  bool gguf = false;
};

struct Engine {
  std::string name;   // "vllm", "sglang", "llama-cpp", "builtin".
  std::string title;
  std::string image;  // Container image; empty for the built-in engine.
  std::string program;
  int port = 0;
  bool gpu = false;
  bool cpu = false;
  std::vector<std::string> architectures;  // Empty means every architecture.
};

struct Variant {
  std::string precision;
  bool native = false;  // The format the model was trained and released in.
  std::string source;   // Hugging Face repository.
  std::string file;     // GGUF file in `source`; empty for other formats.
  std::vector<std::string> engines;
};

struct Model {
  std::string name;
  std::string title;
  std::string architecture;
  double parameters = 0;
  int layers = 0;
  int attention_heads = 0;
  int kv_heads = 0;
  int head_dim = 0;
  bool mla = false;  // Multi-head latent attention (DeepSeek-V2/V3/R1).
  int kv_lora_rank = 0;
  int qk_rope_head_dim = 0;
  int max_context = 0;
  bool fp16_overflow_risk = false;
  std::vector<Variant> variants;
};

struct GpuType {
  std::string key;  // "H100".
  std::string name;
  std::uint64_t memory_bytes = 0;
  int compute_capability = 0;
};

struct RuntimeReserve {
  std::uint64_t gpu_fixed_bytes = 1ULL << 30;
  double gpu_fraction = 0.05;
  std::uint64_t cpu_fixed_bytes = 1ULL << 30;
  double cpu_fraction = 0.05;
};

struct Catalogue {
  RuntimeReserve reserve;
  double fits_ratio = 0.9;
  std::map<std::string, Precision> precisions;
  std::map<std::string, Engine> engines;
  std::map<std::string, GpuType> gpus;
  std::vector<Model> models;

  const Model* FindModel(const std::string& name) const;
  const GpuType* FindGpu(const std::string& key) const;
  // Comma-separated model names, for error messages.
  std::string ModelNames() const;
};

// Parses a catalogue document; `origin` names it in errors.
Result<Catalogue> ParseCatalogue(const std::string& yaml, const std::string& origin);

// Loads the catalogue from `path`, or when it is empty from $WEIR_CATALOGUE,
// then share/weir/catalogue.yaml beside or above the running binary.
Result<Catalogue> LoadCatalogue(const std::string& path);

// Parses "8.9" as 89.
int ParseComputeCapability(const std::string& text);
// Parses a CUDA version "12.4" as 12040.
int ParseCudaVersion(const std::string& text);

}  // namespace weir::plan
