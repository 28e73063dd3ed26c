#include "gateway/abuse_detector.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace weir {
namespace {

constexpr size_t kRecentLimit = 500;
// Weight of the newest minute in a user's baseline.
constexpr double kBaselineAlpha = 0.1;

}  // namespace

AbuseDetector::AbuseDetector(AbuseConfig config) : config_(config), started_(Clock::now()) {}

int AbuseDetector::BlockedSeconds(const std::string& client_ip, Clock::time_point now) {
  if (!config_.enabled) return 0;
  std::lock_guard lock(mutex_);
  auto found = ips_.find(client_ip);
  if (found == ips_.end() || found->second.blocked_until <= now) return 0;
  return static_cast<int>(std::chrono::ceil<std::chrono::seconds>(found->second.blocked_until - now).count());
}

std::vector<Anomaly> AbuseDetector::Observe(const std::string& client_ip, int64_t user_id, const std::string& user,
                                            int status, Clock::time_point now, int64_t now_ms) {
  std::vector<Anomaly> found;
  if (!config_.enabled) return found;
  std::lock_guard lock(mutex_);

  if (status == 401) {
    IpState& ip = ips_[client_ip];
    ip.failures.push_back(now);
    while (!ip.failures.empty() && now - ip.failures.front() > std::chrono::seconds(60)) ip.failures.pop_front();
    if (static_cast<int>(ip.failures.size()) > config_.max_failed_auth_per_minute && ip.blocked_until <= now) {
      ip.blocked_until = now + config_.block_duration;
      ip.failures.clear();
      Report(Anomaly{now_ms, "failed_auth_block", client_ip,
                     fmt::format("more than {} failed authentications in 60 s; blocked for {} s",
                                 config_.max_failed_auth_per_minute, config_.block_duration.count())},
             found);
    }
  }
  if (user_id == 0) return found;

  UserState& state = users_[user_id];
  int64_t minute = std::chrono::duration_cast<std::chrono::minutes>(now - started_).count();
  if (minute != state.minute) {
    if (state.minute >= 0) {
      // Minutes without traffic count as zero, so a quiet user keeps a low baseline.
      int64_t idle_minutes = minute - state.minute - 1;
      // The first finished minute seeds the baseline; later minutes move it slowly.
      state.baseline = state.seeded ? state.baseline * (1 - kBaselineAlpha) + kBaselineAlpha * state.requests
                                    : state.requests;
      state.seeded = true;
      for (int64_t i = 0; i < idle_minutes && i < 60; ++i) state.baseline *= 1 - kBaselineAlpha;
    }
    state.minute = minute;
    state.requests = 0;
    state.rejections = 0;
    state.spike_reported = false;
    state.hammering_reported = false;
  }
  ++state.requests;
  if (status == 429) ++state.rejections;

  if (!state.spike_reported && state.baseline > 0 && state.requests >= config_.spike_min_requests &&
      state.requests > config_.spike_factor * state.baseline) {
    state.spike_reported = true;
    Report(Anomaly{now_ms, "request_spike", user,
                   fmt::format("{} requests this minute against a usual {:.1f}", state.requests, state.baseline)},
           found);
  }
  if (!state.hammering_reported && state.rejections > config_.max_rejections_per_minute) {
    state.hammering_reported = true;
    Report(Anomaly{now_ms, "quota_hammering", user,
                   fmt::format("{} requests rejected with 429 this minute; the client ignores Retry-After",
                               state.rejections)},
           found);
  }
  return found;
}

void AbuseDetector::Report(Anomaly anomaly, std::vector<Anomaly>& found) {
  spdlog::warn("event=anomaly kind={} subject={} detail=\"{}\"", anomaly.kind, anomaly.subject, anomaly.detail);
  recent_.push_front(anomaly);
  if (recent_.size() > kRecentLimit) recent_.pop_back();
  found.push_back(std::move(anomaly));
}

std::vector<Anomaly> AbuseDetector::Recent(size_t limit) const {
  std::lock_guard lock(mutex_);
  return std::vector<Anomaly>(recent_.begin(), recent_.begin() + static_cast<long>(std::min(limit, recent_.size())));
}

}  // namespace weir
