// Docker Compose target: one compose.yaml per host. Every service uses the
// host network, so the gateway reaches local servers on 127.0.0.1 and
// multi-node engines reach each other by host address.
#include <set>

#include <fmt/format.h>

#include "deploy/renderer.h"

namespace weir::deploy {
namespace {

std::string YamlList(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const std::string& item : items) quoted.push_back(YamlQuote(item));
  return "[" + Join(quoted, ", ") + "]";
}

std::string GpuReservation(const std::vector<std::string>& ids) {
  std::string out = "    deploy:\n      resources:\n        reservations:\n          devices:\n";
  out += "            - driver: nvidia\n";
  out += fmt::format("              device_ids: {}\n", YamlList(ids));
  out += "              capabilities: [gpu]\n";
  return out;
}

std::string EngineService(const ModelServer& server, const plan::Plan& plan, const DeployOptions& options) {
  const plan::Deployment& d = *server.deployment;
  std::vector<std::string> args = EngineArguments(server, plan, ModelDir(options), true);
  std::string image = d.image;
  if (d.engine == "llama-cpp" && !d.gpu) image = "ghcr.io/ggml-org/llama.cpp:server";

  std::string out = fmt::format("  {}:\n", server.name);
  out += fmt::format("    image: {}\n", YamlQuote(image));
  if (d.engine == "vllm" && d.pipeline_parallel > 1) {
    if (server.node_rank == 0) {
      // The vLLM image's entry point is the API server; the head starts Ray first.
      std::vector<std::string> quoted;
      for (const std::string& arg : args) quoted.push_back(ShellQuote(arg));
      out += "    entrypoint: [\"/bin/bash\", \"-c\"]\n";
      out += fmt::format("    command: {}\n",
                         YamlList({"ray start --head --port=6379 && exec python3 -m "
                                   "vllm.entrypoints.openai.api_server " + Join(quoted, " ")}));
    } else {
      out += fmt::format("    entrypoint: {}\n", YamlList({args.front()}));
      out += fmt::format("    command: {}\n", YamlList({args.begin() + 1, args.end()}));
    }
  } else if (d.engine == "sglang") {
    out += fmt::format("    entrypoint: {}\n", YamlList({args.front()}));
    out += fmt::format("    command: {}\n", YamlList({args.begin() + 1, args.end()}));
  } else {
    out += fmt::format("    command: {}\n", YamlList(args));
  }
  out += "    network_mode: host\n";
  out += "    ipc: host\n";
  out += "    restart: unless-stopped\n";
  out += "    environment:\n";
  out += "      CUDA_DEVICE_ORDER: PCI_BUS_ID\n";
  out += "      HF_HOME: /root/.cache/huggingface\n";
  out += "    volumes:\n";
  out += fmt::format("      - {}\n", YamlQuote(options.data_dir + "/hf-cache:/root/.cache/huggingface"));
  out += fmt::format("      - {}\n", YamlQuote(ModelDir(options) + ":/models:ro"));
  if (d.gpu) out += GpuReservation(GpuIds(d, server.host));
  return out;
}

std::string WeirService(const std::string& name, const std::string& config_file, const DeployOptions& options,
                        const std::vector<std::string>& depends_on) {
  std::string out = fmt::format("  {}:\n", name);
  // NOTE: Weir publishes no container image yet; build one and set WEIR_IMAGE.
  out += "    image: ${WEIR_IMAGE:-weir:latest}\n";
  out += fmt::format("    command: {}\n", YamlList({"serve", "--config", "/etc/weir/weir.yaml"}));
  out += "    network_mode: host\n";
  out += "    restart: unless-stopped\n";
  out += "    volumes:\n";
  out += fmt::format("      - {}\n", YamlQuote("./" + config_file + ":/etc/weir/weir.yaml:ro"));
  out += fmt::format("      - {}\n", YamlQuote(options.data_dir + ":" + options.data_dir));
  out += fmt::format("      - {}\n", YamlQuote(ModelDir(options) + ":" + ModelDir(options) + ":ro"));
  if (!depends_on.empty()) out += fmt::format("    depends_on: {}\n", YamlList(depends_on));
  return out;
}

}  // namespace

Result<RenderedFiles> RenderCompose(const plan::Plan& plan, const DeployOptions& options) {
  RenderedFiles files;
  const std::string gateway_host = GatewayHost(plan, options);
  std::map<std::string, std::string> services;  // host -> services YAML.
  std::map<std::string, std::vector<std::string>> local_servers;

  for (const ModelServer& server : ModelServers(plan)) {
    const plan::Deployment& d = *server.deployment;
    if (d.engine == "builtin") {
      if (server.host == gateway_host) continue;  // Served inside the gateway.
      const std::string config = fmt::format("weir-{}-{}.yaml", d.version, d.port);
      files[server.host + "/" + config] = BuiltinServerConfig(plan, d, options);
      services[server.host] += WeirService(server.name, config, options, {});
      continue;
    }
    services[server.host] += EngineService(server, plan, options);
    if (server.host == gateway_host) local_servers[server.host].push_back(server.name);
  }
  files[gateway_host + "/weir.yaml"] = GatewayConfig(plan, options, options.listen, gateway_host, true);
  services[gateway_host] += WeirService("weir", "weir.yaml", options, local_servers[gateway_host]);

  for (const auto& [host, yaml] : services) {
    files[host + "/compose.yaml"] =
        fmt::format("# Rendered by `weir deploy --target compose` for {} on host {}.\n", plan.model, host) +
        "services:\n" + yaml;
  }
  return files;
}

}  // namespace weir::deploy
