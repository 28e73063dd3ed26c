// Metrics: counters and histograms exposed in the Prometheus text format.
//
// A family has a fixed name, help text and label names; each distinct label
// set is one series. Label values are route templates, model names, upstream
// ids and status codes, never key material or user-supplied free text.
//
// Threading: every method is safe from any thread. Updates take a short
// per-family mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace weir {

using Labels = std::vector<std::string>;  // Values, in the family's label order.

class CounterFamily {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> label_names);
  void Add(const Labels& labels, double value = 1.0);
  double Value(const Labels& labels) const;
  void Render(std::string& out) const;

 private:
  std::string name_, help_;
  std::vector<std::string> label_names_;
  mutable std::mutex mutex_;
  std::map<Labels, double> series_;
};

class HistogramFamily {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> bounds);
  void Observe(const Labels& labels, double value);
  uint64_t Count(const Labels& labels) const;
  void Render(std::string& out) const;

 private:
  struct Series {
    std::vector<uint64_t> buckets;  // Cumulative at render time, per-bucket here.
    uint64_t count = 0;
    double sum = 0;
  };
  std::string name_, help_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::map<Labels, Series> series_;
};

// The gateway's metric families.
struct GatewayMetrics {
  GatewayMetrics();

  CounterFamily requests;          // route, model, upstream, status
  CounterFamily errors;            // route, model, code
  HistogramFamily latency;         // route, model (seconds, request start to last byte)
  HistogramFamily overhead;        // route (seconds spent in Weir, upstream time excluded)
  HistogramFamily time_to_first_token;  // model, upstream (seconds)
  CounterFamily tokens;            // model, upstream, direction (in|out)
  CounterFamily upstream_attempts;  // model, upstream, outcome
  CounterFamily retries;           // model
  CounterFamily upstream_ejections;  // model, upstream

  // Gauges computed at scrape time, e.g. audit queue depth; each appends its lines.
  std::vector<std::function<void(std::string&)>> gauges;

  std::string Render() const;
};

}  // namespace weir
