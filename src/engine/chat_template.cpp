#include "engine/chat_template.h"

#include <fmt/format.h>

namespace weir::engine {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// ChatML templates such as SmolLM2's and Qwen2's insert a fixed system
// message when the conversation has none; it is written in the template as
// the literal '<|im_start|>system\n...<|im_end|>'.
std::string FindDefaultSystemPrompt(const std::string& source) {
  const std::string open = "<|im_start|>system\n";
  for (size_t at = source.find(open); at != std::string::npos; at = source.find(open, at + 1)) {
    const size_t begin = at + open.size();
    const size_t end = source.find("<|im_end|>", begin);
    if (end == std::string::npos) break;
    const std::string text = source.substr(begin, end - begin);
    // A literal prompt has no template syntax or string concatenation in it.
    if (!text.empty() && !Contains(text, "{") && !Contains(text, "'") && !Contains(text, "+")) {
      return text;
    }
  }
  return {};
}

std::string Trim(const std::string& text) {
  const size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return {};
  const size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

}  // namespace

Result<ChatTemplate> ChatTemplate::Select(const std::string& jinja_source,
                                          const std::string& override_name) {
  ChatTemplate result;
  if (!override_name.empty()) {
    if (override_name == "chatml") {
      result.kind_ = Kind::kChatMl;
    } else if (override_name == "deepseek-r1") {
      result.kind_ = Kind::kDeepSeekR1;
      result.opens_reasoning_ = true;
    } else if (override_name == "llama3") {
      result.kind_ = Kind::kLlama3;
    } else {
      return Error::InvalidRequest(
          fmt::format("chat_template \"{}\" is unknown; use chatml, deepseek-r1 or llama3",
                      override_name), "chat_template");
    }
    return result;
  }
  if (Contains(jinja_source, "<｜User｜>") && Contains(jinja_source, "<｜Assistant｜>")) {
    result.kind_ = Kind::kDeepSeekR1;
    // Newer R1 templates end the generation prompt with "<think>\n".
    result.opens_reasoning_ = Contains(jinja_source, "<｜Assistant｜><think>");
  } else if (Contains(jinja_source, "<|start_header_id|>") && Contains(jinja_source, "<|eot_id|>")) {
    result.kind_ = Kind::kLlama3;
  } else if (Contains(jinja_source, "<|im_start|>")) {
    result.kind_ = Kind::kChatMl;
    result.default_system_prompt_ = FindDefaultSystemPrompt(jinja_source);
  } else {
    return Error::InvalidRequest(
        jinja_source.empty()
            ? "the model file has no tokenizer.chat_template; set chat_template in the upstream "
              "configuration to chatml, deepseek-r1 or llama3"
            : "the model's tokenizer.chat_template is not one Weir recognises (ChatML, "
              "DeepSeek-R1, Llama 3); set chat_template in the upstream configuration to "
              "chatml, deepseek-r1 or llama3",
        "chat_template", "unknown_chat_template");
  }
  return result;
}

const char* ChatTemplate::name() const {
  switch (kind_) {
    case Kind::kChatMl: return "chatml";
    case Kind::kDeepSeekR1: return "deepseek-r1";
    case Kind::kLlama3: return "llama3";
  }
  return "chatml";
}

Result<std::string> ChatTemplate::Render(const std::vector<ChatMessage>& messages,
                                         const std::string& bos) const {
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string& role = messages[i].role;
    if (role != "system" && role != "user" && role != "assistant") {
      return Error::InvalidRequest(
          fmt::format("messages[{}].role is \"{}\"; the built-in engine accepts system, user and "
                      "assistant", i, role), fmt::format("messages[{}].role", i));
    }
  }
  if (messages.empty()) return Error::InvalidRequest("messages is empty; send at least one message", "messages");

  std::string prompt;
  switch (kind_) {
    case Kind::kChatMl:
      if (messages.front().role != "system" && !default_system_prompt_.empty()) {
        prompt += "<|im_start|>system\n" + default_system_prompt_ + "<|im_end|>\n";
      }
      for (const ChatMessage& message : messages) {
        prompt += "<|im_start|>" + message.role + "\n" + message.content + "<|im_end|>\n";
      }
      prompt += "<|im_start|>assistant\n";
      break;

    case Kind::kDeepSeekR1: {
      // System messages are joined at the start. Earlier assistant turns keep
      // only their final text, without the reasoning before </think>.
      std::string system;
      for (const ChatMessage& message : messages) {
        if (message.role == "system") system += (system.empty() ? "" : "\n\n") + message.content;
      }
      prompt += bos + system;
      for (const ChatMessage& message : messages) {
        if (message.role == "user") {
          prompt += "<｜User｜>" + message.content;
        } else if (message.role == "assistant") {
          std::string content = message.content;
          const size_t end_think = content.rfind("</think>");
          if (end_think != std::string::npos) content = content.substr(end_think + 8);
          prompt += "<｜Assistant｜>" + content + "<｜end▁of▁sentence｜>";
        }
      }
      prompt += "<｜Assistant｜>";
      if (opens_reasoning_) prompt += "<think>\n";
      break;
    }

    case Kind::kLlama3:
      // NOTE: Llama 3.1's template also adds a "Cutting Knowledge Date" system
      // preamble, which this rendering leaves out.
      prompt += bos;
      for (const ChatMessage& message : messages) {
        prompt += "<|start_header_id|>" + message.role + "<|end_header_id|>\n\n" +
                  Trim(message.content) + "<|eot_id|>";
      }
      prompt += "<|start_header_id|>assistant<|end_header_id|>\n\n";
      break;
  }
  return prompt;
}

}  // namespace weir::engine
