// Terraform target: a provider-neutral module that describes the GPU nodes
// of the plan and renders each node's cloud-init, plus one concrete example
// that launches the nodes on AWS EC2 with that module.
#include <fmt/format.h>

#include "deploy/renderer.h"

namespace weir::deploy {
namespace {

std::string HclQuote(const std::string& text) {
  std::string quoted = "\"";
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      quoted += "\\n";
      continue;
    }
    if (c == '"' || c == '\\') quoted += '\\';
    // "$${" and "%%{" keep a literal "${" or "%{" out of template interpolation.
    if ((c == '$' || c == '%') && i + 1 < text.size() && text[i + 1] == '{') quoted += c;
    quoted += c;
  }
  return quoted + "\"";
}

// The EC2 instance type with the plan's GPUs, for the AWS example.
std::string Ec2InstanceType(const std::string& gpu_name, int gpus) {
  struct Row {
    const char* gpu;
    int count;
    const char* type;
  };
  static const Row rows[] = {
      {"H200", 8, "p5en.48xlarge"}, {"H100", 8, "p5.48xlarge"}, {"A100-SXM4-80GB", 8, "p4de.24xlarge"},
      {"A100", 8, "p4d.24xlarge"},  {"L40S", 1, "g6e.xlarge"},  {"L40S", 4, "g6e.12xlarge"},
      {"L40S", 8, "g6e.48xlarge"},  {"L4", 1, "g6.xlarge"},     {"A10", 1, "g5.xlarge"},
      {"T4", 1, "g4dn.xlarge"},     {"V100", 1, "p3.2xlarge"},  {"V100", 8, "p3.16xlarge"},
  };
  for (const Row& row : rows) {
    if (gpu_name.find(row.gpu) != std::string::npos && gpus <= row.count) return row.type;
  }
  return "";
}

struct NodeSpec {
  std::string name;
  std::string gpu_name;
  int gpu_count = 0;
  std::string compose;  // The host's compose.yaml, started by cloud-init.
  std::string gateway_config;
};

constexpr const char* kModuleVariables = R"text(variable "name" {
  description = "Prefix for node names."
  type        = string
  default     = "weir"
}

variable "nodes" {
  description = "GPU nodes of the Weir plan: name, GPU model and count, and the files each node runs."
  type = list(object({
    name           = string
    gpu_name       = string
    gpu_count      = number
    compose        = string
    gateway_config = string
  }))
}

variable "ssh_public_key" {
  description = "Public key installed for the admin user on every node."
  type        = string
}

variable "disk_gib" {
  description = "Root disk size in GiB; model weights are cached on it."
  type        = number
  default     = 1000
}
)text";

constexpr const char* kModuleMain = R"text(# Provider-neutral description of the nodes: a provider-specific
# configuration (see examples/aws) creates one instance per entry of
# `nodes` and passes it the rendered cloud-init.
locals {
  nodes = {
    for node in var.nodes : node.name => merge(node, {
      hostname = "${var.name}-${node.name}"
      cloud_init = templatefile("${path.module}/cloud-init.yaml.tftpl", {
        hostname       = "${var.name}-${node.name}"
        ssh_public_key = var.ssh_public_key
        compose        = node.compose
        gateway_config = node.gateway_config
      })
    })
  }
}
)text";

constexpr const char* kModuleOutputs = R"text(output "nodes" {
  description = "Per node: hostname, GPU model and count, and the cloud-init user data."
  value       = local.nodes
}

output "disk_gib" {
  description = "Root disk size to request for each node."
  value       = var.disk_gib
}
)text";

constexpr const char* kCloudInit = R"text(#cloud-config
hostname: ${hostname}
ssh_authorized_keys:
  - ${ssh_public_key}
write_files:
  - path: /opt/weir/compose.yaml
    permissions: "0644"
    encoding: b64
    content: ${base64encode(compose)}
%{ if gateway_config != "" ~}
  - path: /opt/weir/weir.yaml
    permissions: "0644"
    encoding: b64
    content: ${base64encode(gateway_config)}
%{ endif ~}
runcmd:
  - [docker, compose, -f, /opt/weir/compose.yaml, up, -d]
)text";

constexpr const char* kAwsVariables = R"text(variable "region" {
  description = "AWS region with capacity for the instance types below."
  type        = string
  default     = "us-east-1"
}

variable "ami_id" {
  description = "AMI with the NVIDIA driver, Docker and the NVIDIA container toolkit (for example an AWS Deep Learning AMI)."
  type        = string
}

variable "subnet_id" {
  description = "Subnet for the nodes; nodes of a multi-node model must share it."
  type        = string
}

variable "ssh_public_key" {
  description = "Public key for the admin user."
  type        = string
}
)text";

}  // namespace

Result<RenderedFiles> RenderTerraform(const plan::Plan& plan, const DeployOptions& options) {
  auto compose = RenderCompose(plan, options);
  if (!compose.ok()) return compose.error();
  const std::string gateway_host = GatewayHost(plan, options);

  std::vector<NodeSpec> nodes;
  for (const plan::PlanHost& host : plan.hosts) {
    const auto file = compose->find(host.name + "/compose.yaml");
    if (file == compose->end()) continue;
    NodeSpec node{host.name, "", 0, file->second, ""};
    for (const plan::Deployment& d : plan.deployments) {
      for (const plan::PlacedDevice& device : d.devices) {
        if (device.host != host.name) continue;
        node.gpu_name = device.name;
        ++node.gpu_count;
      }
    }
    if (host.name == gateway_host) node.gateway_config = compose->at(host.name + "/weir.yaml");
    nodes.push_back(std::move(node));
  }

  // NOTE: the compose files name the inventory's addresses. Instances created
  // here get new ones, so plan again with those addresses before the first apply.
  RenderedFiles files;
  const std::string module = "terraform/modules/weir-gpu-nodes/";
  files[module + "variables.tf"] = kModuleVariables;
  files[module + "main.tf"] = kModuleMain;
  files[module + "outputs.tf"] = kModuleOutputs;
  files[module + "cloud-init.yaml.tftpl"] = kCloudInit;

  std::string tf = fmt::format("# Rendered by `weir deploy --target terraform` for {}: one EC2 instance per\n"
                               "# node of the plan, configured by the provider-neutral module.\n",
                               plan.model);
  tf += "terraform {\n  required_version = \">= 1.3\"\n  required_providers {\n";
  tf += "    aws = {\n      source  = \"hashicorp/aws\"\n      version = \"~> 5.0\"\n    }\n  }\n}\n\n";
  tf += "provider \"aws\" {\n  region = var.region\n}\n\n";
  tf += "module \"weir\" {\n  source         = \"../../modules/weir-gpu-nodes\"\n";
  tf += "  ssh_public_key = var.ssh_public_key\n  nodes = [\n";
  for (const NodeSpec& node : nodes) {
    tf += "    {\n";
    tf += fmt::format("      name           = {}\n", HclQuote(node.name));
    tf += fmt::format("      gpu_name       = {}\n", HclQuote(node.gpu_name));
    tf += fmt::format("      gpu_count      = {}\n", node.gpu_count);
    tf += fmt::format("      compose        = {}\n", HclQuote(node.compose));
    tf += fmt::format("      gateway_config = {}\n", HclQuote(node.gateway_config));
    tf += "    },\n";
  }
  tf += "  ]\n}\n\n";
  tf += "locals {\n  # EC2 instance type per node, chosen from its GPUs.\n  instance_types = {\n";
  for (const NodeSpec& node : nodes) {
    std::string type = node.gpu_count == 0 ? "m7i.4xlarge" : Ec2InstanceType(node.gpu_name, node.gpu_count);
    // NOTE: a GPU without a matching EC2 type gets an empty string; set it by hand.
    tf += fmt::format("    {} = {}\n", HclQuote(node.name), HclQuote(type));
  }
  tf += "  }\n}\n\n";
  tf += "resource \"aws_key_pair\" \"weir\" {\n  key_name   = \"weir\"\n  public_key = var.ssh_public_key\n}\n\n";
  tf += "resource \"aws_instance\" \"node\" {\n  for_each      = module.weir.nodes\n";
  tf += "  ami           = var.ami_id\n  instance_type = local.instance_types[each.key]\n";
  tf += "  subnet_id     = var.subnet_id\n  key_name      = aws_key_pair.weir.key_name\n";
  tf += "  user_data     = each.value.cloud_init\n\n";
  tf += "  root_block_device {\n    volume_size = module.weir.disk_gib\n    volume_type = \"gp3\"\n  }\n\n";
  tf += "  tags = {\n    Name = each.value.hostname\n  }\n}\n\n";
  tf += "output \"private_ips\" {\n  value = { for name, node in aws_instance.node : name => node.private_ip }\n}\n";
  files["terraform/examples/aws/main.tf"] = tf;
  files["terraform/examples/aws/variables.tf"] = kAwsVariables;
  return files;
}

}  // namespace weir::deploy
