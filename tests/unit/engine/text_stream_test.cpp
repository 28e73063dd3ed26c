#include "engine/text_stream.h"

#include <gtest/gtest.h>

namespace weir::engine {
namespace {

std::string FeedAll(TextStream& stream, const std::vector<std::string>& pieces, std::string* reasoning = nullptr) {
  std::string content;
  for (const std::string& piece : pieces) {
    TextDelta delta = stream.Feed(piece);
    content += delta.content;
    if (reasoning) *reasoning += delta.reasoning;
  }
  TextDelta rest = stream.Finish();
  content += rest.content;
  if (reasoning) *reasoning += rest.reasoning;
  return content;
}

TEST(TextStreamTest, HoldsSplitUtf8Character) {
  TextStream stream({}, false);
  // "世" is E4 B8 96, split over two tokens.
  EXPECT_EQ(stream.Feed("a\xE4").content, "a");
  EXPECT_EQ(stream.Feed("\xB8").content, "");
  EXPECT_EQ(stream.Feed("\x96!").content, "\xE4\xB8\x96!");
}

TEST(TextStreamTest, ReplacesInvalidBytes) {
  TextStream stream({}, false);
  EXPECT_EQ(FeedAll(stream, {"a\x80", "b\xFF"}), "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
}

TEST(TextStreamTest, StopStringAcrossTokens) {
  TextStream stream({"END"}, false);
  EXPECT_EQ(stream.Feed("hello E").content, "hello ");
  EXPECT_EQ(stream.Feed("N").content, "");
  EXPECT_EQ(stream.Feed("D tail").content, "");
  EXPECT_TRUE(stream.stopped());
  EXPECT_EQ(stream.Finish().content, "");
}

TEST(TextStreamTest, PartialStopReleasedAtFinish) {
  TextStream stream({"END"}, false);
  EXPECT_EQ(FeedAll(stream, {"x E", "N"}), "x EN");
  EXPECT_FALSE(stream.stopped());
}

TEST(TextStreamTest, SplitsThinkBlock) {
  TextStream stream({}, false);
  std::string reasoning;
  const std::string content = FeedAll(stream, {"<thi", "nk>plan ", "it</th", "ink>\n\nAnswer"}, &reasoning);
  EXPECT_EQ(reasoning, "plan it");
  EXPECT_EQ(content, "Answer");
}

TEST(TextStreamTest, PromptOpenedReasoning) {
  TextStream stream({}, true);
  std::string reasoning;
  EXPECT_EQ(FeedAll(stream, {"why", "</think>", "so"}, &reasoning), "so");
  EXPECT_EQ(reasoning, "why");
}

TEST(TextStreamTest, ThinkTagLaterIsContent) {
  TextStream stream({}, false);
  EXPECT_EQ(FeedAll(stream, {"a <think> b"}), "a <think> b");
}

TEST(TextStreamTest, CompleteUtf8PrefixCases) {
  EXPECT_EQ(CompleteUtf8Prefix("abc"), 3u);
  EXPECT_EQ(CompleteUtf8Prefix("ab\xF0\x9F"), 2u);
  EXPECT_EQ(CompleteUtf8Prefix("\xF0\x9F\x98\x80"), 4u);
}

}  // namespace
}  // namespace weir::engine
