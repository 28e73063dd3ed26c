// Sampler: picks the next token from logits with the OpenAI-style and
// llama.cpp-style parameters. One Sampler belongs to one sequence and is
// used by one thread at a time.
#pragma once

#include <cstdint>
#include <random>
#include <unordered_map>
#include <vector>

#include "common/result.h"

namespace weir::engine {

struct SamplingParams {
  float temperature = 1.0f;  // 0 picks the most likely token (greedy).
  int top_k = 0;             // 0 keeps every token.
  float top_p = 1.0f;
  float min_p = 0.0f;        // Drops tokens below min_p times the top probability.
  float repetition_penalty = 1.0f;  // Divides positive logits of seen tokens (CTRL style).
  float frequency_penalty = 0.0f;   // Subtracts penalty * count of each generated token.
  float presence_penalty = 0.0f;    // Subtracts penalty once per generated token.
  uint64_t seed = 0;
  bool has_seed = false;

  // Checks every field's range; the error names the field and the range.
  Status Validate() const;
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);

  // Records a token that the model has seen (prompt) or produced (generated).
  // Repetition penalty applies to both, frequency and presence to generated.
  void Accept(int token, bool generated);

  // Samples from `logits` (modified in place).
  int Sample(float* logits, int vocab);

 private:
  SamplingParams params_;
  std::mt19937_64 rng_;
  std::unordered_map<int, int> generated_counts_;
  std::vector<int> seen_;  // Distinct tokens of prompt and output.
  std::vector<bool> seen_flag_;
};

}  // namespace weir::engine
