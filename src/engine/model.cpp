#include "engine/model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

namespace weir::engine {
namespace {

Error ModelError(const GgufFile& file, const std::string& what) {
  return Error::InvalidRequest(fmt::format("model file {}: {}", file.path(), what), "model_path",
                               "invalid_model_file");
}

void RmsNorm(const float* x, const std::vector<float>& weight, float epsilon, float* out, int n) {
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  const float scale = 1.0f / std::sqrt(static_cast<float>(sum / n) + epsilon);
  for (int i = 0; i < n; ++i) out[i] = x[i] * scale * weight[i];
}

}  // namespace

KvCache::KvCache(const ModelConfig& config, int context)
    : context_(context), kv_dim_(config.kv_dim()) {
  const size_t size = static_cast<size_t>(config.layers) * context * kv_dim_;
  keys_.reset(new float[size]);
  values_.reset(new float[size]);
}

Result<std::unique_ptr<Model>> Model::Load(std::shared_ptr<GgufFile> file) {
  std::unique_ptr<Model> model(new Model());
  model->file_ = file;
  ModelConfig& c = model->config_;
  c.architecture = file->GetString("general.architecture");
  if (c.architecture != "llama" && c.architecture != "qwen2") {
    return ModelError(*file, fmt::format("architecture \"{}\" is not supported by the built-in "
                                         "engine (supported: llama, qwen2); serve it with an "
                                         "external engine such as vLLM", c.architecture));
  }
  const std::string a = c.architecture + ".";
  c.layers = static_cast<int>(file->GetInt(a + "block_count", 0));
  c.embedding = static_cast<int>(file->GetInt(a + "embedding_length", 0));
  c.feed_forward = static_cast<int>(file->GetInt(a + "feed_forward_length", 0));
  c.heads = static_cast<int>(file->GetInt(a + "attention.head_count", 0));
  c.kv_heads = static_cast<int>(file->GetInt(a + "attention.head_count_kv", c.heads));
  c.trained_context = static_cast<int>(file->GetInt(a + "context_length", 2048));
  c.rms_epsilon = static_cast<float>(file->GetFloat(a + "attention.layer_norm_rms_epsilon", 1e-5));
  c.rope_theta = static_cast<float>(file->GetFloat(a + "rope.freq_base", 10000.0));
  c.rope_neox = c.architecture == "qwen2";
  if (c.layers <= 0 || c.embedding <= 0 || c.heads <= 0 || c.kv_heads <= 0 ||
      c.feed_forward <= 0 || c.embedding % c.heads != 0 || c.heads % c.kv_heads != 0) {
    return ModelError(*file, fmt::format("invalid hyperparameters: block_count={} "
                                         "embedding_length={} feed_forward_length={} "
                                         "head_count={} head_count_kv={}", c.layers, c.embedding,
                                         c.feed_forward, c.heads, c.kv_heads));
  }
  c.head_dim = static_cast<int>(file->GetInt(a + "attention.key_length", c.embedding / c.heads));
  c.rope_dims = static_cast<int>(file->GetInt(a + "rope.dimension_count", c.head_dim));
  if (c.rope_dims > c.head_dim || c.rope_dims % 2 != 0) {
    return ModelError(*file, fmt::format("rope.dimension_count {} does not fit head size {}",
                                         c.rope_dims, c.head_dim));
  }
  const std::string scaling = file->GetString(a + "rope.scaling.type", "none");
  if (scaling == "linear") {
    c.rope_position_scale = 1.0f / static_cast<float>(file->GetFloat(a + "rope.scaling.factor", 1.0));
  } else if (scaling != "none" && !scaling.empty()) {
    // NOTE: YaRN scaling is not implemented; such files run with plain RoPE,
    // which is only correct within the trained context.
    if (scaling != "yarn") {
      return ModelError(*file, fmt::format("rope.scaling.type \"{}\" is not supported (supported: "
                                           "none, linear)", scaling));
    }
  }

  auto matrix = [&](const std::string& name, int64_t columns, int64_t rows,
                    WeightView* out) -> Status {
    const GgufTensor* tensor = file->FindTensor(name);
    if (tensor == nullptr) return ModelError(*file, fmt::format("tensor {} is missing", name));
    if (tensor->dims.size() != 2 || tensor->dims[0] != columns || tensor->dims[1] != rows) {
      return ModelError(*file, fmt::format("tensor {} ({}) has shape [{}], expected [{}, {}]", name,
                                           TypeName(static_cast<uint32_t>(tensor->type)),
                                           fmt::join(tensor->dims, ", "), columns, rows));
    }
    *out = WeightView{tensor->type, tensor->data, rows, columns, RowBytes(tensor->type, columns)};
    return Status::Ok();
  };
  auto vector = [&](const std::string& name, int64_t length, bool required,
                    std::vector<float>* out) -> Status {
    const GgufTensor* tensor = file->FindTensor(name);
    if (tensor == nullptr) {
      if (required) return ModelError(*file, fmt::format("tensor {} is missing", name));
      return Status::Ok();
    }
    if (tensor->elements() != length) {
      return ModelError(*file, fmt::format("tensor {} has {} values, expected {}", name,
                                           tensor->elements(), length));
    }
    out->resize(static_cast<size_t>(length));
    DequantizeRow(tensor->type, tensor->data, out->data(), length);
    return Status::Ok();
  };

  const int64_t q_dim = static_cast<int64_t>(c.heads) * c.head_dim;
  const int64_t kv_dim = c.kv_dim();
  const GgufTensor* embedding = file->FindTensor("token_embd.weight");
  if (embedding == nullptr) return ModelError(*file, "tensor token_embd.weight is missing");
  c.vocab = static_cast<int>(embedding->dims.size() == 2 ? embedding->dims[1] : 0);
  Status s = matrix("token_embd.weight", c.embedding, c.vocab, &model->token_embedding_);
  if (!s.ok()) return s.error();
  s = vector("output_norm.weight", c.embedding, true, &model->output_norm_);
  if (!s.ok()) return s.error();
  if (file->FindTensor("output.weight") != nullptr) {
    s = matrix("output.weight", c.embedding, c.vocab, &model->output_);
    if (!s.ok()) return s.error();
  } else {
    model->output_ = model->token_embedding_;  // Tied embeddings.
  }

  model->layers_.resize(static_cast<size_t>(c.layers));
  for (int i = 0; i < c.layers; ++i) {
    Layer& layer = model->layers_[static_cast<size_t>(i)];
    const std::string p = fmt::format("blk.{}.", i);
    for (Status step : {
             vector(p + "attn_norm.weight", c.embedding, true, &layer.attn_norm),
             vector(p + "ffn_norm.weight", c.embedding, true, &layer.ffn_norm),
             matrix(p + "attn_q.weight", c.embedding, q_dim, &layer.wq),
             matrix(p + "attn_k.weight", c.embedding, kv_dim, &layer.wk),
             matrix(p + "attn_v.weight", c.embedding, kv_dim, &layer.wv),
             matrix(p + "attn_output.weight", q_dim, c.embedding, &layer.wo),
             matrix(p + "ffn_gate.weight", c.embedding, c.feed_forward, &layer.gate),
             matrix(p + "ffn_up.weight", c.embedding, c.feed_forward, &layer.up),
             matrix(p + "ffn_down.weight", c.feed_forward, c.embedding, &layer.down),
             vector(p + "attn_q.bias", q_dim, false, &layer.bq),
             vector(p + "attn_k.bias", kv_dim, false, &layer.bk),
             vector(p + "attn_v.bias", kv_dim, false, &layer.bv),
         }) {
      if (!step.ok()) return step.error();
    }
  }

  // Llama 3.1 files carry per-frequency divisors in rope_freqs.weight.
  std::vector<float> frequency_factors;
  s = vector("rope_freqs.weight", c.rope_dims / 2, false, &frequency_factors);
  if (!s.ok()) return s.error();
  model->inverse_frequencies_.resize(static_cast<size_t>(c.rope_dims / 2));
  for (int i = 0; i < c.rope_dims / 2; ++i) {
    float frequency = std::pow(c.rope_theta, -2.0f * static_cast<float>(i) / static_cast<float>(c.rope_dims));
    if (!frequency_factors.empty()) frequency /= frequency_factors[static_cast<size_t>(i)];
    model->inverse_frequencies_[static_cast<size_t>(i)] = frequency;
  }
  return model;
}

void Model::MatMul(const WeightView& weight, const float* input, int64_t tokens, float* out,
                   ThreadPool& pool) const {
  MatMulGroup({{&weight, out}}, input, tokens, pool);
}

void Model::MatMulGroup(const std::vector<std::pair<const WeightView*, float*>>& products,
                        const float* input, int64_t tokens, ThreadPool& pool) const {
  // Rows are split in chunks of 16, so each thread works on whole cache lines
  // of the output. Matrices that read the same input share one parallel loop:
  // a decode step is short, and each loop costs a thread hand-off.
  std::vector<int64_t> first_chunk;
  int64_t chunks = 0;
  for (const auto& [weight, out] : products) {
    first_chunk.push_back(chunks);
    chunks += (weight->rows + 15) / 16;
  }
  pool.ParallelFor(chunks, [&](int64_t begin, int64_t end) {
    for (size_t m = 0; m < products.size(); ++m) {
      const WeightView& weight = *products[m].first;
      const int64_t own_end = m + 1 < products.size() ? first_chunk[m + 1] : chunks;
      const int64_t from = std::max(begin, first_chunk[m]);
      const int64_t to = std::min(end, own_end);
      if (from >= to) continue;
      MatMulRows(weight, input, weight.columns, tokens, products[m].second, weight.rows,
                 (from - first_chunk[m]) * 16, std::min(weight.rows, (to - first_chunk[m]) * 16));
    }
  });
}

void Model::Rope(float* vectors, int heads, int position) const {
  const int dims = config_.rope_dims;
  const float scaled_position = static_cast<float>(position) * config_.rope_position_scale;
  for (int h = 0; h < heads; ++h) {
    float* x = vectors + static_cast<size_t>(h) * config_.head_dim;
    for (int i = 0; i < dims / 2; ++i) {
      const float angle = scaled_position * inverse_frequencies_[static_cast<size_t>(i)];
      const float cos_angle = std::cos(angle), sin_angle = std::sin(angle);
      const int first = config_.rope_neox ? i : 2 * i;
      const int second = config_.rope_neox ? i + dims / 2 : 2 * i + 1;
      const float x0 = x[first], x1 = x[second];
      x[first] = x0 * cos_angle - x1 * sin_angle;
      x[second] = x0 * sin_angle + x1 * cos_angle;
    }
  }
}

void Model::Attention(const std::vector<BatchToken>& batch, int layer, const float* q, float* out,
                      ThreadPool& pool) const {
  const int heads = config_.heads;
  const int head_dim = config_.head_dim;
  const int group = heads / config_.kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  const int64_t q_dim = static_cast<int64_t>(heads) * head_dim;
  auto body = [&](int64_t begin, int64_t end) {
    std::vector<float> scores;
    for (int64_t item = begin; item < end; ++item) {
      const BatchToken& token = batch[static_cast<size_t>(item / heads)];
      const int head = static_cast<int>(item % heads);
      const int kv_offset = (head / group) * head_dim;
      const float* query = q + (item / heads) * q_dim + static_cast<int64_t>(head) * head_dim;
      const int length = token.position + 1;
      scores.resize(static_cast<size_t>(length));
      float max_score = -INFINITY;
      for (int j = 0; j < length; ++j) {
        const float* key = token.cache->keys(layer, j) + kv_offset;
        const float dot = DotProduct(query, key, head_dim);
        scores[static_cast<size_t>(j)] = dot * scale;
        max_score = std::max(max_score, dot * scale);
      }
      float sum = 0;
      for (float& score : scores) {
        score = std::exp(score - max_score);
        sum += score;
      }
      float* result = out + (item / heads) * q_dim + static_cast<int64_t>(head) * head_dim;
      std::fill(result, result + head_dim, 0.0f);
      for (int j = 0; j < length; ++j) {
        const float weight = scores[static_cast<size_t>(j)] / sum;
        const float* value = token.cache->values(layer, j) + kv_offset;
        for (int d = 0; d < head_dim; ++d) result[d] += weight * value[d];
      }
    }
  };
  // Short contexts cost less than a thread hand-off, so they run here.
  int64_t work = 0;
  for (const BatchToken& token : batch) work += static_cast<int64_t>(token.position + 1) * heads * head_dim;
  const int64_t items = static_cast<int64_t>(batch.size()) * heads;
  if (work < 65536) {
    body(0, items);
  } else {
    pool.ParallelFor(items, body);
  }
}

Status Model::Evaluate(const std::vector<BatchToken>& batch, ThreadPool& pool,
                       std::vector<float>* logits) const {
  const ModelConfig& c = config_;
  const int64_t n = static_cast<int64_t>(batch.size());
  const int64_t d = c.embedding;
  const int64_t q_dim = static_cast<int64_t>(c.heads) * c.head_dim;
  const int64_t kv_dim = c.kv_dim();
  for (const BatchToken& token : batch) {
    if (token.token < 0 || token.token >= c.vocab) {
      return Error::InvalidRequest(fmt::format("token id {} is outside the vocabulary of {} tokens",
                                               token.token, c.vocab), "prompt");
    }
    if (token.position < 0 || token.position >= token.cache->context()) {
      return Error::InvalidRequest(fmt::format("position {} is outside the context of {} tokens",
                                               token.position, token.cache->context()), "prompt");
    }
  }

  std::vector<float> x(static_cast<size_t>(n * d)), normed(static_cast<size_t>(n * d));
  std::vector<float> q(static_cast<size_t>(n * q_dim)), k(static_cast<size_t>(n * kv_dim));
  std::vector<float> v(static_cast<size_t>(n * kv_dim)), attention(static_cast<size_t>(n * q_dim));
  std::vector<float> gate(static_cast<size_t>(n * c.feed_forward));
  std::vector<float> up(static_cast<size_t>(n * c.feed_forward));
  for (int64_t t = 0; t < n; ++t) {
    const int id = batch[static_cast<size_t>(t)].token;
    DequantizeRow(token_embedding_.type, token_embedding_.data + id * token_embedding_.row_bytes,
                  &x[static_cast<size_t>(t * d)], d);
  }

  for (int l = 0; l < c.layers; ++l) {
    const Layer& layer = layers_[static_cast<size_t>(l)];
    for (int64_t t = 0; t < n; ++t) {
      RmsNorm(&x[static_cast<size_t>(t * d)], layer.attn_norm, c.rms_epsilon,
              &normed[static_cast<size_t>(t * d)], static_cast<int>(d));
    }
    MatMulGroup({{&layer.wq, q.data()}, {&layer.wk, k.data()}, {&layer.wv, v.data()}}, normed.data(), n, pool);
    for (int64_t t = 0; t < n; ++t) {
      float* qt = &q[static_cast<size_t>(t * q_dim)];
      float* kt = &k[static_cast<size_t>(t * kv_dim)];
      float* vt = &v[static_cast<size_t>(t * kv_dim)];
      if (!layer.bq.empty()) for (int64_t i = 0; i < q_dim; ++i) qt[i] += layer.bq[static_cast<size_t>(i)];
      if (!layer.bk.empty()) for (int64_t i = 0; i < kv_dim; ++i) kt[i] += layer.bk[static_cast<size_t>(i)];
      if (!layer.bv.empty()) for (int64_t i = 0; i < kv_dim; ++i) vt[i] += layer.bv[static_cast<size_t>(i)];
      const BatchToken& token = batch[static_cast<size_t>(t)];
      Rope(qt, c.heads, token.position);
      Rope(kt, c.kv_heads, token.position);
      std::memcpy(token.cache->keys(l, token.position), kt, static_cast<size_t>(kv_dim) * 4);
      std::memcpy(token.cache->values(l, token.position), vt, static_cast<size_t>(kv_dim) * 4);
    }
    Attention(batch, l, q.data(), attention.data(), pool);
    MatMul(layer.wo, attention.data(), n, normed.data(), pool);
    for (int64_t i = 0; i < n * d; ++i) x[static_cast<size_t>(i)] += normed[static_cast<size_t>(i)];

    for (int64_t t = 0; t < n; ++t) {
      RmsNorm(&x[static_cast<size_t>(t * d)], layer.ffn_norm, c.rms_epsilon,
              &normed[static_cast<size_t>(t * d)], static_cast<int>(d));
    }
    MatMulGroup({{&layer.gate, gate.data()}, {&layer.up, up.data()}}, normed.data(), n, pool);
    for (size_t i = 0; i < gate.size(); ++i) {
      const float g = gate[i];
      gate[i] = g / (1.0f + std::exp(-g)) * up[i];  // SiLU(gate) * up.
    }
    MatMul(layer.down, gate.data(), n, normed.data(), pool);
    for (int64_t i = 0; i < n * d; ++i) x[static_cast<size_t>(i)] += normed[static_cast<size_t>(i)];
  }

  std::vector<float> selected;
  for (int64_t t = 0; t < n; ++t) {
    if (!batch[static_cast<size_t>(t)].logits) continue;
    const size_t offset = selected.size();
    selected.resize(offset + static_cast<size_t>(d));
    RmsNorm(&x[static_cast<size_t>(t * d)], output_norm_, c.rms_epsilon, &selected[offset],
            static_cast<int>(d));
  }
  const int64_t wanted = static_cast<int64_t>(selected.size()) / d;
  const size_t start = logits->size();
  logits->resize(start + static_cast<size_t>(wanted) * c.vocab);
  MatMul(output_, selected.data(), wanted, logits->data() + start, pool);
  for (const BatchToken& token : batch) {
    token.cache->length = std::max(token.cache->length, token.position + 1);
  }
  return Status::Ok();
}

}  // namespace weir::engine
