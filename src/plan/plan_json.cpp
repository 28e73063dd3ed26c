#include "plan/plan_json.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <fmt/format.h>

#include "detect/host_inventory.h"

namespace weir::plan {
namespace {

using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;
using detect::FormatGiB;

constexpr int kPlanFormatVersion = 1;

void Field(Writer& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value);
}
void Field(Writer& w, const char* key, int value) {
  w.Key(key);
  w.Int(value);
}
void Field(Writer& w, const char* key, std::uint64_t value) {
  w.Key(key);
  w.Uint64(value);
}
void Field(Writer& w, const char* key, double value) {
  w.Key(key);
  w.Double(value);
}
void Field(Writer& w, const char* key, bool value) {
  w.Key(key);
  w.Bool(value);
}
void Field(Writer& w, const char* key, const std::vector<std::string>& values) {
  w.Key(key);
  w.StartArray();
  for (const std::string& value : values) w.String(value);
  w.EndArray();
}

void WriteArithmetic(Writer& w, const Arithmetic& a) {
  w.Key("arithmetic");
  w.StartObject();
  Field(w, "weight_bytes", a.weight_bytes);
  Field(w, "weight_bytes_per_device", a.weight_bytes_per_device);
  Field(w, "kv_bytes_per_token", a.kv_bytes_per_token);
  Field(w, "kv_formula", a.kv_formula);
  Field(w, "kv_bytes_per_device", a.kv_bytes_per_device);
  Field(w, "reserve_bytes_per_device", a.reserve_bytes_per_device);
  Field(w, "free_bytes_per_device", a.free_bytes_per_device);
  Field(w, "total_bytes_per_device", a.total_bytes_per_device);
  Field(w, "needed_bytes_per_device", a.needed_bytes_per_device);
  Field(w, "usage_ratio", a.usage_ratio);
  w.EndObject();
}

void WriteDeployment(Writer& w, const Deployment& d) {
  w.StartObject();
  Field(w, "version", d.version);
  Field(w, "hosts", d.hosts);
  Field(w, "precision", d.precision);
  Field(w, "native", d.native);
  Field(w, "engine", d.engine);
  Field(w, "image", d.image);
  Field(w, "source", d.source);
  Field(w, "file", d.file);
  Field(w, "tensor_parallel", d.tensor_parallel);
  Field(w, "pipeline_parallel", d.pipeline_parallel);
  Field(w, "gpu", d.gpu);

  w.Key("devices");
  w.StartArray();
  for (const PlacedDevice& device : d.devices) {
    w.StartObject();
    Field(w, "host", device.host);
    Field(w, "uuid", device.uuid);
    Field(w, "name", device.name);
    Field(w, "index", device.index);
    Field(w, "memory_total_bytes", device.memory_total_bytes);
    Field(w, "memory_free_bytes", device.memory_free_bytes);
    w.EndObject();
  }
  w.EndArray();

  Field(w, "context", d.context);
  Field(w, "concurrency", d.concurrency);
  Field(w, "max_concurrency", d.max_concurrency);
  Field(w, "max_context", d.max_context);
  Field(w, "threads", d.threads);
  Field(w, "port", d.port);
  Field(w, "gpu_memory_fraction", d.gpu_memory_fraction);
  WriteArithmetic(w, d.arithmetic);

  Field(w, "verdict", d.verdict);
  Field(w, "reason", d.reason);
  Field(w, "warnings", d.warnings);
  Field(w, "notes", d.notes);
  w.EndObject();
}

void WriteHost(Writer& w, const PlanHost& h) {
  w.StartObject();
  Field(w, "name", h.name);
  Field(w, "address", h.address);
  Field(w, "group", h.group);
  Field(w, "connection", h.connection);
  Field(w, "ssh_user", h.ssh_user);
  Field(w, "cpus", h.cpus);
  Field(w, "memory_usable_bytes", h.memory_usable_bytes);
  Field(w, "gpu_source", h.gpu_source);
  Field(w, "verdict", h.verdict);
  Field(w, "rejected", h.rejected);
  Field(w, "unused_devices", h.unused_devices);
  w.EndObject();
}

// Typed readers that default a missing member, so a plan written by an older
// Weir still reads.
const rapidjson::Value* Member(const rapidjson::Value& object, const char* key) {
  if (!object.IsObject()) return nullptr;
  const auto it = object.FindMember(key);
  return it == object.MemberEnd() ? nullptr : &it->value;
}
std::string Str(const rapidjson::Value& o, const char* key) {
  const auto* v = Member(o, key);
  return v && v->IsString() ? v->GetString() : "";
}
int Int(const rapidjson::Value& o, const char* key) {
  const auto* v = Member(o, key);
  return v && v->IsInt() ? v->GetInt() : 0;
}
std::uint64_t U64(const rapidjson::Value& o, const char* key) {
  const auto* v = Member(o, key);
  return v && v->IsUint64() ? v->GetUint64() : 0;
}
double Num(const rapidjson::Value& o, const char* key) {
  const auto* v = Member(o, key);
  return v && v->IsNumber() ? v->GetDouble() : 0.0;
}
bool Bool(const rapidjson::Value& o, const char* key) {
  const auto* v = Member(o, key);
  return v && v->IsBool() && v->GetBool();
}
std::vector<std::string> Strings(const rapidjson::Value& o, const char* key) {
  std::vector<std::string> values;
  const auto* v = Member(o, key);
  if (v == nullptr || !v->IsArray()) return values;
  for (const auto& item : v->GetArray()) {
    if (item.IsString()) values.emplace_back(item.GetString());
  }
  return values;
}

Deployment ReadDeployment(const rapidjson::Value& o) {
  Deployment d;
  d.version = Str(o, "version");
  d.hosts = Strings(o, "hosts");
  d.precision = Str(o, "precision");
  d.native = Bool(o, "native");
  d.engine = Str(o, "engine");
  d.image = Str(o, "image");
  d.source = Str(o, "source");
  d.file = Str(o, "file");
  d.tensor_parallel = Int(o, "tensor_parallel");
  d.pipeline_parallel = Int(o, "pipeline_parallel");
  d.gpu = Bool(o, "gpu");

  if (const auto* devices = Member(o, "devices"); devices && devices->IsArray()) {
    for (const auto& item : devices->GetArray()) {
      d.devices.push_back({Str(item, "host"), Str(item, "uuid"), Str(item, "name"), Int(item, "index"),
                           U64(item, "memory_total_bytes"), U64(item, "memory_free_bytes")});
    }
  }

  d.context = Int(o, "context");
  d.concurrency = Int(o, "concurrency");
  d.max_concurrency = Int(o, "max_concurrency");
  d.max_context = Int(o, "max_context");
  d.threads = Int(o, "threads");
  d.port = Int(o, "port");
  d.gpu_memory_fraction = Num(o, "gpu_memory_fraction");

  if (const auto* a = Member(o, "arithmetic")) {
    d.arithmetic.weight_bytes = U64(*a, "weight_bytes");
    d.arithmetic.weight_bytes_per_device = U64(*a, "weight_bytes_per_device");
    d.arithmetic.kv_bytes_per_token = U64(*a, "kv_bytes_per_token");
    d.arithmetic.kv_formula = Str(*a, "kv_formula");
    d.arithmetic.kv_bytes_per_device = U64(*a, "kv_bytes_per_device");
    d.arithmetic.reserve_bytes_per_device = U64(*a, "reserve_bytes_per_device");
    d.arithmetic.free_bytes_per_device = U64(*a, "free_bytes_per_device");
    d.arithmetic.total_bytes_per_device = U64(*a, "total_bytes_per_device");
    d.arithmetic.needed_bytes_per_device = U64(*a, "needed_bytes_per_device");
    d.arithmetic.usage_ratio = Num(*a, "usage_ratio");
  }

  d.verdict = Str(o, "verdict");
  d.reason = Str(o, "reason");
  d.warnings = Strings(o, "warnings");
  d.notes = Strings(o, "notes");
  return d;
}

PlanHost ReadHost(const rapidjson::Value& o) {
  PlanHost h;
  h.name = Str(o, "name");
  h.address = Str(o, "address");
  h.group = Str(o, "group");
  h.connection = Str(o, "connection");
  h.ssh_user = Str(o, "ssh_user");
  h.cpus = Int(o, "cpus");
  h.memory_usable_bytes = U64(o, "memory_usable_bytes");
  h.gpu_source = Str(o, "gpu_source");
  h.verdict = Str(o, "verdict");
  h.rejected = Strings(o, "rejected");
  h.unused_devices = Strings(o, "unused_devices");
  return h;
}

}  // namespace

std::string PlanToJson(const Plan& plan) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.SetIndent(' ', 2);
  w.StartObject();
  Field(w, "weir_plan_version", kPlanFormatVersion);
  Field(w, "model", plan.model);
  Field(w, "title", plan.title);
  Field(w, "context", plan.context);
  Field(w, "concurrency", plan.concurrency);

  w.Key("deployments");
  w.StartArray();
  for (const Deployment& deployment : plan.deployments) WriteDeployment(w, deployment);
  w.EndArray();

  w.Key("hosts");
  w.StartArray();
  for (const PlanHost& host : plan.hosts) WriteHost(w, host);
  w.EndArray();

  w.Key("alternatives");
  w.StartArray();
  for (const Alternative& a : plan.alternatives) {
    w.StartObject();
    Field(w, "model", a.model);
    Field(w, "precision", a.precision);
    Field(w, "engine", a.engine);
    Field(w, "host", a.host);
    Field(w, "tensor_parallel", a.tensor_parallel);
    Field(w, "verdict", a.verdict);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

Result<Plan> ParsePlanJson(const std::string& text, const std::string& origin) {
  rapidjson::Document document;
  document.Parse(text.c_str(), text.size());
  if (document.HasParseError()) {
    return Error::InvalidRequest(fmt::format("{}: invalid JSON at offset {}: {}; write it with `weir plan --json`",
                                             origin, document.GetErrorOffset(),
                                             rapidjson::GetParseError_En(document.GetParseError())));
  }
  if (Int(document, "weir_plan_version") != kPlanFormatVersion) {
    return Error::InvalidRequest(fmt::format(
        "{}: not a Weir plan (weir_plan_version is not {}); write it with `weir plan --json`", origin,
        kPlanFormatVersion));
  }

  Plan plan;
  plan.model = Str(document, "model");
  plan.title = Str(document, "title");
  plan.context = Int(document, "context");
  plan.concurrency = Int(document, "concurrency");

  if (const auto* deployments = Member(document, "deployments"); deployments && deployments->IsArray()) {
    for (const auto& item : deployments->GetArray()) plan.deployments.push_back(ReadDeployment(item));
  }
  if (const auto* hosts = Member(document, "hosts"); hosts && hosts->IsArray()) {
    for (const auto& item : hosts->GetArray()) plan.hosts.push_back(ReadHost(item));
  }
  if (const auto* alternatives = Member(document, "alternatives"); alternatives && alternatives->IsArray()) {
    for (const auto& item : alternatives->GetArray()) {
      plan.alternatives.push_back({Str(item, "model"), Str(item, "precision"), Str(item, "engine"), Str(item, "host"),
                                   Int(item, "tensor_parallel"), Str(item, "verdict")});
    }
  }
  return plan;
}

std::string PlanToTable(const Plan& plan) {
  std::string out = fmt::format("model {} ({}), context {} tokens, {} concurrent sequences\n\n", plan.model,
                                plan.title, plan.context, plan.concurrency);
  out += fmt::format("{:<40} {:<20} {:>5} {:<7} {:<10} {:>3} {:>3} {:>8} {:>8}  {}\n", "version", "hosts", "port",
                     "prec", "engine", "TP", "PP", "max ctx", "max seq", "verdict");
  for (const Deployment& d : plan.deployments) {
    std::string hosts;
    for (const std::string& host : d.hosts) hosts += (hosts.empty() ? "" : ",") + host;
    out += fmt::format("{:<40} {:<20} {:>5} {:<7} {:<10} {:>3} {:>3} {:>8} {:>8}  {}\n", d.version, hosts, d.port,
                       d.precision, d.engine, d.tensor_parallel, d.pipeline_parallel, d.max_context,
                       d.max_concurrency, d.verdict);
  }
  for (const Deployment& d : plan.deployments) {
    const Arithmetic& a = d.arithmetic;
    out += fmt::format("\n{} on {} port {}:\n", d.version, d.hosts.front(), d.port);
    out += fmt::format("  weights         {} in all, {} per device\n", FormatGiB(a.weight_bytes),
                       FormatGiB(a.weight_bytes_per_device));
    out += fmt::format("  KV per token    {} bytes = {}\n", a.kv_bytes_per_token, a.kv_formula);
    out += fmt::format("  KV per device   {} for {} tokens x {} sequences\n", FormatGiB(a.kv_bytes_per_device),
                       d.context, d.concurrency);
    out += fmt::format("  reserve         {} per device (engine runtime, estimate)\n",
                       FormatGiB(a.reserve_bytes_per_device));
    out += fmt::format("  free memory     {} per device used for planning (total {})\n",
                       FormatGiB(a.free_bytes_per_device), FormatGiB(a.total_bytes_per_device));
    out += fmt::format("  verdict         {}: {}\n", d.verdict, d.reason);
    for (const PlacedDevice& device : d.devices) {
      out += fmt::format("  device          {} {} {} ({} free)\n", device.host, device.uuid, device.name,
                         FormatGiB(device.memory_free_bytes));
    }
    for (const std::string& note : d.notes) out += "  note            " + note + "\n";
    for (const std::string& warning : d.warnings) out += "  warning         " + warning + "\n";
  }
  for (const PlanHost& host : plan.hosts) {
    if (host.rejected.empty() && host.unused_devices.empty()) continue;
    out += fmt::format("\nhost {} ({}):\n", host.name, host.verdict);
    for (const std::string& reason : host.rejected) out += "  not chosen      " + reason + "\n";
    for (const std::string& unused : host.unused_devices) out += "  unused          " + unused + "\n";
  }
  if (!plan.alternatives.empty()) {
    out += "\nwhat would fit where this model does not:\n";
    for (const Alternative& a : plan.alternatives) {
      out += fmt::format("  {} {} on {} with {} (TP {}, {})\n", a.model, a.precision, a.host, a.engine,
                         a.tensor_parallel, a.verdict);
    }
  }
  return out;
}

}  // namespace weir::plan
