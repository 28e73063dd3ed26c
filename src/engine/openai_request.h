// Parsing of OpenAI /chat/completions and /completions request bodies into
// the fields the built-in engine uses. Unknown fields are ignored, as
// OpenAI-compatible servers do; known fields with invalid values are errors
// that name the field.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "engine/chat_template.h"
#include "engine/sampler.h"

namespace weir::engine {

struct OpenAiRequest {
  bool chat = true;  // false: /completions with `prompt`.
  std::vector<ChatMessage> messages;
  std::string prompt;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage.
  int max_tokens = 0;          // 0: up to the end of the context.
  std::vector<std::string> stop;
  SamplingParams sampling;
};

// `path` ends in "/chat/completions" or "/completions".
Result<OpenAiRequest> ParseOpenAiRequest(const std::string& path, const std::string& body);

}  // namespace weir::engine
