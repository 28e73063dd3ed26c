#include "gateway/model_registry.h"

#include <mutex>

#include <fmt/format.h>

namespace weir {

ModelRegistry::ModelRegistry(UpstreamFactory factory, HealthPolicy health)
    : factory_(std::move(factory)), health_(health), models_(std::make_shared<Map>()) {}

Status ModelRegistry::Put(const ModelConfig& model, bool registered_at_runtime) {
  std::vector<UpstreamPool::Member> members;
  for (const auto& upstream : model.upstreams) {
    auto created = factory_(upstream);
    if (!created.ok()) {
      Error error = created.error();
      error.message = fmt::format("model {}: {}", model.name, error.message);
      return error;
    }
    members.push_back(UpstreamPool::Member{std::move(*created), upstream});
  }
  auto entry = std::make_shared<ModelEntry>();
  entry->name = model.name;
  entry->params = model.params;
  entry->pool = std::make_shared<UpstreamPool>(model.name, std::move(members), health_);
  entry->upstreams = model.upstreams;
  entry->registered_at_runtime = registered_at_runtime;

  std::unique_lock lock(mutex_);
  auto next = std::make_shared<Map>(*models_);
  (*next)[model.name] = std::move(entry);
  models_ = std::move(next);
  return Status::Ok();
}

std::shared_ptr<const ModelEntry> ModelRegistry::Find(const std::string& name) const {
  std::shared_lock lock(mutex_);
  auto found = models_->find(name);
  return found == models_->end() ? nullptr : found->second;
}

std::vector<std::shared_ptr<const ModelEntry>> ModelRegistry::List() const {
  std::shared_lock lock(mutex_);
  std::vector<std::shared_ptr<const ModelEntry>> entries;
  for (const auto& [name, entry] : *models_) entries.push_back(entry);
  return entries;
}

Status ModelRegistry::SetParams(const std::string& name, const ModelParams& params) {
  std::unique_lock lock(mutex_);
  auto found = models_->find(name);
  if (found == models_->end()) return Error::NotFound(fmt::format("model \"{}\" does not exist", name), "model_not_found");
  auto entry = std::make_shared<ModelEntry>(*found->second);
  entry->params = params;
  auto next = std::make_shared<Map>(*models_);
  (*next)[name] = std::move(entry);
  models_ = std::move(next);
  return Status::Ok();
}

}  // namespace weir
