#include "config/config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace weir {
namespace {

// Scalar keys that an environment variable may set. Nested keys are joined by
// '.'; the variable is WEIR_ + the path in upper case with '.' -> '_'.
const char* const kScalarKeys[] = {
    "listen",
    "data_dir",
    "threads",
    "max_body_bytes",
    "max_concurrent_requests",
    "shutdown_grace_seconds",
    "log_level",
    "upstream.eject_after_failures",
    "upstream.eject_cooldown_ms",
    "upstream.connect_timeout_ms",
    "upstream.first_byte_timeout_ms",
    "upstream.idle_timeout_ms",
    "upstream.total_timeout_ms",
    "audit.content",
    "audit.queue_capacity",
    "audit.batch_size",
    "audit.flush_interval_ms",
    "abuse.enabled",
    "abuse.max_failed_auth_per_minute",
    "abuse.block_seconds",
    "abuse.spike_factor",
    "abuse.spike_min_requests",
    "abuse.max_rejections_per_minute",
    "quota.promotion.enabled",
    "quota.promotion.min_account_days",
    "quota.promotion.min_requests",
    "quota.promotion.max_rejected_ratio",
    "quota.promotion.factor",
    "quota.promotion.max_requests_per_second",
    "quota.defaults.viewer.requests_per_second",
    "quota.defaults.viewer.burst",
    "quota.defaults.viewer.tokens_per_minute",
    "quota.defaults.viewer.daily_tokens",
    "quota.defaults.user.requests_per_second",
    "quota.defaults.user.burst",
    "quota.defaults.user.tokens_per_minute",
    "quota.defaults.user.daily_tokens",
    "quota.defaults.admin.requests_per_second",
    "quota.defaults.admin.burst",
    "quota.defaults.admin.tokens_per_minute",
    "quota.defaults.admin.daily_tokens",
    "quota.defaults.superadmin.requests_per_second",
    "quota.defaults.superadmin.burst",
    "quota.defaults.superadmin.tokens_per_minute",
    "quota.defaults.superadmin.daily_tokens",
};

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream stream(path);
  std::string part;
  while (std::getline(stream, part, '.')) parts.push_back(part);
  return parts;
}

std::string EnvName(const std::string& path) {
  std::string name = "WEIR_";
  for (char c : path) name += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

// Returns the node at `path`, or an undefined node when any part is missing.
YAML::Node Lookup(const YAML::Node& root, const std::string& path) {
  YAML::Node node = YAML::Clone(root);
  for (const auto& part : SplitPath(path)) {
    if (!node.IsMap() || !node[part]) return YAML::Node(YAML::NodeType::Undefined);
    node = node[part];
  }
  return node;
}

// yaml-cpp node handles alias each other on assignment, so the tree is rebuilt
// from the root down to set one nested scalar.
void Assign(YAML::Node& root, const std::vector<std::string>& parts, size_t index, const std::string& value) {
  if (index + 1 == parts.size()) {
    // Environment values are text; yaml-cpp converts a text scalar to numbers
    // and booleans on read, and "[::1]:8080" must stay an address, not a list.
    root[parts[index]] = value;
    return;
  }
  YAML::Node child = root[parts[index]];
  if (!child.IsMap()) child = YAML::Node(YAML::NodeType::Map);
  Assign(child, parts, index + 1, value);
  root[parts[index]] = child;
}

void ApplyEnvironment(YAML::Node& root) {
  for (const char* key : kScalarKeys) {
    const char* value = std::getenv(EnvName(key).c_str());
    if (value == nullptr) continue;
    Assign(root, SplitPath(key), 0, value);
  }
  if (const char* models = std::getenv("WEIR_MODELS")) {
    root["models"] = YAML::Load(models);
  }
}

template <typename T>
Status Read(const YAML::Node& root, const std::string& path, T& out) {
  YAML::Node node = Lookup(root, path);
  if (!node.IsDefined() || node.IsNull()) return Status::Ok();
  try {
    out = node.as<T>();
  } catch (const YAML::Exception&) {
    return Error::InvalidRequest(fmt::format("config key {} (env {}) has an invalid value \"{}\"; "
                                             "check its type",
                                             path, EnvName(path), node.Scalar()));
  }
  return Status::Ok();
}

Status ReadMilliseconds(const YAML::Node& root, const std::string& path, std::chrono::milliseconds& out) {
  int64_t value = out.count();
  Status status = Read(root, path, value);
  if (!status.ok()) return status;
  if (value < 0) {
    return Error::InvalidRequest(fmt::format("config key {} is {}; it must be 0 or more milliseconds", path, value));
  }
  out = std::chrono::milliseconds(value);
  return Status::Ok();
}

Result<UpstreamConfig> ParseUpstream(const YAML::Node& node, const std::string& where) {
  UpstreamConfig upstream;
  if (!node.IsMap()) return Error::InvalidRequest(where + " must be a mapping with at least `url`");
  try {
    if (node["kind"]) upstream.kind = node["kind"].as<std::string>();
    if (node["url"]) upstream.url = node["url"].as<std::string>();
    if (node["weight"]) upstream.weight = node["weight"].as<double>();
    if (node["api_key"]) upstream.api_key = node["api_key"].as<std::string>();
    if (node["version"]) upstream.version = node["version"].as<std::string>();
    if (node["canary_weight"]) upstream.canary_weight = node["canary_weight"].as<double>();
    if (node["model_path"]) upstream.model_path = node["model_path"].as<std::string>();
    if (node["threads"]) upstream.threads = node["threads"].as<int>();
    if (node["context_size"]) upstream.context_size = node["context_size"].as<int>();
    if (node["parallel"]) upstream.parallel = node["parallel"].as<int>();
    if (node["chat_template"]) upstream.chat_template = node["chat_template"].as<std::string>();
  } catch (const YAML::Exception& e) {
    return Error::InvalidRequest(fmt::format("{} has a value of the wrong type: {}", where, e.what()));
  }
  if (upstream.kind != "http" && upstream.kind != "builtin") {
    return Error::InvalidRequest(fmt::format("{}.kind is \"{}\"; use \"http\" or \"builtin\"", where, upstream.kind));
  }
  if (upstream.kind == "http" && upstream.url.rfind("http://", 0) != 0) {
    return Error::InvalidRequest(fmt::format(
        "{}.url is \"{}\"; it must start with http:// (for example http://127.0.0.1:9000/v1)", where, upstream.url));
  }
  if (upstream.kind == "builtin" && upstream.model_path.empty()) {
    return Error::InvalidRequest(where + ".model_path is missing; a builtin upstream needs a GGUF file");
  }
  if (upstream.weight <= 0) {
    return Error::InvalidRequest(fmt::format("{}.weight is {}; it must be greater than 0", where, upstream.weight));
  }
  if (upstream.canary_weight < 0 || upstream.canary_weight > 100) {
    return Error::InvalidRequest(
        fmt::format("{}.canary_weight is {}; it must be a percentage from 0 to 100", where, upstream.canary_weight));
  }
  if (upstream.kind == "builtin" && upstream.url.empty()) upstream.url = "builtin:" + upstream.model_path;
  return upstream;
}

Result<ModelParams> ParseParams(const YAML::Node& node, const std::string& where) {
  ModelParams params;
  if (!node) return params;
  try {
    if (node["default_max_tokens"]) params.default_max_tokens = node["default_max_tokens"].as<int64_t>();
    if (node["max_tokens_limit"]) params.max_tokens_limit = node["max_tokens_limit"].as<int64_t>();
    if (node["temperature_min"]) params.temperature_min = node["temperature_min"].as<double>();
    if (node["temperature_max"]) params.temperature_max = node["temperature_max"].as<double>();
    if (node["system_prompt"]) params.system_prompt = node["system_prompt"].as<std::string>();
  } catch (const YAML::Exception& e) {
    return Error::InvalidRequest(fmt::format("{}.params has a value of the wrong type: {}", where, e.what()));
  }
  if (params.temperature_min > params.temperature_max) {
    return Error::InvalidRequest(fmt::format("{}.params.temperature_min ({}) is above temperature_max ({})", where,
                                             params.temperature_min, params.temperature_max));
  }
  return params;
}

Result<std::vector<ModelConfig>> ParseModelsNode(const YAML::Node& node) {
  std::vector<ModelConfig> models;
  if (!node || node.IsNull()) return models;
  if (!node.IsSequence()) return Error::InvalidRequest("config key models must be a list of {name, upstreams}");
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node& entry = node[i];
    std::string where = fmt::format("models[{}]", i);
    ModelConfig model;
    if (!entry.IsMap() || !entry["name"]) return Error::InvalidRequest(where + ".name is missing");
    model.name = entry["name"].as<std::string>();
    where = fmt::format("models[{}] ({})", i, model.name);
    const YAML::Node& upstreams = entry["upstreams"];
    if (!upstreams || !upstreams.IsSequence() || upstreams.size() == 0) {
      return Error::InvalidRequest(where + ".upstreams must list at least one upstream");
    }
    for (size_t j = 0; j < upstreams.size(); ++j) {
      auto upstream = ParseUpstream(upstreams[j], fmt::format("{}.upstreams[{}]", where, j));
      if (!upstream.ok()) return upstream.error();
      if (upstream->version.empty()) upstream->version = model.name;
      model.upstreams.push_back(std::move(*upstream));
    }
    auto params = ParseParams(entry["params"], where);
    if (!params.ok()) return params.error();
    model.params = *params;
    for (const auto& existing : models) {
      if (existing.name == model.name) return Error::InvalidRequest(where + " repeats a model name; names must be unique");
    }
    models.push_back(std::move(model));
  }
  return models;
}

Status ReadQuota(const YAML::Node& root, Config& config) {
  for (auto& [role, limits] : config.quota.defaults) {
    std::string prefix = fmt::format("quota.defaults.{}.", RoleName(role));
    for (Status s : {Read(root, prefix + "requests_per_second", limits.requests_per_second),
                     Read(root, prefix + "burst", limits.burst),
                     Read(root, prefix + "tokens_per_minute", limits.tokens_per_minute),
                     Read(root, prefix + "daily_tokens", limits.daily_tokens)}) {
      if (!s.ok()) return s;
    }
    if (limits.requests_per_second <= 0 || limits.burst < 1) {
      return Error::InvalidRequest(fmt::format("{}requests_per_second must be > 0 and burst >= 1 (got {} and {})",
                                               prefix, limits.requests_per_second, limits.burst));
    }
  }
  auto& promotion = config.quota.promotion;
  for (Status s : {Read(root, "quota.promotion.enabled", promotion.enabled),
                   Read(root, "quota.promotion.min_account_days", promotion.min_account_days),
                   Read(root, "quota.promotion.min_requests", promotion.min_requests),
                   Read(root, "quota.promotion.max_rejected_ratio", promotion.max_rejected_ratio),
                   Read(root, "quota.promotion.factor", promotion.factor),
                   Read(root, "quota.promotion.max_requests_per_second", promotion.max_requests_per_second)}) {
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Result<Config> Decode(const YAML::Node& root) {
  Config config;
  int64_t grace_seconds = config.shutdown_grace.count();
  for (Status s : {Read(root, "listen", config.listen), Read(root, "data_dir", config.data_dir),
                   Read(root, "threads", config.threads), Read(root, "max_body_bytes", config.max_body_bytes),
                   Read(root, "max_concurrent_requests", config.max_concurrent_requests),
                   Read(root, "shutdown_grace_seconds", grace_seconds), Read(root, "log_level", config.log_level),
                   Read(root, "upstream.eject_after_failures", config.upstream.eject_after_failures),
                   ReadMilliseconds(root, "upstream.eject_cooldown_ms", config.upstream.eject_cooldown),
                   ReadMilliseconds(root, "upstream.connect_timeout_ms", config.upstream.timeouts.connect),
                   ReadMilliseconds(root, "upstream.first_byte_timeout_ms", config.upstream.timeouts.first_byte),
                   ReadMilliseconds(root, "upstream.idle_timeout_ms", config.upstream.timeouts.idle),
                   ReadMilliseconds(root, "upstream.total_timeout_ms", config.upstream.timeouts.total),
                   Read(root, "audit.content", config.audit.content),
                   Read(root, "audit.queue_capacity", config.audit.queue_capacity),
                   Read(root, "audit.batch_size", config.audit.batch_size),
                   ReadMilliseconds(root, "audit.flush_interval_ms", config.audit.flush_interval)}) {
    if (!s.ok()) return s.error();
  }
  config.shutdown_grace = std::chrono::seconds(grace_seconds);

  if (config.audit.content != "none" && config.audit.content != "summary" && config.audit.content != "full") {
    return Error::InvalidRequest(
        fmt::format("audit.content is \"{}\"; use none, summary or full", config.audit.content));
  }
  if (config.upstream.eject_after_failures < 1) {
    return Error::InvalidRequest(fmt::format("upstream.eject_after_failures is {}; it must be at least 1",
                                             config.upstream.eject_after_failures));
  }
  if (config.audit.queue_capacity == 0 || config.audit.batch_size == 0) {
    return Error::InvalidRequest("audit.queue_capacity and audit.batch_size must be at least 1");
  }
  Status quota = ReadQuota(root, config);
  if (!quota.ok()) return quota.error();

  int64_t block_seconds = config.abuse.block_duration.count();
  for (Status s : {Read(root, "abuse.enabled", config.abuse.enabled),
                   Read(root, "abuse.max_failed_auth_per_minute", config.abuse.max_failed_auth_per_minute),
                   Read(root, "abuse.block_seconds", block_seconds),
                   Read(root, "abuse.spike_factor", config.abuse.spike_factor),
                   Read(root, "abuse.spike_min_requests", config.abuse.spike_min_requests),
                   Read(root, "abuse.max_rejections_per_minute", config.abuse.max_rejections_per_minute)}) {
    if (!s.ok()) return s.error();
  }
  config.abuse.block_duration = std::chrono::seconds(block_seconds);

  auto models = ParseModelsNode(root["models"]);
  if (!models.ok()) return models.error();
  config.models = std::move(*models);
  return config;
}

}  // namespace

Config::Config() {
  quota.defaults[Role::kViewer] = QuotaLimits{5.0, 10.0, 0, 0};
  quota.defaults[Role::kUser] = QuotaLimits{5.0, 10.0, 0, 0};
  quota.defaults[Role::kAdmin] = QuotaLimits{20.0, 40.0, 0, 0};
  quota.defaults[Role::kSuperadmin] = QuotaLimits{50.0, 100.0, 0, 0};
}

Result<Config> LoadConfig(const std::string& path) {
  YAML::Node root(YAML::NodeType::Map);
  try {
    if (!path.empty()) {
      std::ifstream file(path);
      if (!file) return Error::InvalidRequest(fmt::format("config file {} cannot be opened; check the path", path));
      root = YAML::Load(file);
      if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
      if (!root.IsMap()) return Error::InvalidRequest(fmt::format("config file {} must hold a YAML mapping", path));
    }
    ApplyEnvironment(root);
    return Decode(root);
  } catch (const YAML::Exception& e) {
    return Error::InvalidRequest(fmt::format("config {} is not valid YAML: {}", path.empty() ? "(environment)" : path,
                                             e.what()));
  }
}

Result<std::vector<ModelConfig>> ParseModels(const std::string& yaml_text) {
  try {
    return ParseModelsNode(YAML::Load(yaml_text));
  } catch (const YAML::Exception& e) {
    return Error::InvalidRequest(std::string("models are not valid YAML or JSON: ") + e.what());
  }
}

std::string DescribeConfig(const Config& config) {
  std::string models;
  for (const auto& model : config.models) {
    if (!models.empty()) models += ",";
    models += fmt::format("{}({} upstreams)", model.name, model.upstreams.size());
  }
  // Upstream URLs may carry credentials in their userinfo; only hosts are shown.
  return fmt::format(
      "listen={} data_dir={} threads={} max_body_bytes={} audit.content={} audit.queue_capacity={} "
      "upstream.eject_after_failures={} upstream.eject_cooldown_ms={} models=[{}]",
      config.listen, config.data_dir, config.threads, config.max_body_bytes, config.audit.content,
      config.audit.queue_capacity, config.upstream.eject_after_failures, config.upstream.eject_cooldown.count(),
      models);
}

}  // namespace weir
