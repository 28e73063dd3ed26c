#include "audit/audit_log.h"

#include <chrono>
#include <vector>

#include <spdlog/spdlog.h>

namespace weir {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

AuditLog::AuditLog(AuditSink& sink, Config::Audit config) : sink_(sink), config_(std::move(config)) {
  writer_ = std::thread([this] { RunWriter(); });
}

AuditLog::~AuditLog() { Stop(); }

bool AuditLog::Record(AuditEvent event) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && queue_.size() < config_.queue_capacity) {
      queue_.push_back(std::move(event));
      ++enqueued_;
      wake_writer_.notify_one();
      return true;
    }
  }
  uint64_t dropped = dropped_.fetch_add(1) + 1;
  int64_t now = NowMs();
  int64_t last = last_drop_warning_ms_.load();
  if (now - last >= 1000 && last_drop_warning_ms_.compare_exchange_strong(last, now)) {
    spdlog::warn("event=audit_queue_full capacity={} dropped_total={} request_id={}", config_.queue_capacity,
                 dropped, event.request_id);
  }
  return false;
}

void AuditLog::Flush() {
  std::unique_lock lock(mutex_);
  uint64_t target = enqueued_;
  wake_writer_.notify_one();
  batch_done_.wait(lock, [&] { return completed_ >= target || (stopping_ && !writer_.joinable()); });
}

size_t AuditLog::queue_depth() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void AuditLog::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_writer_.notify_one();
  if (writer_.joinable()) writer_.join();
  spdlog::info("event=audit_stopped written={} dropped={}", written_.load(), dropped_.load());
}

void AuditLog::RunWriter() {
  std::vector<AuditEvent> batch;
  for (;;) {
    bool stopping = false;
    {
      std::unique_lock lock(mutex_);
      wake_writer_.wait_for(lock, config_.flush_interval, [&] { return stopping_ || !queue_.empty(); });
      stopping = stopping_;
      while (!queue_.empty() && batch.size() < config_.batch_size) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      if (batch.empty()) {
        if (stopping) return;
        continue;
      }
    }

    Status status = sink_.Write(batch);
    if (!status.ok()) {
      spdlog::error("event=audit_write_failed events={} error=\"{}\"", batch.size(), status.error().message);
      if (!stopping) {
        // Keep the batch and try again after a pause; new events queue behind it.
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        std::lock_guard lock(mutex_);
        for (auto it = batch.rbegin(); it != batch.rend(); ++it) queue_.push_front(std::move(*it));
        batch.clear();
        continue;
      }
      dropped_ += batch.size();
    } else {
      written_ += batch.size();
    }
    {
      std::lock_guard lock(mutex_);
      completed_ += batch.size();
    }
    batch.clear();
    batch_done_.notify_all();
  }
}

}  // namespace weir
