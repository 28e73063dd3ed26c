// TextStream: turns the bytes of generated tokens into text deltas that are
// safe to send: never a split UTF-8 character, never text that could still
// turn out to be part of a stop string, and with <think>...</think> moved to
// the reasoning channel. One TextStream belongs to one sequence.
#pragma once

#include <string>
#include <vector>

namespace weir::engine {

struct TextDelta {
  std::string content;
  std::string reasoning;
  bool empty() const { return content.empty() && reasoning.empty(); }
};

class TextStream {
 public:
  // `in_reasoning`: the prompt already opened a <think> block.
  TextStream(std::vector<std::string> stop, bool in_reasoning);

  // Adds the bytes of one token. After a stop string is seen, stopped() is
  // true and further bytes are ignored.
  TextDelta Feed(const std::string& bytes);
  // Releases what was held back, at the end of generation.
  TextDelta Finish();
  bool stopped() const { return stopped_; }

 private:
  void Route(const std::string& text, bool final, TextDelta* out);

  std::vector<std::string> stop_;
  std::string utf8_pending_;   // Incomplete UTF-8 sequence at the end.
  std::string stop_pending_;   // Text that may begin a stop string.
  std::string route_pending_;  // Text that may begin a <think> tag.
  bool in_reasoning_;
  bool content_started_ = false;
  bool strip_leading_newlines_ = false;
  bool stopped_ = false;
};

// Length of the longest prefix of `text` that ends on a UTF-8 character
// boundary (an incomplete sequence at the end is excluded).
size_t CompleteUtf8Prefix(const std::string& text);

}  // namespace weir::engine
