// ChatTemplate: turns OpenAI chat messages into the prompt text a model was
// trained on. The template is recognised from the GGUF key
// tokenizer.chat_template (a Jinja program) by its marker tokens, or chosen by
// name with a configuration override. No Jinja is interpreted.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace weir::engine {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant" (others are rejected).
  std::string content;
};

class ChatTemplate {
 public:
  enum class Kind { kChatMl, kDeepSeekR1, kLlama3 };

  // Recognises `jinja_source`, or uses `override_name` ("chatml",
  // "deepseek-r1", "llama3") when it is not empty. An unknown template is an
  // error that names the override setting.
  static Result<ChatTemplate> Select(const std::string& jinja_source,
                                     const std::string& override_name);

  Kind kind() const { return kind_; }
  const char* name() const;

  // Renders the conversation and the start of the assistant's turn. `bos` is
  // the BOS token text for templates that begin with it.
  Result<std::string> Render(const std::vector<ChatMessage>& messages, const std::string& bos) const;

  // True when the rendered prompt already opens a <think> block, so the first
  // generated text is reasoning.
  bool opens_reasoning() const { return opens_reasoning_; }

 private:
  Kind kind_ = Kind::kChatMl;
  std::string default_system_prompt_;  // ChatML: used when no system message is given.
  bool opens_reasoning_ = false;
};

}  // namespace weir::engine
