#include "gateway/abuse_detector.h"

#include <gtest/gtest.h>

namespace weir {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

AbuseConfig SmallLimits() {
  AbuseConfig config;
  config.max_failed_auth_per_minute = 3;
  config.block_duration = seconds(60);
  config.spike_factor = 5;
  config.spike_min_requests = 10;
  config.max_rejections_per_minute = 4;
  return config;
}

TEST(AbuseDetectorTest, BlocksIpAfterFailedAuthBurst) {
  AbuseDetector detector(SmallLimits());
  auto now = AbuseDetector::Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(detector.Observe("10.0.0.1", 0, "", 401, now, 0).empty());
  auto found = detector.Observe("10.0.0.1", 0, "", 401, now, 0);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].kind, "failed_auth_block");
  EXPECT_EQ(detector.BlockedSeconds("10.0.0.1", now), 60);
  EXPECT_EQ(detector.BlockedSeconds("10.0.0.2", now), 0);
  EXPECT_EQ(detector.BlockedSeconds("10.0.0.1", now + seconds(61)), 0);
}

TEST(AbuseDetectorTest, OldFailuresFallOutOfWindow) {
  AbuseDetector detector(SmallLimits());
  auto now = AbuseDetector::Clock::now();
  for (int i = 0; i < 3; ++i) detector.Observe("10.0.0.1", 0, "", 401, now, 0);
  detector.Observe("10.0.0.1", 0, "", 401, now + seconds(61), 0);
  EXPECT_EQ(detector.BlockedSeconds("10.0.0.1", now + seconds(61)), 0);
}

TEST(AbuseDetectorTest, ReportsRequestSpikeOncePerMinute) {
  AbuseDetector detector(SmallLimits());
  auto start = AbuseDetector::Clock::now();
  // Ten quiet minutes of two requests each build a baseline near 1.3.
  for (int minute = 0; minute < 10; ++minute) {
    for (int i = 0; i < 2; ++i) detector.Observe("ip", 7, "carol", 200, start + minutes(minute), 0);
  }
  int spikes = 0;
  for (int i = 0; i < 30; ++i) spikes += static_cast<int>(detector.Observe("ip", 7, "carol", 200, start + minutes(10), 0).size());
  EXPECT_EQ(spikes, 1);
  ASSERT_FALSE(detector.Recent(10).empty());
  EXPECT_EQ(detector.Recent(10)[0].kind, "request_spike");
  EXPECT_EQ(detector.Recent(10)[0].subject, "carol");
}

TEST(AbuseDetectorTest, SteadyHeavyUserIsNotASpike) {
  AbuseDetector detector(SmallLimits());
  auto start = AbuseDetector::Clock::now();
  for (int minute = 0; minute < 30; ++minute) {
    for (int i = 0; i < 40; ++i) EXPECT_TRUE(detector.Observe("ip", 8, "dave", 200, start + minutes(minute), 0).empty());
  }
}

TEST(AbuseDetectorTest, ReportsQuotaHammering) {
  AbuseDetector detector(SmallLimits());
  auto now = AbuseDetector::Clock::now();
  int reports = 0;
  for (int i = 0; i < 10; ++i) reports += static_cast<int>(detector.Observe("ip", 9, "erin", 429, now, 0).size());
  EXPECT_EQ(reports, 1);
  EXPECT_EQ(detector.Recent(1)[0].kind, "quota_hammering");
}

TEST(AbuseDetectorTest, DisabledDetectorNeverBlocks) {
  AbuseConfig config = SmallLimits();
  config.enabled = false;
  AbuseDetector detector(config);
  auto now = AbuseDetector::Clock::now();
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(detector.Observe("ip", 0, "", 401, now, 0).empty());
  EXPECT_EQ(detector.BlockedSeconds("ip", now), 0);
}

}  // namespace
}  // namespace weir
