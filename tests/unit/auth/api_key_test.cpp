#include "auth/api_key.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace weir {
namespace {

const std::string kBase62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

TEST(ApiKeyTest, GeneratedKeyHasPrefixLengthAndAlphabet) {
  std::string key = GenerateApiKey();
  EXPECT_EQ(key.size(), 43u);
  EXPECT_EQ(key.substr(0, 3), "wr-");
  for (char c : key.substr(3)) EXPECT_NE(kBase62.find(c), std::string::npos) << c;
  EXPECT_TRUE(IsWellFormedApiKey(key));
}

TEST(ApiKeyTest, GeneratedKeysDiffer) {
  std::set<std::string> keys;
  for (int i = 0; i < 200; ++i) keys.insert(GenerateApiKey());
  EXPECT_EQ(keys.size(), 200u);
}

TEST(ApiKeyTest, RandomBase62UsesWholeAlphabetAndExactLength) {
  EXPECT_EQ(RandomBase62(0), "");
  EXPECT_EQ(RandomBase62(1).size(), 1u);
  std::string text = RandomBase62(20000);
  ASSERT_EQ(text.size(), 20000u);
  std::set<char> seen(text.begin(), text.end());
  EXPECT_EQ(seen.size(), 62u);
  for (char c : seen) EXPECT_NE(kBase62.find(c), std::string::npos) << c;
}

TEST(ApiKeyTest, HashIsStableHexAndSecretDependent) {
  std::string key = "wr-" + std::string(40, 'a');
  std::string hash = HashApiKey("secret-one", key);
  EXPECT_EQ(hash.size(), 64u);
  EXPECT_EQ(hash.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(HashApiKey("secret-one", key), hash);
  EXPECT_NE(HashApiKey("secret-two", key), hash);
  EXPECT_NE(HashApiKey("secret-one", "wr-" + std::string(40, 'b')), hash);
}

TEST(ApiKeyTest, HashIsHmacSha256) {
  // RFC 4231 test case 2.
  EXPECT_EQ(HashApiKey("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(ApiKeyTest, WellFormedness) {
  std::string good = "wr-" + std::string(40, 'Z');
  EXPECT_TRUE(IsWellFormedApiKey(good));
  EXPECT_FALSE(IsWellFormedApiKey(""));
  EXPECT_FALSE(IsWellFormedApiKey("wr-"));
  EXPECT_FALSE(IsWellFormedApiKey(good.substr(0, 42)));
  EXPECT_FALSE(IsWellFormedApiKey(good + "Z"));
  EXPECT_FALSE(IsWellFormedApiKey("sk-" + std::string(40, 'Z')));
  EXPECT_FALSE(IsWellFormedApiKey("WR-" + std::string(40, 'Z')));
  EXPECT_FALSE(IsWellFormedApiKey("wr-" + std::string(39, 'Z') + "-"));
  EXPECT_FALSE(IsWellFormedApiKey("wr-" + std::string(39, 'Z') + " "));
  EXPECT_FALSE(IsWellFormedApiKey("wr-" + std::string(39, 'Z') + "\xC3"));
}

TEST(ApiKeyTest, DisplayPrefixIsTenCharacters) {
  std::string key = "wr-AbCdEfG" + std::string(33, 'x');
  EXPECT_EQ(DisplayPrefix(key), "wr-AbCdEfG");
  EXPECT_EQ(DisplayPrefix("wr-ab"), "wr-ab");
}

}  // namespace
}  // namespace weir
