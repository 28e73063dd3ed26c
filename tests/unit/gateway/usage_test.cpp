#include "gateway/usage.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace weir {
namespace {

Usage ParseUsageJson(const std::string& text) {
  json::Document document;
  document.Parse(text.c_str());
  EXPECT_FALSE(document.HasParseError()) << text;
  return ParseUsage(document);
}

TEST(ParseUsageTest, OpenAiShape) {
  Usage usage = ParseUsageJson(
      R"({"prompt_tokens":120,"completion_tokens":30,"total_tokens":150,)"
      R"("prompt_tokens_details":{"cached_tokens":100},"completion_tokens_details":{"reasoning_tokens":12}})");
  EXPECT_TRUE(usage.reported);
  EXPECT_EQ(usage.prompt_tokens, 120);
  EXPECT_EQ(usage.completion_tokens, 30);
  EXPECT_EQ(usage.cached_tokens, 100);
  EXPECT_EQ(usage.reasoning_tokens, 12);
}

TEST(ParseUsageTest, PlainCountsOnly) {
  Usage usage = ParseUsageJson(R"({"prompt_tokens":5,"completion_tokens":7})");
  EXPECT_TRUE(usage.reported);
  EXPECT_EQ(usage.prompt_tokens, 5);
  EXPECT_EQ(usage.completion_tokens, 7);
  EXPECT_EQ(usage.cached_tokens, 0);
  EXPECT_EQ(usage.reasoning_tokens, 0);
}

TEST(ParseUsageTest, DeepSeekCacheHitTokens) {
  Usage usage = ParseUsageJson(
      R"({"prompt_tokens":64,"completion_tokens":9,"prompt_cache_hit_tokens":48,"prompt_cache_miss_tokens":16,)"
      R"("completion_tokens_details":{"reasoning_tokens":3}})");
  EXPECT_EQ(usage.prompt_tokens, 64);
  EXPECT_EQ(usage.cached_tokens, 48);
  EXPECT_EQ(usage.reasoning_tokens, 3);
}

TEST(ParseUsageTest, OpenAiCachedTokensTakePrecedence) {
  Usage usage = ParseUsageJson(
      R"({"prompt_tokens":64,"prompt_tokens_details":{"cached_tokens":10},"prompt_cache_hit_tokens":48})");
  EXPECT_EQ(usage.cached_tokens, 10);
}

TEST(ParseUsageTest, NullDetailsAndWrongTypesReadAsZero) {
  Usage usage = ParseUsageJson(
      R"({"prompt_tokens":"12","completion_tokens":3.0,"prompt_tokens_details":null,)"
      R"("completion_tokens_details":{"reasoning_tokens":null}})");
  EXPECT_TRUE(usage.reported);
  EXPECT_EQ(usage.prompt_tokens, 0);
  EXPECT_EQ(usage.completion_tokens, 3);
  EXPECT_EQ(usage.cached_tokens, 0);
  EXPECT_EQ(usage.reasoning_tokens, 0);
}

TEST(ParseUsageTest, NonObjectIsNotReported) {
  json::Document null_value;
  null_value.Parse("null");
  EXPECT_FALSE(ParseUsage(null_value).reported);
  json::Document array;
  array.Parse("[1,2]");
  EXPECT_FALSE(ParseUsage(array).reported);
}

const std::string kStream =
    "data: {\"id\":\"1\",\"choices\":[{\"delta\":{\"content\":\"你好\"}}]}\n\n"
    ": keep-alive comment\n\n"
    "event: message\r\ndata: {\"id\":\"2\"}\r\n\r\n"
    "data: [DONE]\n\n";

const std::vector<std::string> kEvents = {
    "data: {\"id\":\"1\",\"choices\":[{\"delta\":{\"content\":\"你好\"}}]}\n\n",
    ": keep-alive comment\n\n",
    "event: message\r\ndata: {\"id\":\"2\"}\r\n\r\n",
    "data: [DONE]\n\n",
};

TEST(SseSplitterTest, WholeStreamAtOnce) {
  SseSplitter splitter;
  std::vector<std::string> events;
  splitter.Feed(kStream, events);
  EXPECT_EQ(events, kEvents);
  EXPECT_EQ(splitter.pending(), "");
}

TEST(SseSplitterTest, EveryTwoWaySplitGivesTheSameEvents) {
  for (size_t cut = 0; cut <= kStream.size(); ++cut) {
    SseSplitter splitter;
    std::vector<std::string> events;
    splitter.Feed(std::string_view(kStream).substr(0, cut), events);
    splitter.Feed(std::string_view(kStream).substr(cut), events);
    EXPECT_EQ(events, kEvents) << "cut at byte " << cut;
    EXPECT_EQ(splitter.pending(), "");
  }
}

TEST(SseSplitterTest, OneByteAtATime) {
  SseSplitter splitter;
  std::vector<std::string> events;
  for (char c : kStream) splitter.Feed(std::string_view(&c, 1), events);
  EXPECT_EQ(events, kEvents);
}

TEST(SseSplitterTest, VaryingChunkSizes) {
  for (size_t chunk = 1; chunk <= 17; ++chunk) {
    SseSplitter splitter;
    std::vector<std::string> events;
    for (size_t i = 0; i < kStream.size(); i += chunk) splitter.Feed(std::string_view(kStream).substr(i, chunk), events);
    EXPECT_EQ(events, kEvents) << "chunk " << chunk;
  }
}

TEST(SseSplitterTest, KeepsUnfinishedEventPending) {
  SseSplitter splitter;
  std::vector<std::string> events;
  splitter.Feed("data: one\n\ndata: tw", events);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(splitter.pending(), "data: tw");
  splitter.Feed("o\r\n", events);
  EXPECT_EQ(events.size(), 1u);
  splitter.Feed("\r\n", events);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1], "data: two\r\n\r\n");
}

TEST(SseDataTest, SingleLine) {
  EXPECT_EQ(SseData("data: {\"a\":1}\n\n"), "{\"a\":1}");
  EXPECT_EQ(SseData("data:{\"a\":1}\n\n"), "{\"a\":1}");
  EXPECT_EQ(SseData("data: [DONE]\r\n\r\n"), "[DONE]");
}

TEST(SseDataTest, MultiLineJoinedByNewline) {
  EXPECT_EQ(SseData("data: first\ndata: second\ndata:third\n\n"), "first\nsecond\nthird");
  EXPECT_EQ(SseData("event: x\r\ndata: a\r\nid: 7\r\ndata: b\r\n\r\n"), "a\nb");
}

TEST(SseDataTest, OnlyOneLeadingSpaceIsRemoved) {
  EXPECT_EQ(SseData("data:  two spaces\n\n"), " two spaces");
  EXPECT_EQ(SseData("data: \n\n"), "");
}

TEST(SseDataTest, NoDataLine) {
  EXPECT_EQ(SseData(": comment\n\n"), "");
  EXPECT_EQ(SseData("event: ping\n\n"), "");
  EXPECT_EQ(SseData(""), "");
}

}  // namespace
}  // namespace weir
