#include "auth/password.h"

#include <gtest/gtest.h>

namespace weir {
namespace {

TEST(PasswordTest, HashVerifiesOnlyTheSamePassword) {
  Result<std::string> hash = HashPassword("correct horse");
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->rfind("$argon2id$v=19$", 0), 0u) << *hash;
  EXPECT_TRUE(VerifyPassword("correct horse", *hash));
  EXPECT_FALSE(VerifyPassword("correct horsE", *hash));
  EXPECT_FALSE(VerifyPassword("", *hash));
}

TEST(PasswordTest, SaltMakesEachHashDifferent) {
  Result<std::string> first = HashPassword("same password");
  Result<std::string> second = HashPassword("same password");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_NE(*first, *second);
}

TEST(PasswordTest, CostIsEncodedInHash) {
  Result<std::string> hash = HashPassword("default cost password");
  ASSERT_TRUE(hash.ok());
  EXPECT_NE(hash->find("m=19456,t=2,p=1"), std::string::npos) << *hash;
}

TEST(PasswordTest, ShortPasswordIsRejected) {
  Result<std::string> hash = HashPassword("short");
  ASSERT_FALSE(hash.ok());
  EXPECT_EQ(hash.error().http_status, 400);
  EXPECT_EQ(hash.error().param, "password");
  EXPECT_NE(hash.error().message.find("at least 8"), std::string::npos) << hash.error().message;
}

TEST(PasswordTest, EmptyOrForeignHashNeverMatches) {
  EXPECT_FALSE(VerifyPassword("anything", ""));
  EXPECT_FALSE(VerifyPassword("anything", "$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA"));
  EXPECT_FALSE(VerifyPassword("anything", "$argon2id$garbage"));
}

}  // namespace
}  // namespace weir
