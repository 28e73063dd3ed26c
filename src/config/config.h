// Weir's configuration: defaults, a YAML file, and WEIR_* environment variables.
//
// Precedence, lowest first: built-in defaults, the YAML file (optional), then
// environment variables. Every scalar key has an environment variable named
// WEIR_ plus the key path in upper case with '.' replaced by '_', for example
// `audit.content` -> WEIR_AUDIT_CONTENT and `quota.defaults.user.rps` ->
// WEIR_QUOTA_DEFAULTS_USER_RPS. The model list can be given whole as YAML or
// JSON in WEIR_MODELS. Command-line flags (--listen, --data-dir) override all.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "auth/role.h"
#include "common/result.h"
#include "gateway/abuse_detector.h"
#include "routing/upstream.h"

namespace weir {

// One backend of a model. `kind` is "http" (any OpenAI-compatible server) or
// "builtin" (Weir's own engine, which reads `model_path`).
struct UpstreamConfig {
  std::string kind = "http";
  std::string url;       // Base URL including the API prefix, e.g. http://127.0.0.1:9000/v1.
  double weight = 1.0;
  std::string api_key;   // Sent upstream as a bearer token; never logged or audited.
  std::string version;   // Model version served by this upstream; defaults to the model name.
  double canary_weight = 100.0;  // Percent of users routed to `version`.

  std::string model_path;  // builtin only.
  int threads = 0;
  int context_size = 4096;
  int parallel = 4;
  std::string chat_template;
};

// Parameter policy applied to every request for a model. Zero or empty means unset.
struct ModelParams {
  int64_t default_max_tokens = 0;  // Sent when the request has no max_tokens.
  int64_t max_tokens_limit = 0;    // Requests above it are rejected with 400.
  double temperature_min = 0.0;
  double temperature_max = 2.0;
  std::string system_prompt;       // Prepended as the first message of a chat.
};

struct ModelConfig {
  std::string name;
  std::vector<UpstreamConfig> upstreams;
  ModelParams params;
};

// Per-principal limits. Zero means "no limit" for every field but rps.
struct QuotaLimits {
  double requests_per_second = 5.0;
  double burst = 10.0;
  int64_t tokens_per_minute = 0;
  int64_t daily_tokens = 0;
};

// Raises a user's requests/s when their history earns it: at least
// `min_account_days` old, `min_requests` in the last 7 days and an error and
// rejection rate at most `max_rejected_ratio`. Each earned step multiplies the
// role default by `factor`, up to `max_requests_per_second`.
struct QuotaPromotionPolicy {
  bool enabled = true;
  int min_account_days = 7;
  int64_t min_requests = 500;
  double max_rejected_ratio = 0.02;
  double factor = 2.0;
  double max_requests_per_second = 40.0;
};

struct Config {
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "data";
  int threads = 0;                       // io threads; 0 = cores available to the process.
  size_t max_body_bytes = 8 * 1024 * 1024;
  int max_concurrent_requests = 4096;    // More get 503; 0 = no limit.
  std::chrono::seconds shutdown_grace{30};
  std::string log_level = "info";

  struct Upstreams {
    int eject_after_failures = 3;
    std::chrono::milliseconds eject_cooldown{10000};
    UpstreamTimeouts timeouts;
  } upstream;

  struct Audit {
    std::string content = "summary";  // none | summary | full
    size_t queue_capacity = 65536;
    size_t batch_size = 512;
    std::chrono::milliseconds flush_interval{100};
  } audit;

  struct Quota {
    std::map<Role, QuotaLimits> defaults;
    QuotaPromotionPolicy promotion;
  } quota;

  AbuseConfig abuse;

  std::vector<ModelConfig> models;

  Config();
};

// Loads the configuration: defaults, then `path` when not empty, then the
// environment. Returns a 400-style Error naming the key and the value.
Result<Config> LoadConfig(const std::string& path);

// Parses a model list from YAML (also accepts JSON, which is YAML).
Result<std::vector<ModelConfig>> ParseModels(const std::string& yaml_text);

// Returns a one-line summary of the configuration with every secret redacted.
std::string DescribeConfig(const Config& config);

}  // namespace weir
