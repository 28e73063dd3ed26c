#include "common/json.h"

#include <string>

#include <gtest/gtest.h>

namespace weir::json {
namespace {

TEST(TruncateUtf8Test, AsciiCutsAtCharacterCount) {
  EXPECT_EQ(TruncateUtf8("hello world", 5), "hello");
  EXPECT_EQ(TruncateUtf8("hello", 5), "hello");
  EXPECT_EQ(TruncateUtf8("hello", 50), "hello");
  EXPECT_EQ(TruncateUtf8("hello", 0), "");
  EXPECT_EQ(TruncateUtf8("", 3), "");
}

TEST(TruncateUtf8Test, CountsMultiByteCharactersWhole) {
  // 你 好 世 界: three bytes each.
  EXPECT_EQ(TruncateUtf8("你好世界", 2), "你好");
  EXPECT_EQ(TruncateUtf8("你好世界", 4), "你好世界");
  EXPECT_EQ(TruncateUtf8("a你b好", 3), "a你b");
  // é (2 bytes), € (3 bytes), 😀 (4 bytes).
  EXPECT_EQ(TruncateUtf8("é€😀x", 1), "é");
  EXPECT_EQ(TruncateUtf8("é€😀x", 2), "é€");
  EXPECT_EQ(TruncateUtf8("é€😀x", 3), "é€😀");
  EXPECT_EQ(TruncateUtf8("😀😀", 1), "😀");
}

TEST(TruncateUtf8Test, ResultIsNeverASplitCharacter) {
  const std::string text = "日本語のテキスト😀mixed ascii";
  for (size_t n = 0; n < 30; ++n) {
    std::string cut = TruncateUtf8(text, n);
    ASSERT_LE(cut.size(), text.size());
    EXPECT_EQ(text.compare(0, cut.size(), cut), 0);
    if (cut.size() < text.size()) {
      // The next byte starts a character, so nothing was split.
      EXPECT_NE(static_cast<unsigned char>(text[cut.size()]) & 0xC0, 0x80) << "n=" << n;
    }
  }
}

TEST(ParseObjectTest, ErrorsNameTheProblem) {
  auto bad = ParseObject("{\"a\":");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().http_status, 400);
  EXPECT_NE(bad.error().message.find("byte"), std::string::npos);
  auto array = ParseObject("[1]");
  ASSERT_FALSE(array.ok());
  EXPECT_NE(array.error().message.find("array"), std::string::npos);
}

TEST(OptionalFieldTest, TypedAccess) {
  auto document = ParseObject(R"({"s":"x","i":3,"d":0.5,"b":true,"n":null})");
  ASSERT_TRUE(document.ok());
  EXPECT_EQ(**OptionalString(*document, "s"), "x");
  EXPECT_EQ(**OptionalInt(*document, "i"), 3);
  EXPECT_DOUBLE_EQ(**OptionalNumber(*document, "d"), 0.5);
  EXPECT_DOUBLE_EQ(**OptionalNumber(*document, "i"), 3.0);
  EXPECT_TRUE(**OptionalBool(*document, "b"));
  EXPECT_FALSE(OptionalString(*document, "n")->has_value());
  EXPECT_FALSE(OptionalInt(*document, "missing")->has_value());

  auto wrong = OptionalInt(*document, "d");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().param, "d");
  EXPECT_EQ(wrong.error().code, "invalid_type");
  EXPECT_NE(wrong.error().message.find("an integer"), std::string::npos);
  EXPECT_FALSE(OptionalString(*document, "i").ok());
  EXPECT_FALSE(OptionalBool(*document, "s").ok());
}

}  // namespace
}  // namespace weir::json
