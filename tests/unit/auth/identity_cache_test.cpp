#include "auth/identity_cache.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "auth/api_key.h"

namespace weir {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSecret = "unit-test-secret-0123456789abcdef0123";
constexpr int64_t kNow = 1800000000;

class IdentityCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/weir-identity-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    auto store = OpenSqliteStore((dir_ / "weir.db").string());
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    cache_ = std::make_unique<IdentityCache>(*store_, kSecret);

    auto team = store_->CreateTeam("research");
    ASSERT_TRUE(team.ok());
    User user;
    user.name = "alice";
    user.role = Role::kAdmin;
    user.team_id = team->id;
    user.created_at = 1700000000;
    user.quota.tokens_per_minute = 900;
    auto created = store_->CreateUser(user);
    ASSERT_TRUE(created.ok()) << created.error().message;
    alice_ = *created;
  }
  void TearDown() override {
    cache_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  // Stores a new key for `user_id` and returns the plain key.
  std::string IssueKey(int64_t user_id, int64_t expires_at = 0, std::vector<std::string> models = {}) {
    std::string key = GenerateApiKey();
    ApiKey record;
    record.user_id = user_id;
    record.prefix = DisplayPrefix(key);
    record.hash = HashApiKey(kSecret, key);
    record.expires_at = expires_at;
    record.models = std::move(models);
    auto stored = store_->CreateKey(record);
    EXPECT_TRUE(stored.ok()) << stored.error().message;
    last_key_id_ = stored.ok() ? stored->id : 0;
    return key;
  }

  void Reload() {
    Status status = cache_->Reload();
    ASSERT_TRUE(status.ok()) << status.error().message;
  }

  static void ExpectUnauthenticated(const Result<Principal>& result, const std::string& code) {
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().http_status, 401);
    EXPECT_EQ(result.error().code, code) << result.error().message;
  }

  fs::path dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<IdentityCache> cache_;
  User alice_;
  int64_t last_key_id_ = 0;
};

TEST_F(IdentityCacheTest, ValidKeyGivesFullPrincipal) {
  std::string key = IssueKey(alice_.id);
  Reload();
  auto principal = cache_->Authenticate("Bearer " + key, kNow);
  ASSERT_TRUE(principal.ok()) << principal.error().message;
  EXPECT_EQ(principal->user_id, alice_.id);
  EXPECT_EQ(principal->user_name, "alice");
  EXPECT_EQ(principal->role, Role::kAdmin);
  EXPECT_EQ(principal->team_id, alice_.team_id);
  EXPECT_EQ(principal->team_name, "research");
  EXPECT_EQ(principal->user_created_at, 1700000000);
  EXPECT_EQ(principal->key_id, last_key_id_);
  EXPECT_EQ(principal->key_prefix, DisplayPrefix(key));
  EXPECT_EQ(principal->quota.tokens_per_minute, 900);
  EXPECT_TRUE(principal->models.empty());
  EXPECT_TRUE(principal->MayUseModel("anything"));
}

TEST_F(IdentityCacheTest, SchemeIsCaseInsensitiveAndSpacesAreTrimmed) {
  std::string key = IssueKey(alice_.id);
  Reload();
  EXPECT_TRUE(cache_->Authenticate("bearer " + key, kNow).ok());
  EXPECT_TRUE(cache_->Authenticate("BEARER   " + key + "  ", kNow).ok());
}

TEST_F(IdentityCacheTest, MissingKey) {
  Reload();
  auto result = cache_->Authenticate("", kNow);
  ExpectUnauthenticated(result, "missing_api_key");
  EXPECT_NE(result.error().message.find("Authorization: Bearer"), std::string::npos);
}

TEST_F(IdentityCacheTest, MalformedHeaderOrKey) {
  std::string key = IssueKey(alice_.id);
  Reload();
  ExpectUnauthenticated(cache_->Authenticate("Basic " + key, kNow), "invalid_api_key");
  ExpectUnauthenticated(cache_->Authenticate("Bearer", kNow), "invalid_api_key");
  ExpectUnauthenticated(cache_->Authenticate("Bearer ", kNow), "invalid_api_key");
  ExpectUnauthenticated(cache_->Authenticate(key, kNow), "invalid_api_key");
  auto wrong_shape = cache_->Authenticate("Bearer sk-proj-1234567890", kNow);
  ExpectUnauthenticated(wrong_shape, "invalid_api_key");
  EXPECT_NE(wrong_shape.error().message.find("\"sk-\""), std::string::npos) << wrong_shape.error().message;
  EXPECT_EQ(wrong_shape.error().message.find("1234567890"), std::string::npos) << "the key must not be echoed";
  EXPECT_NE(wrong_shape.error().message.find("43"), std::string::npos);
}

TEST_F(IdentityCacheTest, UnknownKeyShowsOnlyItsPrefix) {
  Reload();
  std::string key = GenerateApiKey();
  auto result = cache_->Authenticate("Bearer " + key, kNow);
  ExpectUnauthenticated(result, "invalid_api_key");
  EXPECT_NE(result.error().message.find(DisplayPrefix(key)), std::string::npos);
  EXPECT_EQ(result.error().message.find(key), std::string::npos);
}

TEST_F(IdentityCacheTest, KeyUnderAnotherSecretIsUnknown) {
  std::string key = IssueKey(alice_.id);
  IdentityCache other(*store_, "another-secret-0123456789abcdef0123456");
  ASSERT_TRUE(other.Reload().ok());
  ExpectUnauthenticated(other.Authenticate("Bearer " + key, kNow), "invalid_api_key");
}

TEST_F(IdentityCacheTest, RevokedKey) {
  std::string key = IssueKey(alice_.id);
  Reload();
  ASSERT_TRUE(cache_->Authenticate("Bearer " + key, kNow).ok());
  ASSERT_TRUE(store_->RevokeKey(last_key_id_, kNow - 1).ok());
  Reload();
  ExpectUnauthenticated(cache_->Authenticate("Bearer " + key, kNow), "revoked_api_key");
}

TEST_F(IdentityCacheTest, ExpiredKey) {
  std::string key = IssueKey(alice_.id, kNow + 60);
  Reload();
  EXPECT_TRUE(cache_->Authenticate("Bearer " + key, kNow + 59).ok());
  ExpectUnauthenticated(cache_->Authenticate("Bearer " + key, kNow + 60), "expired_api_key");
  ExpectUnauthenticated(cache_->Authenticate("Bearer " + key, kNow + 3600), "expired_api_key");
}

TEST_F(IdentityCacheTest, DisabledUser) {
  std::string key = IssueKey(alice_.id);
  alice_.disabled = true;
  ASSERT_TRUE(store_->UpdateUser(alice_).ok());
  Reload();
  ExpectUnauthenticated(cache_->Authenticate("Bearer " + key, kNow), "user_disabled");
  ExpectUnauthenticated(cache_->PrincipalForUser(alice_.id), "invalid_session");
}

TEST_F(IdentityCacheTest, AllowedModels) {
  std::string key = IssueKey(alice_.id, 0, {"qwen", "llama"});
  Reload();
  auto principal = cache_->Authenticate("Bearer " + key, kNow);
  ASSERT_TRUE(principal.ok());
  EXPECT_EQ(principal->models, (std::vector<std::string>{"qwen", "llama"}));
  EXPECT_TRUE(principal->MayUseModel("qwen"));
  EXPECT_TRUE(principal->MayUseModel("llama"));
  EXPECT_FALSE(principal->MayUseModel("gpt"));
  EXPECT_FALSE(principal->MayUseModel("qwe"));
}

TEST_F(IdentityCacheTest, NewKeyIsUnknownUntilReload) {
  Reload();
  std::string key = IssueKey(alice_.id);
  ExpectUnauthenticated(cache_->Authenticate("Bearer " + key, kNow), "invalid_api_key");
  Reload();
  EXPECT_TRUE(cache_->Authenticate("Bearer " + key, kNow).ok());
}

TEST_F(IdentityCacheTest, ReloadIfChangedSeesAnotherConnectionsWrite) {
  Reload();
  auto other = OpenSqliteStore((dir_ / "weir.db").string());
  ASSERT_TRUE(other.ok());
  std::string key = GenerateApiKey();
  ApiKey record;
  record.user_id = alice_.id;
  record.prefix = DisplayPrefix(key);
  record.hash = HashApiKey(kSecret, key);
  ASSERT_TRUE((*other)->CreateKey(record).ok());

  ASSERT_TRUE(cache_->ReloadIfChanged().ok());
  EXPECT_TRUE(cache_->Authenticate("Bearer " + key, kNow).ok());
}

TEST_F(IdentityCacheTest, PrincipalForUser) {
  Reload();
  auto principal = cache_->PrincipalForUser(alice_.id);
  ASSERT_TRUE(principal.ok());
  EXPECT_EQ(principal->user_name, "alice");
  EXPECT_EQ(principal->role, Role::kAdmin);
  EXPECT_EQ(principal->key_id, 0);
  ExpectUnauthenticated(cache_->PrincipalForUser(9999), "invalid_session");
}

class SecretFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("WEIR_SECRET");
    char pattern[] = "/tmp/weir-secret-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    unsetenv("WEIR_SECRET");
    fs::remove_all(dir_);
  }
  fs::path dir_;
};

TEST_F(SecretFileTest, CreatedOnceWithOwnerOnlyMode) {
  std::string path = (dir_ / "secret").string();
  auto first = LoadOrCreateSecret(path);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_GE(first->size(), 32u);
  struct stat info {};
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);
  auto second = LoadOrCreateSecret(path);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, *first);
}

TEST_F(SecretFileTest, EnvironmentWins) {
  setenv("WEIR_SECRET", "from-the-environment", 1);
  auto secret = LoadOrCreateSecret((dir_ / "secret").string());
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(*secret, "from-the-environment");
}

TEST_F(SecretFileTest, ShortSecretFileIsAnError) {
  std::string path = (dir_ / "secret").string();
  std::ofstream(path) << "short\n";
  auto secret = LoadOrCreateSecret(path);
  ASSERT_FALSE(secret.ok());
  EXPECT_NE(secret.error().message.find(path), std::string::npos);
}

}  // namespace
}  // namespace weir
