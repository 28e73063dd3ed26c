#include "engine/builtin_upstream.h"

#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

namespace weir {
namespace {

// Writes a GGUF v3 file of a 1-layer llama model with random f32 weights, a
// byte-level vocabulary of 256 byte tokens plus the two ChatML markers, and
// a ChatML chat template.
class TinyModelFile {
 public:
  TinyModelFile() {
    std::vector<std::pair<std::string, std::vector<int64_t>>> tensors = {
        {"token_embd.weight", {kWidth, kVocab}}, {"output_norm.weight", {kWidth}},
        {"blk.0.attn_norm.weight", {kWidth}},   {"blk.0.ffn_norm.weight", {kWidth}},
        {"blk.0.attn_q.weight", {kWidth, kWidth}}, {"blk.0.attn_k.weight", {kWidth, kWidth}},
        {"blk.0.attn_v.weight", {kWidth, kWidth}}, {"blk.0.attn_output.weight", {kWidth, kWidth}},
        {"blk.0.ffn_gate.weight", {kWidth, kFeedForward}}, {"blk.0.ffn_up.weight", {kWidth, kFeedForward}},
        {"blk.0.ffn_down.weight", {kFeedForward, kWidth}}};
    Put<uint32_t>(0x46554747);
    Put<uint32_t>(3);
    Put<uint64_t>(tensors.size());
    Put<uint64_t>(13);  // Metadata keys written below.
    String("general.architecture", "llama");
    Int("llama.block_count", 1);
    Int("llama.embedding_length", kWidth);
    Int("llama.feed_forward_length", kFeedForward);
    Int("llama.attention.head_count", 2);
    Int("llama.context_length", 256);
    String("tokenizer.ggml.model", "gpt2");
    String("tokenizer.ggml.pre", "gpt2");
    String("tokenizer.chat_template", "{{'<|im_start|>' + message['role']}}");
    Int("tokenizer.ggml.eos_token_id", kVocab - 1);
    Tokens();
    Key("tokenizer.ggml.merges");
    Put<uint32_t>(9);
    Put<uint32_t>(8);
    Put<uint64_t>(0);

    uint64_t offset = 0;
    for (const auto& [name, dims] : tensors) {
      Text(name);
      Put<uint32_t>(static_cast<uint32_t>(dims.size()));
      uint64_t count = 1;
      for (int64_t dim : dims) {
        Put<uint64_t>(static_cast<uint64_t>(dim));
        count *= static_cast<uint64_t>(dim);
      }
      Put<uint32_t>(0);
      Put<uint64_t>(offset);
      offset += (count * 4 + 31) / 32 * 32;
    }
    while (data_.size() % 32 != 0) data_.push_back(0);
    std::mt19937 random(3);
    std::normal_distribution<float> normal(0.0f, 0.2f);
    for (const auto& [name, dims] : tensors) {
      uint64_t count = 1;
      for (int64_t dim : dims) count *= static_cast<uint64_t>(dim);
      const bool norm = name.find("norm") != std::string::npos;
      for (uint64_t i = 0; i < count; ++i) Put<float>(norm ? 1.0f : normal(random));
      while (data_.size() % 32 != 0) data_.push_back(0);
    }

    char path[] = "/tmp/weir-upstream-test-XXXXXX";
    const int fd = mkstemp(path);
    EXPECT_EQ(write(fd, data_.data(), data_.size()), static_cast<ssize_t>(data_.size()));
    close(fd);
    path_ = path;
  }
  ~TinyModelFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  static constexpr int64_t kWidth = 64, kFeedForward = 128, kVocab = 258;

  template <typename T>
  void Put(T value) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(&value);
    data_.insert(data_.end(), bytes, bytes + sizeof(T));
  }
  void Text(const std::string& text) {
    Put<uint64_t>(text.size());
    data_.insert(data_.end(), text.begin(), text.end());
  }
  void Key(const std::string& key) { Text(key); }
  void String(const std::string& key, const std::string& value) {
    Key(key);
    Put<uint32_t>(8);
    Text(value);
  }
  void Int(const std::string& key, uint32_t value) {
    Key(key);
    Put<uint32_t>(4);
    Put<uint32_t>(value);
  }
  // The GPT-2 byte alphabet, then <|im_start|> and <|im_end|> as control tokens.
  void Tokens() {
    std::vector<std::string> tokens;
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      const int code_point = printable ? b : next++;
      std::string utf8;
      if (code_point < 0x80) {
        utf8 += static_cast<char>(code_point);
      } else {
        utf8 += static_cast<char>(0xC0 | (code_point >> 6));
        utf8 += static_cast<char>(0x80 | (code_point & 0x3F));
      }
      tokens.push_back(utf8);
    }
    tokens.push_back("<|im_start|>");
    tokens.push_back("<|im_end|>");
    Key("tokenizer.ggml.tokens");
    Put<uint32_t>(9);
    Put<uint32_t>(8);
    Put<uint64_t>(tokens.size());
    for (const std::string& token : tokens) Text(token);
    Key("tokenizer.ggml.token_type");
    Put<uint32_t>(9);
    Put<uint32_t>(5);
    Put<uint64_t>(tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i) Put<int32_t>(i < 256 ? 1 : 3);
  }

  std::vector<uint8_t> data_;
  std::string path_;
};

struct Outcome {
  int status = 0;
  std::vector<std::string> pieces;
};

// Opens `count` requests at once on one io_context thread and reads each to
// the end, or only `keep` pieces before dropping it when keep > 0.
std::vector<Outcome> RunRequests(Upstream& upstream, const std::string& body, int count, int keep = 0) {
  boost::asio::io_context io;
  std::vector<Outcome> outcomes(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    boost::asio::co_spawn(io, [&, i]() -> boost::asio::awaitable<void> {
      UpstreamRequest request{"/v1/chat/completions", body, true, "r" + std::to_string(i)};
      UpstreamOpenResult opened = co_await upstream.Open(request, UpstreamTimeouts{});
      Outcome& outcome = outcomes[static_cast<size_t>(i)];
      outcome.status = opened.response->status();
      for (;;) {
        auto piece = co_await opened.response->Read();
        if (!piece.ok() || !piece->has_value()) break;
        outcome.pieces.push_back(**piece);
        if (keep > 0 && static_cast<int>(outcome.pieces.size()) >= keep) break;
      }
    }, boost::asio::detached);
  }
  io.run();
  return outcomes;
}

TEST(BuiltinUpstreamTest, StreamsConcurrentRequestsToDone) {
  TinyModelFile file;
  BuiltinUpstreamOptions options{file.path(), "tiny", 2, 128, 2, ""};
  auto upstream = CreateBuiltinUpstream(options);
  ASSERT_TRUE(upstream.ok()) << upstream.error().message;
  // The random-weight model can sample EOS early; a fixed seed makes every
  // request run to max_tokens the same way each time.
  const std::string body =
      R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":5,"seed":7,"stream":true,)"
      R"("stream_options":{"include_usage":true}})";
  const std::vector<Outcome> outcomes = RunRequests(**upstream, body, 3);
  for (const Outcome& outcome : outcomes) {
    EXPECT_EQ(outcome.status, 200);
    ASSERT_GE(outcome.pieces.size(), 3u);
    EXPECT_EQ(outcome.pieces.back(), "data: [DONE]\n\n");
    EXPECT_NE(outcome.pieces[outcome.pieces.size() - 2].find("\"completion_tokens\":5"), std::string::npos)
        << outcome.pieces[outcome.pieces.size() - 2];
  }
}

TEST(BuiltinUpstreamTest, DroppedResponsesFreeSlots) {
  TinyModelFile file;
  BuiltinUpstreamOptions options{file.path(), "tiny", 1, 128, 1, ""};
  auto upstream = CreateBuiltinUpstream(options);
  ASSERT_TRUE(upstream.ok()) << upstream.error().message;
  const std::string body = R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":100,"stream":true})";
  // One slot: the later requests can only run when the earlier drops free it.
  const std::vector<Outcome> outcomes = RunRequests(**upstream, body, 3, 2);
  for (const Outcome& outcome : outcomes) EXPECT_EQ(outcome.pieces.size(), 2u);
}

TEST(BuiltinUpstreamTest, OverflowIsBadRequest) {
  TinyModelFile file;
  BuiltinUpstreamOptions options{file.path(), "tiny", 1, 32, 1, ""};
  auto upstream = CreateBuiltinUpstream(options);
  ASSERT_TRUE(upstream.ok()) << upstream.error().message;
  const std::string body = R"({"messages":[{"role":"user","content":"a long message of many bytes"}]})";
  const std::vector<Outcome> outcomes = RunRequests(**upstream, body, 1);
  EXPECT_EQ(outcomes[0].status, 400);
  ASSERT_EQ(outcomes[0].pieces.size(), 1u);
  EXPECT_NE(outcomes[0].pieces[0].find("context_length_exceeded"), std::string::npos);
}

}  // namespace
}  // namespace weir
