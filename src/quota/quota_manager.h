// QuotaManager: admits or rejects a request by the caller's limits and
// charges the tokens it used.
//
// Limits per user are the role default (config quota.defaults), replaced field
// by field by the user's override, and for requests/s raised by the promotion
// policy when the user's recent history earns it. Three limits apply:
//   - requests per second: a token bucket with `burst` capacity;
//   - tokens per minute: a token bucket of `tokens_per_minute` that refills
//     over 60 s; a request is admitted while the balance is positive and the
//     tokens it used are charged afterwards, so one large answer can put the
//     balance in debt and delay the next request;
//   - daily tokens: a sum per UTC day.
//
// Threading: every method is safe to call from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "auth/identity_cache.h"
#include "common/result.h"
#include "config/config.h"
#include "quota/counter_store.h"

namespace weir {

// A user's recent history, as the promotion policy reads it.
struct UsageHistory {
  int64_t requests = 0;  // In the last 7 days.
  int64_t rejected = 0;  // Of those, answered 4xx for quota or abuse, or 5xx.
};

class QuotaManager {
 public:
  QuotaManager(Config::Quota config, CounterStore& counters);

  // Returns the limits in force for `principal` now.
  QuotaLimits LimitsFor(const Principal& principal) const;

  // Takes one request from the caller's budget. Returns a 429 Error with
  // Retry-After when a limit is exhausted; `now_unix` picks the UTC day.
  Status Admit(const Principal& principal, SteadyTime now, int64_t now_unix);

  // Charges tokens used by an admitted request.
  void Charge(const Principal& principal, int64_t tokens, SteadyTime now, int64_t now_unix);

  // Replaces the promotion factors from fresh usage history (user id -> history).
  void UpdatePromotions(const std::unordered_map<int64_t, UsageHistory>& history, int64_t now_unix,
                        const std::unordered_map<int64_t, int64_t>& user_created_at);

  // Returns the factor the promotion policy applies to a user's requests/s.
  double PromotionFactor(int64_t user_id) const;

 private:
  Config::Quota config_;
  CounterStore& counters_;
  mutable std::mutex promotions_mutex_;
  std::unordered_map<int64_t, double> promotions_;
};

}  // namespace weir
