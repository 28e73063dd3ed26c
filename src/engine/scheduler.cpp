#include "engine/scheduler.h"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace weir::engine {

struct Scheduler::Sequence {
  GenerationRequest request;
  std::shared_ptr<GenerationSink> sink;
  std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);
  Sampler sampler;
  TextStream text;
  int slot = -1;
  int processed = 0;  // Tokens whose keys and values are in the cache.
  std::vector<int> generated;
  bool finished = false;

  Sequence(GenerationRequest r, std::shared_ptr<GenerationSink> s)
      : request(std::move(r)), sink(std::move(s)), sampler(request.sampling),
        text(request.stop, request.opens_reasoning) {}
};

Scheduler::Scheduler(std::shared_ptr<const Model> model, std::shared_ptr<const Tokenizer> tokenizer,
                     const SchedulerOptions& options)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)), options_(options),
      pool_(options.threads) {
  for (int i = 0; i < options_.parallel; ++i) {
    caches_.push_back(std::make_unique<KvCache>(model_->config(), options_.context_size));
    free_slots_.push_back(options_.parallel - 1 - i);
  }
  thread_ = std::thread([this] { Loop(); });
}

Scheduler::~Scheduler() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::shared_ptr<std::atomic<bool>> Scheduler::Submit(GenerationRequest request,
                                                     std::shared_ptr<GenerationSink> sink) {
  auto sequence = std::make_shared<Sequence>(std::move(request), std::move(sink));
  for (int token : sequence->request.prompt) sequence->sampler.Accept(token, false);
  auto cancelled = sequence->cancelled;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.push_back(std::move(sequence));
  }
  wake_.notify_all();
  return cancelled;
}

void Scheduler::Wake() { wake_.notify_all(); }

int Scheduler::queued_sequences() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(pending_.size());
}

void Scheduler::Loop() {
  std::vector<std::shared_ptr<Sequence>> active;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !pending_.empty() || !active.empty(); });
      if (stopping_) break;
    }
    Admit(&active);
    Step(&active);
  }

  // Shutdown: every request still open ends with an error.
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& sequence : pending_) active.push_back(sequence);
  pending_.clear();
  for (auto& sequence : active) {
    GenerationEvent event;
    event.done = true;
    event.error = Error::Upstream(503, "the built-in engine is shutting down; retry on another upstream");
    sequence->sink->Push(std::move(event));
  }
}

void Scheduler::Admit(std::vector<std::shared_ptr<Sequence>>* active) {
  // Cancelled sequences leave first, so their slots can be reused at once.
  for (auto& sequence : *active) {
    if (sequence->cancelled->load()) {
      free_slots_.push_back(sequence->slot);
      sequence->finished = true;
    }
  }
  std::erase_if(*active, [](const auto& sequence) { return sequence->finished; });

  std::lock_guard<std::mutex> lock(mutex_);
  std::erase_if(pending_, [](const auto& sequence) { return sequence->cancelled->load(); });
  while (!pending_.empty() && !free_slots_.empty()) {
    auto sequence = pending_.front();
    pending_.pop_front();
    sequence->slot = free_slots_.back();
    free_slots_.pop_back();
    caches_[static_cast<size_t>(sequence->slot)]->length = 0;
    active->push_back(std::move(sequence));
  }
  active_count_.store(static_cast<int>(active->size()));
}

void Scheduler::Step(std::vector<std::shared_ptr<Sequence>>* active) {
  if (active->empty()) return;
  std::vector<BatchToken> batch;
  std::vector<Sequence*> wants_logits;  // In the order of logits rows.

  // Decoding sequences first, one token each; then prompt chunks.
  for (auto& sequence : *active) {
    const int prompt_size = static_cast<int>(sequence->request.prompt.size());
    if (sequence->processed < prompt_size) continue;
    KvCache* cache = caches_[static_cast<size_t>(sequence->slot)].get();
    batch.push_back({sequence->generated.back(), sequence->processed, cache, true});
    wants_logits.push_back(sequence.get());
  }
  int budget = options_.prefill_chunk;
  for (auto& sequence : *active) {
    const int prompt_size = static_cast<int>(sequence->request.prompt.size());
    if (sequence->processed >= prompt_size || budget <= 0) continue;
    KvCache* cache = caches_[static_cast<size_t>(sequence->slot)].get();
    const int count = std::min(budget, prompt_size - sequence->processed);
    for (int i = 0; i < count; ++i) {
      const int position = sequence->processed + i;
      const bool last = position == prompt_size - 1;
      batch.push_back({sequence->request.prompt[static_cast<size_t>(position)], position, cache, last});
      if (last) wants_logits.push_back(sequence.get());
    }
    budget -= count;
  }

  // Flagged tokens were added in the order of wants_logits, so logits row i
  // belongs to wants_logits[i].
  const std::vector<Sequence*>& order = wants_logits;
  std::vector<float> logits;
  Status status = model_->Evaluate(batch, pool_, &logits);

  // Advance the prefill counters before sampling.
  for (auto& sequence : *active) {
    int evaluated = 0;
    const KvCache* cache = caches_[static_cast<size_t>(sequence->slot)].get();
    for (const BatchToken& token : batch) evaluated += token.cache == cache ? 1 : 0;
    sequence->processed += evaluated;
  }
  if (!status.ok()) {
    spdlog::error("event=engine_step_failed error=\"{}\"", status.error().message);
    for (auto& sequence : *active) {
      GenerationEvent event;
      event.done = true;
      event.error = status.error();
      sequence->sink->Push(std::move(event));
      sequence->finished = true;
      free_slots_.push_back(sequence->slot);
    }
    active->clear();
    return;
  }

  const int vocab = model_->config().vocab;
  for (size_t row = 0; row < order.size(); ++row) {
    Sequence& sequence = *order[row];
    if (sequence.cancelled->load()) continue;
    const int token = sequence.sampler.Sample(&logits[row * static_cast<size_t>(vocab)], vocab);
    HandleToken(sequence, token);
  }
  for (auto& sequence : *active) {
    if (sequence->finished) free_slots_.push_back(sequence->slot);
  }
  std::erase_if(*active, [](const auto& sequence) { return sequence->finished; });
  active_count_.store(static_cast<int>(active->size()));
}

void Scheduler::HandleToken(Sequence& sequence, int token) {
  if (sequence.request.report_tokens) {
    GenerationEvent event;
    event.token = token;
    sequence.sink->Push(std::move(event));
  }
  if (!sequence.request.ignore_eos && tokenizer_->IsEndOfGeneration(token)) {
    FinishSequence(sequence, "stop", {});
    return;
  }
  sequence.generated.push_back(token);
  sequence.sampler.Accept(token, true);
  std::string bytes = tokenizer_->TokenBytes(token);
  // Control tokens other than the reasoning tags carry no text for the user.
  if (tokenizer_->IsSpecial(token) && bytes != "<think>" && bytes != "</think>") bytes.clear();
  TextDelta delta = sequence.text.Feed(bytes);
  if (sequence.text.stopped()) {
    FinishSequence(sequence, "stop", std::move(delta));
    return;
  }
  const bool out_of_tokens = static_cast<int>(sequence.generated.size()) >= sequence.request.max_tokens;
  const bool out_of_context = sequence.processed + 1 >= options_.context_size;
  if (out_of_tokens || out_of_context) {
    FinishSequence(sequence, "length", std::move(delta));
    return;
  }
  if (!delta.empty()) {
    GenerationEvent event;
    event.delta = std::move(delta);
    sequence.sink->Push(std::move(event));
  }
}

void Scheduler::FinishSequence(Sequence& sequence, const std::string& reason, TextDelta delta) {
  TextDelta rest = sequence.text.Finish();
  delta.content += rest.content;
  delta.reasoning += rest.reasoning;
  GenerationEvent event;
  event.delta = std::move(delta);
  event.done = true;
  event.finish_reason = reason;
  event.prompt_tokens = static_cast<int>(sequence.request.prompt.size());
  event.completion_tokens = static_cast<int>(sequence.generated.size());
  sequence.sink->Push(std::move(event));
  sequence.finished = true;
}

}  // namespace weir::engine
