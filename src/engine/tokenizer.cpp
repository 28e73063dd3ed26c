#include "engine/tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <array>
#include <climits>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <rapidjson/document.h>

namespace weir::engine {
namespace {

// GGUF token types (llama.cpp's llama_token_type).
constexpr int kTokenControl = 3;
constexpr int kTokenUserDefined = 4;

// Pre-tokenizer expressions, applied in order; each splits every piece the
// previous one produced. Sources: the tokenizer.json files of GPT-2,
// SmolLM2, Llama 3, Qwen2 and DeepSeek-V3 as published on Hugging Face.
const char* const kGpt2 =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const char* const kLlama3 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
    "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* const kQwen2 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
    "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* const kDeepSeekV3Cjk = "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+";
const char* const kDeepSeekV3Words =
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+|"
    " ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// The GPT-2 byte alphabet: every byte maps to one printable code point.
const std::array<std::string, 256>& ByteToUnicode() {
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> result;
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      const int code_point = printable ? b : next++;
      std::string utf8;
      if (code_point < 0x80) {
        utf8 += static_cast<char>(code_point);
      } else {
        utf8 += static_cast<char>(0xC0 | (code_point >> 6));
        utf8 += static_cast<char>(0x80 | (code_point & 0x3F));
      }
      result[static_cast<size_t>(b)] = utf8;
    }
    return result;
  }();
  return table;
}

const std::unordered_map<std::string, uint8_t>& UnicodeToByte() {
  static const std::unordered_map<std::string, uint8_t> table = [] {
    std::unordered_map<std::string, uint8_t> result;
    for (int b = 0; b < 256; ++b) result[ByteToUnicode()[static_cast<size_t>(b)]] = static_cast<uint8_t>(b);
    return result;
  }();
  return table;
}

size_t Utf8Length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;
}

std::string MergeKey(const std::string& left, const std::string& right) {
  std::string key = left;
  key += '\x01';
  key += right;
  return key;
}

Error TokenizerError(const std::string& source, const std::string& what) {
  return Error::InvalidRequest(fmt::format("tokenizer of {}: {}", source, what), "model_path",
                               "invalid_tokenizer");
}

}  // namespace

// Splits text by a sequence of PCRE2 expressions, keeping both the matches
// and the text between them as pieces (Hugging Face's "Isolated" behavior).
class RegexSplitter {
 public:
  ~RegexSplitter() {
    for (pcre2_code* code : expressions_) pcre2_code_free(code);
  }

  Status Add(const std::string& pattern) {
    int error_code = 0;
    PCRE2_SIZE error_offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error_code,
                                     &error_offset, nullptr);
    if (code == nullptr) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(error_code, message, sizeof(message));
      return Error::InvalidRequest(fmt::format("pre-tokenizer expression {} is invalid at offset "
                                               "{}: {}", pattern, error_offset,
                                               reinterpret_cast<const char*>(message)));
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // Falls back to the interpreter on failure.
    expressions_.push_back(code);
    return Status::Ok();
  }

  std::vector<std::string> Split(std::string_view text) const {
    std::vector<std::string> pieces{std::string(text)};
    for (pcre2_code* code : expressions_) {
      std::vector<std::string> next;
      for (const std::string& piece : pieces) SplitOne(code, piece, &next);
      pieces = std::move(next);
    }
    return pieces;
  }

 private:
  static void SplitOne(pcre2_code* code, const std::string& text, std::vector<std::string>* out) {
    pcre2_match_data* match = pcre2_match_data_create_from_pattern(code, nullptr);
    size_t position = 0, gap_start = 0;
    while (position < text.size()) {
      const int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(),
                                 position, 0, match, nullptr);
      if (rc < 0) break;
      const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match);
      const size_t begin = ovector[0], end = ovector[1];
      if (end == begin) {  // Empty match: step over one character.
        position = begin + Utf8Length(static_cast<unsigned char>(text[begin]));
        continue;
      }
      if (begin > gap_start) out->push_back(text.substr(gap_start, begin - gap_start));
      out->push_back(text.substr(begin, end - begin));
      position = gap_start = end;
    }
    if (gap_start < text.size()) out->push_back(text.substr(gap_start));
    pcre2_match_data_free(match);
  }

  std::vector<pcre2_code*> expressions_;
};

Tokenizer::Tokenizer() : splitter_(std::make_unique<RegexSplitter>()) {}
Tokenizer::~Tokenizer() = default;

Result<std::shared_ptr<Tokenizer>> Tokenizer::FromGguf(const GgufFile& file) {
  const std::string model = file.GetString("tokenizer.ggml.model");
  if (model != "gpt2") {
    return TokenizerError(file.path(), fmt::format("tokenizer.ggml.model is \"{}\", but the "
                                                   "built-in engine reads byte-level BPE (\"gpt2\") "
                                                   "only", model));
  }
  const GgufValue* tokens = file.Find("tokenizer.ggml.tokens");
  const GgufValue* merges = file.Find("tokenizer.ggml.merges");
  if (tokens == nullptr || tokens->strings.empty() || merges == nullptr) {
    return TokenizerError(file.path(), "tokenizer.ggml.tokens or tokenizer.ggml.merges is missing");
  }
  std::shared_ptr<Tokenizer> tokenizer(new Tokenizer());
  tokenizer->tokens_ = tokens->strings;
  tokenizer->special_.assign(tokenizer->tokens_.size(), false);
  if (const GgufValue* types = file.Find("tokenizer.ggml.token_type")) {
    for (size_t i = 0; i < types->numbers.size() && i < tokenizer->tokens_.size(); ++i) {
      const int type = static_cast<int>(types->numbers[i]);
      tokenizer->special_[i] = type == kTokenControl || type == kTokenUserDefined;
    }
  }
  for (size_t i = 0; i < merges->strings.size(); ++i) {
    const std::string& merge = merges->strings[i];
    const size_t space = merge.find(' ', 1);
    if (space == std::string::npos) continue;
    tokenizer->merge_ranks_[MergeKey(merge.substr(0, space), merge.substr(space + 1))] =
        static_cast<int>(i);
  }

  const std::string pre = file.GetString("tokenizer.ggml.pre", "default");
  std::vector<std::string> expressions;
  if (pre == "gpt-2" || pre == "gpt2" || pre == "default") {
    expressions = {kGpt2};
  } else if (pre == "smollm" || pre == "starcoder") {
    expressions = {"\\p{N}", kGpt2};
  } else if (pre == "llama3" || pre == "llama-bpe") {
    expressions = {kLlama3};
    tokenizer->ignore_merges_ = true;
  } else if (pre == "qwen2" || pre == "deepseek-r1-qwen") {
    expressions = {kQwen2};
  } else if (pre == "deepseek-v3") {
    expressions = {"\\p{N}{1,3}", kDeepSeekV3Cjk, kDeepSeekV3Words};
  } else {
    // TODO: deepseek-llm and deepseek-coder pre-tokenizers are not built in yet.
    return TokenizerError(file.path(), fmt::format("pre-tokenizer tokenizer.ggml.pre=\"{}\" is not "
                                                   "supported (supported: gpt-2, smollm, llama3, "
                                                   "llama-bpe, qwen2, deepseek-r1-qwen, "
                                                   "deepseek-v3)", pre));
  }
  for (const std::string& expression : expressions) {
    Status s = tokenizer->splitter_->Add(expression);
    if (!s.ok()) return s.error();
  }
  tokenizer->bos_ = static_cast<int>(file.GetInt("tokenizer.ggml.bos_token_id", -1));
  tokenizer->eos_ = static_cast<int>(file.GetInt("tokenizer.ggml.eos_token_id", -1));
  tokenizer->add_bos_ = file.GetBool("tokenizer.ggml.add_bos_token", pre == "llama3" || pre == "llama-bpe");
  const int eot = static_cast<int>(file.GetInt("tokenizer.ggml.eot_token_id", -1));
  if (eot >= 0) tokenizer->end_of_generation_.push_back(eot);
  Status s = tokenizer->Finish();
  if (!s.ok()) return s.error();
  return tokenizer;
}

Result<std::shared_ptr<Tokenizer>> Tokenizer::FromHuggingFaceJson(const std::string& path) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) {
    return TokenizerError(path, "the file cannot be opened; check the path");
  }
  std::stringstream buffer;
  buffer << stream.rdbuf();
  const std::string text = buffer.str();
  rapidjson::Document json;
  json.Parse(text.data(), text.size());
  if (json.HasParseError() || !json.IsObject()) {
    return TokenizerError(path, fmt::format("invalid JSON at offset {}", json.GetErrorOffset()));
  }
  if (!json.HasMember("model") || !json["model"].IsObject() || !json["model"].HasMember("vocab") ||
      std::string(json["model"]["type"].IsString() ? json["model"]["type"].GetString() : "") != "BPE") {
    return TokenizerError(path, "model.type must be \"BPE\" with a vocab");
  }
  std::shared_ptr<Tokenizer> tokenizer(new Tokenizer());
  const rapidjson::Value& model = json["model"];
  int max_id = -1;
  for (auto it = model["vocab"].MemberBegin(); it != model["vocab"].MemberEnd(); ++it) {
    max_id = std::max(max_id, it->value.GetInt());
  }
  if (json.HasMember("added_tokens") && json["added_tokens"].IsArray()) {
    for (const auto& added : json["added_tokens"].GetArray()) max_id = std::max(max_id, added["id"].GetInt());
  }
  tokenizer->tokens_.assign(static_cast<size_t>(max_id + 1), std::string());
  tokenizer->special_.assign(static_cast<size_t>(max_id + 1), false);
  for (auto it = model["vocab"].MemberBegin(); it != model["vocab"].MemberEnd(); ++it) {
    tokenizer->tokens_[static_cast<size_t>(it->value.GetInt())] =
        std::string(it->name.GetString(), it->name.GetStringLength());
  }
  if (json.HasMember("added_tokens") && json["added_tokens"].IsArray()) {
    for (const auto& added : json["added_tokens"].GetArray()) {
      const size_t id = static_cast<size_t>(added["id"].GetInt());
      tokenizer->tokens_[id] = added["content"].GetString();
      tokenizer->special_[id] = true;  // Every added token is matched in the text.
    }
  }
  if (model.HasMember("ignore_merges") && model["ignore_merges"].IsBool()) {
    tokenizer->ignore_merges_ = model["ignore_merges"].GetBool();
  }
  if (model.HasMember("merges") && model["merges"].IsArray()) {
    int rank = 0;
    for (const auto& merge : model["merges"].GetArray()) {
      if (merge.IsString()) {
        const std::string item = merge.GetString();
        const size_t space = item.find(' ', 1);
        if (space != std::string::npos) {
          tokenizer->merge_ranks_[MergeKey(item.substr(0, space), item.substr(space + 1))] = rank;
        }
      } else if (merge.IsArray() && merge.Size() == 2) {
        tokenizer->merge_ranks_[MergeKey(merge[0].GetString(), merge[1].GetString())] = rank;
      }
      ++rank;
    }
  }

  // Pre-tokenizer: a single step or a Sequence of Split, Digits and ByteLevel.
  std::vector<const rapidjson::Value*> steps;
  if (json.HasMember("pre_tokenizer") && json["pre_tokenizer"].IsObject()) {
    const rapidjson::Value& pre = json["pre_tokenizer"];
    if (std::string(pre["type"].GetString()) == "Sequence") {
      for (const auto& step : pre["pretokenizers"].GetArray()) steps.push_back(&step);
    } else {
      steps.push_back(&pre);
    }
  }
  for (const rapidjson::Value* step : steps) {
    const std::string type = (*step)["type"].GetString();
    Status s = Status::Ok();
    if (type == "Split") {
      const rapidjson::Value& pattern = (*step)["pattern"];
      const std::string behavior = step->HasMember("behavior") ? (*step)["behavior"].GetString() : "Isolated";
      if (!pattern.HasMember("Regex") || behavior != "Isolated") {
        return TokenizerError(path, "only Split steps with a Regex pattern and behavior Isolated are supported");
      }
      s = tokenizer->splitter_->Add(pattern["Regex"].GetString());
    } else if (type == "Digits") {
      const bool individual = step->HasMember("individual_digits") && (*step)["individual_digits"].GetBool();
      s = tokenizer->splitter_->Add(individual ? "\\p{N}" : "\\p{N}+");
    } else if (type == "ByteLevel") {
      if (!step->HasMember("use_regex") || (*step)["use_regex"].GetBool()) s = tokenizer->splitter_->Add(kGpt2);
    } else {
      return TokenizerError(path, fmt::format("pre-tokenizer type {} is not supported", type));
    }
    if (!s.ok()) return s.error();
  }

  for (size_t i = 0; i < tokenizer->tokens_.size(); ++i) {
    tokenizer->token_ids_.emplace(tokenizer->tokens_[i], static_cast<int>(i));
  }

  // BOS/EOS are not part of tokenizer.json; the DeepSeek convention of
  // naming them in the first added tokens is recognised by name.
  tokenizer->bos_ = -1;
  for (const char* name : {"<｜begin▁of▁sentence｜>", "<|begin_of_text|>", "<s>"}) {
    if (tokenizer->bos_ < 0) tokenizer->bos_ = tokenizer->FindToken(name);
  }
  for (const char* name : {"<｜end▁of▁sentence｜>", "<|end_of_text|>", "<|endoftext|>", "</s>"}) {
    if (tokenizer->eos_ < 0) tokenizer->eos_ = tokenizer->FindToken(name);
  }
  Status s = tokenizer->Finish();
  if (!s.ok()) return s.error();
  return tokenizer;
}

Status Tokenizer::Finish() {
  for (size_t i = 0; i < tokens_.size(); ++i) token_ids_.emplace(tokens_[i], static_cast<int>(i));
  for (size_t i = 0; i < tokens_.size(); ++i) {
    if (special_[i] && !tokens_[i].empty()) special_ids_by_length_.push_back(static_cast<int>(i));
  }
  std::stable_sort(special_ids_by_length_.begin(), special_ids_by_length_.end(), [&](int a, int b) {
    return tokens_[static_cast<size_t>(a)].size() > tokens_[static_cast<size_t>(b)].size();
  });
  if (eos_ >= 0) end_of_generation_.push_back(eos_);
  for (const char* name : {"<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "<|endoftext|>",
                           "<｜end▁of▁sentence｜>", "<|eom_id|>"}) {
    const int id = FindToken(name);
    if (id >= 0 && special_[static_cast<size_t>(id)]) end_of_generation_.push_back(id);
  }
  return Status::Ok();
}

int Tokenizer::FindToken(const std::string& text) const {
  auto it = token_ids_.find(text);
  return it == token_ids_.end() ? -1 : it->second;
}

bool Tokenizer::IsEndOfGeneration(int id) const {
  return std::find(end_of_generation_.begin(), end_of_generation_.end(), id) != end_of_generation_.end();
}

bool Tokenizer::IsSpecial(int id) const {
  return id >= 0 && id < vocab_size() && special_[static_cast<size_t>(id)];
}

std::vector<int> Tokenizer::Encode(std::string_view text, bool parse_special) const {
  std::vector<int> ids;
  size_t span_start = 0;
  auto flush = [&](size_t end) {
    if (end <= span_start) return;
    for (const std::string& piece : splitter_->Split(text.substr(span_start, end - span_start))) {
      EncodePiece(piece, &ids);
    }
  };
  if (parse_special && !special_ids_by_length_.empty()) {
    for (size_t i = 0; i < text.size();) {
      int found = -1;
      for (int id : special_ids_by_length_) {
        const std::string& token = tokens_[static_cast<size_t>(id)];
        if (text.compare(i, token.size(), token) == 0) {
          found = id;
          break;
        }
      }
      if (found < 0) {
        ++i;
        continue;
      }
      flush(i);
      ids.push_back(found);
      i += tokens_[static_cast<size_t>(found)].size();
      span_start = i;
    }
  }
  flush(text.size());
  return ids;
}

void Tokenizer::EncodePiece(const std::string& piece, std::vector<int>* out) const {
  std::string mapped;
  std::vector<std::string> symbols;
  for (unsigned char byte : piece) {
    symbols.push_back(ByteToUnicode()[byte]);
    mapped += symbols.back();
  }
  if (ignore_merges_) {
    const int whole = FindToken(mapped);
    if (whole >= 0) {
      out->push_back(whole);
      return;
    }
  }

  // Merge the adjacent pair with the lowest rank until no pair has a rank.
  while (symbols.size() > 1) {
    int best_rank = INT_MAX;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      auto it = merge_ranks_.find(MergeKey(symbols[i], symbols[i + 1]));
      if (it != merge_ranks_.end() && it->second < best_rank) best_rank = it->second;
    }
    if (best_rank == INT_MAX) break;
    std::vector<std::string> merged;
    for (size_t i = 0; i < symbols.size(); ++i) {
      if (i + 1 < symbols.size()) {
        auto it = merge_ranks_.find(MergeKey(symbols[i], symbols[i + 1]));
        if (it != merge_ranks_.end() && it->second == best_rank) {
          merged.push_back(symbols[i] + symbols[i + 1]);
          ++i;
          continue;
        }
      }
      merged.push_back(symbols[i]);
    }
    symbols = std::move(merged);
  }
  for (const std::string& symbol : symbols) {
    const int id = FindToken(symbol);
    if (id >= 0) {
      out->push_back(id);
      continue;
    }
    // NOTE: a symbol outside the vocabulary is dropped; byte-level
    // vocabularies contain all 256 byte symbols, so this needs a broken file.
  }
}

std::string Tokenizer::TokenBytes(int id) const {
  if (id < 0 || id >= vocab_size()) return {};
  const std::string& token = tokens_[static_cast<size_t>(id)];
  if (special_[static_cast<size_t>(id)]) return token;
  std::string bytes;
  const auto& table = UnicodeToByte();
  for (size_t i = 0; i < token.size();) {
    const size_t length = std::min(Utf8Length(static_cast<unsigned char>(token[i])), token.size() - i);
    auto it = table.find(token.substr(i, length));
    if (it != table.end()) {
      bytes += static_cast<char>(it->second);
    } else {
      bytes += token.substr(i, length);
    }
    i += length;
  }
  return bytes;
}

std::string Tokenizer::Decode(const std::vector<int>& ids) const {
  std::string text;
  for (int id : ids) text += TokenBytes(id);
  return text;
}

}  // namespace weir::engine
