#include "metrics/metrics.h"

#include <fmt/format.h>

namespace weir {
namespace {

std::string EscapeLabel(const std::string& value) {
  std::string escaped;
  for (char c : value) {
    if (c == '\\' || c == '"') escaped += '\\';
    if (c == '\n') {
      escaped += "\\n";
      continue;
    }
    escaped += c;
  }
  return escaped;
}

std::string FormatLabels(const std::vector<std::string>& names, const Labels& values, const std::string& extra = {}) {
  std::string out = "{";
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (i) out += ',';
    out += fmt::format("{}=\"{}\"", names[i], EscapeLabel(values[i]));
  }
  if (!extra.empty()) {
    if (out.size() > 1) out += ',';
    out += extra;
  }
  return out + "}";
}

std::string FormatNumber(double value) { return fmt::format("{}", value); }

}  // namespace

CounterFamily::CounterFamily(std::string name, std::string help, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

void CounterFamily::Add(const Labels& labels, double value) {
  std::lock_guard lock(mutex_);
  series_[labels] += value;
}

double CounterFamily::Value(const Labels& labels) const {
  std::lock_guard lock(mutex_);
  auto found = series_.find(labels);
  return found == series_.end() ? 0.0 : found->second;
}

void CounterFamily::Render(std::string& out) const {
  out += fmt::format("# HELP {} {}\n# TYPE {} counter\n", name_, help_, name_);
  std::lock_guard lock(mutex_);
  for (const auto& [labels, value] : series_) {
    out += fmt::format("{}{} {}\n", name_, FormatLabels(label_names_, labels), FormatNumber(value));
  }
}

HistogramFamily::HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                                 std::vector<double> bounds)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)), bounds_(std::move(bounds)) {}

void HistogramFamily::Observe(const Labels& labels, double value) {
  std::lock_guard lock(mutex_);
  Series& series = series_[labels];
  if (series.buckets.empty()) series.buckets.assign(bounds_.size(), 0);
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (value <= bounds_[i]) {
      ++series.buckets[i];
      break;
    }
  }
  ++series.count;
  series.sum += value;
}

uint64_t HistogramFamily::Count(const Labels& labels) const {
  std::lock_guard lock(mutex_);
  auto found = series_.find(labels);
  return found == series_.end() ? 0 : found->second.count;
}

void HistogramFamily::Render(std::string& out) const {
  out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name_, help_, name_);
  std::lock_guard lock(mutex_);
  for (const auto& [labels, series] : series_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
      cumulative += series.buckets[i];
      out += fmt::format("{}_bucket{} {}\n", name_,
                         FormatLabels(label_names_, labels, fmt::format("le=\"{}\"", bounds_[i])), cumulative);
    }
    out += fmt::format("{}_bucket{} {}\n", name_, FormatLabels(label_names_, labels, "le=\"+Inf\""), series.count);
    out += fmt::format("{}_sum{} {}\n", name_, FormatLabels(label_names_, labels), FormatNumber(series.sum));
    out += fmt::format("{}_count{} {}\n", name_, FormatLabels(label_names_, labels), series.count);
  }
}

GatewayMetrics::GatewayMetrics()
    : requests("weir_requests_total", "Requests answered, by route, model, upstream and HTTP status.",
               {"route", "model", "upstream", "status"}),
      errors("weir_request_errors_total", "Requests answered with an error, by route, model and error code.",
             {"route", "model", "code"}),
      latency("weir_request_duration_seconds", "Time from request arrival to the last byte sent.",
              {"route", "model"}, {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}),
      overhead("weir_gateway_overhead_seconds", "Time spent in Weir per request, upstream time excluded.",
               {"route"}, {0.00001, 0.00002, 0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05}),
      time_to_first_token("weir_time_to_first_token_seconds", "Time from request arrival to the first streamed byte.",
                          {"model", "upstream"}, {0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30}),
      tokens("weir_tokens_total", "Tokens by model, upstream and direction (in = prompt, out = completion).",
             {"model", "upstream", "direction"}),
      upstream_attempts("weir_upstream_attempts_total", "Upstream attempts by outcome.",
                        {"model", "upstream", "outcome"}),
      retries("weir_retries_total", "Requests retried on another upstream.", {"model"}),
      upstream_ejections("weir_upstream_ejections_total", "Times an upstream was ejected by passive health checks.",
                         {"model", "upstream"}) {}

std::string GatewayMetrics::Render() const {
  std::string out;
  out.reserve(16384);
  requests.Render(out);
  errors.Render(out);
  latency.Render(out);
  overhead.Render(out);
  time_to_first_token.Render(out);
  tokens.Render(out);
  upstream_attempts.Render(out);
  retries.Render(out);
  upstream_ejections.Render(out);
  for (const auto& gauge : gauges) gauge(out);
  return out;
}

}  // namespace weir
