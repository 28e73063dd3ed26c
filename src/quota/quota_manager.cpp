#include "quota/quota_manager.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace weir {
namespace {

constexpr int64_t kSecondsPerDay = 86400;

int RetryAfterSeconds(double seconds) { return std::max(1, static_cast<int>(std::ceil(seconds))); }

std::string UserKey(const char* kind, int64_t user_id) { return fmt::format("{}:{}", kind, user_id); }

}  // namespace

QuotaManager::QuotaManager(Config::Quota config, CounterStore& counters)
    : config_(std::move(config)), counters_(counters) {}

QuotaLimits QuotaManager::LimitsFor(const Principal& principal) const {
  QuotaLimits limits;
  auto found = config_.defaults.find(principal.role);
  if (found != config_.defaults.end()) limits = found->second;

  const QuotaOverride& custom = principal.quota;
  if (custom.requests_per_second) {
    limits.requests_per_second = *custom.requests_per_second;
  } else {
    // Promotion raises only the role default; an explicit override is final.
    double factor = PromotionFactor(principal.user_id);
    limits.requests_per_second = std::min(std::max(limits.requests_per_second, config_.promotion.max_requests_per_second),
                                          limits.requests_per_second * factor);
    limits.burst *= factor;
  }
  if (custom.burst) limits.burst = *custom.burst;
  if (custom.tokens_per_minute) limits.tokens_per_minute = *custom.tokens_per_minute;
  if (custom.daily_tokens) limits.daily_tokens = *custom.daily_tokens;
  return limits;
}

Status QuotaManager::Admit(const Principal& principal, SteadyTime now, int64_t now_unix) {
  QuotaLimits limits = LimitsFor(principal);

  double wait = counters_.TakeTokens(UserKey("rps", principal.user_id), 1.0, limits.requests_per_second,
                                     limits.burst, now);
  if (wait > 0) {
    return Error::RateLimited(fmt::format("rate limit of {} requests/s (burst {}) exceeded for user {}; retry after "
                                          "{:.2f}s",
                                          limits.requests_per_second, limits.burst, principal.user_name, wait),
                              RetryAfterSeconds(wait));
  }

  if (limits.tokens_per_minute > 0) {
    double rate = static_cast<double>(limits.tokens_per_minute) / 60.0;
    double balance = counters_.Balance(UserKey("tpm", principal.user_id), rate,
                                       static_cast<double>(limits.tokens_per_minute), now);
    if (balance <= 0) {
      double seconds = (1.0 - balance) / rate;
      return Error::RateLimited(fmt::format("token limit of {} tokens/min exceeded for user {}; retry after {:.1f}s",
                                            limits.tokens_per_minute, principal.user_name, seconds),
                                RetryAfterSeconds(seconds));
    }
  }

  if (limits.daily_tokens > 0) {
    int64_t day = now_unix / kSecondsPerDay;
    int64_t used = counters_.Get(fmt::format("day:{}:{}", principal.user_id, day));
    if (used >= limits.daily_tokens) {
      int64_t until_midnight = (day + 1) * kSecondsPerDay - now_unix;
      return Error::RateLimited(fmt::format("daily budget of {} tokens used up by user {} ({} used); it resets at "
                                            "00:00 UTC",
                                            limits.daily_tokens, principal.user_name, used),
                                static_cast<int>(until_midnight));
    }
  }
  return Status::Ok();
}

void QuotaManager::Charge(const Principal& principal, int64_t tokens, SteadyTime now, int64_t now_unix) {
  if (tokens <= 0) return;
  QuotaLimits limits = LimitsFor(principal);
  if (limits.tokens_per_minute > 0) {
    double rate = static_cast<double>(limits.tokens_per_minute) / 60.0;
    counters_.TakeTokens(UserKey("tpm", principal.user_id), static_cast<double>(tokens), rate,
                         static_cast<double>(limits.tokens_per_minute), now, /*allow_debt=*/true);
  }
  counters_.Add(fmt::format("day:{}:{}", principal.user_id, now_unix / kSecondsPerDay), tokens);
}

void QuotaManager::UpdatePromotions(const std::unordered_map<int64_t, UsageHistory>& history, int64_t now_unix,
                                    const std::unordered_map<int64_t, int64_t>& user_created_at) {
  const QuotaPromotionPolicy& policy = config_.promotion;
  std::unordered_map<int64_t, double> promotions;
  if (policy.enabled) {
    for (const auto& [user_id, usage] : history) {
      auto created = user_created_at.find(user_id);
      if (created == user_created_at.end()) continue;
      int64_t age_days = (now_unix - created->second) / kSecondsPerDay;
      if (age_days < policy.min_account_days || usage.requests < policy.min_requests) continue;
      double rejected_ratio = static_cast<double>(usage.rejected) / static_cast<double>(usage.requests);
      if (rejected_ratio > policy.max_rejected_ratio) continue;
      // One step per multiple of the thresholds met, so steady use earns more.
      int64_t steps = std::min(age_days / policy.min_account_days, usage.requests / policy.min_requests);
      promotions[user_id] = std::pow(policy.factor, static_cast<double>(std::min<int64_t>(steps, 8)));
    }
  }
  std::lock_guard lock(promotions_mutex_);
  promotions_ = std::move(promotions);
}

double QuotaManager::PromotionFactor(int64_t user_id) const {
  std::lock_guard lock(promotions_mutex_);
  auto found = promotions_.find(user_id);
  return found == promotions_.end() ? 1.0 : found->second;
}

}  // namespace weir
