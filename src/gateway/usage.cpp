#include "gateway/usage.h"

namespace weir {
namespace {

int64_t IntMember(const json::Value& object, const char* name) {
  auto member = object.FindMember(name);
  if (member == object.MemberEnd() || !member->value.IsNumber()) return 0;
  return member->value.IsInt64() ? member->value.GetInt64() : static_cast<int64_t>(member->value.GetDouble());
}

}  // namespace

Usage ParseUsage(const json::Value& usage) {
  Usage parsed;
  if (!usage.IsObject()) return parsed;
  parsed.reported = true;
  parsed.prompt_tokens = IntMember(usage, "prompt_tokens");
  parsed.completion_tokens = IntMember(usage, "completion_tokens");

  auto prompt_details = usage.FindMember("prompt_tokens_details");
  if (prompt_details != usage.MemberEnd() && prompt_details->value.IsObject()) {
    parsed.cached_tokens = IntMember(prompt_details->value, "cached_tokens");
  }
  if (parsed.cached_tokens == 0) parsed.cached_tokens = IntMember(usage, "prompt_cache_hit_tokens");

  auto completion_details = usage.FindMember("completion_tokens_details");
  if (completion_details != usage.MemberEnd() && completion_details->value.IsObject()) {
    parsed.reasoning_tokens = IntMember(completion_details->value, "reasoning_tokens");
  }
  return parsed;
}

void SseSplitter::Feed(std::string_view bytes, std::vector<std::string>& events) {
  pending_.append(bytes);
  size_t start = 0;
  for (;;) {
    size_t lf = pending_.find("\n\n", start);
    size_t crlf = pending_.find("\r\n\r\n", start);
    size_t end;
    if (lf == std::string::npos && crlf == std::string::npos) break;
    if (crlf != std::string::npos && (lf == std::string::npos || crlf < lf)) {
      end = crlf + 4;
    } else {
      end = lf + 2;
    }
    events.emplace_back(pending_, start, end - start);
    start = end;
  }
  pending_.erase(0, start);
}

std::string SseData(std::string_view event) {
  std::string data;
  bool first = true;
  size_t position = 0;
  while (position < event.size()) {
    size_t end = event.find('\n', position);
    if (end == std::string_view::npos) end = event.size();
    std::string_view line = event.substr(position, end - position);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.substr(0, 5) == "data:") {
      std::string_view value = line.substr(5);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      if (!first) data += '\n';
      data.append(value);
      first = false;
    }
    position = end + 1;
  }
  return data;
}

}  // namespace weir
