// Helm target: a chart with the gateway (Deployment, Service, ConfigMap) and,
// per model server, a Deployment and Service, or a LeaderWorkerSet and
// Service when the server spans nodes. Templates use only plain value
// lookups and the release name, the forms the test suite renders.
#include <fmt/format.h>

#include "deploy/renderer.h"

namespace weir::deploy {
namespace {

// Kubernetes object names: lowercase, digits and '-', at most 63 characters.
std::string KubeName(std::string text) {
  for (char& c : text) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '-';
  }
  if (text.size() > 63) text.resize(63);
  while (!text.empty() && text.back() == '-') text.pop_back();
  return text;
}

std::string Indent(const std::string& text, int spaces) {
  std::string out;
  std::string prefix(static_cast<std::size_t>(spaces), ' ');
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    out += (line.empty() ? "" : prefix + line) + "\n";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

std::string ModelServerTemplate(const ModelServer& server, const std::string& key, const plan::Plan& plan) {
  const plan::Deployment& d = *server.deployment;
  const std::string name = KubeName(server.name);
  std::vector<std::string> args = EngineArguments(server, plan, "/models", true);
  std::string command;
  if (d.engine == "sglang") {
    command = fmt::format("          command: [{}]\n", YamlQuote(args.front()));
    args.erase(args.begin());
  }

  std::string out = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n";
  out += fmt::format("  name: {{{{ .Release.Name }}}}-{}\n", name);
  out += fmt::format("  labels:\n    app.kubernetes.io/name: {}\n    app.kubernetes.io/instance: {{{{ .Release.Name }}}}\n", name);
  out += "spec:\n  replicas: 1\n  selector:\n    matchLabels:\n";
  out += fmt::format("      app.kubernetes.io/name: {}\n", name);
  out += "  template:\n    metadata:\n      labels:\n";
  out += fmt::format("        app.kubernetes.io/name: {}\n", name);

  out += "    spec:\n      containers:\n        - name: server\n";
  out += fmt::format("          image: {{{{ .Values.modelServers.{}.image }}}}\n", key);
  out += command;
  out += "          args:\n";
  for (const std::string& arg : args) out += "            - " + YamlQuote(arg) + "\n";
  out += "          ports:\n";
  out += fmt::format("            - containerPort: {}\n", d.port);
  out += "          env:\n            - name: HF_HOME\n              value: /root/.cache/huggingface\n";

  out += "          resources:\n            limits:\n";
  if (d.gpu) {
    out += fmt::format("              nvidia.com/gpu: {{{{ .Values.modelServers.{}.gpus }}}}\n", key);
  } else {
    out += fmt::format("              cpu: {{{{ .Values.modelServers.{}.cpus }}}}\n", key);
  }
  out += "          volumeMounts:\n            - name: shm\n              mountPath: /dev/shm\n";
  out += "            - name: cache\n              mountPath: /root/.cache/huggingface\n";
  out += "      volumes:\n        - name: shm\n          emptyDir:\n            medium: Memory\n";
  out += "        - name: cache\n          emptyDir: {}\n";

  out += "---\napiVersion: v1\nkind: Service\nmetadata:\n";
  out += fmt::format("  name: {}\nspec:\n  selector:\n    app.kubernetes.io/name: {}\n", name, name);
  out += fmt::format("  ports:\n    - port: {}\n      targetPort: {}\n", d.port, d.port);
  return out;
}

// Container args of one LeaderWorkerSet pod. LeaderWorkerSet sets
// LWS_LEADER_ADDRESS and LWS_WORKER_INDEX in every pod, and Kubernetes
// expands $(NAME) in args from the environment.
std::vector<std::string> GroupPodArguments(const ModelServer& head, const plan::Plan& plan, bool leader) {
  const plan::Deployment& d = *head.deployment;
  const std::string head_address = FindHost(plan, d.hosts.front()) != nullptr ? FindHost(plan, d.hosts.front())->address
                                                                              : d.hosts.front();
  std::vector<std::string> args = EngineArguments(head, plan, "/models", true);
  for (std::string& arg : args) {
    const auto at = arg.find(head_address);
    if (at != std::string::npos) arg.replace(at, head_address.size(), "$(LWS_LEADER_ADDRESS)");
  }
  if (d.engine == "sglang") {
    for (std::size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] == "--node-rank") args[i + 1] = "$(LWS_WORKER_INDEX)";
    }
    return args;
  }
  if (!leader) return {"ray", "start", "--block", "--address=$(LWS_LEADER_ADDRESS):6379"};
  std::vector<std::string> quoted;
  for (const std::string& arg : args) quoted.push_back(ShellQuote(arg));
  return {"/bin/bash", "-c",
          "ray start --head --port=6379 && exec python3 -m vllm.entrypoints.openai.api_server " + Join(quoted, " ")};
}

std::string GroupPodTemplate(const ModelServer& head, const std::string& key, const plan::Plan& plan, bool leader) {
  const plan::Deployment& d = *head.deployment;
  const std::vector<std::string> args = GroupPodArguments(head, plan, leader);
  std::string out = "      spec:\n        containers:\n          - name: server\n";
  out += fmt::format("            image: {{{{ .Values.modelServers.{}.image }}}}\n", key);
  out += fmt::format("            command: [{}]\n", YamlQuote(args.front()));
  out += "            args:\n";
  for (std::size_t i = 1; i < args.size(); ++i) out += "              - " + YamlQuote(args[i]) + "\n";
  if (leader) out += fmt::format("            ports:\n              - containerPort: {}\n", d.port);
  out += "            resources:\n              limits:\n";
  out += fmt::format("                nvidia.com/gpu: {{{{ .Values.modelServers.{}.gpus }}}}\n", key);
  out += "            volumeMounts:\n              - name: shm\n                mountPath: /dev/shm\n";
  out += "        volumes:\n          - name: shm\n            emptyDir:\n              medium: Memory\n";
  return out;
}

// A model server spanning several nodes, as a LeaderWorkerSet (the
// leaderworkerset.x-k8s.io controller must be installed in the cluster).
std::string MultiNodeTemplate(const ModelServer& head, const std::string& key, const plan::Plan& plan) {
  const plan::Deployment& d = *head.deployment;
  const std::string name = KubeName(head.name);
  std::string out = "apiVersion: leaderworkerset.x-k8s.io/v1\nkind: LeaderWorkerSet\nmetadata:\n";
  out += fmt::format("  name: {{{{ .Release.Name }}}}-{}\n", name);
  out += "spec:\n  replicas: 1\n  leaderWorkerTemplate:\n";
  out += fmt::format("    size: {}\n", d.pipeline_parallel);
  out += "    leaderTemplate:\n      metadata:\n        labels:\n";
  out += fmt::format("          app.kubernetes.io/name: {}\n          role: leader\n", name);
  out += GroupPodTemplate(head, key, plan, true);
  out += "    workerTemplate:\n";
  out += GroupPodTemplate(head, key, plan, false);

  out += "---\napiVersion: v1\nkind: Service\nmetadata:\n";
  out += fmt::format("  name: {}\nspec:\n  selector:\n    app.kubernetes.io/name: {}\n    role: leader\n", name, name);
  out += fmt::format("  ports:\n    - port: {}\n      targetPort: {}\n", d.port, d.port);
  return out;
}

constexpr const char* kGatewayDeployment = R"text(apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-gateway
  labels:
    app.kubernetes.io/name: weir-gateway
    app.kubernetes.io/instance: {{ .Release.Name }}
spec:
  replicas: {{ .Values.gateway.replicas }}
  selector:
    matchLabels:
      app.kubernetes.io/name: weir-gateway
  template:
    metadata:
      labels:
        app.kubernetes.io/name: weir-gateway
    spec:
      containers:
        - name: weir
          image: {{ .Values.gateway.image }}
          args: ["serve", "--config", "/etc/weir/weir.yaml"]
          ports:
            - containerPort: 8080
          readinessProbe:
            httpGet:
              path: /readyz
              port: 8080
          volumeMounts:
            - name: config
              mountPath: /etc/weir
            - name: data
              mountPath: /var/lib/weir
      volumes:
        - name: config
          configMap:
            name: {{ .Release.Name }}-gateway
        - name: data
          emptyDir: {}
)text";

constexpr const char* kGatewayService = R"text(apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-gateway
spec:
  type: {{ .Values.gateway.serviceType }}
  selector:
    app.kubernetes.io/name: weir-gateway
  ports:
    - port: 8080
      targetPort: 8080
)text";

}  // namespace

Result<RenderedFiles> RenderHelm(const plan::Plan& plan, const DeployOptions& options) {
  RenderedFiles files;
  const std::string chart = "helm/weir/";
  files[chart + "Chart.yaml"] = fmt::format(
      "apiVersion: v2\nname: weir\ndescription: Weir gateway and model servers for {}\ntype: application\n"
      "version: 0.1.0\nappVersion: {}\n",
      plan.model, YamlQuote(WEIR_VERSION));

  std::string values = "gateway:\n  # NOTE: Weir publishes no container image yet; push one and set it here.\n";
  values += "  image: weir:latest\n  replicas: 1\n  serviceType: ClusterIP\nmodelServers:\n";
  DeployOptions pod_options = options;
  pod_options.data_dir = "/var/lib/weir";
  pod_options.model_dir = "/var/lib/weir/models";
  const std::string config = GatewayConfigWithUrls(plan, pod_options, "0.0.0.0:8080", "", [](const plan::Deployment& d) {
    return fmt::format("http://{}:{}/v1", KubeName(fmt::format("{}-{}-{}", d.engine, d.version, d.port)), d.port);
  });
  int index = 0;
  for (const ModelServer& server : ModelServers(plan)) {
    const plan::Deployment& d = *server.deployment;
    if (server.node_rank > 0) continue;  // Part of the head's LeaderWorkerSet.
    const std::string key = fmt::format("server{}", index++);
    std::string image = d.image.empty() ? "weir:latest" : d.image;
    if (d.engine == "llama-cpp" && !d.gpu) image = "ghcr.io/ggml-org/llama.cpp:server";
    values += fmt::format("  {}:\n    name: {}\n    image: {}\n", key, YamlQuote(server.name), YamlQuote(image));
    values += fmt::format("    gpus: {}\n    cpus: {}\n", d.tensor_parallel, std::max(1, d.threads));
    if (d.engine == "builtin") continue;  // Runs inside the gateway pod.
    files[chart + "templates/" + KubeName(server.name) + ".yaml"] =
        d.pipeline_parallel > 1 ? MultiNodeTemplate(server, key, plan) : ModelServerTemplate(server, key, plan);
  }
  files[chart + "values.yaml"] = values;
  files[chart + "templates/gateway-configmap.yaml"] =
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-gateway\ndata:\n  weir.yaml: |\n" +
      Indent(config, 4);
  files[chart + "templates/gateway-deployment.yaml"] = kGatewayDeployment;
  files[chart + "templates/gateway-service.yaml"] = kGatewayService;
  return files;
}

}  // namespace weir::deploy
