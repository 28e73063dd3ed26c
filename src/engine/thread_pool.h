// ThreadPool: a fixed set of worker threads that split one loop at a time.
//
// ParallelFor() may be called from one thread at a time, the engine's
// scheduler thread. The calling thread runs a share of the loop itself and
// returns when every share is done.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace weir::engine {

class ThreadPool {
 public:
  // Starts `threads - 1` workers; `threads` <= 0 means AvailableCpus().
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls body(begin, end) on disjoint ranges that cover [0, count).
  void ParallelFor(int64_t count, const std::function<void(int64_t, int64_t)>& body);

  // CPUs this process may use: its affinity mask (so cgroup cpusets and
  // taskset count), capped by a cgroup v2 CPU quota when one is set.
  static int AvailableCpus();

 private:
  void WorkerLoop(int index);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_;
  std::condition_variable done_;
  const std::function<void(int64_t, int64_t)>* body_ = nullptr;
  int64_t count_ = 0;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  bool stopping_ = false;
};

}  // namespace weir::engine
