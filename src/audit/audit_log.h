// AuditLog: takes audit events off the request path.
//
// Record() puts an event on a bounded queue and returns at once. One writer
// thread drains the queue in batches (up to audit.batch_size events, or
// whatever arrived within audit.flush_interval) into the AuditSink. When the
// queue is full, Record() drops the event, counts it in dropped() and logs a
// warning at most once a second: a full queue never blocks a request. A batch
// the sink fails to write is retried until Stop(), then counted as dropped.
//
// Threading: Record() is safe from any thread. Stop() flushes every queued
// event and joins the writer; call it once, at shutdown.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>

#include "audit/audit_sink.h"
#include "config/config.h"

namespace weir {

class AuditLog {
 public:
  AuditLog(AuditSink& sink, Config::Audit config);
  ~AuditLog();

  // Queues an event; never blocks on the sink. Returns false when dropped.
  bool Record(AuditEvent event);
  // Writes every queued event, then stops the writer thread.
  void Stop();
  // Blocks until every event queued before the call is written (for tests and the CLI).
  void Flush();

  uint64_t dropped() const { return dropped_.load(); }
  uint64_t written() const { return written_.load(); }
  size_t queue_depth() const;

 private:
  void RunWriter();

  AuditSink& sink_;
  Config::Audit config_;
  mutable std::mutex mutex_;
  std::condition_variable wake_writer_;
  std::condition_variable batch_done_;
  std::deque<AuditEvent> queue_;
  uint64_t enqueued_ = 0;
  uint64_t completed_ = 0;  // Events written or given up, in queue order.
  bool stopping_ = false;
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> written_{0};
  std::atomic<int64_t> last_drop_warning_ms_{0};
  std::thread writer_;
};

}  // namespace weir
