#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "audit/audit_sink.h"

namespace weir {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kBase = 1767225600000;  // 2026-01-01T00:00:00Z in ms.
constexpr int64_t kDayMs = 86400000;

AuditEvent MakeEvent(const std::string& user, const std::string& model, int status, int64_t time_ms) {
  AuditEvent event;
  event.time_ms = time_ms;
  event.request_id = "req-" + std::to_string(time_ms);
  event.user_id = user.empty() ? 0 : static_cast<int64_t>(std::hash<std::string>{}(user) % 1000 + 1);
  event.user = user;
  event.team = "research";
  event.key_prefix = "wr-abcdefg";
  event.role = "user";
  event.client_ip = "127.0.0.1";
  event.method = "POST";
  event.route = "/v1/chat/completions";
  event.model = model;
  event.upstream = "http://127.0.0.1:9001/v1";
  event.status = status;
  event.latency_ms = 120;
  event.prompt_tokens = 10;
  event.completion_tokens = 20;
  return event;
}

class SqliteAuditSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/weir-audit-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    auto sink = OpenSqliteAuditSink((dir_ / "audit.db").string());
    ASSERT_TRUE(sink.ok()) << sink.error().message;
    sink_ = std::move(*sink);
  }
  void TearDown() override {
    sink_.reset();
    fs::remove_all(dir_);
  }

  void Write(const std::vector<AuditEvent>& events) {
    Status status = sink_->Write(events);
    ASSERT_TRUE(status.ok()) << status.error().message;
  }

  std::vector<std::string> RequestIds(const AuditQuery& query) {
    auto page = sink_->Search(query);
    EXPECT_TRUE(page.ok()) << page.error().message;
    std::vector<std::string> ids;
    if (page.ok()) {
      for (const auto& event : page->events) ids.push_back(event.request_id);
    }
    return ids;
  }

  fs::path dir_;
  std::unique_ptr<AuditSink> sink_;
};

TEST_F(SqliteAuditSinkTest, WriteThenSearchRoundTripsEveryField) {
  AuditEvent event = MakeEvent("alice", "qwen", 200, kBase);
  event.error_code = "none";
  event.ttft_ms = 35;
  event.cached_tokens = 4;
  event.reasoning_tokens = 6;
  event.tokens_estimated = true;
  event.params_json = R"({"temperature":0.2})";
  event.request_summary = "hello";
  event.response_summary = "world";
  Write({event});

  auto page = sink_->Search(AuditQuery{});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 1u);

  const AuditEvent& stored = page->events[0];
  EXPECT_GT(stored.id, 0);
  EXPECT_EQ(stored.time_ms, kBase);
  EXPECT_EQ(stored.request_id, event.request_id);
  EXPECT_EQ(stored.user_id, event.user_id);
  EXPECT_EQ(stored.user, "alice");
  EXPECT_EQ(stored.team, "research");
  EXPECT_EQ(stored.key_prefix, "wr-abcdefg");
  EXPECT_EQ(stored.role, "user");
  EXPECT_EQ(stored.client_ip, "127.0.0.1");
  EXPECT_EQ(stored.method, "POST");
  EXPECT_EQ(stored.route, "/v1/chat/completions");
  EXPECT_EQ(stored.model, "qwen");
  EXPECT_EQ(stored.upstream, "http://127.0.0.1:9001/v1");
  EXPECT_EQ(stored.status, 200);
  EXPECT_EQ(stored.error_code, "none");
  EXPECT_EQ(stored.latency_ms, 120);
  EXPECT_EQ(stored.ttft_ms, 35);
  EXPECT_EQ(stored.prompt_tokens, 10);
  EXPECT_EQ(stored.completion_tokens, 20);
  EXPECT_EQ(stored.cached_tokens, 4);
  EXPECT_EQ(stored.reasoning_tokens, 6);
  EXPECT_TRUE(stored.tokens_estimated);
  EXPECT_EQ(stored.params_json, R"({"temperature":0.2})");
  EXPECT_EQ(stored.request_summary, "hello");
  EXPECT_EQ(stored.response_summary, "world");
  EXPECT_EQ(page->next_cursor, 0);
}

class AuditSearchTest : public SqliteAuditSinkTest {
 protected:
  void SetUp() override {
    SqliteAuditSinkTest::SetUp();
    AuditEvent a = MakeEvent("alice", "qwen", 200, kBase + 1000);
    a.request_id = "a";
    a.request_summary = "Explain quantum computing / 解释量子计算";
    AuditEvent b = MakeEvent("bob", "llama", 429, kBase + 2000);
    b.request_id = "b";
    b.error_code = "rate_limit_exceeded";
    AuditEvent c = MakeEvent("alice", "llama", 502, kBase + 3000);
    c.request_id = "c";
    c.error_code = "upstream_error";
    c.response_summary = "upstream timeout after 60s";
    AuditEvent d = MakeEvent("张三", "qwen", 404, kBase + 4000);
    d.request_id = "d";
    d.request_summary = "写一首诗 100% original";
    AuditEvent e = MakeEvent("alice", "qwen", 201, kBase + 5000);
    e.request_id = "e";
    e.request_summary = "ok";
    Write({a, b, c, d, e});
  }
};

TEST_F(AuditSearchTest, AllNewestFirst) {
  EXPECT_EQ(RequestIds({}), (std::vector<std::string>{"e", "d", "c", "b", "a"}));
}

TEST_F(AuditSearchTest, ByUserAndModel) {
  AuditQuery query;
  query.user = "alice";
  EXPECT_EQ(RequestIds(query), (std::vector<std::string>{"e", "c", "a"}));
  query.model = "llama";
  EXPECT_EQ(RequestIds(query), (std::vector<std::string>{"c"}));
  AuditQuery by_model;
  by_model.model = "qwen";
  EXPECT_EQ(RequestIds(by_model), (std::vector<std::string>{"e", "d", "a"}));
  AuditQuery nobody;
  nobody.user = "ali";  // Exact, not a prefix.
  EXPECT_TRUE(RequestIds(nobody).empty());
}

TEST_F(AuditSearchTest, ByExactStatusAndClass) {
  AuditQuery query;
  query.status = 429;
  EXPECT_EQ(RequestIds(query), (std::vector<std::string>{"b"}));
  query.status = 4;
  EXPECT_EQ(RequestIds(query), (std::vector<std::string>{"d", "b"}));
  query.status = 5;
  EXPECT_EQ(RequestIds(query), (std::vector<std::string>{"c"}));
  query.status = 2;
  EXPECT_EQ(RequestIds(query), (std::vector<std::string>{"e", "a"}));
}

TEST_F(AuditSearchTest, ByTimeRangeSinceInclusiveUntilExclusive) {
  AuditQuery query;
  query.since_ms = kBase + 2000;
  query.until_ms = kBase + 4000;
  EXPECT_EQ(RequestIds(query), (std::vector<std::string>{"c", "b"}));
  query.until_ms = 0;
  EXPECT_EQ(RequestIds(query), (std::vector<std::string>{"e", "d", "c", "b"}));
}

TEST_F(AuditSearchTest, TextSearchUsesTrigramIndex) {
  AuditQuery query;
  query.text = "timeout";
  EXPECT_EQ(RequestIds(query), (std::vector<std::string>{"c"}));
  query.text = "QUANTUM";  // The trigram tokenizer folds case.
  EXPECT_EQ(RequestIds(query), (std::vector<std::string>{"a"}));
  query.text = "rate_limit";
  EXPECT_EQ(RequestIds(query), (std::vector<std::string>{"b"}));
  query.text = "chat/comp";
  EXPECT_EQ(RequestIds(query).size(), 5u);
  query.text = "no such words";
  EXPECT_TRUE(RequestIds(query).empty());
}

TEST_F(AuditSearchTest, TextWithQueryOperatorsIsLiteral) {
  AuditQuery query;
  query.text = "quantum OR ok";
  EXPECT_TRUE(RequestIds(query).empty());
  query.text = "\"quantum";
  EXPECT_TRUE(RequestIds(query).empty());
}

TEST_F(AuditSearchTest, ChineseTextOfThreeOrMoreCharacters) {
  AuditQuery query;
  query.text = "量子计算";
  EXPECT_EQ(RequestIds(query), (std::vector<std::string>{"a"}));
  query.text = "一首诗";
  EXPECT_EQ(RequestIds(query), (std::vector<std::string>{"d"}));
}

TEST_F(AuditSearchTest, ShortTextFallsBackToLike) {
  AuditQuery query;
  query.text = "量子";
  EXPECT_EQ(RequestIds(query), (std::vector<std::string>{"a"}));
  query.text = "诗";
  EXPECT_EQ(RequestIds(query), (std::vector<std::string>{"d"}));
  query.text = "ok";
  EXPECT_EQ(RequestIds(query), (std::vector<std::string>{"e"}));
  query.text = "%";  // Literal, not a wildcard.
  EXPECT_EQ(RequestIds(query), (std::vector<std::string>{"d"}));
}

TEST_F(AuditSearchTest, ShortTextMatchesUserName) {
  // The contract: text search covers summaries, route, error code, user and
  // model, whatever the length. A two-character Chinese name is common.
  AuditQuery query;
  query.text = "张三";
  EXPECT_EQ(RequestIds(query), (std::vector<std::string>{"d"}));
}

TEST_F(AuditSearchTest, TextCombinesWithFilters) {
  AuditQuery query;
  query.text = "upstream";
  query.user = "bob";
  EXPECT_TRUE(RequestIds(query).empty());
  query.user = "alice";
  EXPECT_EQ(RequestIds(query), (std::vector<std::string>{"c"}));
}

TEST_F(AuditSearchTest, KeysetPagination) {
  AuditQuery query;
  query.limit = 2;
  auto first = sink_->Search(query);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->events.size(), 2u);
  EXPECT_EQ(first->events[0].request_id, "e");
  EXPECT_EQ(first->events[1].request_id, "d");
  ASSERT_NE(first->next_cursor, 0);
  EXPECT_EQ(first->next_cursor, first->events[1].id);

  query.before_id = first->next_cursor;
  auto second = sink_->Search(query);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->events.size(), 2u);
  EXPECT_EQ(second->events[0].request_id, "c");
  EXPECT_EQ(second->events[1].request_id, "b");
  ASSERT_NE(second->next_cursor, 0);

  query.before_id = second->next_cursor;
  auto third = sink_->Search(query);
  ASSERT_TRUE(third.ok());
  ASSERT_EQ(third->events.size(), 1u);
  EXPECT_EQ(third->events[0].request_id, "a");
  EXPECT_EQ(third->next_cursor, 0);
}

TEST_F(AuditSearchTest, NoCursorWhenPageHoldsTheRest) {
  AuditQuery query;
  query.limit = 5;
  auto page = sink_->Search(query);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->events.size(), 5u);
  EXPECT_EQ(page->next_cursor, 0);
}

TEST_F(AuditSearchTest, PaginationWithFilter) {
  AuditQuery query;
  query.user = "alice";
  query.limit = 1;
  std::vector<std::string> seen;
  for (int i = 0; i < 5; ++i) {
    auto page = sink_->Search(query);
    ASSERT_TRUE(page.ok());
    for (const auto& event : page->events) seen.push_back(event.request_id);
    if (page->next_cursor == 0) break;
    query.before_id = page->next_cursor;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"e", "c", "a"}));
}

TEST_F(SqliteAuditSinkTest, UsageGroupsByUserModelAndDay) {
  AuditEvent a = MakeEvent("alice", "qwen", 200, kBase + 1000);
  AuditEvent b = MakeEvent("alice", "llama", 500, kBase + 2000);
  b.prompt_tokens = 5;
  b.completion_tokens = 0;
  AuditEvent c = MakeEvent("bob", "qwen", 429, kBase + kDayMs + 1000);
  c.prompt_tokens = 0;
  c.completion_tokens = 0;
  AuditEvent d = MakeEvent("bob", "qwen", 200, kBase + 3 * kDayMs);  // Outside the range below.
  Write({a, b, c, d});

  auto by_user = sink_->Usage("user", kBase, kBase + 2 * kDayMs);
  ASSERT_TRUE(by_user.ok()) << by_user.error().message;
  ASSERT_EQ(by_user->size(), 2u);
  EXPECT_EQ((*by_user)[0].key, "alice");
  EXPECT_EQ((*by_user)[0].requests, 2);
  EXPECT_EQ((*by_user)[0].errors, 1);
  EXPECT_EQ((*by_user)[0].prompt_tokens, 15);
  EXPECT_EQ((*by_user)[0].completion_tokens, 20);
  EXPECT_EQ((*by_user)[1].key, "bob");
  EXPECT_EQ((*by_user)[1].requests, 1);
  EXPECT_EQ((*by_user)[1].errors, 1);

  auto by_model = sink_->Usage("model", kBase, kBase + 2 * kDayMs);
  ASSERT_TRUE(by_model.ok());
  ASSERT_EQ(by_model->size(), 2u);
  EXPECT_EQ((*by_model)[0].key, "llama");
  EXPECT_EQ((*by_model)[1].key, "qwen");
  EXPECT_EQ((*by_model)[1].requests, 2);

  auto by_day = sink_->Usage("day", kBase, 0);  // 0: no upper bound.
  ASSERT_TRUE(by_day.ok());
  ASSERT_EQ(by_day->size(), 3u);
  EXPECT_EQ((*by_day)[0].key, "2026-01-01");
  EXPECT_EQ((*by_day)[0].requests, 2);
  EXPECT_EQ((*by_day)[1].key, "2026-01-02");
  EXPECT_EQ((*by_day)[2].key, "2026-01-04");
}

TEST_F(SqliteAuditSinkTest, UsageRejectsUnknownGrouping) {
  auto rows = sink_->Usage("team; DROP TABLE audit_events", 0, 0);
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.error().http_status, 400);
  EXPECT_NE(rows.error().message.find("day, user or model"), std::string::npos);
}

TEST_F(SqliteAuditSinkTest, HistoryCountsRejectionsPerUser) {
  AuditEvent ok = MakeEvent("alice", "qwen", 200, kBase);
  AuditEvent limited = MakeEvent("alice", "qwen", 429, kBase + 1);
  AuditEvent failed = MakeEvent("alice", "qwen", 503, kBase + 2);
  AuditEvent not_found = MakeEvent("alice", "qwen", 404, kBase + 3);
  AuditEvent old = MakeEvent("alice", "qwen", 500, kBase - 10);
  AuditEvent anonymous = MakeEvent("", "qwen", 401, kBase + 4);
  Write({ok, limited, failed, not_found, old, anonymous});
  auto history = sink_->HistoryByUser(kBase);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 1u);
  const UsageHistory& alice = history->at(ok.user_id);
  EXPECT_EQ(alice.requests, 4);
  EXPECT_EQ(alice.rejected, 2);
}

TEST_F(SqliteAuditSinkTest, EventsSurviveReopen) {
  Write({MakeEvent("alice", "qwen", 200, kBase)});
  sink_.reset();
  auto sink = OpenSqliteAuditSink((dir_ / "audit.db").string());
  ASSERT_TRUE(sink.ok());
  sink_ = std::move(*sink);
  AuditQuery query;
  query.text = "alice";
  EXPECT_EQ(RequestIds(query).size(), 1u);
}

}  // namespace
}  // namespace weir
