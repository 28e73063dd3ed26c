#include "deploy/renderer.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>

namespace weir::deploy {
namespace {

namespace fs = std::filesystem;

// Percent of users each version gets: one version gets 100; several share
// 100 by their number of upstreams, the remainder going to the first.
std::map<std::string, int> CanaryWeights(const plan::Plan& plan) {
  std::map<std::string, int> upstreams;
  for (const plan::Deployment& d : plan.deployments) ++upstreams[d.version];
  std::map<std::string, int> weights;
  int assigned = 0;
  for (const auto& [version, count] : upstreams) {
    weights[version] = 100 * count / static_cast<int>(plan.deployments.size());
    assigned += weights[version];
  }
  if (!weights.empty()) weights[plan.deployments.front().version] += 100 - assigned;
  return weights;
}

std::string Address(const plan::Plan& plan, const std::string& host) {
  const plan::PlanHost* found = FindHost(plan, host);
  return found != nullptr && !found->address.empty() ? found->address : host;
}

}  // namespace

std::string Join(const std::vector<std::string>& items, const std::string& separator) {
  std::string joined;
  for (const std::string& item : items) joined += (joined.empty() ? "" : separator) + item;
  return joined;
}

std::string YamlQuote(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') quoted += '\\';
    if (c == '\n') {
      quoted += "\\n";
      continue;
    }
    quoted += c;
  }
  return quoted + "\"";
}

const plan::PlanHost* FindHost(const plan::Plan& plan, const std::string& name) {
  for (const plan::PlanHost& host : plan.hosts) {
    if (host.name == name) return &host;
  }
  return nullptr;
}

std::string ModelDir(const DeployOptions& options) {
  return options.model_dir.empty() ? options.data_dir + "/models" : options.model_dir;
}

std::vector<ModelServer> ModelServers(const plan::Plan& plan) {
  std::vector<ModelServer> servers;
  for (const plan::Deployment& d : plan.deployments) {
    for (std::size_t rank = 0; rank < d.hosts.size(); ++rank) {
      ModelServer server;
      server.deployment = &d;
      server.host = d.hosts[rank];
      server.node_rank = static_cast<int>(rank);
      server.name = fmt::format("{}-{}-{}", d.engine, d.version, d.port);
      servers.push_back(server);
    }
  }
  return servers;
}

std::string GatewayHost(const plan::Plan& plan, const DeployOptions& options) {
  if (!options.gateway_host.empty()) return options.gateway_host;
  if (!plan.deployments.empty()) return plan.deployments.front().hosts.front();
  return plan.hosts.empty() ? "localhost" : plan.hosts.front().name;
}

std::vector<std::string> GpuIds(const plan::Deployment& deployment, const std::string& host) {
  std::vector<std::string> ids;
  for (const plan::PlacedDevice& device : deployment.devices) {
    if (device.host != host) continue;
    const bool real_uuid = device.uuid.rfind("GPU-", 0) == 0 || device.uuid.rfind("MIG-", 0) == 0;
    ids.push_back(real_uuid ? device.uuid : std::to_string(device.index));
  }
  return ids;
}

std::string GatewayConfigWithUrls(const plan::Plan& plan, const DeployOptions& options, const std::string& listen,
                                  const std::string& gateway_host,
                                  const std::function<std::string(const plan::Deployment&)>& url_for) {
  const auto weights = CanaryWeights(plan);
  std::string out = fmt::format("# Weir gateway configuration rendered by `weir deploy` for {}.\n", plan.model);
  out += fmt::format("listen: {}\n", listen);
  out += fmt::format("data_dir: {}\n", options.data_dir);
  out += "models:\n";
  out += fmt::format("  - name: {}\n", plan.model);
  out += "    upstreams:\n";
  for (const plan::Deployment& d : plan.deployments) {
    // An empty gateway host means every built-in deployment runs inside the gateway.
    if (d.engine == "builtin" && (gateway_host.empty() || d.hosts.front() == gateway_host)) {
      out += "      - kind: builtin\n";
      out += fmt::format("        model_path: {}/{}\n", ModelDir(options), d.file);
      out += fmt::format("        threads: {}\n", std::max(1, d.threads));
      out += fmt::format("        context_size: {}\n", d.context);
      out += fmt::format("        parallel: {}\n", d.concurrency);
    } else {
      out += fmt::format("      - url: {}\n", url_for(d));
      out += "        weight: 1\n";
    }
    out += fmt::format("        version: {}\n", d.version);
    out += fmt::format("        canary_weight: {}\n", weights.at(d.version));
  }
  return out;
}

std::string GatewayConfig(const plan::Plan& plan, const DeployOptions& options, const std::string& listen,
                          const std::string& gateway_host, bool loopback_for_local) {
  return GatewayConfigWithUrls(plan, options, listen, gateway_host, [&](const plan::Deployment& d) {
    const std::string& head = d.hosts.front();
    const std::string address = head == gateway_host && loopback_for_local ? "127.0.0.1" : Address(plan, head);
    return fmt::format("http://{}:{}/v1", address, d.port);
  });
}

std::string BuiltinServerConfig(const plan::Plan& plan, const plan::Deployment& deployment,
                                const DeployOptions& options) {
  plan::Plan single = plan;
  single.deployments = {deployment};
  return GatewayConfig(single, options, fmt::format("0.0.0.0:{}", deployment.port), deployment.hosts.front(), false);
}

std::string ShellQuote(const std::string& text) {
  if (!text.empty() && text.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,@+") ==
                           std::string::npos) {
    return text;
  }
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

std::vector<std::string> EngineArguments(const ModelServer& server, const plan::Plan& plan,
                                         const std::string& model_dir, bool in_container) {
  const plan::Deployment& d = *server.deployment;
  const std::string head_address = Address(plan, d.hosts.front());
  std::vector<std::string> args;
  const auto add = [&args](std::initializer_list<std::string> items) { args.insert(args.end(), items); };
  const std::string dtype = d.precision == "FP16" || d.precision == "AWQ" ? "float16" : "bfloat16";
  const bool native_fp8 = d.precision == "FP8" && d.native;  // The checkpoint's config names its quantization.

  if (d.engine == "vllm") {
    if (server.node_rank > 0) return {"ray", "start", "--block", "--address=" + head_address + ":6379"};
    add({"--model", d.source, "--served-model-name", d.version, "--host", "0.0.0.0", "--port", std::to_string(d.port),
         "--tensor-parallel-size", std::to_string(d.tensor_parallel), "--max-model-len", std::to_string(d.context),
         "--max-num-seqs", std::to_string(d.concurrency), "--gpu-memory-utilization",
         fmt::format("{:.2f}", d.gpu_memory_fraction), "--trust-remote-code"});
    if (!native_fp8) add({"--dtype", dtype});
    if (d.precision == "FP8" && !native_fp8) add({"--quantization", "fp8"});
    if (d.precision == "AWQ") add({"--quantization", "awq_marlin"});
    if (d.pipeline_parallel > 1) {
      add({"--pipeline-parallel-size", std::to_string(d.pipeline_parallel), "--distributed-executor-backend", "ray"});
    }
  } else if (d.engine == "sglang") {
    add({"python3", "-m", "sglang.launch_server", "--model-path", d.source, "--served-model-name", d.version, "--host",
         "0.0.0.0", "--port", std::to_string(d.port), "--tp-size", std::to_string(d.tensor_parallel),
         "--context-length", std::to_string(d.context), "--max-running-requests", std::to_string(d.concurrency),
         "--mem-fraction-static", fmt::format("{:.2f}", d.gpu_memory_fraction), "--trust-remote-code"});
    if (!native_fp8) add({"--dtype", dtype});
    if (d.precision == "FP8" && !native_fp8) add({"--quantization", "fp8"});
    if (d.precision == "AWQ") add({"--quantization", "awq"});
    if (d.pipeline_parallel > 1) {
      add({"--pp-size", std::to_string(d.pipeline_parallel), "--nnodes", std::to_string(d.pipeline_parallel),
           "--node-rank", std::to_string(server.node_rank), "--dist-init-addr", head_address + ":5000"});
    }
  } else if (d.engine == "llama-cpp") {
    // llama-server divides --ctx-size among its --parallel slots.
    add({"--model", (in_container ? std::string("/models") : model_dir) + "/" + d.file, "--alias", d.version,
         "--host", "0.0.0.0", "--port", std::to_string(d.port), "--ctx-size",
         std::to_string(d.context * d.concurrency), "--parallel", std::to_string(d.concurrency)});
    if (d.gpu) {
      add({"--n-gpu-layers", "999"});
    } else {
      add({"--threads", std::to_string(std::max(1, d.threads))});
    }
  }
  return args;
}

Result<RenderedFiles> Render(const plan::Plan& plan, const DeployOptions& options) {
  if (plan.deployments.empty()) {
    return Error::InvalidRequest(fmt::format(
        "the plan for {} has no deployments, so there is nothing to deploy; run `weir plan` again with a model that "
        "fits (its output lists what would)",
        plan.model));
  }
  if (!options.gateway_host.empty() && FindHost(plan, options.gateway_host) == nullptr) {
    return Error::InvalidRequest(
        fmt::format("--gateway-host {} is not a host of the plan", options.gateway_host));
  }
  if (options.target == "compose") return RenderCompose(plan, options);
  if (options.target == "systemd") return RenderSystemd(plan, options);
  if (options.target == "ansible") return RenderAnsible(plan, options);
  if (options.target == "terraform") return RenderTerraform(plan, options);
  if (options.target == "helm") return RenderHelm(plan, options);
  return Error::InvalidRequest(
      fmt::format("unknown --target \"{}\": use compose, systemd, ansible, terraform or helm", options.target));
}

Status WriteFiles(const RenderedFiles& files, const std::string& out_dir) {
  for (const auto& [relative, content] : files) {
    const fs::path path = fs::path(out_dir) / relative;
    std::error_code error;
    fs::create_directories(path.parent_path(), error);
    if (error) {
      return Error::Internal(fmt::format("cannot create directory {}: {}", path.parent_path().string(), error.message()));
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) return Error::Internal(fmt::format("cannot write {}; check the --out directory", path.string()));
    out.close();
    if (path.extension() == ".sh") chmod(path.c_str(), 0755);
  }
  return Status::Ok();
}

}  // namespace weir::deploy
