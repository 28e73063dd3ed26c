#include "engine/text_stream.h"

#include <algorithm>
#include <cstdint>

namespace weir::engine {
namespace {

constexpr char kThinkOpen[] = "<think>";
constexpr char kThinkClose[] = "</think>";

// Length of the longest suffix of `text` that is a proper prefix of `tag`.
size_t PartialSuffix(const std::string& text, const std::string& tag) {
  const size_t longest = std::min(text.size(), tag.size() - 1);
  for (size_t length = longest; length > 0; --length) {
    if (text.compare(text.size() - length, length, tag, 0, length) == 0) return length;
  }
  return 0;
}

// Replaces every invalid UTF-8 sequence with U+FFFD, so JSON encoders and
// clients always receive valid text. `text` ends on a character boundary.
std::string ReplaceInvalidUtf8(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const unsigned char lead = static_cast<unsigned char>(text[i]);
    // Sequence length and smallest code point (overlong forms are invalid).
    size_t length = 0;
    uint32_t minimum = 0;
    if (lead < 0x80) {
      length = 1;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2;
      minimum = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      minimum = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      minimum = 0x10000;
    }
    bool valid = length > 0 && i + length <= text.size();
    uint32_t code_point = length == 1 ? lead : (lead & (0x7F >> length));
    for (size_t k = 1; valid && k < length; ++k) {
      const unsigned char next = static_cast<unsigned char>(text[i + k]);
      valid = (next & 0xC0) == 0x80;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    valid = valid && code_point >= minimum && code_point <= 0x10FFFF &&
            !(code_point >= 0xD800 && code_point <= 0xDFFF);
    if (valid) {
      out.append(text, i, length);
      i += length;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

}  // namespace

size_t CompleteUtf8Prefix(const std::string& text) {
  // Walk back over at most 3 continuation bytes to the last lead byte.
  size_t i = text.size();
  int continuation = 0;
  while (i > 0 && continuation < 4) {
    const unsigned char byte = static_cast<unsigned char>(text[i - 1]);
    if ((byte & 0xC0) != 0x80) {
      size_t needed = 1;
      if ((byte & 0xE0) == 0xC0) needed = 2;
      else if ((byte & 0xF0) == 0xE0) needed = 3;
      else if ((byte & 0xF8) == 0xF0) needed = 4;
      const size_t have = static_cast<size_t>(continuation) + 1;
      return have >= needed ? text.size() : i - 1;
    }
    ++continuation;
    --i;
  }
  return text.size();  // Not UTF-8 at the end; pass the bytes through.
}

TextStream::TextStream(std::vector<std::string> stop, bool in_reasoning)
    : stop_(std::move(stop)), in_reasoning_(in_reasoning) {
  stop_.erase(std::remove(stop_.begin(), stop_.end(), std::string()), stop_.end());
}

TextDelta TextStream::Feed(const std::string& bytes) {
  TextDelta out;
  if (stopped_) return out;
  utf8_pending_ += bytes;
  const size_t complete = CompleteUtf8Prefix(utf8_pending_);
  stop_pending_ += ReplaceInvalidUtf8(utf8_pending_.substr(0, complete));
  utf8_pending_.erase(0, complete);

  size_t first_stop = std::string::npos;
  for (const std::string& stop : stop_) first_stop = std::min(first_stop, stop_pending_.find(stop));
  if (first_stop != std::string::npos) {
    stopped_ = true;
    Route(stop_pending_.substr(0, first_stop), true, &out);
    stop_pending_.clear();
    utf8_pending_.clear();
    return out;
  }
  size_t hold = 0;
  for (const std::string& stop : stop_) hold = std::max(hold, PartialSuffix(stop_pending_, stop));
  Route(stop_pending_.substr(0, stop_pending_.size() - hold), false, &out);
  stop_pending_.erase(0, stop_pending_.size() - hold);
  return out;
}

TextDelta TextStream::Finish() {
  TextDelta out;
  if (!stopped_) Route(stop_pending_ + ReplaceInvalidUtf8(utf8_pending_), true, &out);
  stop_pending_.clear();
  utf8_pending_.clear();
  return out;
}

void TextStream::Route(const std::string& text, bool final, TextDelta* out) {
  route_pending_ += text;
  for (;;) {
    if (in_reasoning_) {
      const size_t close = route_pending_.find(kThinkClose);
      if (close != std::string::npos) {
        out->reasoning += route_pending_.substr(0, close);
        route_pending_.erase(0, close + sizeof(kThinkClose) - 1);
        in_reasoning_ = false;
        strip_leading_newlines_ = true;
        continue;
      }
      const size_t hold = final ? 0 : PartialSuffix(route_pending_, kThinkClose);
      out->reasoning += route_pending_.substr(0, route_pending_.size() - hold);
      route_pending_.erase(0, route_pending_.size() - hold);
      return;
    }
    if (strip_leading_newlines_) {
      const size_t first = route_pending_.find_first_not_of("\r\n");
      route_pending_.erase(0, first == std::string::npos ? route_pending_.size() : first);
      if (route_pending_.empty()) return;
      strip_leading_newlines_ = false;
    }
    if (!content_started_) {
      // A reasoning block is recognised only at the very start of the output.
      const size_t first = route_pending_.find_first_not_of(" \r\n");
      if (first == std::string::npos) {
        if (final) {
          out->content += route_pending_;
          route_pending_.clear();
        }
        return;
      }
      const std::string rest = route_pending_.substr(first);
      if (rest.compare(0, sizeof(kThinkOpen) - 1, kThinkOpen) == 0) {
        route_pending_ = rest.substr(sizeof(kThinkOpen) - 1);
        in_reasoning_ = true;
        content_started_ = true;
        continue;
      }
      if (!final && std::string(kThinkOpen).compare(0, rest.size(), rest) == 0) return;
      content_started_ = true;
    }
    out->content += route_pending_;
    route_pending_.clear();
    return;
  }
}

}  // namespace weir::engine
