// ApplyModelParams, the parameter policy the model routes apply to each request.
#include <string>

#include <gtest/gtest.h>

#include "gateway/gateway.h"

namespace weir {
namespace {

json::Document Parse(const std::string& body) {
  auto document = json::ParseObject(body);
  EXPECT_TRUE(document.ok()) << body;
  return std::move(*document);
}

ModelParams Params() {
  ModelParams params;
  params.default_max_tokens = 256;
  params.max_tokens_limit = 1024;
  params.temperature_min = 0.0;
  params.temperature_max = 1.0;
  return params;
}

TEST(ApplyModelParamsTest, SetsDefaultMaxTokensWhenAbsent) {
  json::Document body = Parse(R"({"model":"m","messages":[]})");
  ASSERT_TRUE(ApplyModelParams(Params(), body, true).ok());
  ASSERT_TRUE(body.HasMember("max_tokens"));
  EXPECT_EQ(body["max_tokens"].GetInt64(), 256);
}

TEST(ApplyModelParamsTest, KeepsRequestedMaxTokens) {
  json::Document body = Parse(R"({"model":"m","messages":[],"max_tokens":50})");
  ASSERT_TRUE(ApplyModelParams(Params(), body, true).ok());
  EXPECT_EQ(body["max_tokens"].GetInt64(), 50);

  json::Document newer = Parse(R"({"model":"m","messages":[],"max_completion_tokens":60})");
  ASSERT_TRUE(ApplyModelParams(Params(), newer, true).ok());
  EXPECT_EQ(newer["max_completion_tokens"].GetInt64(), 60);
  EXPECT_FALSE(newer.HasMember("max_tokens"));
}

TEST(ApplyModelParamsTest, NoDefaultLeavesBodyAlone) {
  ModelParams params;
  json::Document body = Parse(R"({"model":"m","prompt":"hi"})");
  ASSERT_TRUE(ApplyModelParams(params, body, false).ok());
  EXPECT_FALSE(body.HasMember("max_tokens"));
  EXPECT_EQ(json::Serialize(body), R"({"model":"m","prompt":"hi"})");
}

TEST(ApplyModelParamsTest, RejectsMaxTokensAboveLimit) {
  json::Document body = Parse(R"({"model":"m","messages":[],"max_tokens":1025})");
  Status status = ApplyModelParams(Params(), body, true);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().http_status, 400);
  EXPECT_EQ(status.error().param, "max_tokens");
  EXPECT_NE(status.error().message.find("1025"), std::string::npos);
  EXPECT_NE(status.error().message.find("1024"), std::string::npos);

  json::Document at_limit = Parse(R"({"model":"m","messages":[],"max_tokens":1024})");
  EXPECT_TRUE(ApplyModelParams(Params(), at_limit, true).ok());
}

TEST(ApplyModelParamsTest, RejectsMaxCompletionTokensAboveLimit) {
  json::Document body = Parse(R"({"model":"m","messages":[],"max_completion_tokens":5000})");
  Status status = ApplyModelParams(Params(), body, true);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().param, "max_completion_tokens");
}

TEST(ApplyModelParamsTest, LimitAppliesToBothMaxFields) {
  // Upstreams such as vLLM read max_tokens when both are sent, so a small
  // max_completion_tokens must not let a large max_tokens through.
  json::Document body = Parse(R"({"model":"m","messages":[],"max_completion_tokens":10,"max_tokens":99999})");
  Status status = ApplyModelParams(Params(), body, true);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().http_status, 400);
  EXPECT_EQ(status.error().param, "max_tokens");
}

TEST(ApplyModelParamsTest, RejectsMaxTokensOfWrongType) {
  json::Document body = Parse(R"({"model":"m","messages":[],"max_tokens":"100"})");
  Status status = ApplyModelParams(Params(), body, true);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().http_status, 400);
  EXPECT_EQ(status.error().param, "max_tokens");
}

TEST(ApplyModelParamsTest, TemperatureRange) {
  for (const char* ok : {"0", "0.5", "1", "1.0"}) {
    json::Document body = Parse(std::string(R"({"model":"m","messages":[],"temperature":)") + ok + "}");
    EXPECT_TRUE(ApplyModelParams(Params(), body, true).ok()) << ok;
  }
  for (const char* bad : {"-0.1", "1.01", "2"}) {
    json::Document body = Parse(std::string(R"({"model":"m","messages":[],"temperature":)") + bad + "}");
    Status status = ApplyModelParams(Params(), body, true);
    ASSERT_FALSE(status.ok()) << bad;
    EXPECT_EQ(status.error().http_status, 400);
    EXPECT_EQ(status.error().param, "temperature");
    EXPECT_NE(status.error().message.find("0 to 1"), std::string::npos) << status.error().message;
  }
  json::Document wrong_type = Parse(R"({"model":"m","messages":[],"temperature":"hot"})");
  Status status = ApplyModelParams(Params(), wrong_type, true);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().param, "temperature");
}

TEST(ApplyModelParamsTest, SystemPromptGoesFirst) {
  ModelParams params = Params();
  params.system_prompt = "Answer in 中文.";
  json::Document body = Parse(
      R"({"model":"m","messages":[{"role":"user","content":"one"},{"role":"assistant","content":"two"},)"
      R"({"role":"user","content":"three"}]})");
  ASSERT_TRUE(ApplyModelParams(params, body, true).ok());
  const auto& messages = body["messages"];
  ASSERT_EQ(messages.Size(), 4u);
  EXPECT_STREQ(messages[0]["role"].GetString(), "system");
  EXPECT_STREQ(messages[0]["content"].GetString(), "Answer in 中文.");
  EXPECT_STREQ(messages[1]["content"].GetString(), "one");
  EXPECT_STREQ(messages[2]["content"].GetString(), "two");
  EXPECT_STREQ(messages[3]["content"].GetString(), "three");
}

TEST(ApplyModelParamsTest, SystemPromptOnlyForChat) {
  ModelParams params = Params();
  params.system_prompt = "Be brief.";
  json::Document body = Parse(R"({"model":"m","prompt":"hello"})");
  ASSERT_TRUE(ApplyModelParams(params, body, false).ok());
  EXPECT_FALSE(body.HasMember("messages"));
  EXPECT_STREQ(body["prompt"].GetString(), "hello");
}

}  // namespace
}  // namespace weir
