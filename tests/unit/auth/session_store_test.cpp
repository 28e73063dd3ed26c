#include "auth/session_store.h"

#include <gtest/gtest.h>

namespace weir {
namespace {

TEST(SessionStoreTest, LookupReturnsUserUntilExpiry) {
  SessionStore sessions(std::chrono::seconds(60));
  std::string token = sessions.Create(42, 1000);
  EXPECT_EQ(token.size(), 64u);
  EXPECT_EQ(sessions.Lookup(token, 1000), 42);
  EXPECT_EQ(sessions.Lookup(token, 1059), 42);
  EXPECT_EQ(sessions.Lookup(token, 1060), std::nullopt);
  EXPECT_EQ(sessions.size(), 0u);
}

TEST(SessionStoreTest, UnknownTokenIsRejected) {
  SessionStore sessions;
  sessions.Create(1, 0);
  EXPECT_EQ(sessions.Lookup("", 0), std::nullopt);
  EXPECT_EQ(sessions.Lookup("deadbeef", 0), std::nullopt);
}

TEST(SessionStoreTest, RevokeEndsOneSession) {
  SessionStore sessions;
  std::string first = sessions.Create(7, 0);
  std::string second = sessions.Create(7, 0);
  sessions.Revoke(first);
  EXPECT_EQ(sessions.Lookup(first, 1), std::nullopt);
  EXPECT_EQ(sessions.Lookup(second, 1), 7);
}

TEST(SessionStoreTest, RevokeUserEndsAllItsSessions) {
  SessionStore sessions;
  std::string first = sessions.Create(7, 0);
  std::string second = sessions.Create(7, 0);
  std::string other = sessions.Create(8, 0);
  sessions.RevokeUser(7);
  EXPECT_EQ(sessions.Lookup(first, 1), std::nullopt);
  EXPECT_EQ(sessions.Lookup(second, 1), std::nullopt);
  EXPECT_EQ(sessions.Lookup(other, 1), 8);
}

TEST(SessionStoreTest, FullStoreDropsSessionClosestToExpiry) {
  SessionStore sessions(std::chrono::seconds(100), 2);
  std::string oldest = sessions.Create(1, 0);
  std::string middle = sessions.Create(2, 10);
  std::string newest = sessions.Create(3, 20);
  EXPECT_EQ(sessions.size(), 2u);
  EXPECT_EQ(sessions.Lookup(oldest, 30), std::nullopt);
  EXPECT_EQ(sessions.Lookup(middle, 30), 2);
  EXPECT_EQ(sessions.Lookup(newest, 30), 3);
}

TEST(SessionCookieTest, FindCookieReadsNamedValue) {
  EXPECT_EQ(FindCookie("a=1; weir_session=abc; b=2", "weir_session"), "abc");
  EXPECT_EQ(FindCookie("weir_session=xyz", "weir_session"), "xyz");
  EXPECT_EQ(FindCookie("weir_session_old=1;weir_session=2", "weir_session"), "2");
  EXPECT_EQ(FindCookie("a=1; b", "weir_session"), "");
  EXPECT_EQ(FindCookie("", "weir_session"), "");
}

TEST(SessionCookieTest, CookieIsHttpOnlyAndSameSite) {
  std::string cookie = SessionCookie("tok", std::chrono::seconds(3600), false);
  EXPECT_EQ(cookie, "weir_session=tok; Path=/; Max-Age=3600; HttpOnly; SameSite=Strict");
  EXPECT_NE(SessionCookie("tok", std::chrono::seconds(1), true).find("; Secure"), std::string::npos);
  EXPECT_EQ(ExpiredSessionCookie(false), "weir_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
}

}  // namespace
}  // namespace weir
