#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

namespace weir::engine {

Status SamplingParams::Validate() const {
  auto invalid = [](const char* field, double value, const char* range) {
    return Error::InvalidRequest(fmt::format("{} is {}, but it must be {}", field, value, range), field);
  };
  if (!(temperature >= 0.0f && temperature <= 2.0f)) return invalid("temperature", temperature, "between 0 and 2");
  if (top_k < 0) return invalid("top_k", top_k, "0 (off) or a positive count");
  if (!(top_p > 0.0f && top_p <= 1.0f)) return invalid("top_p", top_p, "greater than 0 and at most 1");
  if (!(min_p >= 0.0f && min_p <= 1.0f)) return invalid("min_p", min_p, "between 0 and 1");
  if (!(repetition_penalty > 0.0f && repetition_penalty <= 10.0f)) {
    return invalid("repetition_penalty", repetition_penalty, "greater than 0 and at most 10");
  }
  if (!(frequency_penalty >= -2.0f && frequency_penalty <= 2.0f)) {
    return invalid("frequency_penalty", frequency_penalty, "between -2 and 2");
  }
  if (!(presence_penalty >= -2.0f && presence_penalty <= 2.0f)) {
    return invalid("presence_penalty", presence_penalty, "between -2 and 2");
  }
  return Status::Ok();
}

Sampler::Sampler(const SamplingParams& params)
    : params_(params), rng_(params.has_seed ? params.seed : std::random_device{}()) {}

void Sampler::Accept(int token, bool generated) {
  if (token < 0) return;
  if (static_cast<size_t>(token) >= seen_flag_.size()) seen_flag_.resize(static_cast<size_t>(token) + 1, false);
  if (!seen_flag_[static_cast<size_t>(token)]) {
    seen_flag_[static_cast<size_t>(token)] = true;
    seen_.push_back(token);
  }
  if (generated) ++generated_counts_[token];
}

int Sampler::Sample(float* logits, int vocab) {
  if (params_.repetition_penalty != 1.0f) {
    for (int token : seen_) {
      if (token >= vocab) continue;
      float& logit = logits[token];
      logit = logit > 0 ? logit / params_.repetition_penalty : logit * params_.repetition_penalty;
    }
  }
  for (const auto& [token, count] : generated_counts_) {
    if (token >= vocab) continue;
    logits[token] -= params_.frequency_penalty * static_cast<float>(count) + params_.presence_penalty;
  }

  if (params_.temperature == 0.0f) {
    return static_cast<int>(std::max_element(logits, logits + vocab) - logits);
  }

  // Candidates sorted by logit, cut by top_k, then softmax, min_p and top_p.
  std::vector<int> candidates(static_cast<size_t>(vocab));
  std::iota(candidates.begin(), candidates.end(), 0);
  size_t keep = candidates.size();
  if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < keep) keep = static_cast<size_t>(params_.top_k);
  auto by_logit = [&](int a, int b) { return logits[a] > logits[b]; };
  if (keep < candidates.size()) {
    std::partial_sort(candidates.begin(), candidates.begin() + static_cast<long>(keep), candidates.end(), by_logit);
    candidates.resize(keep);
  } else {
    std::sort(candidates.begin(), candidates.end(), by_logit);
  }

  std::vector<double> probabilities(candidates.size());
  const double max_logit = logits[candidates.front()];
  double total = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    probabilities[i] = std::exp((logits[candidates[i]] - max_logit) / params_.temperature);
    total += probabilities[i];
  }
  size_t cut = candidates.size();
  double cumulative = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    probabilities[i] /= total;
    if (params_.min_p > 0 && probabilities[i] < params_.min_p * probabilities[0] && i > 0) {
      cut = std::min(cut, i);
    }
    cumulative += probabilities[i];
    if (cumulative >= params_.top_p && cut > i + 1) cut = i + 1;
  }
  std::discrete_distribution<size_t> pick(probabilities.begin(), probabilities.begin() + static_cast<long>(cut));
  return candidates[pick(rng_)];
}

}  // namespace weir::engine
