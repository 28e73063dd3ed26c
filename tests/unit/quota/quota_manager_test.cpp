#include "quota/quota_manager.h"

#include <chrono>
#include <cstdlib>
#include <memory>

#include <gtest/gtest.h>

namespace weir {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int64_t kDay = 86400;
constexpr int64_t kToday = 20000;  // Days since the epoch.
constexpr int64_t kNoon = kToday * kDay + 12 * 3600;
const SteadyTime kStart = SteadyTime() + std::chrono::hours(1000);

Principal MakePrincipal(int64_t user_id, Role role = Role::kUser) {
  Principal principal;
  principal.user_id = user_id;
  principal.user_name = "user" + std::to_string(user_id);
  principal.role = role;
  return principal;
}

class QuotaManagerTest : public ::testing::Test {
 protected:
  Config::Quota config_ = Config().quota;
  std::unique_ptr<CounterStore> counters_ = MakeInProcessCounterStore();
};

TEST_F(QuotaManagerTest, RoleDefaultsApply) {
  QuotaManager manager(config_, *counters_);
  QuotaLimits user = manager.LimitsFor(MakePrincipal(1, Role::kUser));
  EXPECT_DOUBLE_EQ(user.requests_per_second, 5.0);
  EXPECT_DOUBLE_EQ(user.burst, 10.0);
  QuotaLimits admin = manager.LimitsFor(MakePrincipal(2, Role::kAdmin));
  EXPECT_DOUBLE_EQ(admin.requests_per_second, 20.0);
  EXPECT_DOUBLE_EQ(admin.burst, 40.0);
}

TEST_F(QuotaManagerTest, OverrideReplacesOnlyItsFields) {
  config_.defaults[Role::kUser].tokens_per_minute = 1000;
  config_.defaults[Role::kUser].daily_tokens = 50000;
  QuotaManager manager(config_, *counters_);
  Principal principal = MakePrincipal(1);
  principal.quota.requests_per_second = 1.5;
  principal.quota.daily_tokens = 7;
  QuotaLimits limits = manager.LimitsFor(principal);
  EXPECT_DOUBLE_EQ(limits.requests_per_second, 1.5);
  EXPECT_DOUBLE_EQ(limits.burst, 10.0);
  EXPECT_EQ(limits.tokens_per_minute, 1000);
  EXPECT_EQ(limits.daily_tokens, 7);
}

TEST_F(QuotaManagerTest, AdmitsBurstThenRejectsWithRetryAfter) {
  QuotaManager manager(config_, *counters_);
  Principal principal = MakePrincipal(1);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(manager.Admit(principal, kStart, kNoon).ok()) << "request " << i;
  Status rejected = manager.Admit(principal, kStart, kNoon);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().http_status, 429);
  EXPECT_EQ(rejected.error().code, "rate_limit_exceeded");
  // 0.2 s until the next token rounds up to a whole second.
  EXPECT_EQ(rejected.error().retry_after_seconds, 1);
  EXPECT_NE(rejected.error().message.find("user1"), std::string::npos);
  // One token per 200 ms at 5 requests/s.
  EXPECT_TRUE(manager.Admit(principal, kStart + milliseconds(200), kNoon).ok());
  EXPECT_FALSE(manager.Admit(principal, kStart + milliseconds(200), kNoon).ok());
}

TEST_F(QuotaManagerTest, RetryAfterIsSecondsUntilNextToken) {
  QuotaManager manager(config_, *counters_);
  Principal principal = MakePrincipal(1);
  principal.quota.requests_per_second = 0.25;
  principal.quota.burst = 1;
  ASSERT_TRUE(manager.Admit(principal, kStart, kNoon).ok());
  Status rejected = manager.Admit(principal, kStart, kNoon);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().retry_after_seconds, 4);
  Status later = manager.Admit(principal, kStart + milliseconds(2500), kNoon);
  ASSERT_FALSE(later.ok());
  EXPECT_EQ(later.error().retry_after_seconds, 2);  // 1.5 s rounds up.
  EXPECT_TRUE(manager.Admit(principal, kStart + seconds(4), kNoon).ok());
}

TEST_F(QuotaManagerTest, UsersHaveSeparateBuckets) {
  QuotaManager manager(config_, *counters_);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(manager.Admit(MakePrincipal(1), kStart, kNoon).ok());
  EXPECT_FALSE(manager.Admit(MakePrincipal(1), kStart, kNoon).ok());
  EXPECT_TRUE(manager.Admit(MakePrincipal(2), kStart, kNoon).ok());
}

TEST_F(QuotaManagerTest, TokenDebtDelaysNextRequest) {
  QuotaManager manager(config_, *counters_);
  Principal principal = MakePrincipal(1);
  principal.quota.tokens_per_minute = 600;  // 10 tokens/s.
  ASSERT_TRUE(manager.Admit(principal, kStart, kNoon).ok());
  manager.Charge(principal, 1000, kStart, kNoon);  // Balance 600 - 1000 = -400.

  Status rejected = manager.Admit(principal, kStart, kNoon);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().http_status, 429);
  // The balance must climb from -400 to above 0: 40.1 s, rounded up.
  EXPECT_EQ(rejected.error().retry_after_seconds, 41);
  EXPECT_NE(rejected.error().message.find("600 tokens/min"), std::string::npos);

  EXPECT_FALSE(manager.Admit(principal, kStart + seconds(40), kNoon).ok());
  EXPECT_TRUE(manager.Admit(principal, kStart + seconds(41), kNoon).ok());
}

TEST_F(QuotaManagerTest, TokensPerMinuteAdmitsWhileBalancePositive) {
  QuotaManager manager(config_, *counters_);
  Principal principal = MakePrincipal(1);
  principal.quota.tokens_per_minute = 600;
  ASSERT_TRUE(manager.Admit(principal, kStart, kNoon).ok());
  manager.Charge(principal, 599, kStart, kNoon);
  EXPECT_TRUE(manager.Admit(principal, kStart, kNoon).ok());
  manager.Charge(principal, 1, kStart, kNoon);
  EXPECT_FALSE(manager.Admit(principal, kStart, kNoon).ok());
}

TEST_F(QuotaManagerTest, ZeroOrNegativeChargeIsIgnored) {
  QuotaManager manager(config_, *counters_);
  Principal principal = MakePrincipal(1);
  principal.quota.tokens_per_minute = 60;
  principal.quota.daily_tokens = 10;
  manager.Charge(principal, 0, kStart, kNoon);
  manager.Charge(principal, -50, kStart, kNoon);
  EXPECT_TRUE(manager.Admit(principal, kStart, kNoon).ok());
}

TEST_F(QuotaManagerTest, DailyBudgetRejectsUntilUtcMidnight) {
  QuotaManager manager(config_, *counters_);
  Principal principal = MakePrincipal(1);
  principal.quota.requests_per_second = 1000;
  principal.quota.daily_tokens = 1000;
  int64_t before_midnight = (kToday + 1) * kDay - 60;  // 23:59:00 UTC.
  ASSERT_TRUE(manager.Admit(principal, kStart, before_midnight).ok());
  manager.Charge(principal, 999, kStart, before_midnight);
  ASSERT_TRUE(manager.Admit(principal, kStart, before_midnight).ok());
  manager.Charge(principal, 1, kStart, before_midnight);

  Status rejected = manager.Admit(principal, kStart, before_midnight);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().http_status, 429);
  EXPECT_EQ(rejected.error().retry_after_seconds, 60);
  EXPECT_NE(rejected.error().message.find("00:00 UTC"), std::string::npos);

  EXPECT_FALSE(manager.Admit(principal, kStart + seconds(59), (kToday + 1) * kDay - 1).ok());
  EXPECT_TRUE(manager.Admit(principal, kStart + seconds(60), (kToday + 1) * kDay).ok());
}

TEST_F(QuotaManagerTest, DailyBudgetCountsPerUtcDay) {
  QuotaManager manager(config_, *counters_);
  Principal principal = MakePrincipal(1);
  principal.quota.requests_per_second = 1000;
  principal.quota.daily_tokens = 100;
  manager.Charge(principal, 100, kStart, kToday * kDay - 1);  // Yesterday 23:59:59.
  EXPECT_TRUE(manager.Admit(principal, kStart, kToday * kDay).ok());
  EXPECT_FALSE(manager.Admit(principal, kStart, kToday * kDay - 1).ok());
}

// Promotion policy defaults: 7 days, 500 requests, 2 % rejected, factor 2, cap 40 requests/s.
class QuotaPromotionTest : public QuotaManagerTest {
 protected:
  void Promote(QuotaManager& manager, int64_t user_id, int64_t age_days, int64_t requests, int64_t rejected) {
    manager.UpdatePromotions({{user_id, UsageHistory{requests, rejected}}}, kNoon,
                             {{user_id, kNoon - age_days * kDay}});
  }
};

TEST_F(QuotaPromotionTest, OneStepDoublesRoleDefault) {
  QuotaManager manager(config_, *counters_);
  Promote(manager, 1, 7, 500, 0);
  EXPECT_DOUBLE_EQ(manager.PromotionFactor(1), 2.0);
  QuotaLimits limits = manager.LimitsFor(MakePrincipal(1));
  EXPECT_DOUBLE_EQ(limits.requests_per_second, 10.0);
  EXPECT_DOUBLE_EQ(limits.burst, 20.0);
  EXPECT_DOUBLE_EQ(manager.PromotionFactor(2), 1.0);
}

TEST_F(QuotaPromotionTest, YoungAccountIsNotPromoted) {
  QuotaManager manager(config_, *counters_);
  Promote(manager, 1, 6, 5000, 0);
  EXPECT_DOUBLE_EQ(manager.PromotionFactor(1), 1.0);
  EXPECT_DOUBLE_EQ(manager.LimitsFor(MakePrincipal(1)).requests_per_second, 5.0);
}

TEST_F(QuotaPromotionTest, TooFewRequestsIsNotPromoted) {
  QuotaManager manager(config_, *counters_);
  Promote(manager, 1, 100, 499, 0);
  EXPECT_DOUBLE_EQ(manager.PromotionFactor(1), 1.0);
}

TEST_F(QuotaPromotionTest, RejectedRatioAboveLimitIsNotPromoted) {
  QuotaManager manager(config_, *counters_);
  Promote(manager, 1, 7, 1000, 21);  // 2.1 %.
  EXPECT_DOUBLE_EQ(manager.PromotionFactor(1), 1.0);
  Promote(manager, 1, 7, 1000, 20);  // Exactly 2 % is allowed.
  EXPECT_DOUBLE_EQ(manager.PromotionFactor(1), 2.0);
}

TEST_F(QuotaPromotionTest, UserWithoutCreationTimeIsNotPromoted) {
  QuotaManager manager(config_, *counters_);
  manager.UpdatePromotions({{1, UsageHistory{5000, 0}}}, kNoon, {});
  EXPECT_DOUBLE_EQ(manager.PromotionFactor(1), 1.0);
}

TEST_F(QuotaPromotionTest, StepsAreTheSmallerMultipleOfBothThresholds) {
  QuotaManager manager(config_, *counters_);
  Promote(manager, 1, 21, 1000, 0);  // 3 multiples of age, 2 of requests.
  EXPECT_DOUBLE_EQ(manager.PromotionFactor(1), 4.0);
  EXPECT_DOUBLE_EQ(manager.LimitsFor(MakePrincipal(1)).requests_per_second, 20.0);
}

TEST_F(QuotaPromotionTest, PromotionIsCappedAtMaxRequestsPerSecond) {
  QuotaManager manager(config_, *counters_);
  Promote(manager, 1, 365, 100000, 0);
  EXPECT_DOUBLE_EQ(manager.LimitsFor(MakePrincipal(1)).requests_per_second, 40.0);
}

TEST_F(QuotaPromotionTest, CapNeverLowersARoleDefaultAboveIt) {
  QuotaManager manager(config_, *counters_);
  Promote(manager, 1, 365, 100000, 0);
  // Superadmins start at 50 requests/s, above the 40 cap.
  EXPECT_DOUBLE_EQ(manager.LimitsFor(MakePrincipal(1, Role::kSuperadmin)).requests_per_second, 50.0);
}

TEST_F(QuotaPromotionTest, CappedPromotionBoundsBurst) {
  QuotaManager manager(config_, *counters_);
  Promote(manager, 1, 365, 100000, 0);
  QuotaLimits limits = manager.LimitsFor(MakePrincipal(1));
  ASSERT_DOUBLE_EQ(limits.requests_per_second, 40.0);
  // The rate rose 8x (5 -> 40 requests/s); the burst must not rise more than
  // that (10 -> 80), or the cap does not bound how many requests pass at once.
  EXPECT_LE(limits.burst, 80.0);
}

TEST_F(QuotaPromotionTest, ExplicitOverrideIsNotPromoted) {
  QuotaManager manager(config_, *counters_);
  Promote(manager, 1, 7, 500, 0);
  Principal principal = MakePrincipal(1);
  principal.quota.requests_per_second = 3.0;
  QuotaLimits limits = manager.LimitsFor(principal);
  EXPECT_DOUBLE_EQ(limits.requests_per_second, 3.0);
  EXPECT_DOUBLE_EQ(limits.burst, 10.0);
}

TEST_F(QuotaPromotionTest, ExplicitBurstWinsOverPromotion) {
  QuotaManager manager(config_, *counters_);
  Promote(manager, 1, 7, 500, 0);
  Principal principal = MakePrincipal(1);
  principal.quota.burst = 4;
  QuotaLimits limits = manager.LimitsFor(principal);
  EXPECT_DOUBLE_EQ(limits.requests_per_second, 10.0);
  EXPECT_DOUBLE_EQ(limits.burst, 4.0);
}

TEST_F(QuotaPromotionTest, DisabledPolicyPromotesNobody) {
  config_.promotion.enabled = false;
  QuotaManager manager(config_, *counters_);
  Promote(manager, 1, 365, 100000, 0);
  EXPECT_DOUBLE_EQ(manager.PromotionFactor(1), 1.0);
}

TEST_F(QuotaPromotionTest, UpdateReplacesEarlierPromotions) {
  QuotaManager manager(config_, *counters_);
  Promote(manager, 1, 7, 500, 0);
  ASSERT_DOUBLE_EQ(manager.PromotionFactor(1), 2.0);
  manager.UpdatePromotions({}, kNoon, {});
  EXPECT_DOUBLE_EQ(manager.PromotionFactor(1), 1.0);
}

TEST_F(QuotaPromotionTest, PromotedUserGetsLargerBurstInAdmit) {
  QuotaManager manager(config_, *counters_);
  Promote(manager, 1, 7, 500, 0);
  Principal principal = MakePrincipal(1);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(manager.Admit(principal, kStart, kNoon).ok()) << "request " << i;
  EXPECT_FALSE(manager.Admit(principal, kStart, kNoon).ok());
}

// The config loader accepts 0 for both thresholds ("no minimum"); the policy
// must then not divide by zero. Runs in a child process so a crash fails only
// this test.
TEST_F(QuotaPromotionTest, ZeroThresholdsDoNotCrash) {
  config_.promotion.min_account_days = 0;
  config_.promotion.min_requests = 0;
  EXPECT_EXIT(
      {
        QuotaManager manager(config_, *counters_);
        Promote(manager, 1, 3, 0, 0);
        Promote(manager, 2, 3, 100, 0);
        std::exit(manager.PromotionFactor(2) >= 1.0 ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace weir
