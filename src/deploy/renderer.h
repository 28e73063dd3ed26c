// `weir deploy`: renders the files that run a plan's model servers and the
// Weir gateway wired to them, for one target (compose, systemd, ansible,
// terraform, helm). Rendering is a pure function of the plan and the
// options: the same input gives the same bytes, with no timestamps.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "plan/planner.h"

namespace weir::deploy {

struct DeployOptions {
  std::string target;                     // compose, systemd, ansible, terraform, helm.
  std::string listen = "0.0.0.0:8080";    // Gateway listen address.
  std::string data_dir = "/var/lib/weir";
  std::string model_dir;                  // GGUF files; default <data_dir>/models.
  std::string prefix = "/opt/weir";       // Ansible install prefix.
  std::string weir_binary;                // Binary Ansible copies; default this one.
  std::string catalogue_path;             // Catalogue Ansible copies beside it.
  std::string service_manager = "systemd";  // Ansible: systemd, or process for hosts without systemd.
  std::string gateway_host;               // Host that runs the gateway; default the first host.
  std::string weir_path = "/usr/local/bin/weir";  // Binary path in systemd units.
  std::string docker_path = "/usr/bin/docker";    // Docker CLI path in systemd units.
  int ready_retries = 120;                        // Ansible: seconds to wait for /readyz.
};

// Rendered files by path relative to the output directory.
using RenderedFiles = std::map<std::string, std::string>;

// One model server process: a deployment on one of its hosts.
struct ModelServer {
  const plan::Deployment* deployment = nullptr;
  std::string host;
  int node_rank = 0;       // 0 is the head node of a multi-node deployment.
  std::string name;        // Service name, e.g. "vllm-deepseek-v3-fp8-8000".
};

// Renders the plan for options.target.
Result<RenderedFiles> Render(const plan::Plan& plan, const DeployOptions& options);

// Writes the files under `out_dir`, creating directories. Files ending in
// ".sh" are made executable.
Status WriteFiles(const RenderedFiles& files, const std::string& out_dir);

// Helpers shared by the renderers.
std::vector<ModelServer> ModelServers(const plan::Plan& plan);
std::string GatewayHost(const plan::Plan& plan, const DeployOptions& options);
const plan::PlanHost* FindHost(const plan::Plan& plan, const std::string& name);
std::string ModelDir(const DeployOptions& options);
// Renders the gateway config YAML for the gateway on `gateway_host`. A
// built-in engine deployment on that host becomes a `kind: builtin` upstream.
// Other deployments are URLs, with 127.0.0.1 for servers on the gateway's own
// host when `loopback_for_local` is set.
std::string GatewayConfig(const plan::Plan& plan, const DeployOptions& options, const std::string& listen,
                          const std::string& gateway_host, bool loopback_for_local);
// The same, with the URL of each deployment's head server given by `url_for`
// (used where servers are reached by a service name, as in Kubernetes).
std::string GatewayConfigWithUrls(const plan::Plan& plan, const DeployOptions& options, const std::string& listen,
                                  const std::string& gateway_host,
                                  const std::function<std::string(const plan::Deployment&)>& url_for);
// Config for a Weir instance on a host other than the gateway's that serves
// one built-in engine deployment on the deployment's port.
std::string BuiltinServerConfig(const plan::Plan& plan, const plan::Deployment& deployment,
                                const DeployOptions& options);
// Quotes one argument for a POSIX shell.
std::string ShellQuote(const std::string& text);
// Command-line arguments of the engine for one model server (without the
// program name). For multi-node vLLM the head's command starts Ray first.
std::vector<std::string> EngineArguments(const ModelServer& server, const plan::Plan& plan,
                                         const std::string& model_dir, bool in_container);
// GPU ids for CUDA_VISIBLE_DEVICES / docker --gpus on one host: UUIDs when
// the plan has real ones (GPU-…, MIG-…), else indices.
std::vector<std::string> GpuIds(const plan::Deployment& deployment, const std::string& host);
// Quotes a string for YAML (double-quoted style).
std::string YamlQuote(const std::string& text);
std::string Join(const std::vector<std::string>& items, const std::string& separator);

// Per-target renderers.
Result<RenderedFiles> RenderCompose(const plan::Plan& plan, const DeployOptions& options);
Result<RenderedFiles> RenderSystemd(const plan::Plan& plan, const DeployOptions& options);
Result<RenderedFiles> RenderAnsible(const plan::Plan& plan, const DeployOptions& options);
Result<RenderedFiles> RenderTerraform(const plan::Plan& plan, const DeployOptions& options);
Result<RenderedFiles> RenderHelm(const plan::Plan& plan, const DeployOptions& options);

}  // namespace weir::deploy
