#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "quota/counter_store.h"

namespace weir {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const SteadyTime kStart = SteadyTime() + std::chrono::hours(1000);

TEST(InProcessCounterStoreTest, NewBucketStartsFull) {
  auto store = MakeInProcessCounterStore();
  EXPECT_DOUBLE_EQ(store->Balance("a", 2.0, 5.0, kStart), 5.0);
}

TEST(InProcessCounterStoreTest, TakesUpToBurstThenReturnsWait) {
  auto store = MakeInProcessCounterStore();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(store->TakeTokens("a", 1.0, 2.0, 5.0, kStart), 0.0) << "take " << i;
  // Empty bucket, 2 tokens/s: one token is half a second away.
  EXPECT_DOUBLE_EQ(store->TakeTokens("a", 1.0, 2.0, 5.0, kStart), 0.5);
  // A rejected take takes nothing.
  EXPECT_DOUBLE_EQ(store->Balance("a", 2.0, 5.0, kStart), 0.0);
}

TEST(InProcessCounterStoreTest, WaitAccountsForPartialBalance) {
  auto store = MakeInProcessCounterStore();
  ASSERT_EQ(store->TakeTokens("a", 4.0, 1.0, 5.0, kStart), 0.0);
  // Balance 1; a cost of 3 needs 2 more tokens at 1 token/s.
  EXPECT_DOUBLE_EQ(store->TakeTokens("a", 3.0, 1.0, 5.0, kStart), 2.0);
}

TEST(InProcessCounterStoreTest, RefillsAtRate) {
  auto store = MakeInProcessCounterStore();
  for (int i = 0; i < 5; ++i) ASSERT_EQ(store->TakeTokens("a", 1.0, 2.0, 5.0, kStart), 0.0);
  EXPECT_DOUBLE_EQ(store->Balance("a", 2.0, 5.0, kStart + milliseconds(500)), 1.0);
  EXPECT_EQ(store->TakeTokens("a", 1.0, 2.0, 5.0, kStart + milliseconds(500)), 0.0);
  EXPECT_GT(store->TakeTokens("a", 1.0, 2.0, 5.0, kStart + milliseconds(500)), 0.0);
  EXPECT_DOUBLE_EQ(store->Balance("a", 2.0, 5.0, kStart + milliseconds(1500)), 2.0);
}

TEST(InProcessCounterStoreTest, RefillIsCappedAtBurst) {
  auto store = MakeInProcessCounterStore();
  ASSERT_EQ(store->TakeTokens("a", 5.0, 2.0, 5.0, kStart), 0.0);
  EXPECT_DOUBLE_EQ(store->Balance("a", 2.0, 5.0, kStart + seconds(3600)), 5.0);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(store->TakeTokens("a", 1.0, 2.0, 5.0, kStart + seconds(3600)), 0.0);
  EXPECT_GT(store->TakeTokens("a", 1.0, 2.0, 5.0, kStart + seconds(3600)), 0.0);
}

TEST(InProcessCounterStoreTest, ShrunkBurstCapsBalance) {
  auto store = MakeInProcessCounterStore();
  EXPECT_DOUBLE_EQ(store->Balance("a", 1.0, 10.0, kStart), 10.0);
  EXPECT_DOUBLE_EQ(store->Balance("a", 1.0, 3.0, kStart), 3.0);
}

TEST(InProcessCounterStoreTest, TimeNeverRunsBackwards) {
  auto store = MakeInProcessCounterStore();
  ASSERT_EQ(store->TakeTokens("a", 5.0, 1.0, 5.0, kStart + seconds(10)), 0.0);
  // An earlier time point (another thread's older clock read) adds nothing.
  EXPECT_DOUBLE_EQ(store->Balance("a", 1.0, 5.0, kStart), 0.0);
  EXPECT_DOUBLE_EQ(store->Balance("a", 1.0, 5.0, kStart + seconds(12)), 2.0);
}

TEST(InProcessCounterStoreTest, DebtIsAlwaysTakenAndRepaidByRefill) {
  auto store = MakeInProcessCounterStore();
  EXPECT_EQ(store->TakeTokens("tpm", 25.0, 1.0, 10.0, kStart, /*allow_debt=*/true), 0.0);
  EXPECT_DOUBLE_EQ(store->Balance("tpm", 1.0, 10.0, kStart), -15.0);
  // Without debt, a take waits until the debt is repaid and the cost is there.
  EXPECT_DOUBLE_EQ(store->TakeTokens("tpm", 1.0, 1.0, 10.0, kStart), 16.0);
  EXPECT_DOUBLE_EQ(store->Balance("tpm", 1.0, 10.0, kStart + seconds(15)), 0.0);
  EXPECT_EQ(store->TakeTokens("tpm", 1.0, 1.0, 10.0, kStart + seconds(16)), 0.0);
}

TEST(InProcessCounterStoreTest, KeysAreIndependent) {
  auto store = MakeInProcessCounterStore();
  ASSERT_EQ(store->TakeTokens("a", 5.0, 1.0, 5.0, kStart), 0.0);
  EXPECT_DOUBLE_EQ(store->Balance("b", 1.0, 5.0, kStart), 5.0);
}

TEST(InProcessCounterStoreTest, SumsAddAndDefaultToZero) {
  auto store = MakeInProcessCounterStore();
  EXPECT_EQ(store->Get("day:1:20000"), 0);
  EXPECT_EQ(store->Add("day:1:20000", 40), 40);
  EXPECT_EQ(store->Add("day:1:20000", 2), 42);
  EXPECT_EQ(store->Get("day:1:20000"), 42);
  EXPECT_EQ(store->Get("day:1:20001"), 0);
}

TEST(InProcessCounterStoreTest, ConcurrentTakesNeverExceedBurst) {
  auto store = MakeInProcessCounterStore();
  std::atomic<int> taken{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (store->TakeTokens("shared", 1.0, 1.0, 50.0, kStart) == 0.0) ++taken;
        store->Add("sum", 1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(taken.load(), 50);
  EXPECT_EQ(store->Get("sum"), 800);
}

}  // namespace
}  // namespace weir
