// Upstream selection for one model: versions, weights, load and passive health.
//
// Picking: the caller's version is chosen first (sticky per user by a hash of
// the user id, split by each version's canary_weight), then among that
// version's available upstreams the one with the fewest outstanding requests
// per unit of weight. Ties go to a clearly lower latency EWMA, else to the
// upstream that served fewer requests per unit of weight.
//
// Passive health: every attempt reports success or failure. An upstream is
// ejected after `eject_after_failures` consecutive failures (connect errors,
// timeouts, 5xx) and gets no requests for `eject_cooldown`. Then it is
// half-open: exactly one request probes it; success restores it, failure
// ejects it again.
//
// Threading: all methods are safe from any thread (one mutex per pool).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "routing/upstream.h"

namespace weir {

enum class UpstreamState { kHealthy, kEjected, kHalfOpen };
std::string_view UpstreamStateName(UpstreamState state);

// A snapshot of one upstream, for the admin API and metrics.
struct UpstreamStatus {
  std::string id;
  std::string version;
  double weight = 1.0;
  double canary_weight = 100.0;
  UpstreamState state = UpstreamState::kHealthy;
  int outstanding = 0;
  double ewma_ms = 0;
  int consecutive_failures = 0;
  uint64_t requests = 0;
  uint64_t failures = 0;
};

struct HealthPolicy {
  int eject_after_failures = 3;
  std::chrono::milliseconds eject_cooldown{10000};
};

class UpstreamPool {
 public:
  struct Member {
    std::shared_ptr<Upstream> upstream;
    UpstreamConfig config;
  };

  UpstreamPool(std::string model, std::vector<Member> members, HealthPolicy policy);

  // A picked upstream. Report() must be called exactly once with the outcome;
  // the pick holds one outstanding request until then.
  struct Pick {
    size_t index = 0;
    std::shared_ptr<Upstream> upstream;
    std::string version;
  };

  // Picks an upstream for `user_id`, skipping the indexes in `exclude`.
  // nullopt when none is available.
  std::optional<Pick> Choose(int64_t user_id, const std::set<size_t>& exclude,
                             std::chrono::steady_clock::time_point now);
  // Reports the outcome of an attempt. `failed` marks it a health failure.
  // Returns true when this report ejected the upstream.
  bool Report(const Pick& pick, bool failed, std::chrono::steady_clock::duration latency,
              std::chrono::steady_clock::time_point now);

  std::vector<UpstreamStatus> Status() const;
  const std::string& model() const { return model_; }
  size_t size() const { return entries_.size(); }

  // Changes the weight of the upstream with this id; false when none has it.
  bool SetWeight(const std::string& id, double weight);

  // Returns the version a user is routed to, by the canary split.
  std::string VersionFor(int64_t user_id) const;

 private:
  struct Entry {
    Member member;
    UpstreamState state = UpstreamState::kHealthy;
    int outstanding = 0;
    double ewma_ms = 0;
    int consecutive_failures = 0;
    bool probe_in_flight = false;
    std::chrono::steady_clock::time_point ejected_until;
    uint64_t requests = 0;
    uint64_t failures = 0;
  };

  bool AvailableLocked(Entry& entry, std::chrono::steady_clock::time_point now);
  static bool BreaksTie(const Entry& candidate, const Entry& best);
  std::string VersionForLocked(int64_t user_id) const;

  std::string model_;
  HealthPolicy policy_;
  mutable std::mutex mutex_;
  std::vector<Entry> entries_;
};

}  // namespace weir
