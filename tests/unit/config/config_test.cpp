#include "config/config.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

extern char** environ;

namespace weir {
namespace {

namespace fs = std::filesystem;

// Clears every WEIR_* variable before and after each test, and gives each test
// a private directory for its config file.
class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClearWeirEnvironment();
    char pattern[] = "/tmp/weir-config-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    ClearWeirEnvironment();
    fs::remove_all(dir_);
  }

  static void ClearWeirEnvironment() {
    std::vector<std::string> names;
    for (char** entry = environ; *entry != nullptr; ++entry) {
      std::string variable = *entry;
      if (variable.rfind("WEIR_", 0) == 0) names.push_back(variable.substr(0, variable.find('=')));
    }
    for (const auto& name : names) unsetenv(name.c_str());
  }

  std::string WriteFile(const std::string& text) {
    std::string path = (dir_ / "weir.yaml").string();
    std::ofstream(path) << text;
    return path;
  }

  fs::path dir_;
};

void ExpectMessageNames(const Error& error, const std::vector<std::string>& parts) {
  EXPECT_EQ(error.http_status, 400);
  for (const auto& part : parts) {
    EXPECT_NE(error.message.find(part), std::string::npos) << "message \"" << error.message << "\" lacks " << part;
  }
}

TEST_F(ConfigTest, DefaultsWithoutFile) {
  auto config = LoadConfig("");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->listen, "127.0.0.1:8080");
  EXPECT_EQ(config->data_dir, "data");
  EXPECT_EQ(config->audit.content, "summary");
  EXPECT_EQ(config->audit.queue_capacity, 65536u);
  EXPECT_EQ(config->upstream.eject_after_failures, 3);
  EXPECT_EQ(config->upstream.eject_cooldown, std::chrono::milliseconds(10000));
  EXPECT_EQ(config->shutdown_grace, std::chrono::seconds(30));
  EXPECT_DOUBLE_EQ(config->quota.defaults.at(Role::kUser).requests_per_second, 5.0);
  EXPECT_DOUBLE_EQ(config->quota.defaults.at(Role::kAdmin).requests_per_second, 20.0);
  EXPECT_DOUBLE_EQ(config->quota.defaults.at(Role::kSuperadmin).burst, 100.0);
  EXPECT_TRUE(config->quota.promotion.enabled);
  EXPECT_TRUE(config->models.empty());
}

TEST_F(ConfigTest, ParsesYamlFile) {
  std::string path = WriteFile(R"(
listen: 0.0.0.0:9000
data_dir: /var/lib/weir
shutdown_grace_seconds: 5
upstream:
  eject_after_failures: 5
  eject_cooldown_ms: 2500
  connect_timeout_ms: 700
audit:
  content: full
  batch_size: 64
quota:
  defaults:
    user:
      requests_per_second: 7
      burst: 30
      tokens_per_minute: 6000
      daily_tokens: 100000
  promotion:
    enabled: false
    factor: 1.5
models:
  - name: qwen
    upstreams:
      - url: http://127.0.0.1:9001/v1
        weight: 2
        api_key: sk-upstream-secret
      - url: http://127.0.0.1:9002/v1
        version: qwen-next
        canary_weight: 10
    params:
      default_max_tokens: 256
      max_tokens_limit: 4096
      temperature_max: 1.0
      system_prompt: Be brief.
)");
  auto config = LoadConfig(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->listen, "0.0.0.0:9000");
  EXPECT_EQ(config->data_dir, "/var/lib/weir");
  EXPECT_EQ(config->shutdown_grace, std::chrono::seconds(5));
  EXPECT_EQ(config->upstream.eject_after_failures, 5);
  EXPECT_EQ(config->upstream.eject_cooldown, std::chrono::milliseconds(2500));
  EXPECT_EQ(config->upstream.timeouts.connect, std::chrono::milliseconds(700));
  EXPECT_EQ(config->audit.content, "full");
  EXPECT_EQ(config->audit.batch_size, 64u);
  const QuotaLimits& user = config->quota.defaults.at(Role::kUser);
  EXPECT_DOUBLE_EQ(user.requests_per_second, 7.0);
  EXPECT_DOUBLE_EQ(user.burst, 30.0);
  EXPECT_EQ(user.tokens_per_minute, 6000);
  EXPECT_EQ(user.daily_tokens, 100000);
  EXPECT_DOUBLE_EQ(config->quota.defaults.at(Role::kViewer).requests_per_second, 5.0);
  EXPECT_FALSE(config->quota.promotion.enabled);
  EXPECT_DOUBLE_EQ(config->quota.promotion.factor, 1.5);

  ASSERT_EQ(config->models.size(), 1u);
  const ModelConfig& model = config->models[0];
  EXPECT_EQ(model.name, "qwen");
  ASSERT_EQ(model.upstreams.size(), 2u);
  EXPECT_EQ(model.upstreams[0].url, "http://127.0.0.1:9001/v1");
  EXPECT_DOUBLE_EQ(model.upstreams[0].weight, 2.0);
  EXPECT_EQ(model.upstreams[0].api_key, "sk-upstream-secret");
  EXPECT_EQ(model.upstreams[0].version, "qwen");  // Defaults to the model name.
  EXPECT_EQ(model.upstreams[1].version, "qwen-next");
  EXPECT_DOUBLE_EQ(model.upstreams[1].canary_weight, 10.0);
  EXPECT_EQ(model.params.default_max_tokens, 256);
  EXPECT_EQ(model.params.max_tokens_limit, 4096);
  EXPECT_DOUBLE_EQ(model.params.temperature_max, 1.0);
  EXPECT_EQ(model.params.system_prompt, "Be brief.");

  EXPECT_EQ(DescribeConfig(*config).find("sk-upstream-secret"), std::string::npos);
}

TEST_F(ConfigTest, EmptyFileGivesDefaults) {
  auto config = LoadConfig(WriteFile(""));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->listen, "127.0.0.1:8080");
}

TEST_F(ConfigTest, EnvironmentSetsValuesWithoutFile) {
  setenv("WEIR_LISTEN", "127.0.0.1:9999", 1);
  setenv("WEIR_AUDIT_CONTENT", "none", 1);
  setenv("WEIR_QUOTA_DEFAULTS_USER_REQUESTS_PER_SECOND", "12.5", 1);
  setenv("WEIR_QUOTA_DEFAULTS_USER_BURST", "25", 1);
  setenv("WEIR_QUOTA_PROMOTION_MIN_REQUESTS", "100", 1);
  setenv("WEIR_MODELS", R"([{"name": "llama", "upstreams": [{"url": "http://127.0.0.1:9100/v1"}]}])", 1);
  auto config = LoadConfig("");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->listen, "127.0.0.1:9999");
  EXPECT_EQ(config->audit.content, "none");
  EXPECT_DOUBLE_EQ(config->quota.defaults.at(Role::kUser).requests_per_second, 12.5);
  EXPECT_DOUBLE_EQ(config->quota.defaults.at(Role::kUser).burst, 25.0);
  EXPECT_EQ(config->quota.promotion.min_requests, 100);
  ASSERT_EQ(config->models.size(), 1u);
  EXPECT_EQ(config->models[0].name, "llama");
  EXPECT_EQ(config->models[0].upstreams[0].url, "http://127.0.0.1:9100/v1");
}

TEST_F(ConfigTest, EnvironmentTakesPrecedenceOverFile) {
  std::string path = WriteFile(R"(
listen: 127.0.0.1:7000
audit:
  content: summary
  batch_size: 32
quota:
  defaults:
    user:
      requests_per_second: 3
      burst: 30
models:
  - name: from-file
    upstreams: [{url: "http://127.0.0.1:9001/v1"}]
)");
  setenv("WEIR_LISTEN", "127.0.0.1:7001", 1);
  setenv("WEIR_AUDIT_CONTENT", "full", 1);
  setenv("WEIR_QUOTA_DEFAULTS_USER_REQUESTS_PER_SECOND", "9", 1);
  setenv("WEIR_MODELS", "- name: from-env\n  upstreams:\n    - url: http://127.0.0.1:9002/v1\n", 1);
  auto config = LoadConfig(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->listen, "127.0.0.1:7001");
  EXPECT_EQ(config->audit.content, "full");
  EXPECT_DOUBLE_EQ(config->quota.defaults.at(Role::kUser).requests_per_second, 9.0);
  // Keys the environment does not name keep the file's values.
  EXPECT_EQ(config->audit.batch_size, 32u);
  EXPECT_DOUBLE_EQ(config->quota.defaults.at(Role::kUser).burst, 30.0);
  ASSERT_EQ(config->models.size(), 1u);
  EXPECT_EQ(config->models[0].name, "from-env");
}

TEST_F(ConfigTest, EnvironmentValueIsTakenAsText) {
  // An IPv6 listen address starts with '[', which YAML would read as a list.
  setenv("WEIR_LISTEN", "[::1]:8080", 1);
  auto config = LoadConfig("");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->listen, "[::1]:8080");
}

TEST_F(ConfigTest, BadNumberFromEnvironmentNamesKeyAndValue) {
  setenv("WEIR_QUOTA_DEFAULTS_USER_REQUESTS_PER_SECOND", "fast", 1);
  auto config = LoadConfig("");
  ASSERT_FALSE(config.ok());
  ExpectMessageNames(config.error(),
                     {"quota.defaults.user.requests_per_second", "WEIR_QUOTA_DEFAULTS_USER_REQUESTS_PER_SECOND", "fast"});
}

TEST_F(ConfigTest, BadAuditContentNamesKeyAndValue) {
  setenv("WEIR_AUDIT_CONTENT", "everything", 1);
  auto config = LoadConfig("");
  ASSERT_FALSE(config.ok());
  ExpectMessageNames(config.error(), {"audit.content", "everything", "none, summary or full"});
}

TEST_F(ConfigTest, BadIntegerInFileNamesKeyAndValue) {
  auto config = LoadConfig(WriteFile("threads: many\n"));
  ASSERT_FALSE(config.ok());
  ExpectMessageNames(config.error(), {"threads", "many"});
}

TEST_F(ConfigTest, NegativeMillisecondsNameKeyAndValue) {
  auto config = LoadConfig(WriteFile("upstream:\n  eject_cooldown_ms: -5\n"));
  ASSERT_FALSE(config.ok());
  ExpectMessageNames(config.error(), {"upstream.eject_cooldown_ms", "-5"});
}

TEST_F(ConfigTest, NegativeSizeIsRejected) {
  setenv("WEIR_AUDIT_QUEUE_CAPACITY", "-1", 1);
  auto config = LoadConfig("");
  ASSERT_FALSE(config.ok());
  ExpectMessageNames(config.error(), {"audit.queue_capacity", "-1"});
}

TEST_F(ConfigTest, ZeroEjectAfterFailuresIsRejected) {
  setenv("WEIR_UPSTREAM_EJECT_AFTER_FAILURES", "0", 1);
  auto config = LoadConfig("");
  ASSERT_FALSE(config.ok());
  ExpectMessageNames(config.error(), {"upstream.eject_after_failures", "0"});
}

TEST_F(ConfigTest, NonPositiveRateIsRejected) {
  setenv("WEIR_QUOTA_DEFAULTS_ADMIN_REQUESTS_PER_SECOND", "0", 1);
  auto config = LoadConfig("");
  ASSERT_FALSE(config.ok());
  ExpectMessageNames(config.error(), {"quota.defaults.admin.", "requests_per_second"});
}

TEST_F(ConfigTest, MissingFileNamesPath) {
  std::string path = (dir_ / "absent.yaml").string();
  auto config = LoadConfig(path);
  ASSERT_FALSE(config.ok());
  ExpectMessageNames(config.error(), {path});
}

TEST_F(ConfigTest, InvalidYamlIsAnError) {
  auto config = LoadConfig(WriteFile("listen: [unclosed\n"));
  ASSERT_FALSE(config.ok());
  ExpectMessageNames(config.error(), {"weir.yaml", "not valid YAML"});
}

TEST_F(ConfigTest, FileThatIsNotAMappingIsAnError) {
  auto config = LoadConfig(WriteFile("- a\n- b\n"));
  ASSERT_FALSE(config.ok());
  ExpectMessageNames(config.error(), {"mapping"});
}

TEST_F(ConfigTest, InvalidModelsFromEnvironmentIsAnError) {
  setenv("WEIR_MODELS", "[{\"name\": \"x\", \"upstreams\": [{\"url\": \"ftp://host\"}]}]", 1);
  auto config = LoadConfig("");
  ASSERT_FALSE(config.ok());
  ExpectMessageNames(config.error(), {"models[0] (x).upstreams[0].url", "ftp://host"});
}

TEST(ParseModelsTest, RejectsBadUpstreamsAndParams) {
  struct Case {
    const char* yaml;
    const char* expected;
  };
  const Case cases[] = {
      {"[{name: a}]", "models[0] (a).upstreams must list at least one upstream"},
      {"[{upstreams: [{url: 'http://h/v1'}]}]", "models[0].name is missing"},
      {"[{name: a, upstreams: [{url: 'http://h/v1', weight: 0}]}]", "weight is 0"},
      {"[{name: a, upstreams: [{url: 'http://h/v1', canary_weight: 101}]}]", "canary_weight is 101"},
      {"[{name: a, upstreams: [{kind: grpc, url: 'http://h/v1'}]}]", "kind is \"grpc\""},
      {"[{name: a, upstreams: [{kind: builtin}]}]", "model_path is missing"},
      {"[{name: a, upstreams: [{url: 'http://h/v1'}], params: {temperature_min: 1.5, temperature_max: 1}}]",
       "temperature_min (1.5) is above temperature_max (1)"},
      {"[{name: a, upstreams: [{url: 'http://h/v1'}]}, {name: a, upstreams: [{url: 'http://h/v1'}]}]",
       "repeats a model name"},
      {"{name: a}", "must be a list"},
  };
  for (const auto& c : cases) {
    auto models = ParseModels(c.yaml);
    ASSERT_FALSE(models.ok()) << c.yaml;
    EXPECT_NE(models.error().message.find(c.expected), std::string::npos)
        << c.yaml << " gave \"" << models.error().message << "\"";
  }
}

TEST(ParseModelsTest, BuiltinUpstreamGetsUrlFromModelPath) {
  auto models = ParseModels("[{name: tiny, upstreams: [{kind: builtin, model_path: /models/tiny.gguf}]}]");
  ASSERT_TRUE(models.ok()) << models.error().message;
  EXPECT_EQ((*models)[0].upstreams[0].url, "builtin:/models/tiny.gguf");
}

}  // namespace
}  // namespace weir
