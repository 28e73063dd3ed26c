// AuditSink: where audit events are stored and searched.
//
// SqliteAuditSink (the embedded default) keeps events in their own SQLite file
// with an FTS5 index over the text fields. Shared sinks (PostgreSQL,
// OpenSearch, JSON lines for log shippers) implement the same interface.
//
// Threading: Write() is called by the one batch-writer thread; Search() and
// the reports from the blocking pool. Implementations are safe for that mix.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "audit/audit_event.h"
#include "common/result.h"
#include "quota/quota_manager.h"

namespace weir {

class AuditSink {
 public:
  virtual ~AuditSink() = default;

  // Stores a batch atomically: all events or none.
  virtual Status Write(const std::vector<AuditEvent>& events) = 0;
  virtual Result<AuditPage> Search(const AuditQuery& query) = 0;
  // Sums requests and tokens grouped by "day", "user" or "model" in [since_ms, until_ms).
  virtual Result<std::vector<UsageRow>> Usage(const std::string& group_by, int64_t since_ms, int64_t until_ms) = 0;
  // Returns requests and rejections per user since `since_ms`, for the quota promotion policy.
  virtual Result<std::unordered_map<int64_t, UsageHistory>> HistoryByUser(int64_t since_ms) = 0;
};

Result<std::unique_ptr<AuditSink>> OpenSqliteAuditSink(const std::string& path);

}  // namespace weir
