#include "engine/thread_pool.h"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>

namespace weir::engine {
namespace {

// How long an idle worker polls for the next loop before it sleeps. A decode
// step runs a few hundred loops back to back, and waking a sleeping thread
// costs tens of microseconds each time.
constexpr auto kSpinTime = std::chrono::microseconds(200);

void RunShare(const std::function<void(int64_t, int64_t)>& body, int64_t count, int share,
              int shares) {
  const int64_t begin = count * share / shares;
  const int64_t end = count * (share + 1) / shares;
  if (begin < end) body(begin, end);
}

}  // namespace

int ThreadPool::AvailableCpus() {
  int count = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) count = CPU_COUNT(&set);

  // A cgroup v2 CPU quota ("quota period" in cpu.max, or "max" for none)
  // caps the CPUs the process can use even when more are in its affinity.
  std::ifstream quota_file("/sys/fs/cgroup/cpu.max");
  std::string quota;
  long long period = 0;
  if (quota_file >> quota >> period && quota != "max" && period > 0) {
    const long long quota_us = std::atoll(quota.c_str());
    if (quota_us > 0) count = std::min(count, static_cast<int>(std::max(1LL, (quota_us + period - 1) / period)));
  }
  return count;
}

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = AvailableCpus();
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  start_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void ThreadPool::ParallelFor(int64_t count, const std::function<void(int64_t, int64_t)>& body) {
  const int shares = size();
  if (shares == 1 || count <= 1) {
    if (count > 0) body(0, count);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    body_ = &body;
    count_ = count;
    pending_.store(shares - 1);
    generation_.fetch_add(1);
  }
  start_.notify_all();
  RunShare(body, count, 0, shares);

  const auto spin_until = std::chrono::steady_clock::now() + kSpinTime;
  while (pending_.load() != 0 && std::chrono::steady_clock::now() < spin_until) {
  }
  if (pending_.load() != 0) {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_.load() == 0; });
  }
}

void ThreadPool::WorkerLoop(int index) {
  uint64_t seen = 0;
  for (;;) {
    // Poll first; sleep on the condition variable only after kSpinTime.
    const auto spin_until = std::chrono::steady_clock::now() + kSpinTime;
    while (generation_.load() == seen && std::chrono::steady_clock::now() < spin_until) {
    }
    const std::function<void(int64_t, int64_t)>* body;
    int64_t count;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      start_.wait(lock, [&] { return stopping_ || generation_.load() != seen; });
      if (stopping_) return;
      seen = generation_.load();
      body = body_;
      count = count_;
    }
    RunShare(*body, count, index, size());
    {
      std::lock_guard<std::mutex> lock(mutex_);
      pending_.fetch_sub(1);
    }
    done_.notify_one();
  }
}

}  // namespace weir::engine
