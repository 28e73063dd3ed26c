#include <algorithm>
#include <array>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "quota/counter_store.h"

namespace weir {
namespace {

struct Bucket {
  double tokens = 0;
  SteadyTime updated;
};

// Shards keep unrelated users from contending on one mutex.
constexpr size_t kShards = 32;

class InProcessCounterStore final : public CounterStore {
 public:
  double TakeTokens(std::string_view key, double cost, double rate, double burst, SteadyTime now,
                    bool allow_debt) override {
    Shard& shard = ShardFor(key);
    std::lock_guard lock(shard.mutex);
    Bucket& bucket = Refill(shard, key, rate, burst, now);
    if (bucket.tokens >= cost || allow_debt) {
      bucket.tokens -= cost;
      return 0.0;
    }
    return (cost - bucket.tokens) / rate;
  }

  double Balance(std::string_view key, double rate, double burst, SteadyTime now) override {
    Shard& shard = ShardFor(key);
    std::lock_guard lock(shard.mutex);
    return Refill(shard, key, rate, burst, now).tokens;
  }

  int64_t Add(std::string_view key, int64_t amount) override {
    Shard& shard = ShardFor(key);
    std::lock_guard lock(shard.mutex);
    return shard.sums[std::string(key)] += amount;
  }

  int64_t Get(std::string_view key) override {
    Shard& shard = ShardFor(key);
    std::lock_guard lock(shard.mutex);
    auto found = shard.sums.find(std::string(key));
    return found == shard.sums.end() ? 0 : found->second;
  }

 private:
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, Bucket> buckets;
    std::unordered_map<std::string, int64_t> sums;
  };

  Shard& ShardFor(std::string_view key) { return shards_[std::hash<std::string_view>{}(key) % kShards]; }

  // Brings the bucket up to `now`. A bucket whose limits shrank is capped at
  // the new burst; time never runs backwards for a bucket.
  static Bucket& Refill(Shard& shard, std::string_view key, double rate, double burst, SteadyTime now) {
    auto [it, inserted] = shard.buckets.try_emplace(std::string(key));
    Bucket& bucket = it->second;
    if (inserted) {
      bucket.tokens = burst;
      bucket.updated = now;
      return bucket;
    }
    if (now > bucket.updated) {
      double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
      bucket.tokens = std::min(burst, bucket.tokens + elapsed * rate);
      bucket.updated = now;
    }
    bucket.tokens = std::min(bucket.tokens, burst);
    return bucket;
  }

  std::array<Shard, kShards> shards_;
};

}  // namespace

std::unique_ptr<CounterStore> MakeInProcessCounterStore() { return std::make_unique<InProcessCounterStore>(); }

}  // namespace weir
