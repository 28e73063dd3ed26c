// systemd target: unit files per host. Engines run in Docker containers
// (vLLM, SGLang, llama.cpp server images); the gateway and the built-in
// engine run the weir binary directly.
#include <fmt/format.h>

#include "deploy/renderer.h"

namespace weir::deploy {
namespace {

// Quotes one ExecStart argument: systemd splits on spaces and expands "%"
// specifiers and "$" variables, so those are escaped.
std::string SystemdQuote(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    if (c == '%') {
      escaped += "%%";
    } else if (c == '$') {
      escaped += "$$";
    } else if (c == '"' || c == '\\') {
      escaped += '\\';
      escaped += c;
    } else {
      escaped += c;
    }
  }
  const bool plain = !text.empty() && text.find_first_of(" \t\"'\\;") == std::string::npos;
  return plain ? escaped : "\"" + escaped + "\"";
}

std::string ExecLine(const std::vector<std::string>& argv) {
  std::vector<std::string> quoted;
  for (const std::string& arg : argv) quoted.push_back(SystemdQuote(arg));
  return Join(quoted, " ");
}

void DockerArguments(const ModelServer& server, const plan::Plan& plan, const DeployOptions& options,
                            std::vector<std::string>& argv) {
  const plan::Deployment& d = *server.deployment;
  argv = {options.docker_path, "run", "--rm", "--name", server.name, "--network", "host", "--ipc", "host",
          "-e", "CUDA_DEVICE_ORDER=PCI_BUS_ID", "-v", options.data_dir + "/hf-cache:/root/.cache/huggingface",
          "-v", ModelDir(options) + ":/models:ro"};
  if (d.gpu) {
    // docker --gpus takes a CSV value, so a list of devices is quoted inside.
    argv.insert(argv.end(), {"--gpus", "\"device=" + Join(GpuIds(d, server.host), ",") + "\""});
  }
  std::vector<std::string> args = EngineArguments(server, plan, ModelDir(options), true);
  std::string image = d.image;
  if (d.engine == "llama-cpp" && !d.gpu) image = "ghcr.io/ggml-org/llama.cpp:server";
  if (d.engine == "vllm" && d.pipeline_parallel > 1) {
    std::vector<std::string> quoted;
    for (const std::string& arg : args) quoted.push_back(ShellQuote(arg));
    argv.insert(argv.end(), {"--entrypoint", server.node_rank == 0 ? "/bin/bash" : args.front(), image});
    if (server.node_rank == 0) {
      argv.insert(argv.end(), {"-c", "ray start --head --port=6379 && exec python3 -m "
                                     "vllm.entrypoints.openai.api_server " + Join(quoted, " ")});
    } else {
      argv.insert(argv.end(), args.begin() + 1, args.end());
    }
    return;
  }
  if (d.engine == "sglang") {
    argv.insert(argv.end(), {"--entrypoint", args.front(), image});
    argv.insert(argv.end(), args.begin() + 1, args.end());
    return;
  }
  argv.push_back(image);
  argv.insert(argv.end(), args.begin(), args.end());

}

std::string EngineUnit(const ModelServer& server, const plan::Plan& plan, const DeployOptions& options) {
  const plan::Deployment& d = *server.deployment;
  std::vector<std::string> argv;
  DockerArguments(server, plan, options, argv);
  std::string unit = "[Unit]\n";
  unit += fmt::format("Description=Weir model server {} ({}, {}, TP {}, PP {}, node {})\n", d.version, d.engine,
                      d.precision, d.tensor_parallel, d.pipeline_parallel, server.node_rank);
  unit += "Wants=network-online.target docker.service\n";
  unit += "After=network-online.target docker.service\n\n";
  unit += "[Service]\n";
  unit += fmt::format("ExecStartPre=-{} rm -f {}\n", options.docker_path, server.name);
  unit += "ExecStart=" + ExecLine(argv) + "\n";
  unit += fmt::format("ExecStop={} stop {}\n", options.docker_path, server.name);
  unit += "Restart=on-failure\nRestartSec=10\n";
  unit += "# Pulling an image and loading weights can take many minutes.\n";
  unit += "TimeoutStartSec=0\n\n";
  unit += "[Install]\nWantedBy=multi-user.target\n";
  return unit;
}

std::string WeirUnit(const std::string& description, const std::string& config_path, const DeployOptions& options) {
  std::string unit = "[Unit]\n";
  unit += "Description=" + description + "\n";
  unit += "Wants=network-online.target\nAfter=network-online.target\n\n";
  unit += "[Service]\n";
  unit += "ExecStart=" + ExecLine({options.weir_path, "serve", "--config", config_path}) + "\n";
  unit += "Restart=on-failure\nRestartSec=5\n";
  unit += "[Install]\nWantedBy=multi-user.target\n";
  return unit;
}

}  // namespace

Result<RenderedFiles> RenderSystemd(const plan::Plan& plan, const DeployOptions& options) {
  RenderedFiles files;
  const std::string gateway_host = GatewayHost(plan, options);
  for (const ModelServer& server : ModelServers(plan)) {
    const plan::Deployment& d = *server.deployment;
    if (d.engine == "builtin") {
      if (server.host == gateway_host) continue;  // Served inside the gateway.
      const std::string name = fmt::format("weir-{}-{}", d.version, d.port);
      files[server.host + "/" + name + ".yaml"] = BuiltinServerConfig(plan, d, options);
      files[server.host + "/" + name + ".service"] =
          WeirUnit("Weir built-in engine serving " + d.version, "/etc/weir/" + name + ".yaml", options);
      continue;
    }
    files[server.host + "/weir-model-" + server.name + ".service"] = EngineUnit(server, plan, options);
  }
  files[gateway_host + "/weir.yaml"] = GatewayConfig(plan, options, options.listen, gateway_host, true);
  files[gateway_host + "/weir.service"] =
      WeirUnit("Weir gateway for " + plan.model, "/etc/weir/weir.yaml", options);
  return files;
}

}  // namespace weir::deploy
