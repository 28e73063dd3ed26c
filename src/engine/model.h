// Model: the weights and forward pass of a decoder-only transformer of the
// `llama` (Llama 2/3, SmolLM2, DeepSeek-R1-Distill-Llama) or `qwen2` (Qwen2,
// Qwen2.5, DeepSeek-R1-Distill-Qwen) architecture, read from a GGUF file.
//
// A Model is immutable after Load(). Evaluate() is called by one thread at a
// time (the scheduler) and spreads its work over the ThreadPool it is given.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "engine/gguf.h"
#include "engine/quant.h"
#include "engine/thread_pool.h"

namespace weir::engine {

struct ModelConfig {
  std::string architecture;  // "llama" or "qwen2".
  int layers = 0;
  int embedding = 0;      // Width of the residual stream.
  int feed_forward = 0;   // Width of the SwiGLU hidden layer.
  int heads = 0;
  int kv_heads = 0;       // Fewer than `heads` with grouped-query attention.
  int head_dim = 0;
  int vocab = 0;
  int trained_context = 0;
  int rope_dims = 0;      // Leading dimensions of each head that RoPE rotates.
  float rope_theta = 10000.0f;
  float rope_position_scale = 1.0f;  // Linear RoPE scaling: positions are multiplied by this.
  bool rope_neox = false;  // qwen2 rotates pairs (i, i + d/2); llama rotates (2i, 2i + 1).
  float rms_epsilon = 1e-5f;

  int kv_dim() const { return kv_heads * head_dim; }
};

// KvCache: the keys and values of one sequence for every layer, f32.
class KvCache {
 public:
  KvCache(const ModelConfig& config, int context);
  int context() const { return context_; }
  // Number of positions that hold valid keys and values.
  int length = 0;

  float* keys(int layer, int position) { return &keys_[Index(layer, position)]; }
  float* values(int layer, int position) { return &values_[Index(layer, position)]; }

  static size_t BytesPerToken(const ModelConfig& config) {
    return static_cast<size_t>(config.layers) * config.kv_dim() * 2 * sizeof(float);
  }

 private:
  size_t Index(int layer, int position) const {
    return (static_cast<size_t>(layer) * context_ + position) * kv_dim_;
  }
  int context_;
  int kv_dim_;
  // Left uninitialized, so the memory is committed only as positions are
  // written; attention reads positions below `length` only.
  std::unique_ptr<float[]> keys_;
  std::unique_ptr<float[]> values_;
};

// One token of a batch: its id, its position in its sequence and that
// sequence's cache. `logits` requests the next-token logits after it.
struct BatchToken {
  int token = 0;
  int position = 0;
  KvCache* cache = nullptr;
  bool logits = false;
};

class Model {
 public:
  // Reads the configuration and finds every weight. Fails with a message that
  // names the missing tensor, the unknown architecture or the bad shape.
  static Result<std::unique_ptr<Model>> Load(std::shared_ptr<GgufFile> file);

  const ModelConfig& config() const { return config_; }
  const GgufFile& file() const { return *file_; }

  // Runs the batch through the network, writes each token's keys and values
  // into its cache at its position, and appends config().vocab logits to
  // `logits` for every token with `logits` set, in batch order. Positions
  // must be below the cache's context; every earlier position of a sequence
  // must already be in its cache or earlier in the batch.
  Status Evaluate(const std::vector<BatchToken>& batch, ThreadPool& pool,
                  std::vector<float>* logits) const;

 private:
  // Matrices stay in the mapped file; norm weights and biases are small and
  // converted to f32 at load. An empty bias means the layer has none.
  struct Layer {
    WeightView wq, wk, wv, wo, gate, up, down;
    std::vector<float> attn_norm, ffn_norm, bq, bk, bv;
  };

  Model() = default;
  void MatMul(const WeightView& weight, const float* input, int64_t tokens, float* out,
              ThreadPool& pool) const;
  // Multiplies several matrices with the same input in one parallel loop.
  void MatMulGroup(const std::vector<std::pair<const WeightView*, float*>>& products,
                   const float* input, int64_t tokens, ThreadPool& pool) const;
  void Attention(const std::vector<BatchToken>& batch, int layer, const float* q, float* out,
                 ThreadPool& pool) const;
  void Rope(float* vectors, int heads, int position) const;

  std::shared_ptr<GgufFile> file_;
  ModelConfig config_;
  WeightView token_embedding_, output_;
  std::vector<float> output_norm_;
  std::vector<Layer> layers_;
  std::vector<float> inverse_frequencies_;  // rope_dims / 2 entries.
};

}  // namespace weir::engine
