#include "routing/upstream_pool.h"

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace weir {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

const Clock::time_point kStart = Clock::time_point() + std::chrono::hours(1000);
const std::set<size_t> kNone;

// An upstream the pool can pick; the pool only reads its id.
class FakeUpstream final : public Upstream {
 public:
  explicit FakeUpstream(std::string id) : id_(std::move(id)) {}
  const std::string& id() const override { return id_; }
  boost::asio::awaitable<UpstreamOpenResult> Open(const UpstreamRequest&, const UpstreamTimeouts&) override {
    UpstreamOpenResult result;
    result.failure = UpstreamFailure::kConnect;
    result.failure_message = "fake upstream " + id_ + " accepts no requests";
    co_return result;
  }

 private:
  std::string id_;
};

struct MemberSpec {
  std::string id;
  double weight = 1.0;
  std::string version = "m";
  double canary_weight = 100.0;
};

UpstreamPool MakePool(const std::vector<MemberSpec>& specs, int eject_after = 3,
                      milliseconds cooldown = milliseconds(10000)) {
  std::vector<UpstreamPool::Member> members;
  for (const auto& spec : specs) {
    UpstreamPool::Member member;
    member.upstream = std::make_shared<FakeUpstream>(spec.id);
    member.config.url = "http://127.0.0.1:1/" + spec.id;
    member.config.weight = spec.weight;
    member.config.version = spec.version;
    member.config.canary_weight = spec.canary_weight;
    members.push_back(std::move(member));
  }
  return UpstreamPool("m", std::move(members), HealthPolicy{eject_after, cooldown});
}

// Picks the upstream at `index` (by excluding every other) and reports a failure.
bool FailAt(UpstreamPool& pool, size_t index, Clock::time_point now) {
  std::set<size_t> exclude;
  for (size_t i = 0; i < pool.size(); ++i) {
    if (i != index) exclude.insert(i);
  }
  auto pick = pool.Choose(1, exclude, now);
  EXPECT_TRUE(pick.has_value());
  EXPECT_EQ(pick->index, index);
  return pool.Report(*pick, /*failed=*/true, milliseconds(5), now);
}

UpstreamState StateOf(const UpstreamPool& pool, size_t index) { return pool.Status().at(index).state; }

TEST(UpstreamPoolTest, LeastOutstandingPerUnitOfWeight) {
  UpstreamPool pool = MakePool({{"a", 1.0}, {"b", 3.0}});
  std::map<std::string, int> picks;
  for (int i = 0; i < 8; ++i) {
    auto pick = pool.Choose(1, kNone, kStart);
    ASSERT_TRUE(pick.has_value());
    ++picks[pick->upstream->id()];
  }
  // Held picks stay outstanding: b, with three times the weight, carries three times the load.
  EXPECT_EQ(picks["a"], 2);
  EXPECT_EQ(picks["b"], 6);
  EXPECT_EQ(pool.Status()[0].outstanding, 2);
  EXPECT_EQ(pool.Status()[1].outstanding, 6);
}

TEST(UpstreamPoolTest, ReportReleasesOutstanding) {
  UpstreamPool pool = MakePool({{"a"}, {"b"}});
  auto first = pool.Choose(1, kNone, kStart);
  ASSERT_TRUE(first.has_value());
  pool.Report(*first, false, milliseconds(10), kStart);
  EXPECT_EQ(pool.Status()[first->index].outstanding, 0);
  EXPECT_EQ(pool.Status()[first->index].requests, 1u);
}

TEST(UpstreamPoolTest, EqualLoadGoesToLowerLatency) {
  UpstreamPool pool = MakePool({{"a"}, {"b"}});
  auto a = pool.Choose(1, {1}, kStart);
  auto b = pool.Choose(1, {0}, kStart);
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  pool.Report(*a, false, milliseconds(100), kStart);
  pool.Report(*b, false, milliseconds(10), kStart);
  EXPECT_DOUBLE_EQ(pool.Status()[0].ewma_ms, 100.0);
  EXPECT_DOUBLE_EQ(pool.Status()[1].ewma_ms, 10.0);
  for (int i = 0; i < 3; ++i) {
    auto pick = pool.Choose(1, kNone, kStart);
    ASSERT_TRUE(pick.has_value());
    EXPECT_EQ(pick->upstream->id(), "b");
    pool.Report(*pick, false, milliseconds(10), kStart);
  }
}

TEST(UpstreamPoolTest, EwmaBlendsNewSamples) {
  UpstreamPool pool = MakePool({{"a"}});
  auto pick = pool.Choose(1, kNone, kStart);
  pool.Report(*pick, false, milliseconds(100), kStart);
  pick = pool.Choose(1, kNone, kStart);
  pool.Report(*pick, false, milliseconds(200), kStart);
  // 0.2 * 200 + 0.8 * 100.
  EXPECT_DOUBLE_EQ(pool.Status()[0].ewma_ms, 120.0);
}

TEST(UpstreamPoolTest, OneFailureDoesNotEject) {
  UpstreamPool pool = MakePool({{"a"}, {"b"}});
  EXPECT_FALSE(FailAt(pool, 0, kStart));
  EXPECT_EQ(StateOf(pool, 0), UpstreamState::kHealthy);
  EXPECT_EQ(pool.Status()[0].consecutive_failures, 1);
  EXPECT_TRUE(pool.Choose(1, {1}, kStart).has_value());
}

TEST(UpstreamPoolTest, EjectsAfterConsecutiveFailures) {
  UpstreamPool pool = MakePool({{"a"}, {"b"}});
  EXPECT_FALSE(FailAt(pool, 0, kStart));
  EXPECT_FALSE(FailAt(pool, 0, kStart));
  EXPECT_TRUE(FailAt(pool, 0, kStart));
  EXPECT_EQ(StateOf(pool, 0), UpstreamState::kEjected);
  EXPECT_EQ(pool.Status()[0].failures, 3u);
}

TEST(UpstreamPoolTest, SuccessResetsConsecutiveFailures) {
  UpstreamPool pool = MakePool({{"a"}, {"b"}});
  FailAt(pool, 0, kStart);
  FailAt(pool, 0, kStart);
  auto pick = pool.Choose(1, {1}, kStart);
  ASSERT_TRUE(pick.has_value());
  pool.Report(*pick, false, milliseconds(5), kStart);
  EXPECT_EQ(pool.Status()[0].consecutive_failures, 0);
  EXPECT_FALSE(FailAt(pool, 0, kStart));
  EXPECT_FALSE(FailAt(pool, 0, kStart));
  EXPECT_EQ(StateOf(pool, 0), UpstreamState::kHealthy);
}

TEST(UpstreamPoolTest, EjectedUpstreamGetsNoPicks) {
  UpstreamPool pool = MakePool({{"a"}, {"b"}});
  for (int i = 0; i < 3; ++i) FailAt(pool, 0, kStart);
  for (int i = 0; i < 100; ++i) {
    auto pick = pool.Choose(i, kNone, kStart + milliseconds(i));
    ASSERT_TRUE(pick.has_value());
    EXPECT_EQ(pick->index, 1u);
    pool.Report(*pick, false, milliseconds(5), kStart + milliseconds(i));
  }
  EXPECT_FALSE(pool.Choose(1, {1}, kStart + milliseconds(9999)).has_value());
}

TEST(UpstreamPoolTest, HalfOpenAfterCooldownAllowsExactlyOneProbe) {
  UpstreamPool pool = MakePool({{"a"}}, 1, milliseconds(10000));
  ASSERT_TRUE(FailAt(pool, 0, kStart));
  EXPECT_FALSE(pool.Choose(1, kNone, kStart + milliseconds(9999)).has_value());

  auto probe = pool.Choose(1, kNone, kStart + milliseconds(10000));
  ASSERT_TRUE(probe.has_value());
  EXPECT_EQ(StateOf(pool, 0), UpstreamState::kHalfOpen);
  EXPECT_FALSE(pool.Choose(2, kNone, kStart + milliseconds(10001)).has_value());
  EXPECT_FALSE(pool.Choose(3, kNone, kStart + milliseconds(20000)).has_value());
}

TEST(UpstreamPoolTest, ProbeSuccessRestores) {
  UpstreamPool pool = MakePool({{"a"}}, 1, milliseconds(10000));
  ASSERT_TRUE(FailAt(pool, 0, kStart));
  auto probe = pool.Choose(1, kNone, kStart + milliseconds(10000));
  ASSERT_TRUE(probe.has_value());
  EXPECT_FALSE(pool.Report(*probe, false, milliseconds(5), kStart + milliseconds(10005)));
  EXPECT_EQ(StateOf(pool, 0), UpstreamState::kHealthy);
  auto first = pool.Choose(1, kNone, kStart + milliseconds(10006));
  auto second = pool.Choose(2, kNone, kStart + milliseconds(10006));
  EXPECT_TRUE(first.has_value());
  EXPECT_TRUE(second.has_value());
}

TEST(UpstreamPoolTest, ProbeFailureEjectsAgain) {
  UpstreamPool pool = MakePool({{"a"}}, 3, milliseconds(10000));
  for (int i = 0; i < 3; ++i) FailAt(pool, 0, kStart);
  auto probe = pool.Choose(1, kNone, kStart + milliseconds(10000));
  ASSERT_TRUE(probe.has_value());
  // One failed probe ejects again, whatever eject_after_failures is.
  EXPECT_TRUE(pool.Report(*probe, true, milliseconds(5), kStart + milliseconds(10010)));
  EXPECT_EQ(StateOf(pool, 0), UpstreamState::kEjected);
  EXPECT_FALSE(pool.Choose(1, kNone, kStart + milliseconds(20009)).has_value());
  EXPECT_TRUE(pool.Choose(1, kNone, kStart + milliseconds(20010)).has_value());
}

TEST(UpstreamPoolTest, LateSuccessKeepsCooldown) {
  UpstreamPool pool = MakePool({{"a"}}, 3, milliseconds(10000));
  std::vector<UpstreamPool::Pick> picks;
  for (int i = 0; i < 4; ++i) {
    auto pick = pool.Choose(1, kNone, kStart);
    ASSERT_TRUE(pick.has_value());
    picks.push_back(*pick);
  }
  for (int i = 0; i < 3; ++i) pool.Report(picks[i], true, milliseconds(5), kStart);
  ASSERT_EQ(StateOf(pool, 0), UpstreamState::kEjected);

  pool.Report(picks[3], false, milliseconds(5), kStart + milliseconds(1));
  EXPECT_EQ(StateOf(pool, 0), UpstreamState::kEjected);
  EXPECT_FALSE(pool.Choose(1, kNone, kStart + milliseconds(2)).has_value());
}

TEST(UpstreamPoolTest, ExcludeSetSkipsTriedUpstreams) {
  UpstreamPool pool = MakePool({{"a"}, {"b"}, {"c"}});
  auto pick = pool.Choose(1, {0, 1}, kStart);
  ASSERT_TRUE(pick.has_value());
  EXPECT_EQ(pick->upstream->id(), "c");
  EXPECT_FALSE(pool.Choose(1, {0, 1, 2}, kStart).has_value());
}

TEST(UpstreamPoolTest, SetWeightChangesShare) {
  UpstreamPool pool = MakePool({{"a"}, {"b"}});
  EXPECT_TRUE(pool.SetWeight("a", 4.0));
  EXPECT_FALSE(pool.SetWeight("zzz", 4.0));
  std::map<std::string, int> picks;
  for (int i = 0; i < 10; ++i) ++picks[pool.Choose(1, kNone, kStart)->upstream->id()];
  EXPECT_EQ(picks["a"], 8);
  EXPECT_EQ(picks["b"], 2);
}

std::vector<MemberSpec> CanarySpecs() {
  return {{"stable", 1.0, "v1", 90.0}, {"canary", 1.0, "v2", 10.0}};
}

TEST(UpstreamPoolTest, CanarySplitIsRoughlyProportional) {
  UpstreamPool pool = MakePool(CanarySpecs());
  int canary = 0;
  for (int64_t user = 1; user <= 10000; ++user) canary += pool.VersionFor(user) == "v2";
  EXPECT_GE(canary, 800);
  EXPECT_LE(canary, 1200);
}

TEST(UpstreamPoolTest, CanaryVersionIsStickyPerUser) {
  UpstreamPool pool = MakePool(CanarySpecs());
  for (int64_t user = 1; user <= 500; ++user) {
    std::string version = pool.VersionFor(user);
    for (int i = 0; i < 3; ++i) {
      auto pick = pool.Choose(user, kNone, kStart);
      ASSERT_TRUE(pick.has_value());
      EXPECT_EQ(pick->version, version) << "user " << user;
      EXPECT_EQ(pick->upstream->id(), version == "v1" ? "stable" : "canary");
      pool.Report(*pick, false, milliseconds(5), kStart);
    }
  }
}

TEST(UpstreamPoolTest, SingleVersionTakesEveryone) {
  UpstreamPool pool = MakePool({{"a", 1.0, "v1", 10.0}, {"b", 1.0, "v1", 10.0}});
  for (int64_t user = 1; user <= 100; ++user) EXPECT_EQ(pool.VersionFor(user), "v1");
}

TEST(UpstreamPoolTest, FallsBackWhenVersionHasNoUpstream) {
  UpstreamPool pool = MakePool(CanarySpecs(), 1);
  int64_t canary_user = 0;
  for (int64_t user = 1; user <= 1000 && canary_user == 0; ++user) {
    if (pool.VersionFor(user) == "v2") canary_user = user;
  }
  ASSERT_NE(canary_user, 0);
  ASSERT_TRUE(FailAt(pool, 1, kStart));  // Eject the only v2 upstream.

  auto pick = pool.Choose(canary_user, kNone, kStart);
  ASSERT_TRUE(pick.has_value());
  EXPECT_EQ(pick->upstream->id(), "stable");
  EXPECT_EQ(pick->version, "v1");
  // Excluding the stable upstream on a retry leaves nothing.
  EXPECT_FALSE(pool.Choose(canary_user, {0}, kStart).has_value());
}

TEST(UpstreamPoolTest, StateNamesAreStable) {
  EXPECT_EQ(UpstreamStateName(UpstreamState::kHealthy), "healthy");
  EXPECT_EQ(UpstreamStateName(UpstreamState::kEjected), "ejected");
  EXPECT_EQ(UpstreamStateName(UpstreamState::kHalfOpen), "half_open");
}

TEST(UpstreamPoolTest, ConcurrentPicksReleaseEveryOutstanding) {
  UpstreamPool pool = MakePool({{"a"}, {"b", 2.0}, {"c"}});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&pool, t] {
      for (int i = 0; i < 200; ++i) {
        auto pick = pool.Choose(t * 1000 + i, kNone, kStart);
        ASSERT_TRUE(pick.has_value());
        pool.Report(*pick, false, milliseconds(1 + i % 7), kStart);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  uint64_t requests = 0;
  for (const auto& status : pool.Status()) {
    EXPECT_EQ(status.outstanding, 0) << status.id;
    EXPECT_EQ(status.state, UpstreamState::kHealthy) << status.id;
    requests += status.requests;
  }
  EXPECT_EQ(requests, 800u);
}

}  // namespace
}  // namespace weir
