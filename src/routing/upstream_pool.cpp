#include "routing/upstream_pool.h"

#include <cstdint>
#include <map>

#include <spdlog/spdlog.h>

namespace weir {
namespace {

// EWMA weight of the newest latency sample.
constexpr double kEwmaAlpha = 0.2;

// A stable 0..99 bucket per (user, model), so a user keeps the same version
// while the canary split stays the same. splitmix64 spreads sequential ids.
int UserBucket(int64_t user_id, const std::string& model) {
  uint64_t x = static_cast<uint64_t>(user_id) ^ std::hash<std::string>{}(model);
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return static_cast<int>(x % 100);
}

}  // namespace

// Between upstreams with equal load, a clearly faster one wins: its latency
// EWMA is more than 25% and more than 2 ms lower, so that sub-millisecond
// noise does not count. Otherwise the one that served fewer requests per unit
// of weight wins, so equally fast upstreams share sequential traffic by weight.
bool UpstreamPool::BreaksTie(const Entry& candidate, const Entry& best) {
  double fast = std::min(candidate.ewma_ms, best.ewma_ms);
  double slow = std::max(candidate.ewma_ms, best.ewma_ms);
  if (fast > 0 && slow > fast * 1.25 && slow - fast > 2.0) return candidate.ewma_ms < best.ewma_ms;
  return candidate.requests / candidate.member.config.weight < best.requests / best.member.config.weight;
}

std::string_view UpstreamStateName(UpstreamState state) {
  switch (state) {
    case UpstreamState::kHealthy: return "healthy";
    case UpstreamState::kEjected: return "ejected";
    case UpstreamState::kHalfOpen: return "half_open";
  }
  return "healthy";
}

UpstreamPool::UpstreamPool(std::string model, std::vector<Member> members, HealthPolicy policy)
    : model_(std::move(model)), policy_(policy) {
  for (auto& member : members) {
    Entry entry;
    entry.member = std::move(member);
    entries_.push_back(std::move(entry));
  }
}

std::string UpstreamPool::VersionFor(int64_t user_id) const {
  std::lock_guard lock(mutex_);
  return VersionForLocked(user_id);
}

std::string UpstreamPool::VersionForLocked(int64_t user_id) const {
  // Canary weight per version: the largest weight given by any of its upstreams.
  std::map<std::string, double> weights;
  for (const auto& entry : entries_) {
    double& weight = weights[entry.member.config.version];
    weight = std::max(weight, entry.member.config.canary_weight);
  }
  if (weights.size() <= 1) return weights.empty() ? std::string() : weights.begin()->first;
  double total = 0;
  for (const auto& [version, weight] : weights) total += weight;
  if (total <= 0) return weights.begin()->first;
  double point = UserBucket(user_id, model_) * total / 100.0;
  double cumulative = 0;
  for (const auto& [version, weight] : weights) {
    cumulative += weight;
    if (point < cumulative) return version;
  }
  return weights.rbegin()->first;
}

bool UpstreamPool::AvailableLocked(Entry& entry, std::chrono::steady_clock::time_point now) {
  switch (entry.state) {
    case UpstreamState::kHealthy:
      return true;
    case UpstreamState::kEjected:
      if (now < entry.ejected_until) return false;
      entry.state = UpstreamState::kHalfOpen;
      entry.probe_in_flight = false;
      spdlog::info("event=upstream_half_open model={} upstream={}", model_, entry.member.upstream->id());
      return true;
    case UpstreamState::kHalfOpen:
      return !entry.probe_in_flight;
  }
  return false;
}

std::optional<UpstreamPool::Pick> UpstreamPool::Choose(int64_t user_id, const std::set<size_t>& exclude,
                                                       std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mutex_);
  std::string version = VersionForLocked(user_id);

  // Prefer the user's version; fall back to any version when it has no
  // upstream left, so a failing canary does not take its users offline.
  for (int pass = 0; pass < 2; ++pass) {
    Entry* best = nullptr;
    size_t best_index = 0;
    double best_score = 0;
    for (size_t i = 0; i < entries_.size(); ++i) {
      Entry& entry = entries_[i];
      if (exclude.count(i)) continue;
      if (pass == 0 && entry.member.config.version != version) continue;
      if (!AvailableLocked(entry, now)) continue;
      double score = (entry.outstanding + 1) / entry.member.config.weight;
      if (best == nullptr || score < best_score || (score == best_score && BreaksTie(entry, *best))) {
        best = &entry;
        best_index = i;
        best_score = score;
      }
    }
    if (best != nullptr) {
      ++best->outstanding;
      ++best->requests;
      if (best->state == UpstreamState::kHalfOpen) best->probe_in_flight = true;
      return Pick{best_index, best->member.upstream, best->member.config.version};
    }
  }
  return std::nullopt;
}

bool UpstreamPool::Report(const Pick& pick, bool failed, std::chrono::steady_clock::duration latency,
                          std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mutex_);
  Entry& entry = entries_.at(pick.index);
  --entry.outstanding;
  const std::string& id = entry.member.upstream->id();

  if (!failed) {
    double ms = std::chrono::duration<double, std::milli>(latency).count();
    entry.ewma_ms = entry.ewma_ms == 0 ? ms : kEwmaAlpha * ms + (1 - kEwmaAlpha) * entry.ewma_ms;
    entry.consecutive_failures = 0;
    if (entry.state != UpstreamState::kHealthy) {
      spdlog::info("event=upstream_restored model={} upstream={}", model_, id);
      entry.state = UpstreamState::kHealthy;
      entry.probe_in_flight = false;
    }
    return false;
  }

  ++entry.failures;
  ++entry.consecutive_failures;
  bool eject = entry.state == UpstreamState::kHalfOpen ||
               (entry.state == UpstreamState::kHealthy && entry.consecutive_failures >= policy_.eject_after_failures);
  if (!eject) return false;
  entry.state = UpstreamState::kEjected;
  entry.probe_in_flight = false;
  entry.ejected_until = now + policy_.eject_cooldown;
  spdlog::warn("event=upstream_ejected model={} upstream={} consecutive_failures={} cooldown_ms={}", model_, id,
               entry.consecutive_failures, policy_.eject_cooldown.count());
  return true;
}

std::vector<UpstreamStatus> UpstreamPool::Status() const {
  std::lock_guard lock(mutex_);
  std::vector<UpstreamStatus> statuses;
  for (const auto& entry : entries_) {
    statuses.push_back(UpstreamStatus{entry.member.upstream->id(), entry.member.config.version,
                                      entry.member.config.weight, entry.member.config.canary_weight, entry.state,
                                      entry.outstanding, entry.ewma_ms, entry.consecutive_failures, entry.requests,
                                      entry.failures});
  }
  return statuses;
}

bool UpstreamPool::SetWeight(const std::string& id, double weight) {
  std::lock_guard lock(mutex_);
  for (auto& entry : entries_) {
    if (entry.member.upstream->id() == id) {
      entry.member.config.weight = weight;
      return true;
    }
  }
  return false;
}

}  // namespace weir
