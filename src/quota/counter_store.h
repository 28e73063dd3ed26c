// CounterStore: the counters behind quotas (token buckets and windowed sums).
//
// InProcessCounterStore serves one gateway replica. Several replicas need the
// counters shared; a Redis implementation of this interface does that.
//
// Threading: every method is safe to call from any thread. The in-process
// implementation never blocks beyond a short per-shard mutex.
// NOTE: the methods are synchronous; a Redis implementation would keep a local
// reservation per key and reconcile in the background rather than making a
// network round trip on the request path.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace weir {

using SteadyTime = std::chrono::steady_clock::time_point;

class CounterStore {
 public:
  virtual ~CounterStore() = default;

  // Takes `cost` tokens from the token bucket `key`, which refills at `rate`
  // tokens per second up to `burst`. A new bucket starts full. Returns 0 when
  // the tokens were taken; otherwise takes nothing and returns the seconds
  // until `cost` tokens will be available. With `allow_debt`, the tokens are
  // always taken and the balance may go negative (for charges known only
  // after the fact, such as generated tokens); the return value is then 0.
  virtual double TakeTokens(std::string_view key, double cost, double rate, double burst, SteadyTime now,
                            bool allow_debt = false) = 0;

  // Returns the current balance of the bucket `key` (burst for a new bucket).
  virtual double Balance(std::string_view key, double rate, double burst, SteadyTime now) = 0;

  // Adds `amount` to the counter `key` and returns the new total.
  virtual int64_t Add(std::string_view key, int64_t amount) = 0;
  // Returns the counter `key`, 0 when it was never added to.
  virtual int64_t Get(std::string_view key) = 0;
};

std::unique_ptr<CounterStore> MakeInProcessCounterStore();

}  // namespace weir
