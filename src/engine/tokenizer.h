// Tokenizer: byte-level BPE as used by GPT-2, Llama 3, Qwen2, SmolLM2 and
// DeepSeek-V3, loaded from GGUF metadata or from a Hugging Face
// tokenizer.json.
//
// Text is first split at special (added) tokens, then each remaining span is
// split by the pre-tokenizer's regular expressions (PCRE2), each piece is
// mapped byte by byte to the GPT-2 byte alphabet and merged by rank.
//
// A Tokenizer is immutable after loading and safe to use from several threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "engine/gguf.h"

namespace weir::engine {

class RegexSplitter;

class Tokenizer {
 public:
  // Reads tokenizer.ggml.* keys: model "gpt2", the pre-tokenizer named by
  // tokenizer.ggml.pre, tokens, merges and token types.
  static Result<std::shared_ptr<Tokenizer>> FromGguf(const GgufFile& file);
  // Reads a Hugging Face tokenizer.json with a BPE model and byte-level
  // pre-tokenizer (Sequence, Split, ByteLevel, Digits).
  static Result<std::shared_ptr<Tokenizer>> FromHuggingFaceJson(const std::string& path);
  ~Tokenizer();

  // Returns the token ids of `text`. With `parse_special`, the text of a
  // special token (such as "<|im_end|>") becomes that token; without it, the
  // text is tokenized as ordinary characters. Never adds BOS.
  std::vector<int> Encode(std::string_view text, bool parse_special) const;

  // Bytes of one token: the original bytes for ordinary tokens (possibly an
  // incomplete UTF-8 sequence), the token's text for special tokens.
  std::string TokenBytes(int id) const;
  std::string Decode(const std::vector<int>& ids) const;

  int vocab_size() const { return static_cast<int>(tokens_.size()); }
  // Id of a token by its vocabulary text, or -1.
  int FindToken(const std::string& text) const;
  int bos() const { return bos_; }
  int eos() const { return eos_; }
  bool add_bos() const { return add_bos_; }
  // True for EOS and the other tokens that end a turn (end-of-turn, im_end).
  bool IsEndOfGeneration(int id) const;
  bool IsSpecial(int id) const;

 private:
  Tokenizer();
  Status Finish();
  void EncodePiece(const std::string& piece, std::vector<int>* out) const;

  std::vector<std::string> tokens_;  // Vocabulary text (byte-level alphabet).
  std::vector<bool> special_;        // Matched in text when parse_special.
  std::unordered_map<std::string, int> token_ids_;
  std::unordered_map<std::string, int> merge_ranks_;  // "left\x01right" -> rank.
  std::unique_ptr<RegexSplitter> splitter_;
  std::vector<int> special_ids_by_length_;  // Special tokens, longest text first.
  std::vector<int> end_of_generation_;
  bool ignore_merges_ = false;
  int bos_ = -1;
  int eos_ = -1;
  bool add_bos_ = false;
};

}  // namespace weir::engine
