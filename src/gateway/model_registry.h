// ModelRegistry: the models clients may name, with their parameter policy and
// upstream pools.
//
// Models come from the config file and from the store (models registered and
// parameters changed at run time through the admin API); the store wins. The
// registry is read on every request and changed rarely, so readers take a
// shared_ptr snapshot under a shared lock and changes swap the snapshot.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/config.h"
#include "routing/upstream_pool.h"

namespace weir {

struct ModelEntry {
  std::string name;
  ModelParams params;
  std::shared_ptr<UpstreamPool> pool;
  std::vector<UpstreamConfig> upstreams;  // As configured, for the admin API.
  bool registered_at_runtime = false;
};

// Creates the Upstream for one configured backend (HTTP or built-in engine).
using UpstreamFactory = std::function<Result<std::shared_ptr<Upstream>>(const UpstreamConfig&)>;

class ModelRegistry {
 public:
  ModelRegistry(UpstreamFactory factory, HealthPolicy health);

  // Adds or replaces a model, creating its upstreams.
  Status Put(const ModelConfig& model, bool registered_at_runtime);
  // Returns the model, or nullptr when no model has this name.
  std::shared_ptr<const ModelEntry> Find(const std::string& name) const;
  std::vector<std::shared_ptr<const ModelEntry>> List() const;
  // Replaces a model's parameter policy.
  Status SetParams(const std::string& name, const ModelParams& params);

 private:
  using Map = std::map<std::string, std::shared_ptr<const ModelEntry>>;

  UpstreamFactory factory_;
  HealthPolicy health_;
  mutable std::shared_mutex mutex_;
  std::shared_ptr<const Map> models_;
};

}  // namespace weir
