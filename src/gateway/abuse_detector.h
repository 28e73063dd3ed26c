// AbuseDetector: spots abusive or anomalous traffic on the request path.
//
// Three signals, all kept in memory per gateway replica:
//   - failed authentication per client IP: more than
//     `max_failed_auth_per_minute` 401s within 60 s blocks the IP for
//     `block_seconds` (key guessing, a leaked script with a revoked key);
//   - request spikes per user: a minute with more than `spike_factor` times
//     the user's usual requests per minute (an exponential average over past
//     minutes), and at least `spike_min_requests`, is reported;
//   - quota hammering per user: more than `max_rejections_per_minute` 429s in
//     a minute is reported (a client that ignores Retry-After).
// Reports are logged, counted in weir_anomalies_total and listed by
// GET /admin/v1/anomalies. Only failed authentication blocks traffic; the
// other signals leave the decision to an admin.
//
// Threading: every method is safe from any thread (one mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace weir {

struct AbuseConfig {
  bool enabled = true;
  int max_failed_auth_per_minute = 30;
  std::chrono::seconds block_duration{300};
  double spike_factor = 10.0;
  int spike_min_requests = 120;
  int max_rejections_per_minute = 120;
};

struct Anomaly {
  int64_t time_ms = 0;
  std::string kind;     // failed_auth_block | request_spike | quota_hammering
  std::string subject;  // Client IP or user name.
  std::string detail;
};

class AbuseDetector {
 public:
  using Clock = std::chrono::steady_clock;

  explicit AbuseDetector(AbuseConfig config);

  // Returns the seconds an IP stays blocked, 0 when it is not blocked.
  int BlockedSeconds(const std::string& client_ip, Clock::time_point now);

  // Records the outcome of one request. `user_id` is 0 when unauthenticated.
  // Returns the anomalies this request revealed (usually none).
  std::vector<Anomaly> Observe(const std::string& client_ip, int64_t user_id, const std::string& user, int status,
                               Clock::time_point now, int64_t now_ms);

  // Returns the most recent anomalies, newest first.
  std::vector<Anomaly> Recent(size_t limit) const;

 private:
  struct IpState {
    std::deque<Clock::time_point> failures;
    Clock::time_point blocked_until;
  };
  struct UserState {
    int64_t minute = -1;       // Minutes since the detector started.
    int requests = 0;
    int rejections = 0;
    double baseline = 0;       // Average requests per minute over past minutes.
    bool seeded = false;       // The baseline holds at least one finished minute.
    bool spike_reported = false;
    bool hammering_reported = false;
  };

  void Report(Anomaly anomaly, std::vector<Anomaly>& found);

  AbuseConfig config_;
  Clock::time_point started_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, IpState> ips_;
  std::unordered_map<int64_t, UserState> users_;
  std::deque<Anomaly> recent_;
};

}  // namespace weir
