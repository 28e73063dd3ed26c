#include "common/result.h"

#include <gtest/gtest.h>

namespace weir {
namespace {

TEST(ErrorTest, ToJsonHasOpenAiShape) {
  Error error = Error::InvalidRequest("model \"x\" is not a string", "model");
  EXPECT_EQ(error.ToJson(),
            R"({"error":{"message":"model \"x\" is not a string","type":"invalid_request_error",)"
            R"("code":"invalid_request","param":"model"}})");
  EXPECT_EQ(error.http_status, 400);
}

TEST(ErrorTest, ToJsonWritesNullParamWhenEmpty) {
  Error error = Error::RateLimited("slow down", 2);
  EXPECT_NE(error.ToJson().find("\"param\":null"), std::string::npos);
  EXPECT_EQ(error.retry_after_seconds, 2);
  EXPECT_EQ(error.http_status, 429);
}

TEST(ResultTest, HoldsValueOrError) {
  Result<int> value = 7;
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, 7);

  Result<int> failure = Error::NotFound("no such key");
  ASSERT_FALSE(failure.ok());
  EXPECT_EQ(failure.error().http_status, 404);
}

}  // namespace
}  // namespace weir
