// The upstream simulator behind `weir sim`: an OpenAI-compatible server with
// configurable latency, time to first token, tokens per second and failures,
// for tests, benchmarks and the first `make run` before a model is loaded.
//
// It answers deterministically: the same prompt gives the same text and the
// same usage, streamed or not. Usage is reported in the shapes real servers
// use, picked per server (SimOptions::usage_shape) or per request through an
// extra body field {"sim": {"usage_shape": ..., "reasoning": true}}:
//   final_empty  a last chunk with "choices": [] and usage (OpenAI);
//   with_choice  usage in the chunk that carries finish_reason and an empty delta;
//   deepseek     like with_choice plus prompt_cache_hit_tokens / prompt_cache_miss_tokens;
//   none         no usage at all.
// POST /sim/config changes the options at run time (fault tests); GET
// /sim/stats returns the request count.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "http/server.h"

namespace weir {

struct SimOptions {
  int latency_ms = 0;           // Non-streamed: delay before the whole response.
  int ttft_ms = 0;              // Streamed: delay before the first chunk.
  double tokens_per_second = 0; // Streamed: pace of chunks after the first; 0 = no delay.
  int completion_tokens = 16;   // Completion length when the request has no max_tokens.
  double failure_rate = 0;      // Share of requests answered with failure_status.
  int failure_status = 500;
  int fail_next = 0;            // The next N requests fail, regardless of failure_rate.
  std::string usage_shape = "final_empty";
  bool reasoning = false;       // Emit reasoning_content deltas first (R1-style).
  std::string model = "sim";
};

class Simulator {
 public:
  explicit Simulator(SimOptions options);

  boost::asio::awaitable<void> Handle(HttpRequest& request, ResponseWriter& writer);
  uint64_t requests() const { return requests_.load(); }

 private:
  SimOptions Snapshot();
  bool ShouldFail(SimOptions& options);

  std::mutex mutex_;
  SimOptions options_;
  std::atomic<uint64_t> requests_{0};
  uint64_t random_state_ = 0x2545F4914F6CDD1DULL;
};

// Runs `weir sim` on `listen` until SIGTERM or SIGINT.
int RunSimulator(const std::string& listen, const SimOptions& options, int threads);

}  // namespace weir
