#include "engine/thread_pool.h"

#include <atomic>
#include <vector>

#include <gtest/gtest.h>

namespace weir::engine {
namespace {

TEST(ThreadPoolTest, ParallelForCoversRangeOnce) {
  ThreadPool pool(3);
  EXPECT_EQ(pool.size(), 3);
  for (int64_t count : {0, 1, 2, 7, 1000}) {
    std::vector<std::atomic<int>> hits(static_cast<size_t>(count));
    pool.ParallelFor(count, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)]++;
    });
    for (auto& hit : hits) EXPECT_EQ(hit.load(), 1);
  }
}

TEST(ThreadPoolTest, DefaultUsesAvailableCpus) {
  ThreadPool pool(0);
  EXPECT_EQ(pool.size(), ThreadPool::AvailableCpus());
}

}  // namespace
}  // namespace weir::engine
