// Scheduler: runs many generation requests on one model with continuous
// batching. Each step evaluates one batch that contains the next token of
// every decoding sequence plus prompt chunks of sequences still in prefill.
// New requests join between steps. Finished or cancelled ones leave and free
// their KV cache slot.
//
// Threading: Submit() and Cancel are safe from any thread. The scheduler
// thread calls GenerationSink::Push and never waits for a reader, so a slow
// client only grows its own queue of events.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "engine/model.h"
#include "engine/sampler.h"
#include "engine/text_stream.h"
#include "engine/thread_pool.h"
#include "engine/tokenizer.h"

namespace weir::engine {

struct GenerationRequest {
  std::vector<int> prompt;  // Must be shorter than the context size.
  SamplingParams sampling;
  int max_tokens = 0;       // Completion tokens; the context size also limits them.
  std::vector<std::string> stop;
  bool opens_reasoning = false;
  bool ignore_eos = false;     // Benchmarks: generate exactly max_tokens.
  bool report_tokens = false;  // Send an event with the id of every token.
};

// One message from the scheduler to a request's reader.
struct GenerationEvent {
  TextDelta delta;
  bool done = false;
  std::string finish_reason;  // "stop" or "length" when done.
  std::optional<Error> error;  // Set when the request failed; done is true too.
  int prompt_tokens = 0;
  int completion_tokens = 0;
  int token = -1;  // The sampled token, with GenerationRequest::report_tokens.
};

class GenerationSink {
 public:
  virtual ~GenerationSink() = default;
  // Called on the scheduler thread; must not block.
  virtual void Push(GenerationEvent event) = 0;
};

struct SchedulerOptions {
  int threads = 0;
  int context_size = 4096;
  int parallel = 4;
  int prefill_chunk = 256;  // Prompt tokens evaluated per step, over all sequences.
};

class Scheduler {
 public:
  Scheduler(std::shared_ptr<const Model> model, std::shared_ptr<const Tokenizer> tokenizer,
            const SchedulerOptions& options);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a request. Setting the returned flag cancels it and frees its slot
  // at the next step (call Wake() after setting it).
  std::shared_ptr<std::atomic<bool>> Submit(GenerationRequest request,
                                            std::shared_ptr<GenerationSink> sink);
  void Wake();

  int context_size() const { return options_.context_size; }
  int threads() const { return pool_.size(); }
  // Sequences that hold a slot, and sequences waiting for one.
  int active_sequences() const { return active_count_.load(); }
  int queued_sequences() const;

 private:
  struct Sequence;

  void Loop();
  void Admit(std::vector<std::shared_ptr<Sequence>>* active);
  void Step(std::vector<std::shared_ptr<Sequence>>* active);
  void HandleToken(Sequence& sequence, int token);
  void FinishSequence(Sequence& sequence, const std::string& reason, TextDelta delta);

  std::shared_ptr<const Model> model_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  SchedulerOptions options_;
  ThreadPool pool_;
  std::vector<std::unique_ptr<KvCache>> caches_;
  std::vector<int> free_slots_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Sequence>> pending_;
  bool stopping_ = false;
  std::atomic<int> active_count_{0};
  std::thread thread_;
};

}  // namespace weir::engine
