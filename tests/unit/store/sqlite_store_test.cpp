#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "store/store.h"

namespace weir {
namespace {

namespace fs = std::filesystem;

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/weir-store-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    store_ = Open();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  std::unique_ptr<Store> Open() {
    auto store = OpenSqliteStore((dir_ / "weir.db").string());
    EXPECT_TRUE(store.ok()) << store.error().message;
    return store.ok() ? std::move(*store) : nullptr;
  }

  User MakeUser(const std::string& name, Role role = Role::kUser) {
    User user;
    user.name = name;
    user.role = role;
    auto created = store_->CreateUser(user);
    EXPECT_TRUE(created.ok()) << created.error().message;
    return created.ok() ? *created : User{};
  }

  fs::path dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(SqliteStoreTest, TeamsCreateListEnsure) {
  auto team = store_->CreateTeam("research");
  ASSERT_TRUE(team.ok()) << team.error().message;
  EXPECT_GT(team->id, 0);
  EXPECT_EQ(team->name, "research");
  EXPECT_GT(team->created_at, 0);

  auto ensured = store_->EnsureTeam("research");
  ASSERT_TRUE(ensured.ok());
  EXPECT_EQ(ensured->id, team->id);
  auto other = store_->EnsureTeam("ops");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->id, team->id);

  auto teams = store_->ListTeams();
  ASSERT_TRUE(teams.ok());
  ASSERT_EQ(teams->size(), 2u);
  EXPECT_EQ((*teams)[0].name, "research");
  EXPECT_EQ((*teams)[1].name, "ops");
}

TEST_F(SqliteStoreTest, DuplicateTeamIsConflict) {
  ASSERT_TRUE(store_->CreateTeam("research").ok());
  auto again = store_->CreateTeam("research");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().http_status, 409);
  EXPECT_NE(again.error().message.find("research"), std::string::npos);
}

TEST_F(SqliteStoreTest, EmptyTeamNameIsInvalid) {
  auto team = store_->CreateTeam("");
  ASSERT_FALSE(team.ok());
  EXPECT_EQ(team.error().http_status, 400);
}

TEST_F(SqliteStoreTest, UserRoundTripsEveryField) {
  auto team = store_->CreateTeam("research");
  ASSERT_TRUE(team.ok());
  User user;
  user.name = "alice";
  user.role = Role::kAdmin;
  user.team_id = team->id;
  user.created_at = 1700000000;
  user.quota.requests_per_second = 2.5;
  user.quota.daily_tokens = 1000;
  user.password_hash = "$argon2id$fake";
  auto created = store_->CreateUser(user);
  ASSERT_TRUE(created.ok()) << created.error().message;

  auto loaded = store_->GetUser(created->id);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->name, "alice");
  EXPECT_EQ(loaded->role, Role::kAdmin);
  EXPECT_EQ(loaded->team_id, team->id);
  EXPECT_EQ(loaded->team_name, "research");
  EXPECT_EQ(loaded->created_at, 1700000000);
  EXPECT_FALSE(loaded->disabled);
  EXPECT_EQ(loaded->quota.requests_per_second, 2.5);
  EXPECT_FALSE(loaded->quota.burst.has_value());
  EXPECT_FALSE(loaded->quota.tokens_per_minute.has_value());
  EXPECT_EQ(loaded->quota.daily_tokens, 1000);
  EXPECT_EQ(loaded->password_hash, "$argon2id$fake");

  auto by_name = store_->FindUserByName("alice");
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(by_name->id, created->id);
}

TEST_F(SqliteStoreTest, UserWithoutTeamOrTimeGetsDefaults) {
  User user = MakeUser("bob");
  EXPECT_EQ(user.team_id, 0);
  EXPECT_EQ(user.team_name, "");
  EXPECT_GT(user.created_at, 1600000000);
}

TEST_F(SqliteStoreTest, DuplicateUserNameIsConflict) {
  MakeUser("alice");
  User again;
  again.name = "alice";
  auto created = store_->CreateUser(again);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().http_status, 409);
  EXPECT_NE(created.error().message.find("\"alice\""), std::string::npos);
  EXPECT_EQ(*store_->CountUsers(), 1);
}

TEST_F(SqliteStoreTest, MissingUserIsNotFound) {
  EXPECT_EQ(store_->GetUser(42).error().http_status, 404);
  auto by_name = store_->FindUserByName("nobody");
  ASSERT_FALSE(by_name.ok());
  EXPECT_EQ(by_name.error().http_status, 404);
  EXPECT_NE(by_name.error().message.find("nobody"), std::string::npos);
  User ghost;
  ghost.id = 42;
  EXPECT_EQ(store_->UpdateUser(ghost).error().http_status, 404);
}

TEST_F(SqliteStoreTest, UpdateUserChangesRoleQuotaAndDisabled) {
  User user = MakeUser("alice");
  user.quota.burst = 3;
  ASSERT_TRUE(store_->UpdateUser(user).ok());
  user.role = Role::kViewer;
  user.disabled = true;
  user.quota.burst.reset();
  user.quota.tokens_per_minute = 500;
  ASSERT_TRUE(store_->UpdateUser(user).ok());
  auto loaded = store_->GetUser(user.id);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->role, Role::kViewer);
  EXPECT_TRUE(loaded->disabled);
  EXPECT_FALSE(loaded->quota.burst.has_value());
  EXPECT_EQ(loaded->quota.tokens_per_minute, 500);
}

TEST_F(SqliteStoreTest, ListAndCountUsers) {
  MakeUser("alice");
  MakeUser("bob");
  auto users = store_->ListUsers();
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->size(), 2u);
  EXPECT_EQ((*users)[0].name, "alice");
  EXPECT_EQ((*users)[1].name, "bob");
  EXPECT_EQ(*store_->CountUsers(), 2);
}

ApiKey MakeKeyRecord(int64_t user_id, const std::string& hash) {
  ApiKey key;
  key.user_id = user_id;
  key.name = "laptop";
  key.prefix = "wr-abcdefg";
  key.hash = hash;
  return key;
}

TEST_F(SqliteStoreTest, KeysCreateGetList) {
  User alice = MakeUser("alice");
  User bob = MakeUser("bob");
  ApiKey record = MakeKeyRecord(alice.id, "hash-1");
  record.expires_at = 1900000000;
  record.models = {"qwen", "llama"};
  auto key = store_->CreateKey(record);
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_GT(key->id, 0);
  EXPECT_GT(key->created_at, 0);
  EXPECT_EQ(key->revoked_at, 0);
  EXPECT_EQ(key->expires_at, 1900000000);
  EXPECT_EQ(key->models, (std::vector<std::string>{"qwen", "llama"}));
  EXPECT_EQ(key->hash, "hash-1");
  EXPECT_EQ(key->prefix, "wr-abcdefg");
  ASSERT_TRUE(store_->CreateKey(MakeKeyRecord(bob.id, "hash-2")).ok());

  EXPECT_EQ(store_->ListKeys(alice.id)->size(), 1u);
  EXPECT_EQ(store_->ListKeys(bob.id)->size(), 1u);
  EXPECT_EQ(store_->ListKeys(0)->size(), 2u);
  EXPECT_TRUE(store_->GetKey(key->id)->models.size() == 2);
  EXPECT_EQ(store_->GetKey(999).error().http_status, 404);
}

TEST_F(SqliteStoreTest, DuplicateKeyHashIsConflict) {
  User alice = MakeUser("alice");
  ASSERT_TRUE(store_->CreateKey(MakeKeyRecord(alice.id, "same")).ok());
  auto again = store_->CreateKey(MakeKeyRecord(alice.id, "same"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().http_status, 409);
}

TEST_F(SqliteStoreTest, RevokeKeyKeepsFirstRevocationTime) {
  User alice = MakeUser("alice");
  auto key = store_->CreateKey(MakeKeyRecord(alice.id, "h"));
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(store_->RevokeKey(key->id, 1800000000).ok());
  EXPECT_EQ(store_->GetKey(key->id)->revoked_at, 1800000000);
  EXPECT_TRUE(store_->RevokeKey(key->id, 1800000999).ok());
  EXPECT_EQ(store_->GetKey(key->id)->revoked_at, 1800000000);
  auto missing = store_->RevokeKey(777, 1800000000);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().http_status, 404);
}

TEST_F(SqliteStoreTest, ConversationsAndMessages) {
  User alice = MakeUser("alice");
  User bob = MakeUser("bob");
  Conversation draft;
  draft.user_id = alice.id;
  draft.title = "问候";
  draft.model = "qwen";
  auto first = store_->CreateConversation(draft);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->title, "问候");
  EXPECT_EQ(first->model, "qwen");
  EXPECT_GT(first->created_at, 0);
  auto second = store_->CreateConversation(draft);
  ASSERT_TRUE(second.ok());
  draft.user_id = bob.id;
  ASSERT_TRUE(store_->CreateConversation(draft).ok());

  auto listed = store_->ListConversations(alice.id);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].id, second->id);  // Newest first.

  ASSERT_TRUE(store_->AppendMessages(first->id, {{"user", "你好", 0}, {"assistant", "Hello!", 1700000001}}).ok());
  ASSERT_TRUE(store_->AppendMessages(first->id, {{"user", "again", 0}}).ok());
  auto messages = store_->ListMessages(first->id);
  ASSERT_TRUE(messages.ok());
  ASSERT_EQ(messages->size(), 3u);
  EXPECT_EQ((*messages)[0].role, "user");
  EXPECT_EQ((*messages)[0].content, "你好");
  EXPECT_EQ((*messages)[1].created_at, 1700000001);
  EXPECT_EQ((*messages)[2].content, "again");
  EXPECT_GE(store_->GetConversation(first->id)->updated_at, first->updated_at);
  EXPECT_TRUE(store_->ListMessages(second->id)->empty());
}

TEST_F(SqliteStoreTest, DeleteConversationRemovesItsMessages) {
  User alice = MakeUser("alice");
  Conversation draft;
  draft.user_id = alice.id;
  auto conversation = store_->CreateConversation(draft);
  ASSERT_TRUE(conversation.ok());
  ASSERT_TRUE(store_->AppendMessages(conversation->id, {{"user", "hi", 0}}).ok());
  ASSERT_TRUE(store_->DeleteConversation(conversation->id).ok());
  EXPECT_EQ(store_->GetConversation(conversation->id).error().http_status, 404);
  EXPECT_TRUE(store_->ListMessages(conversation->id)->empty());
  EXPECT_EQ(store_->DeleteConversation(conversation->id).error().http_status, 404);
}

TEST_F(SqliteStoreTest, AppendToMissingConversationFails) {
  EXPECT_FALSE(store_->AppendMessages(12345, {{"user", "hi", 0}}).ok());
  EXPECT_TRUE(store_->ListMessages(12345)->empty());
}

TEST_F(SqliteStoreTest, SettingsAndModelOverrides) {
  EXPECT_EQ(*store_->GetSetting("secret"), "");
  ASSERT_TRUE(store_->SetSetting("secret", "one").ok());
  ASSERT_TRUE(store_->SetSetting("secret", "two").ok());
  EXPECT_EQ(*store_->GetSetting("secret"), "two");

  ASSERT_TRUE(store_->SaveModelOverride({"qwen", R"({"default_max_tokens":5})", "", ""}).ok());
  ASSERT_TRUE(store_->SaveModelOverride({"qwen", R"({"default_max_tokens":6})", R"({"a":2})", ""}).ok());
  ASSERT_TRUE(store_->SaveModelOverride({"alpha", "", "", "name: alpha"}).ok());
  auto overrides = store_->ListModelOverrides();
  ASSERT_TRUE(overrides.ok());
  ASSERT_EQ(overrides->size(), 2u);
  EXPECT_EQ((*overrides)[0].name, "alpha");
  EXPECT_EQ((*overrides)[0].registration_yaml, "name: alpha");
  EXPECT_EQ((*overrides)[1].params_json, R"({"default_max_tokens":6})");
  EXPECT_EQ((*overrides)[1].upstream_weights_json, R"({"a":2})");
}

TEST_F(SqliteStoreTest, DataVersionChangesAfterCommitFromAnotherConnection) {
  std::unique_ptr<Store> other = Open();
  ASSERT_NE(other, nullptr);
  int64_t before = store_->DataVersion();
  ASSERT_GE(before, 0);
  EXPECT_EQ(store_->DataVersion(), before);
  ASSERT_TRUE(other->CreateTeam("from-cli").ok());
  int64_t after = store_->DataVersion();
  EXPECT_NE(after, before);
  // The first connection reads the other's write.
  EXPECT_EQ(store_->ListTeams()->size(), 1u);
  EXPECT_EQ(store_->DataVersion(), after);
}

TEST_F(SqliteStoreTest, DataSurvivesReopen) {
  User alice = MakeUser("alice");
  store_.reset();
  store_ = Open();
  ASSERT_NE(store_, nullptr);
  auto loaded = store_->FindUserByName("alice");
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->id, alice.id);
}

TEST(SqliteStoreOpenTest, UnwritablePathNamesIt) {
  auto store = OpenSqliteStore("/nonexistent-weir-dir/sub/weir.db");
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("/nonexistent-weir-dir/sub/weir.db"), std::string::npos);
}

}  // namespace
}  // namespace weir
