// Token usage as OpenAI-compatible servers report it, and the Server-Sent
// Events framing of streamed answers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"

namespace weir {

struct Usage {
  bool reported = false;   // The upstream sent a usage object.
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;     // prompt_tokens_details.cached_tokens or DeepSeek's prompt_cache_hit_tokens.
  int64_t reasoning_tokens = 0;  // completion_tokens_details.reasoning_tokens.
};

// Reads a "usage" object. Accepts OpenAI's shape (with prompt_tokens_details
// and completion_tokens_details) and DeepSeek's prompt_cache_hit_tokens /
// prompt_cache_miss_tokens. Returns a Usage with reported=false when `usage`
// is not an object.
Usage ParseUsage(const json::Value& usage);

// SseSplitter cuts a byte stream into complete events. An event ends at a
// blank line ("\n\n" or "\r\n\r\n"); bytes of an unfinished event are kept
// until the rest arrives.
class SseSplitter {
 public:
  // Appends `bytes` and moves every complete event (with its terminator) into `events`.
  void Feed(std::string_view bytes, std::vector<std::string>& events);
  // Bytes of an unfinished event.
  const std::string& pending() const { return pending_; }

 private:
  std::string pending_;
};

// Returns the data of an event: the text after "data:" on its data lines,
// joined by '\n'. Empty when the event has no data line.
std::string SseData(std::string_view event);

}  // namespace weir
