#include "audit/audit_log.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace weir {
namespace {

// A sink that keeps events in memory. When `hold` is set, Write() blocks
// until Release(); `failures` makes the next writes fail.
class FakeSink final : public AuditSink {
 public:
  Status Write(const std::vector<AuditEvent>& events) override {
    std::unique_lock lock(mutex_);
    ++write_calls_;
    max_batch_ = std::max(max_batch_, events.size());
    changed_.notify_all();
    changed_.wait(lock, [&] { return !hold_; });
    if (failures_ > 0) {
      --failures_;
      return Error::Internal("fake sink is failing on purpose");
    }
    for (const auto& event : events) request_ids_.push_back(event.request_id);
    return Status::Ok();
  }
  Result<AuditPage> Search(const AuditQuery&) override { return AuditPage{}; }
  Result<std::vector<UsageRow>> Usage(const std::string&, int64_t, int64_t) override {
    return std::vector<UsageRow>{};
  }
  Result<std::unordered_map<int64_t, UsageHistory>> HistoryByUser(int64_t) override {
    return std::unordered_map<int64_t, UsageHistory>{};
  }

  void Hold() {
    std::lock_guard lock(mutex_);
    hold_ = true;
  }
  void Release() {
    std::lock_guard lock(mutex_);
    hold_ = false;
    changed_.notify_all();
  }
  void FailNext(int count) {
    std::lock_guard lock(mutex_);
    failures_ = count;
  }
  // Waits until Write() has been entered `count` times.
  void WaitForWrites(int count) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return write_calls_ >= count; });
  }
  size_t max_batch() {
    std::lock_guard lock(mutex_);
    return max_batch_;
  }
  std::vector<std::string> request_ids() {
    std::lock_guard lock(mutex_);
    return request_ids_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool hold_ = false;
  int failures_ = 0;
  int write_calls_ = 0;
  size_t max_batch_ = 0;
  std::vector<std::string> request_ids_;
};

AuditEvent Event(const std::string& request_id) {
  AuditEvent event;
  event.request_id = request_id;
  return event;
}

Config::Audit AuditConfig(size_t capacity, size_t batch_size = 512) {
  Config::Audit config;
  config.queue_capacity = capacity;
  config.batch_size = batch_size;
  config.flush_interval = std::chrono::milliseconds(10);
  return config;
}

TEST(AuditLogTest, FlushWritesEverythingInOrder) {
  FakeSink sink;
  AuditLog log(sink, AuditConfig(1000, 7));
  std::vector<std::string> expected;
  for (int i = 0; i < 100; ++i) {
    expected.push_back("r" + std::to_string(i));
    EXPECT_TRUE(log.Record(Event(expected.back())));
  }
  log.Flush();
  EXPECT_EQ(sink.request_ids(), expected);
  EXPECT_EQ(log.written(), 100u);
  EXPECT_EQ(log.dropped(), 0u);
  EXPECT_EQ(log.queue_depth(), 0u);
}

TEST(AuditLogTest, BatchesRespectBatchSize) {
  FakeSink sink;
  sink.Hold();
  AuditLog log(sink, AuditConfig(1000, 7));
  ASSERT_TRUE(log.Record(Event("first")));
  sink.WaitForWrites(1);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(log.Record(Event(std::to_string(i))));
  sink.Release();
  log.Flush();
  EXPECT_EQ(sink.request_ids().size(), 51u);
  EXPECT_LE(sink.max_batch(), 7u);
  EXPECT_GT(sink.max_batch(), 1u);
}

TEST(AuditLogTest, FlushWithNothingQueuedReturns) {
  FakeSink sink;
  AuditLog log(sink, AuditConfig(10));
  log.Flush();
  EXPECT_EQ(log.written(), 0u);
}

TEST(AuditLogTest, FullQueueDropsAndCountsWithoutBlocking) {
  FakeSink sink;
  sink.Hold();
  AuditLog log(sink, AuditConfig(1));
  ASSERT_TRUE(log.Record(Event("in-sink")));
  sink.WaitForWrites(1);  // The writer has taken "in-sink" and is blocked in the sink.
  EXPECT_TRUE(log.Record(Event("queued")));
  EXPECT_EQ(log.queue_depth(), 1u);

  // The sink is still blocked: these must return at once, dropped.
  auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(log.Record(Event("dropped-1")));
  EXPECT_FALSE(log.Record(Event("dropped-2")));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(500));
  EXPECT_EQ(log.dropped(), 2u);

  sink.Release();
  log.Flush();
  EXPECT_EQ(sink.request_ids(), (std::vector<std::string>{"in-sink", "queued"}));
  EXPECT_EQ(log.written(), 2u);
  EXPECT_EQ(log.dropped(), 2u);
}

TEST(AuditLogTest, StopFlushesQueuedEvents) {
  FakeSink sink;
  sink.Hold();
  AuditLog log(sink, AuditConfig(100, 2));
  ASSERT_TRUE(log.Record(Event("e0")));
  sink.WaitForWrites(1);
  for (int i = 1; i < 6; ++i) ASSERT_TRUE(log.Record(Event("e" + std::to_string(i))));
  std::thread stopper([&] { log.Stop(); });
  sink.Release();
  stopper.join();
  EXPECT_EQ(sink.request_ids(), (std::vector<std::string>{"e0", "e1", "e2", "e3", "e4", "e5"}));
  EXPECT_EQ(log.written(), 6u);
}

TEST(AuditLogTest, RecordAfterStopIsDropped) {
  FakeSink sink;
  AuditLog log(sink, AuditConfig(100));
  log.Stop();
  EXPECT_FALSE(log.Record(Event("late")));
  EXPECT_EQ(log.dropped(), 1u);
  log.Stop();  // A second Stop is harmless.
  EXPECT_TRUE(sink.request_ids().empty());
}

TEST(AuditLogTest, FailedBatchIsRetried) {
  FakeSink sink;
  sink.FailNext(1);
  AuditLog log(sink, AuditConfig(100));
  ASSERT_TRUE(log.Record(Event("a")));
  ASSERT_TRUE(log.Record(Event("b")));
  log.Flush();
  EXPECT_EQ(sink.request_ids(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(log.written(), 2u);
  EXPECT_EQ(log.dropped(), 0u);
}

TEST(AuditLogTest, DestructorFlushes) {
  FakeSink sink;
  {
    AuditLog log(sink, AuditConfig(100));
    for (int i = 0; i < 10; ++i) log.Record(Event(std::to_string(i)));
  }
  EXPECT_EQ(sink.request_ids().size(), 10u);
}

}  // namespace
}  // namespace weir
