#include "engine/openai_request.h"

#include <gtest/gtest.h>

namespace weir::engine {
namespace {

TEST(OpenAiRequestTest, ParsesChatFields) {
  auto request = ParseOpenAiRequest(
      "/v1/chat/completions",
      R"({"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}],
          "stream":true,"stream_options":{"include_usage":true},"max_completion_tokens":9,
          "stop":"x","temperature":0.5,"top_k":-1,"seed":3})");
  ASSERT_TRUE(request.ok()) << request.error().message;
  EXPECT_TRUE(request->chat);
  EXPECT_EQ(request->messages[0].content, "ab");
  EXPECT_TRUE(request->stream);
  EXPECT_TRUE(request->include_usage);
  EXPECT_EQ(request->max_tokens, 9);
  ASSERT_EQ(request->stop.size(), 1u);
  EXPECT_FLOAT_EQ(request->sampling.temperature, 0.5f);
  EXPECT_EQ(request->sampling.top_k, 0);
  EXPECT_TRUE(request->sampling.has_seed);
}

TEST(OpenAiRequestTest, ParsesCompletionPrompt) {
  auto request = ParseOpenAiRequest("/completions", R"({"prompt":["hello"]})");
  ASSERT_TRUE(request.ok());
  EXPECT_FALSE(request->chat);
  EXPECT_EQ(request->prompt, "hello");
}

TEST(OpenAiRequestTest, RejectsBadValues) {
  auto bad_json = ParseOpenAiRequest("/chat/completions", "{");
  ASSERT_FALSE(bad_json.ok());
  auto bad_stop = ParseOpenAiRequest("/chat/completions", R"({"messages":[],"stop":[1]})");
  ASSERT_FALSE(bad_stop.ok());
  EXPECT_EQ(bad_stop.error().param, "stop");
  auto image = ParseOpenAiRequest("/chat/completions",
                                  R"({"messages":[{"role":"user","content":[{"type":"image_url"}]}]})");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.error().param, "messages[0].content");
  auto path = ParseOpenAiRequest("/embeddings", "{}");
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.error().http_status, 404);
}

}  // namespace
}  // namespace weir::engine
