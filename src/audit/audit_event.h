// AuditEvent: the record of one request, accepted or rejected.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace weir {

struct AuditEvent {
  int64_t id = 0;             // Assigned by the sink.
  int64_t time_ms = 0;        // Unix milliseconds when the request arrived.
  std::string request_id;
  int64_t user_id = 0;        // 0 when the caller was not authenticated.
  std::string user;
  std::string team;
  std::string key_prefix;     // Display prefix only; never the key.
  std::string role;
  std::string client_ip;
  std::string method;
  std::string route;          // Path without the query string.
  std::string model;
  std::string upstream;
  int status = 0;
  std::string error_code;
  int64_t latency_ms = 0;
  int64_t ttft_ms = -1;       // -1 when no token was streamed.
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;
  int64_t reasoning_tokens = 0;
  bool tokens_estimated = false;
  std::string params_json;       // Request parameters without content, e.g. {"temperature":0.2,"stream":true}.
  std::string request_summary;   // Per audit.content: empty, first 200 characters, or whole.
  std::string response_summary;
};

// Filters of an audit search. Empty or zero fields do not filter.
struct AuditQuery {
  std::string user;        // User name.
  std::string model;
  int status = 0;          // Exact status, or a class: 2, 4, 5 match 2xx, 4xx, 5xx.
  int64_t since_ms = 0;    // Inclusive.
  int64_t until_ms = 0;    // Exclusive.
  std::string text;        // Full-text query over summaries, route, error code, user and model.
  int limit = 50;
  int64_t before_id = 0;   // Keyset cursor: only records with a smaller id.
};

struct AuditPage {
  std::vector<AuditEvent> events;  // Newest first.
  int64_t next_cursor = 0;         // 0 when there are no more records.
};

// One row of a usage report.
struct UsageRow {
  std::string key;  // The day (YYYY-MM-DD), user name or model, per the grouping.
  int64_t requests = 0;
  int64_t errors = 0;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

}  // namespace weir
